/**
 * Workloads without the labels that say what they are and who owns them.
 * Unlabelled workloads are how shadow IT shows up: nobody can tell which team
 * or pipeline deployed them, so nobody patches or removes them.
 *
 * Default requiredLabels: ['app.kubernetes.io/name'], the Kubernetes
 * recommended label that Helm charts and most generators set, so the default
 * is quiet on tool-made workloads and loud on hand-made ones. Organisations
 * should list their own ownership keys (e.g. 'team', 'owner',
 * 'app.kubernetes.io/part-of'). A label counts when it is non-empty on the
 * workload or on its pod template. Pods owned by a controller in scope are
 * represented by it; control-plane namespaces are skipped. In `all` only,
 * since label conventions are an organisational choice.
 */
import { labelsOf } from '../../engine/match.ts';
import { WORKLOAD_KINDS, asStringArray, podTemplate } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';
import { EXCLUDE_NAMESPACES_PARAM, isTopLevel, namespaceExcluded, nsOf } from '../network/_net.ts';

export const ownershipLabels: Rule = {
  id: 'workload-missing-ownership-labels',
  title: 'Workload lacks the required ownership labels',
  severity: 'low',
  category: 'change-management',
  controls: [],
  rationale:
    'Labels are the only in-cluster record of what a workload is and who answers for it. Without them, incident response, cost allocation and clean-up stall, and workloads deployed outside the approved process cannot be told apart from legitimate ones.',
  remediation:
    'Add the required labels (by default app.kubernetes.io/name; configure requiredLabels with your ownership keys such as team or owner) to the workload metadata in its source manifests or chart values.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [
    {
      name: 'requiredLabels',
      description:
        'Label keys every workload must carry with a non-empty value (on the workload or its pod template).',
      type: 'string[]',
      default: ['app.kubernetes.io/name'],
    },
    EXCLUDE_NAMESPACES_PARAM,
  ],
  check(obj, ctx) {
    if (namespaceExcluded(nsOf(obj), ctx.params) || !isTopLevel(obj, ctx.index)) return [];
    const tpl = podTemplate(obj);
    const labels = { ...(tpl ? labelsOf(tpl.metadata) : {}), ...labelsOf(obj.metadata) };
    const missing = asStringArray(ctx.params['requiredLabels']).filter((k) => !labels[k]);
    if (missing.length === 0) return [];
    return [{ message: `missing label(s) ${missing.join(', ')} on metadata.labels and the pod template` }];
  },
};
