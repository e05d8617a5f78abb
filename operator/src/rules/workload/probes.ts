/**
 * Liveness and readiness probes of long-running workloads.
 *
 * Probes only exist on regular containers here: init containers run to
 * completion (native sidecars, init containers with restartPolicy: Always, may
 * have probes but are not required to) and ephemeral containers may not set
 * them. Jobs, CronJobs and Pods owned by a Job run to completion: no probes.
 *
 * Readiness gates Service endpoints, so it only matters for pods a Service
 * sends traffic to. The rule fires only when a Service in scope (same
 * namespace, non-empty selector, not ExternalName) selects the pod template,
 * and only when no regular container has a readiness probe: the pod is Ready
 * only when all its containers are, and containers without a probe count as
 * ready once started, so one probe on the serving container is enough. The
 * finding names the containers that declare ports (the serving ones), or all
 * regular containers when none declares ports.
 *
 * Liveness probes are in `all` only: a process that exits on failure is
 * restarted without one, and a badly tuned liveness probe causes restart storms
 * under load, so their absence is an opinion rather than a defect.
 */
import {
  WORKLOAD_KINDS,
  asObj,
  asObjArray,
  asString,
  dig,
  isObj,
  podTemplate,
} from '../../engine/podspec.ts';
import type { KubeObject, Rule, RuleContext, RuleHit } from '../../engine/types.ts';
import {
  EXEMPT_CONTAINERS_PARAM,
  REGULAR_ONLY,
  checkedContainers,
  clip,
  isRunToCompletion,
  sameNamespaceObjects,
  templateLabels,
} from './_shared.ts';

const LONG_RUNNING_KINDS = WORKLOAD_KINDS.filter((k) => k !== 'Job' && k !== 'CronJob');

/** Names of Services in scope whose selector selects the object's pod template. */
export function selectingServices(obj: KubeObject, ctx: RuleContext): string[] {
  const tpl = podTemplate(obj);
  if (!tpl) return [];
  const labels = templateLabels(tpl);
  const names: string[] = [];
  for (const svc of sameNamespaceObjects(ctx.index, 'Service', obj)) {
    const spec = asObj(svc['spec']);
    if (spec['type'] === 'ExternalName') continue;
    const sel = spec['selector'];
    if (!isObj(sel) || Object.keys(sel).length === 0) continue;
    if (Object.entries(sel).every(([k, v]) => typeof v === 'string' && labels[k] === v))
      names.push(asString(dig(svc, 'metadata', 'name')) ?? '');
  }
  return names.sort();
}

export const readinessProbeMissing: Rule = {
  id: 'container-readiness-probe-missing',
  title: 'Pod behind a Service has no readiness probe',
  severity: 'low',
  category: 'workload',
  controls: [],
  rationale:
    'A Service sends traffic to a pod as soon as all its containers have started unless a readiness probe says otherwise. Without one, rollouts and restarts route requests to processes that are still starting or are wedged, which shows up as errors and makes a bad rollout look healthy.',
  remediation:
    'Add a readinessProbe (httpGet on a health endpoint, or tcpSocket on the serving port) to the container that serves the Service, with a periodSeconds and failureThreshold that match its start-up time.',
  kinds: LONG_RUNNING_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    if (isRunToCompletion(obj)) return [];
    const containers = checkedContainers(obj, ctx.params, REGULAR_ONLY);
    if (containers.length === 0) return [];
    if (containers.some((c) => isObj(c.container['readinessProbe']))) return [];
    const services = selectingServices(obj, ctx);
    if (services.length === 0) return [];
    const serving = containers.filter((c) => asObjArray(c.container['ports']).length > 0);
    const svc = clip(services.map((s) => `"${s}"`).join(', '));
    const hits: RuleHit[] = [];
    for (const c of serving.length > 0 ? serving : containers) {
      hits.push({
        container: c.name,
        message: `container "${c.name}" has no readinessProbe (${c.path}.readinessProbe) but Service ${svc} selects the pod`,
      });
    }
    return hits;
  },
};

export const livenessProbeMissing: Rule = {
  id: 'container-liveness-probe-missing',
  title: 'Long-running container has no liveness probe',
  severity: 'low',
  category: 'workload',
  controls: [],
  rationale:
    'A process that deadlocks or stops making progress without exiting keeps running forever unless a liveness probe lets the kubelet detect it and restart the container. Only in the all profile: processes that exit on failure need no probe, and aggressive probes cause restart storms.',
  remediation:
    'Add a livenessProbe that checks the process itself (not its dependencies), with a generous failureThreshold, or a startupProbe first for slow starters; exempt sidecars that manage themselves with exemptContainers.',
  kinds: LONG_RUNNING_KINDS,
  profiles: [],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    if (isRunToCompletion(obj)) return [];
    const hits: RuleHit[] = [];
    for (const c of checkedContainers(obj, ctx.params, REGULAR_ONLY)) {
      if (isObj(c.container['livenessProbe'])) continue;
      hits.push({
        container: c.name,
        message: `container "${c.name}" has no livenessProbe (${c.path}.livenessProbe)`,
      });
    }
    return hits;
  },
};
