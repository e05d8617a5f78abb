/**
 * Resource requests and limits of init and regular containers (ephemeral
 * containers cannot set resources).
 *
 * - A request counts as set when the container sets it, or sets the matching
 *   limit (the API server defaults the request to the limit), or a LimitRange
 *   of type Container in the same namespace supplies a default.
 * - A limit counts as set when the container sets it, or a LimitRange supplies
 *   `default` or `max` for it (LimitRange defaulting turns `max` into `default`).
 * - The CPU limit is only in `all`: CPU limits throttle latency-sensitive
 *   services and many teams deliberately leave them out; memory is not
 *   compressible, so a missing memory limit lets one pod OOM the node.
 */
import { WORKLOAD_KINDS, asObj, asObjArray, dig } from '../../engine/podspec.ts';
import type { KubeObject, Rule, RuleContext, RuleHit } from '../../engine/types.ts';
import {
  EXEMPT_CONTAINERS_PARAM,
  INIT_AND_REGULAR,
  checkedContainers,
  sameNamespaceObjects,
} from './_shared.ts';

type Resource = 'cpu' | 'memory';

interface NamespaceDefaults {
  request: Set<Resource>;
  limit: Set<Resource>;
}

/** Resources a LimitRange in the object's namespace defaults for containers. */
function limitRangeDefaults(obj: KubeObject, ctx: RuleContext): NamespaceDefaults {
  const out: NamespaceDefaults = { request: new Set(), limit: new Set() };
  for (const lr of sameNamespaceObjects(ctx.index, 'LimitRange', obj)) {
    for (const item of asObjArray(dig(lr, 'spec', 'limits'))) {
      if (item['type'] !== 'Container') continue;
      for (const r of ['cpu', 'memory'] as const) {
        const inField = (f: string): boolean => asObj(item[f])[r] !== undefined;
        if (inField('default') || inField('max')) {
          out.limit.add(r);
          out.request.add(r);
        }
        if (inField('defaultRequest') || inField('min')) out.request.add(r);
      }
    }
  }
  return out;
}

function has(resources: unknown, field: 'requests' | 'limits', r: Resource): boolean {
  const v = dig(resources, field, r);
  return (typeof v === 'string' && v !== '') || typeof v === 'number';
}

const LABEL: Record<Resource, string> = { cpu: 'CPU', memory: 'memory' };

export const requestsMissing: Rule = {
  id: 'container-requests-missing',
  title: 'Container has no CPU or memory request',
  severity: 'low',
  category: 'workload',
  controls: ['NSA:Resource policies'],
  rationale:
    'Without requests the scheduler places the pod as if it used nothing: nodes get overcommitted, the pod lands in the BestEffort QoS class and is the first to be evicted under pressure, and a busy neighbour can starve it. Requests are also what ResourceQuotas and capacity planning count.',
  remediation:
    'Set resources.requests.cpu and resources.requests.memory on every container from observed usage (e.g. the p95 from metrics), or give the namespace a LimitRange with defaultRequest values.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const defaults = limitRangeDefaults(obj, ctx);
    const hits: RuleHit[] = [];
    for (const c of checkedContainers(obj, ctx.params, INIT_AND_REGULAR)) {
      const res = c.container['resources'];
      const missing = (['cpu', 'memory'] as const).filter(
        (r) => !has(res, 'requests', r) && !has(res, 'limits', r) && !defaults.request.has(r),
      );
      if (missing.length === 0) continue;
      hits.push({
        container: c.name,
        message: `container "${c.name}" sets no ${missing.map((r) => LABEL[r]).join(' or ')} request (${c.path}.resources.requests)`,
      });
    }
    return hits;
  },
};

function limitRule(r: Resource): Pick<Rule, 'check'> {
  return {
    check(obj, ctx) {
      const defaults = limitRangeDefaults(obj, ctx);
      if (defaults.limit.has(r)) return [];
      const hits: RuleHit[] = [];
      for (const c of checkedContainers(obj, ctx.params, INIT_AND_REGULAR)) {
        if (has(c.container['resources'], 'limits', r)) continue;
        hits.push({
          container: c.name,
          message: `container "${c.name}" sets no ${LABEL[r]} limit (${c.path}.resources.limits.${r})`,
        });
      }
      return hits;
    },
  };
}

export const memoryLimitMissing: Rule = {
  id: 'container-memory-limit-missing',
  title: 'Container has no memory limit',
  severity: 'medium',
  category: 'workload',
  controls: ['NSA:Resource policies'],
  rationale:
    'Memory cannot be throttled, only reclaimed by killing processes. A container without a memory limit can grow until the node runs out of memory, and the kernel OOM killer or kubelet eviction then takes down other pods on the node: a leak or a crafted request becomes a denial of service for unrelated workloads.',
  remediation:
    'Set resources.limits.memory on every container (commonly equal to the memory request for Guaranteed QoS), or give the namespace a LimitRange with a default memory limit.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  ...limitRule('memory'),
};

export const cpuLimitMissing: Rule = {
  id: 'container-cpu-limit-missing',
  title: 'Container has no CPU limit',
  severity: 'low',
  category: 'workload',
  controls: ['NSA:Resource policies'],
  rationale:
    'Without a CPU limit a container may use every idle core of its node. That is often intended (CPU is compressible and requests still guarantee each pod its share), but a runaway or abused container then burns capacity other workloads and autoscalers count on. Only in the all profile, because limits also cause throttling.',
  remediation:
    'Set resources.limits.cpu on containers where bounded CPU use matters (multi-tenant nodes, batch jobs), or give the namespace a LimitRange with a default CPU limit.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [EXEMPT_CONTAINERS_PARAM],
  ...limitRule('cpu'),
};
