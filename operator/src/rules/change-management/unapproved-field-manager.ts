/**
 * Shadow changes: the object was last changed by a field manager that is not
 * one of the organisation's deployment tools, e.g. `kubectl-edit`,
 * `kubectl-patch`, `kubectl-client-side-apply`, `kubectl` (server-side apply)
 * in a cluster that is supposed to be driven by Argo CD, Flux or Helm.
 *
 * Read from metadata.managedFields, using only {manager, operation, time,
 * subresource} (the controller keeps exactly that summary in its cache):
 * - entries with operation Update or Apply on the main resource (no
 *   subresource): status and scale writes (controllers, HPA, kubectl scale)
 *   are not configuration changes;
 * - managers in `ignoredManagers` (Kubernetes' own controllers, which also
 *   write the main resource, e.g. the aggregation controller on ClusterRoles)
 *   are skipped, so they do not hide an earlier manual change;
 * - the most recent `time` wins (entries without time count as oldest);
 *   managedFields times have one-second resolution, so if several managers
 *   share the latest second and any of them is unapproved, it is reported.
 * Objects without managedFields (most manifests given to the CLI) pass.
 *
 * Defaults approve Argo CD, Flux and Helm. With them, any cluster deployed by
 * hand flags every object, so the rule is in `all` only; set approvedManagers
 * to your pipeline's manager names (globs allowed) before enabling it.
 * RBAC objects are reported as medium (a hand-made permission change), the
 * rest as low.
 */
import { anyGlob } from '../../engine/match.ts';
import { WORKLOAD_KINDS, asObj, asObjArray, asString, asStringArray } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';

const RBAC = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

interface Entry {
  manager: string;
  operation: string;
  time: string | undefined;
  t: number;
}

export const unapprovedFieldManager: Rule = {
  id: 'change-unapproved-field-manager',
  title: 'Object was last changed outside the approved deployment tools',
  severity: 'medium',
  category: 'change-management',
  controls: [],
  rationale:
    'When a GitOps or pipeline tool owns a cluster, a change made with kubectl edit/patch/apply bypasses review, is missing from version control and is silently reverted or, worse, kept. managedFields record which client wrote the object last; an unknown writer is shadow IT or an intruder.',
  remediation:
    'Reproduce the change in the source repository and let the deployment tool apply it (or revert it there); restrict direct write access for people to break-glass roles. If the writer is a legitimate tool, add its field manager name to approvedManagers.',
  kinds: [...WORKLOAD_KINDS, 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'NetworkPolicy'],
  profiles: [],
  params: [
    {
      name: 'approvedManagers',
      description: 'Field manager names (shell globs) of the approved deployment tools.',
      type: 'string[]',
      default: [
        'argocd-controller',
        'argocd-application-controller',
        'helm',
        'helm-controller',
        'kustomize-controller',
        'flux*',
      ],
    },
    {
      name: 'ignoredManagers',
      description:
        "Field managers (shell globs) of Kubernetes' own components whose writes are neither approved nor reported and do not mask earlier changes.",
      type: 'string[]',
      default: [
        'kube-controller-manager',
        'kube-scheduler',
        'kube-apiserver',
        'kubelet',
        'cloud-controller-manager',
        'clusterrole-aggregation-controller',
        'kubectl-last-applied',
        'vigil',
      ],
    },
  ],
  check(obj, ctx) {
    const approved = asStringArray(ctx.params['approvedManagers']);
    const ignored = asStringArray(ctx.params['ignoredManagers']);
    const entries: Entry[] = [];
    for (const e of asObjArray(asObj(obj.metadata)['managedFields'])) {
      const manager = asString(e['manager']);
      const operation = asString(e['operation']);
      if (!manager || (operation !== 'Update' && operation !== 'Apply')) continue;
      if (asString(e['subresource'])) continue;
      if (anyGlob(ignored, manager)) continue;
      const time = asString(e['time']) || undefined;
      const parsed = time ? Date.parse(time) : NaN;
      entries.push({ manager, operation, time, t: Number.isNaN(parsed) ? -Infinity : parsed });
    }
    if (entries.length === 0) return [];
    const latest = Math.max(...entries.map((e) => e.t));
    const last = entries.filter((e) => e.t === latest && !anyGlob(approved, e.manager));
    if (last.length === 0) return [];
    const who = [...new Set(last.map((e) => `"${e.manager}" (${e.operation})`))].join(', ');
    const when = last[0]?.time ? `at ${last[0].time}` : 'at an unrecorded time';
    return [
      {
        message: `last changed by field manager ${who} ${when}, which is not an approved deployment tool`,
        severity: RBAC.has(asString(obj.kind) ?? '') ? 'medium' : 'low',
      },
    ];
  },
};
