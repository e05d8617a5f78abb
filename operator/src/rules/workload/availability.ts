/**
 * Availability hygiene for replicated workloads (both only in `all`, severity
 * info: they are reliability advice, not security defects).
 *
 * - `deployment-single-replica`: a Deployment with replicas 1 (or unset, which
 *   defaults to 1) and no HorizontalPodAutoscaler in scope targeting it.
 *   replicas: 0 is a deliberate scale-down and is not reported.
 * - `pod-disruption-budget-missing`: a Deployment or StatefulSet with two or
 *   more replicas (or an HPA) that no PodDisruptionBudget in scope selects.
 *   This is cross-resource: offline, the PDB must be among the scanned files.
 */
import { selectorErrors, selectorMatches } from '../../engine/match.ts';
import { asObj, asString, dig, podTemplate } from '../../engine/podspec.ts';
import type { KubeObject, Rule, RuleContext } from '../../engine/types.ts';
import { clip, sameNamespaceObjects, templateLabels } from './_shared.ts';

function hasAutoscaler(obj: KubeObject, ctx: RuleContext): boolean {
  const name = asString(dig(obj, 'metadata', 'name'));
  return sameNamespaceObjects(ctx.index, 'HorizontalPodAutoscaler', obj).some((h) => {
    const ref = asObj(dig(h, 'spec', 'scaleTargetRef'));
    return ref['kind'] === obj.kind && ref['name'] === name;
  });
}

export const singleReplica: Rule = {
  id: 'deployment-single-replica',
  title: 'Deployment runs a single replica',
  severity: 'info',
  category: 'workload',
  controls: [],
  rationale:
    'With one replica every node drain, eviction, crash or rollout of a surge-less strategy takes the service down. It also means a PodDisruptionBudget cannot protect it without blocking node maintenance.',
  remediation:
    'Run at least two replicas (spread across nodes with topologySpreadConstraints or pod anti-affinity), or let a HorizontalPodAutoscaler with minReplicas >= 2 manage the count.',
  kinds: ['Deployment'],
  profiles: [],
  check(obj, ctx) {
    const replicas = dig(obj, 'spec', 'replicas');
    if (replicas !== undefined && replicas !== 1) return [];
    if (hasAutoscaler(obj, ctx)) return [];
    return [
      {
        message:
          replicas === 1
            ? 'Deployment runs a single replica (spec.replicas=1)'
            : 'Deployment runs a single replica (spec.replicas is unset and defaults to 1)',
      },
    ];
  },
};

export const pdbMissing: Rule = {
  id: 'pod-disruption-budget-missing',
  title: 'Replicated workload has no PodDisruptionBudget',
  severity: 'info',
  category: 'workload',
  controls: [],
  rationale:
    'Without a PodDisruptionBudget a node drain or cluster upgrade may evict all replicas of a workload at once, turning routine maintenance into an outage. The budget tells voluntary disruptions how many pods must stay up.',
  remediation:
    'Add a policy/v1 PodDisruptionBudget in the same namespace whose selector matches the pod template labels, with maxUnavailable: 1 (or a minAvailable below the replica count).',
  kinds: ['Deployment', 'StatefulSet'],
  profiles: [],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl) return [];
    const replicas = dig(obj, 'spec', 'replicas');
    const replicated = (typeof replicas === 'number' && replicas >= 2) || hasAutoscaler(obj, ctx);
    if (!replicated) return [];
    const labels = templateLabels(tpl);
    const covered = sameNamespaceObjects(ctx.index, 'PodDisruptionBudget', obj).some((pdb) => {
      const sel = dig(pdb, 'spec', 'selector');
      if (sel === undefined || sel === null || selectorErrors(sel, 'selector').length > 0) return false;
      return selectorMatches(sel, labels);
    });
    if (covered) return [];
    const shown = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      {
        message: `no PodDisruptionBudget in scope selects the pod template (labels ${clip(shown || 'none')})`,
      },
    ];
  },
};
