/**
 * Workloads created or replaced with a pod that breaks the Pod Security baseline, judged by the
 * engine's own pod-security rules on the request body, so an audit detection and `vigil scan`
 * of the same manifest agree.
 */
import { evaluateObject } from '../../engine/evaluate.ts';
import { ClusterIndex } from '../../engine/cluster-index.ts';
import { asObj } from '../../engine/podspec.ts';
import { compilePolicy, type CompiledPolicy } from '../../engine/policy.ts';
import type { Finding, KubeObject } from '../../engine/types.ts';
import { ALL_RULES } from '../../rules/index.ts';
import { isControlPlane, succeeded } from '../event.ts';
import { AUDIT_CATEGORY, type AuditEvent, type AuditHit, type AuditRule } from '../types.ts';
import { mitreUrl } from './_common.ts';
import { isWorkloadResource } from './pods.ts';

const KIND_OF: Readonly<Record<string, string>> = {
  pods: 'Pod',
  deployments: 'Deployment',
  daemonsets: 'DaemonSet',
  statefulsets: 'StatefulSet',
  replicasets: 'ReplicaSet',
  jobs: 'Job',
  cronjobs: 'CronJob',
};

let baseline: CompiledPolicy | undefined;
function baselinePolicy(): CompiledPolicy {
  if (!baseline) {
    const compiled = compilePolicy({ profile: 'pss-baseline' }, ALL_RULES, 'audit');
    if (!compiled.policy) throw new Error('the pss-baseline profile does not compile');
    baseline = compiled.policy;
  }
  return baseline;
}

const EMPTY_INDEX = new ClusterIndex([]);
const memo = new WeakMap<AuditEvent, Finding[]>();

/** Pod Security baseline findings on the event's request body (memoised per event). */
export function baselineFindings(ev: AuditEvent): Finding[] {
  const cached = memo.get(ev);
  if (cached) return cached;
  let findings: Finding[] = [];
  if (
    (ev.verb === 'create' || ev.verb === 'update') &&
    isWorkloadResource(ev) &&
    succeeded(ev) &&
    !isControlPlane(ev.user) &&
    ev.requestObject !== undefined
  ) {
    const body = asObj(ev.requestObject);
    const kind = KIND_OF[ev.resource.resource] ?? '';
    const obj: KubeObject = {
      ...body,
      kind,
      metadata: { ...asObj(body['metadata']), namespace: ev.resource.namespace },
    };
    const now = Number.isNaN(ev.timeMs) ? new Date(0) : new Date(ev.timeMs);
    findings = evaluateObject(obj, baselinePolicy(), EMPTY_INDEX, now).findings;
  }
  memo.set(ev, findings);
  return findings;
}

function pssRule(
  meta: Omit<AuditRule, 'check' | 'category' | 'mitre'>,
  pick: (ruleId: string) => boolean,
): AuditRule {
  return {
    ...meta,
    category: AUDIT_CATEGORY,
    mitre: ['T1611'],
    check(ev): AuditHit[] {
      const hits: AuditHit[] = [];
      for (const f of baselineFindings(ev))
        if (pick(f.ruleId))
          hits.push({
            message: `${ev.user} ${ev.verb === 'create' ? 'created' : 'replaced'} ${ev.resource.resource} ${ev.resource.namespace}/${ev.resource.name}: ${f.message} (${f.ruleId})`,
          });
      return hits.length > 0 ? [{ message: hits.map((h) => h.message).join('; ') }] : [];
    },
  };
}

const PSS = 'https://kubernetes.io/docs/concepts/security/pod-security-standards/';

export const auditPrivilegedPod: AuditRule = pssRule(
  {
    id: 'audit-privileged-pod',
    title: 'Privileged container created',
    severity: 'critical',
    references: [mitreUrl('T1611'), PSS],
    rationale:
      'A privileged container is root on its node. Created through the API, it is the shortest escape from a pod to the host.',
    remediation:
      'Find out who created it and why; delete it unless it is a vetted node agent. Enforce Pod Security baseline on the namespace.',
  },
  (id) => id === 'pss-privileged',
);

export const auditHostPathPod: AuditRule = pssRule(
  {
    id: 'audit-host-path-pod',
    title: 'Pod with a hostPath volume created',
    severity: 'high',
    references: [mitreUrl('T1611'), PSS],
    rationale:
      "A hostPath volume mounts the node's file system into the pod: the kubelet's credentials, the container runtime socket, other pods' data.",
    remediation:
      'Confirm the workload needs the host path; otherwise delete it and enforce Pod Security baseline on the namespace.',
  },
  (id) => id === 'pss-host-path-volumes',
);

export const auditHostNamespacePod: AuditRule = pssRule(
  {
    id: 'audit-host-namespace-pod',
    title: 'Pod sharing the host namespaces created',
    severity: 'high',
    references: [mitreUrl('T1611'), PSS],
    rationale:
      "hostNetwork, hostPID or hostIPC put the pod in the node's namespaces: it sees every process and connection on the node.",
    remediation:
      'Confirm the workload needs host namespaces; otherwise delete it and enforce Pod Security baseline on the namespace.',
  },
  (id) => id === 'pss-host-namespaces',
);

const NAMED = new Set(['pss-privileged', 'pss-host-path-volumes', 'pss-host-namespaces']);

export const auditPodBaselineViolation: AuditRule = pssRule(
  {
    id: 'audit-pod-baseline-violation',
    title: 'Pod breaking the Pod Security baseline created',
    severity: 'medium',
    references: [mitreUrl('T1611'), PSS],
    rationale:
      'The other baseline checks (added capabilities, host ports, unsafe sysctls, AppArmor, SELinux, /proc mount, Windows host process) each weaken isolation from the node.',
    remediation:
      'Read the message for the failing check and fix the workload; enforce Pod Security baseline on the namespace.',
  },
  (id) => !NAMED.has(id),
);
