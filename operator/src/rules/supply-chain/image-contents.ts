/**
 * What is inside the images containers run (issue 18), from the image facts of the cluster
 * (ClusterFacts.images: filled by the operator's image scanner or `vigil scan --images`). Every
 * rule here yields nothing when images are not analysed at all.
 *
 * - `image-vulnerabilities`: one finding per container and advisory: package, installed and
 *   fixed versions, advisory id and its CVE aliases. Severity is the advisory's (medium when it
 *   gives none), then set by where the image runs: one step higher when the pod runs privileged,
 *   with host namespaces or a hostPath volume, or is reachable from outside the cluster (a
 *   NodePort/LoadBalancer Service selecting it, or an Ingress to such a Service) with no ingress
 *   NetworkPolicy isolating it; one step lower for a batch Job/CronJob that is neither. The
 *   message says which and why.
 * - `image-suspicious-content`: one finding per suspicious item (a cryptominer, a mining pool, a
 *   setuid file no package owns, a private key or credential baked into a layer).
 * - `image-not-analysed`: the image could not be read (registry error, a pull secret the policy
 *   does not let Vigil read, …): nothing is silently skipped.
 * - `image-advisories-stale` (on the ClusterVersion pseudo-object): the advisory data is older
 *   than allowed, or none is loaded while images are analysed.
 *
 * Which image: a Pod's own `status.*containerStatuses[].imageID` (the digest the kubelet ran)
 * when it has one; for a workload, the imageIDs of the Pods it controls (directly or through a
 * ReplicaSet/Job) when they are in scope; else the reference as written. Objects whose controller
 * is in scope leave the findings to it (one finding per workload, as the network rules do).
 */
import {
  WORKLOAD_KINDS,
  asObj,
  asObjArray,
  asString,
  podTemplate,
  type ContainerType,
} from '../../engine/podspec.ts';
import {
  severityRank,
  SEVERITIES,
  type ClusterIndexView,
  type ImageFacts,
  type ImageFactsView,
  type ImageVulnerability,
  type KubeObject,
  type ParamSpec,
  type Rule,
  type RuleContext,
  type RuleHit,
  type Severity,
} from '../../engine/types.ts';
import {
  externalExposure,
  ingressPolicyFor,
  isTopLevel,
  listShort,
  networkPolicies,
  nsOf,
  podLabels,
  privilegeReasons,
} from '../network/_net.ts';
import { CLUSTER_VERSION_KIND } from '../platform/_subjects.ts';
import { memoByKinds } from '../rbac/_memo.ts';
import { checkedContainers, clip, EXEMPT_CONTAINERS_PARAM, type ContainerAt } from '../workload/_shared.ts';

/** Severity of an advisory that rates none (OSV records without a severity). */
export const DEFAULT_ADVISORY_SEVERITY: Severity = 'medium';

const STATUS_FIELDS: Record<ContainerType, string> = {
  initContainers: 'initContainerStatuses',
  containers: 'containerStatuses',
  ephemeralContainers: 'ephemeralContainerStatuses',
};

/** imageIDs the kubelet reported for each container of a Pod: "type/name" → imageIDs. */
function podImageIDs(pod: KubeObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const status = asObj(pod['status']);
  for (const [type, field] of Object.entries(STATUS_FIELDS))
    for (const s of asObjArray(status[field])) {
      const name = asString(s['name']);
      const id = asString(s['imageID']);
      if (!name || !id) continue;
      const key = `${type}/${name}`;
      out.set(key, [...(out.get(key) ?? []), id]);
    }
  return out;
}

const controllerOf = (o: KubeObject): { kind: string; name: string } | undefined => {
  for (const ref of asObjArray(asObj(o.metadata)['ownerReferences']))
    if (ref['controller'] === true) {
      const kind = asString(ref['kind']);
      const name = asString(ref['name']);
      if (kind && name) return { kind, name };
    }
  return undefined;
};

/**
 * imageIDs of the Pods in scope, by the workload that controls them ("Kind/ns/name", also through
 * a ReplicaSet or a Job to its Deployment or CronJob), then by "type/container". Memoised per index.
 */
function imageIDsByWorkload(index: ClusterIndexView): Map<string, Map<string, Set<string>>> {
  return memoByKinds(index, 'images/imageids', ['Pod', 'ReplicaSet', 'Job'], () => {
    const out = new Map<string, Map<string, Set<string>>>();
    for (const pod of index.ofKind('Pod')) {
      const ids = podImageIDs(pod);
      if (ids.size === 0) continue;
      const ns = nsOf(pod);
      const owners: string[] = [];
      let cur: { kind: string; name: string } | undefined = controllerOf(pod);
      for (let depth = 0; cur && depth < 2; depth++) {
        owners.push(`${cur.kind}/${ns}/${cur.name}`);
        const obj =
          cur.kind === 'ReplicaSet' || cur.kind === 'Job' ? index.get(cur.kind, ns, cur.name) : undefined;
        cur = obj ? controllerOf(obj) : undefined;
      }
      for (const owner of owners) {
        const m = out.get(owner) ?? new Map<string, Set<string>>();
        out.set(owner, m);
        for (const [k, v] of ids) m.set(k, new Set([...(m.get(k) ?? []), ...v]));
      }
    }
    return out;
  });
}

interface ContainerImage extends ContainerAt {
  image: string;
  facts: ImageFacts;
}

/** The facts of every checked container's image (one entry per distinct image it runs). */
function containerImages(obj: KubeObject, ctx: RuleContext): ContainerImage[] {
  const images: ImageFactsView | undefined = ctx.index.cluster.images;
  if (!images || !podTemplate(obj) || !isTopLevel(obj, ctx.index)) return [];
  const own = obj.kind === 'Pod' ? podImageIDs(obj) : undefined;
  const owned =
    obj.kind === 'Pod'
      ? undefined
      : imageIDsByWorkload(ctx.index).get(
          `${asString(obj.kind) ?? ''}/${nsOf(obj)}/${asString(asObj(obj.metadata)['name']) ?? ''}`,
        );
  const out: ContainerImage[] = [];
  for (const c of checkedContainers(obj, ctx.params)) {
    const image = c.container['image'];
    if (typeof image !== 'string' || image === '') continue;
    const key = `${c.type}/${c.name}`;
    const ids = [...(own?.get(key) ?? owned?.get(key) ?? [])];
    const seen = new Set<ImageFacts>();
    for (const id of ids.length > 0 ? ids : [undefined]) {
      const f = images.lookup(image, id) ?? (id !== undefined ? images.lookup(image) : undefined);
      if (f && !seen.has(f)) {
        seen.add(f);
        out.push({ ...c, image, facts: f });
      }
    }
  }
  return out;
}

const step = (s: Severity, by: number): Severity => {
  const rank = Math.max(0, Math.min(severityRank('critical'), severityRank(s) + by));
  return SEVERITIES[SEVERITIES.length - 1 - rank] ?? s;
};

const BATCH = new Set(['Job', 'CronJob']);

/** Why the pod's findings rank higher (or lower) than the advisory alone says. */
export interface Priority {
  /** +1, 0 or -1 steps. */
  by: number;
  why: string;
}

export function priorityOf(obj: KubeObject, index: ClusterIndexView): Priority {
  const reasons: string[] = [];
  const privileged = privilegeReasons(obj);
  if (privileged.length > 0) reasons.push(`runs with ${listShort(privileged, 3)}`);
  const exposed = externalExposure(obj, index).paths;
  const isolatedBy = ingressPolicyFor(podLabels(obj), networkPolicies(index, nsOf(obj)));
  if (exposed.length > 0 && !isolatedBy)
    reasons.push(
      `is reachable from outside the cluster (${listShort(exposed, 2)}) and no NetworkPolicy isolates it`,
    );
  if (reasons.length > 0) return { by: 1, why: reasons.join(', and ') };
  const owner = controllerOf(obj);
  const batch = BATCH.has(asString(obj.kind) ?? '') || (obj.kind === 'Pod' && owner?.kind === 'Job');
  if (batch)
    return {
      by: -1,
      why: `a batch ${obj.kind === 'Pod' ? 'Job' : (asString(obj.kind) ?? 'Job')} that runs unprivileged and is not reachable from outside the cluster`,
    };
  return { by: 0, why: '' };
}

const where = (c: ContainerImage): string =>
  `container "${clip(c.name)}" image "${clip(c.image)}"${c.facts.os ? ` (${clip(c.facts.os)})` : ''}`;

export const imageVulnerabilities: Rule = {
  id: 'image-vulnerabilities',
  title: 'Image has packages with known vulnerabilities',
  severity: 'medium',
  raisedTo: [
    {
      severity: 'critical',
      when: 'a critical advisory, or a high one in a pod that runs privileged, with host namespaces or a hostPath volume, or is reachable from outside the cluster with no NetworkPolicy isolating it',
    },
    { severity: 'high', when: 'a high advisory, or a medium one (or one without a severity) in such a pod' },
  ],
  category: 'supply-chain',
  controls: ['NSA:Building secure container images', 'NSA:Upgrading and application security practices'],
  rationale:
    'A package with a published vulnerability is the easiest way into a container: the exploit is often public and scanners find the version from outside. What the vulnerability lets an attacker reach depends on where the image runs, so the same advisory matters more in a privileged pod behind a LoadBalancer than in an isolated batch job.',
  remediation:
    'Rebuild the image with the fixed version of the package (update the base image or the dependency and re-run the build), push it under a new digest and roll the workload out. Until then, reduce what a compromise reaches: drop privileges and host namespaces, and isolate the pods with a NetworkPolicy.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    const found = containerImages(obj, ctx).filter((c) => c.facts.vulnerabilities.length > 0);
    if (found.length === 0) return hits;
    const p = priorityOf(obj, ctx.index);
    for (const c of found) {
      // One finding per advisory: the binary packages of one source package (libssl3, openssl)
      // that a Debian or Alpine advisory names share it.
      const byId = new Map<string, ImageVulnerability[]>();
      for (const v of c.facts.vulnerabilities) {
        const group = byId.get(v.id) ?? [];
        if (!group.some((g) => g.package === v.package && g.installed === v.installed)) group.push(v);
        byId.set(v.id, group);
      }
      for (const [id, group] of byId) {
        const v = group[0] as ImageVulnerability;
        const rated = group.map((g) => g.severity).filter((x): x is Severity => x !== undefined);
        const advisory = rated.sort((a, b) => severityRank(b) - severityRank(a))[0];
        const base = advisory ?? DEFAULT_ADVISORY_SEVERITY;
        const severity = step(base, p.by);
        const ids = [id, ...v.aliases.filter((a) => a !== id)];
        let note = '';
        if (severity !== base)
          note = `; priority ${p.by > 0 ? 'raised' : 'lowered'} from ${base} to ${severity}: the pod ${p.by > 0 ? p.why : `belongs to ${p.why}`}`;
        else if (p.by > 0) note = `; the pod ${p.why}`;
        const installed = [...new Set(group.map((g) => g.installed))];
        const packages =
          installed.length === 1
            ? `${listShort(
                group.map((g) => clip(g.package)),
                5,
              )} ${clip(installed[0] ?? '')}`
            : listShort(
                group.map((g) => `${clip(g.package)} ${clip(g.installed)}`),
                5,
              );
        const fixed = [...new Set(group.map((g) => g.fixed).filter((f): f is string => f !== undefined))];
        hits.push({
          container: c.name,
          severity,
          message: `${where(c)}: ${packages} ${group.length > 1 ? 'have' : 'has'} ${clip(ids.join(' / '), 200)}${fixed.length > 0 ? `, fixed in ${clip(fixed.join(', '))}` : ', no fixed version'}${v.summary ? ` (${clip(v.summary, 100)})` : ''}${advisory ? '' : ` (the advisory gives no severity: ${DEFAULT_ADVISORY_SEVERITY})`}${note} (${c.path}.image)`,
        });
      }
    }
    return hits;
  },
};

export const imageSuspiciousContent: Rule = {
  id: 'image-suspicious-content',
  title: 'Image holds suspicious content',
  severity: 'medium',
  raisedTo: [
    { severity: 'critical', when: 'a cryptominer, or a mining pool in a script or the entrypoint' },
    { severity: 'high', when: 'a private key or a known credential baked into the image' },
  ],
  category: 'supply-chain',
  controls: ['NSA:Building secure container images', 'MITRE:T1525', 'MITRE:T1496', 'MITRE:T1552.001'],
  rationale:
    'Images can carry code and data nobody reviewed: a cryptominer slipped into a base image, a script pointing at a mining pool, a setuid binary that turns any code execution into root inside the container, or a private key or cloud credential copied in at build time. Keys stay in the layer that added them even when a later layer deletes them: anyone who can pull the image can read them.',
  remediation:
    'Find where the content came from (the layer is named) and rebuild without it: remove miners and unknown setuid binaries, build from a trusted base, pass keys and credentials at run time (Secrets, workload identity) instead of copying them into the image, and rotate any key or credential that was ever in a pushed image.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    for (const c of containerImages(obj, ctx))
      for (const s of c.facts.suspicious)
        hits.push({
          container: c.name,
          severity: s.severity,
          message: `${where(c)}: ${s.kind} at ${clip(s.path)}: ${clip(s.detail, 300)} (${c.path}.image)`,
        });
    return hits;
  },
};

export const imageNotAnalysed: Rule = {
  id: 'image-not-analysed',
  title: 'Image could not be analysed',
  severity: 'low',
  category: 'supply-chain',
  controls: ['NSA:Building secure container images'],
  rationale:
    'An image that could not be read from its registry has unknown packages, vulnerabilities and content: reporting it keeps it from passing as clean.',
  remediation:
    'Fix what the message names: make the registry reachable, let the policy read the pull secret the workload uses (or grant Vigil its own credentials for that registry), or use an image whose format is supported.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    return containerImages(obj, ctx)
      .filter((c) => c.facts.status === 'not-analysed')
      .map((c) => ({
        container: c.name,
        message: `${where(c)} was not analysed: ${clip(c.facts.reason ?? 'no reason given', 300)} (${c.path}.image)`,
      }));
  },
};

const MAX_AGE_PARAM: ParamSpec = {
  name: 'maxAgeSeconds',
  description:
    'How old advisory data may get before it is reported, when the image scanner does not say (its advisoriesMaxAgeSeconds wins).',
  type: 'number',
  default: 7 * 24 * 3600,
};

function duration(seconds: number): string {
  if (seconds >= 2 * 86400) return `${Math.floor(seconds / 86400)} days`;
  if (seconds >= 2 * 3600) return `${Math.floor(seconds / 3600)} hours`;
  return `${Math.max(0, Math.floor(seconds / 60))} minutes`;
}

export const imageAdvisoriesStale: Rule = {
  id: 'image-advisories-stale',
  title: 'Vulnerability advisory data is stale or missing',
  severity: 'medium',
  category: 'supply-chain',
  controls: ['NSA:Upgrading and application security practices'],
  rationale:
    'Image vulnerabilities are only as current as the advisory data they are matched against: with old data (a failing refresh, an air-gapped copy nobody updates) newly published vulnerabilities go unreported and every image looks cleaner than it is.',
  remediation:
    'Restore the advisory refresh (check the source URL, proxy and the operator logs), or update the local advisory file/ConfigMap of an air-gapped cluster; raise the allowed age only if the source itself is published less often.',
  kinds: [CLUSTER_VERSION_KIND],
  profiles: ['recommended'],
  params: [MAX_AGE_PARAM],
  check(_obj, ctx) {
    const images = ctx.index.cluster.images;
    if (!images) return [];
    const updated = images.advisoriesUpdatedAt;
    if (updated === undefined)
      return [
        {
          message:
            'images are analysed but no vulnerability advisory data is loaded: their known vulnerabilities are not reported',
        },
      ];
    const t = Date.parse(updated);
    if (Number.isNaN(t))
      return [
        { message: `the advisory data's refresh time "${clip(updated)}" is not a date: its age is unknown` },
      ];
    const param = ctx.params['maxAgeSeconds'];
    const maxAge = images.advisoriesMaxAgeSeconds ?? (typeof param === 'number' ? param : 7 * 24 * 3600);
    const age = (ctx.now.getTime() - t) / 1000;
    if (age <= maxAge) return [];
    return [
      {
        message: `the vulnerability advisory data was last refreshed at ${clip(updated)}, ${duration(age)} ago (more than the ${duration(maxAge)} allowed): vulnerabilities published since are not reported`,
      },
    ];
  },
};

export const imageContentRules: Rule[] = [
  imageVulnerabilities,
  imageSuspiciousContent,
  imageNotAnalysed,
  imageAdvisoriesStale,
];
