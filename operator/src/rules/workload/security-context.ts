/**
 * Security-context hygiene outside the Pod Security Standards.
 *
 * - `pod-security-context-missing` (all): neither the pod nor the container
 *   sets any securityContext, i.e. everything is left to the image and the
 *   runtime. In `recommended` the PSS restricted checks already report each
 *   missing field, so this summary rule would only duplicate them there.
 * - `container-runs-as-root-group` (recommended): the process runs with GID 0
 *   (effective runAsGroup 0), or the pod adds group 0 through fsGroup or
 *   supplementalGroups. PSS does not restrict group ids; files owned by the
 *   root group with group permissions (common in images) become writable or
 *   readable. Setting 0 explicitly is rare, so this is low noise.
 * - `container-run-as-group-missing` (all): no runAsGroup anywhere, so the
 *   image decides the primary group, which is often 0. Noisy on purpose-built
 *   images that set a group, hence only in `all`.
 *
 * Deliberately absent: a runAsUser: 0 rule. The PSS restricted check
 * `runAsUser` already forbids an explicit UID 0 at pod and container level and
 * is in `recommended`; a second rule would report the same fields twice.
 * Windows pods are skipped for group ids: the fields do not apply there.
 */
import {
  WORKLOAD_KINDS,
  asArray,
  asObj,
  dig,
  isObj,
  isWindowsPod,
  podTemplate,
} from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  ALL_CONTAINER_TYPES,
  EXEMPT_CONTAINERS_PARAM,
  INIT_AND_REGULAR,
  containersAt,
  isExempt,
} from './_shared.ts';

function isEmpty(v: unknown): boolean {
  return !isObj(v) || Object.keys(v).length === 0;
}

export const securityContextMissing: Rule = {
  id: 'pod-security-context-missing',
  title: 'Neither pod nor container sets a securityContext',
  severity: 'low',
  category: 'workload',
  controls: ['NSA:Kubernetes Pod security'],
  rationale:
    'A container with no securityContext at pod or container level runs with whatever the image and the container runtime default to: often root, with the default capability set, a writable root filesystem and privilege escalation allowed. Nothing in the manifest states or reviews the intended privileges.',
  remediation:
    'Add a pod securityContext (runAsNonRoot: true, runAsUser/runAsGroup, seccompProfile RuntimeDefault) and a container securityContext (allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities drop ALL).',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl || !isEmpty(tpl.spec['securityContext'])) return [];
    const hits: RuleHit[] = [];
    for (const c of containersAt(tpl, INIT_AND_REGULAR)) {
      if (isExempt(c.name, ctx.params) || !isEmpty(c.container['securityContext'])) continue;
      hits.push({
        container: c.name,
        message: `container "${c.name}" has no securityContext (${c.path}.securityContext) and the pod sets none (${tpl.path}.securityContext)`,
      });
    }
    return hits;
  },
};

export const runsAsRootGroup: Rule = {
  id: 'container-runs-as-root-group',
  title: 'Container runs with the root group (GID 0)',
  severity: 'low',
  category: 'workload',
  controls: ['NSA:Non-root containers and rootless container engines'],
  rationale:
    'Running as a non-root user does not help much if the process keeps GID 0: many images leave system files and directories owned by group root with group write or read permissions, and files the container creates on shared volumes become writable by any other root-group process. The Pod Security Standards do not restrict group ids.',
  remediation:
    'Set securityContext.runAsGroup (and fsGroup when volumes need it) to a non-zero group id, e.g. 10001, at pod level, and remove 0 from supplementalGroups.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl || isWindowsPod(tpl.spec)) return [];
    const psc = asObj(tpl.spec['securityContext']);
    const hits: RuleHit[] = [];
    if (psc['fsGroup'] === 0) hits.push({ message: `pod sets ${tpl.path}.securityContext.fsGroup=0` });
    if (asArray(psc['supplementalGroups']).includes(0))
      hits.push({ message: `pod adds group 0 in ${tpl.path}.securityContext.supplementalGroups` });
    for (const c of containersAt(tpl, ALL_CONTAINER_TYPES)) {
      if (isExempt(c.name, ctx.params)) continue;
      const own = dig(c.container, 'securityContext', 'runAsGroup');
      if (own === 0) {
        hits.push({
          container: c.name,
          message: `container "${c.name}" sets ${c.path}.securityContext.runAsGroup=0`,
        });
      } else if (own === undefined && psc['runAsGroup'] === 0) {
        hits.push({
          container: c.name,
          message: `container "${c.name}" inherits ${tpl.path}.securityContext.runAsGroup=0`,
        });
      }
    }
    return hits;
  },
};

export const runAsGroupMissing: Rule = {
  id: 'container-run-as-group-missing',
  title: 'Container does not set runAsGroup',
  severity: 'low',
  category: 'workload',
  controls: ['NSA:Non-root containers and rootless container engines'],
  rationale:
    'Without runAsGroup the primary group of the process comes from the image, which for most base images is 0 (root). Stating the group in the manifest makes file access on volumes and inside the image predictable and reviewable. Only in the all profile because images built for non-root often set a safe group themselves.',
  remediation:
    'Set spec.securityContext.runAsGroup (pod level, inherited by all containers) to a non-zero group id such as 10001.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl || isWindowsPod(tpl.spec)) return [];
    if (dig(tpl.spec, 'securityContext', 'runAsGroup') !== undefined) return [];
    const hits: RuleHit[] = [];
    for (const c of containersAt(tpl, INIT_AND_REGULAR)) {
      if (isExempt(c.name, ctx.params) || dig(c.container, 'securityContext', 'runAsGroup') !== undefined)
        continue;
      hits.push({
        container: c.name,
        message: `container "${c.name}" sets no runAsGroup (${c.path}.securityContext.runAsGroup) and the pod sets none (${tpl.path}.securityContext.runAsGroup)`,
      });
    }
    return hits;
  },
};
