/**
 * Equivalent checks across Vigil, kube-score and trivy (`trivy config`), and the comparison of
 * their findings on the benchmark corpus: for each check, which resources each tool
 * flags, where two tools disagree, and (for checks the corpus generator can decide
 * by construction) what each tool misses or adds against the ground truth.
 *
 * Comparison is per resource (kind/namespace/name): a tool "flags" a resource for a
 * check when any of the mapped rule ids fails on it, whatever the container.
 */
import type { CorpusObject } from './corpus.ts';

export type Tool = 'vigil' | 'kube-score' | 'trivy';
export const TOOLS: readonly Tool[] = ['vigil', 'kube-score', 'trivy'];

type Obj = Record<string, unknown>;

/** A Vigil rule id, optionally only the findings whose message matches. */
interface VigilMatch {
  rule: string;
  message?: RegExp;
}

/** A kube-score check id, optionally only the comments whose summary matches. */
interface KubeScoreMatch {
  check: string;
  summary?: RegExp;
}

export interface CheckDef {
  id: string;
  title: string;
  /** Kinds the check is about; findings on other kinds are ignored. */
  kinds: readonly string[];
  vigil: VigilMatch[];
  /** trivy check ids (KSV-0017 …); matched whatever their zero padding (KSV017). */
  trivy: string[];
  kubeScore: KubeScoreMatch[];
  /** Ground truth on the generated corpus (undefined: not decided by construction). */
  truth?: (o: Obj, corpus: CorpusLookup) => boolean;
  /** Known semantic differences that explain expected disagreements. */
  note?: string;
}

/** Finds corpus objects by kind, namespace ('' for cluster-scoped) and name. */
export type CorpusLookup = (kind: string, namespace: string, name: string) => Obj | undefined;

const POD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
const LONG_RUNNING = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet'] as const;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** The pod spec of a workload in the corpus (the generator only writes these shapes). */
export function podSpecOf(o: Obj): Obj | undefined {
  const spec = obj(o['spec']);
  switch (o['kind']) {
    case 'Pod':
      return spec;
    case 'CronJob':
      return obj(obj(obj(obj(spec['jobTemplate'])['spec'])['template'])['spec']);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return obj(obj(spec['template'])['spec']);
    default:
      return undefined;
  }
}

function containers(o: Obj, withInit: boolean): Obj[] {
  const ps = podSpecOf(o);
  if (!ps) return [];
  return withInit ? [...arr(ps['initContainers']), ...arr(ps['containers'])] : arr(ps['containers']);
}

function anyContainer(withInit: boolean, f: (c: Obj, ps: Obj) => boolean): (o: Obj) => boolean {
  return (o) => {
    const ps = podSpecOf(o);
    return ps !== undefined && containers(o, withInit).some((c) => f(c, ps));
  };
}

function sc(c: Obj): Obj {
  return obj(c['securityContext']);
}

function resourceMissing(section: 'limits' | 'requests', res: 'cpu' | 'memory'): (o: Obj) => boolean {
  return anyContainer(false, (c) => obj(obj(c['resources'])[section])[res] === undefined);
}

/** A request is missing only when no limit is set either: the API server defaults requests to limits. */
function requestMissing(res: 'cpu' | 'memory'): (o: Obj) => boolean {
  return anyContainer(false, (c) => {
    const r = obj(c['resources']);
    return obj(r['requests'])[res] === undefined && obj(r['limits'])[res] === undefined;
  });
}

/** Does a binding grant cluster-admin, or a role whose rules allow every verb on every resource? */
function grantsEverything(o: Obj, lookup: CorpusLookup): boolean {
  if (arr(o['subjects']).length === 0) return false;
  const ref = obj(o['roleRef']);
  const name = str(ref['name']);
  if (ref['kind'] === 'ClusterRole' && name === 'cluster-admin') return true;
  const ns = ref['kind'] === 'Role' ? str(obj(o['metadata'])['namespace']) : '';
  const role = lookup(str(ref['kind']), ns, name);
  return arr(role?.['rules']).some((r) =>
    (['apiGroups', 'resources', 'verbs'] as const).every(
      (f) => Array.isArray(r[f]) && (r[f] as unknown[]).includes('*'),
    ),
  );
}

/** May a container run as UID 0: an explicit 0, or neither a UID nor runAsNonRoot. */
function mayRunAsRoot(c: Obj, ps: Obj): boolean {
  const psc = obj(ps['securityContext']);
  const user = sc(c)['runAsUser'] ?? psc['runAsUser'];
  if (user === 0) return true;
  if (typeof user === 'number' && user > 0) return false;
  return (sc(c)['runAsNonRoot'] ?? psc['runAsNonRoot']) !== true;
}

function badTag(image: unknown): boolean {
  if (typeof image !== 'string') return true;
  if (image.includes('@sha256:')) return false;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return !last.includes(':') || last.endsWith(':latest');
}

export const CHECKS: readonly CheckDef[] = [
  {
    id: 'privileged',
    title: 'privileged container',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-privileged' }],
    trivy: ['KSV-0017'],
    kubeScore: [{ check: 'container-security-context-privileged' }],
    truth: anyContainer(true, (c) => sc(c)['privileged'] === true),
  },
  {
    id: 'host-network',
    title: 'hostNetwork',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-host-namespaces', message: /hostNetwork/ }],
    trivy: ['KSV-0009'],
    kubeScore: [],
    truth: (o) => podSpecOf(o)?.['hostNetwork'] === true,
  },
  {
    id: 'host-pid',
    title: 'hostPID',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-host-namespaces', message: /hostPID/ }],
    trivy: ['KSV-0010'],
    kubeScore: [],
    truth: (o) => podSpecOf(o)?.['hostPID'] === true,
  },
  {
    id: 'host-ipc',
    title: 'hostIPC',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-host-namespaces', message: /hostIPC/ }],
    trivy: ['KSV-0008'],
    kubeScore: [],
    truth: (o) => podSpecOf(o)?.['hostIPC'] === true,
  },
  {
    id: 'host-path',
    title: 'hostPath volume',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-host-path-volumes' }],
    trivy: ['KSV-0023'],
    kubeScore: [],
    truth: (o) => arr(podSpecOf(o)?.['volumes']).some((v) => v['hostPath'] !== undefined),
  },
  {
    id: 'host-port',
    title: 'hostPort',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-host-ports' }],
    trivy: ['KSV-0024'],
    kubeScore: [],
    // With hostNetwork the API server defaults hostPort to containerPort, in Pods only
    // (not in pod templates, since Kubernetes 1.28), and admission sees the defaulted Pod.
    truth: (o) =>
      anyContainer(true, (c) =>
        arr(c['ports']).some(
          (p) =>
            (typeof p['hostPort'] === 'number' && p['hostPort'] !== 0) ||
            (o['kind'] === 'Pod' &&
              podSpecOf(o)?.['hostNetwork'] === true &&
              p['containerPort'] !== undefined),
        ),
      )(o),
    note: 'With hostNetwork a Pod gets hostPort defaulted to each containerPort (Pods only, not templates, since Kubernetes 1.28): Vigil sees it.',
  },
  {
    id: 'privilege-escalation',
    title: 'allowPrivilegeEscalation not false',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-allow-privilege-escalation' }],
    trivy: ['KSV-0001'],
    kubeScore: [],
    truth: anyContainer(true, (c) => sc(c)['allowPrivilegeEscalation'] !== false),
  },
  {
    id: 'run-as-root',
    title: 'may run as root',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-run-as-non-root' }, { rule: 'pss-run-as-user' }],
    trivy: ['KSV-0012'],
    kubeScore: [],
    truth: anyContainer(true, mayRunAsRoot),
    note: 'PSS restricted requires runAsNonRoot=true even when a non-zero runAsUser is set; kube-score only checks UID/GID > 10000 (not mapped).',
  },
  {
    id: 'capabilities-added',
    title: 'dangerous capabilities added',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-capabilities-baseline' }],
    trivy: ['KSV-0022'],
    kubeScore: [],
    note: 'PSS baseline allows a fixed list (NET_BIND_SERVICE, CHOWN …) and flags anything else.',
  },
  {
    id: 'capabilities-not-dropped',
    title: 'capabilities not dropped',
    kinds: POD_KINDS,
    vigil: [{ rule: 'pss-capabilities-restricted' }],
    trivy: ['KSV-0003'],
    kubeScore: [],
    truth: anyContainer(true, (c) => {
      const drop = obj(sc(c)['capabilities'])['drop'];
      return !(Array.isArray(drop) && drop.includes('ALL'));
    }),
    note: 'PSS restricted also flags added capabilities other than NET_BIND_SERVICE.',
  },
  {
    id: 'read-only-root-fs',
    title: 'root filesystem writable',
    kinds: POD_KINDS,
    vigil: [{ rule: 'container-root-filesystem-writable' }],
    trivy: ['KSV-0014'],
    kubeScore: [{ check: 'container-security-context-readonlyrootfilesystem' }],
    truth: anyContainer(true, (c) => sc(c)['readOnlyRootFilesystem'] !== true),
  },
  {
    id: 'memory-limit',
    title: 'memory limit missing',
    kinds: POD_KINDS,
    vigil: [{ rule: 'container-memory-limit-missing' }],
    trivy: ['KSV-0018'],
    kubeScore: [{ check: 'container-resources', summary: /^Memory limit/ }],
    truth: resourceMissing('limits', 'memory'),
  },
  {
    id: 'cpu-limit',
    title: 'CPU limit missing',
    kinds: POD_KINDS,
    vigil: [{ rule: 'container-cpu-limit-missing' }],
    trivy: ['KSV-0011'],
    kubeScore: [{ check: 'container-resources', summary: /^CPU limit/ }],
    truth: resourceMissing('limits', 'cpu'),
  },
  {
    id: 'requests',
    title: 'CPU or memory request missing',
    kinds: POD_KINDS,
    vigil: [{ rule: 'container-requests-missing' }],
    trivy: ['KSV-0015', 'KSV-0016'],
    kubeScore: [{ check: 'container-resources', summary: /request is not set/ }],
    truth: (o) => requestMissing('cpu')(o) || requestMissing('memory')(o),
    note: 'When only a limit is set the API server defaults the request to it; kube-score still flags the missing request.',
  },
  {
    id: 'image-tag',
    title: 'image untagged or :latest',
    kinds: POD_KINDS,
    vigil: [{ rule: 'image-latest-tag' }],
    trivy: ['KSV-0013'],
    kubeScore: [{ check: 'container-image-tag' }],
    truth: anyContainer(true, (c) => badTag(c['image'])),
    note: 'A digest-pinned image without a tag is fine by construction; trivy flags only an explicit or implied :latest.',
  },
  {
    id: 'pull-policy',
    title: 'imagePullPolicy',
    kinds: POD_KINDS,
    vigil: [{ rule: 'image-pull-policy-stale' }],
    trivy: [],
    kubeScore: [{ check: 'container-image-pull-policy' }],
    note: 'Different questions: the peers want imagePullPolicy=Always everywhere; Vigil flags a policy that can run a stale mutable tag.',
  },
  {
    id: 'readiness-probe',
    title: 'readiness probe missing',
    kinds: LONG_RUNNING,
    vigil: [{ rule: 'container-readiness-probe-missing' }],
    trivy: [],
    kubeScore: [{ check: 'pod-probes', summary: /readinessProbe/ }],
    truth: anyContainer(false, (c) => c['readinessProbe'] === undefined),
    note: 'Vigil and kube-score check readiness only on pods a Service selects (no traffic, no need).',
  },
  {
    id: 'liveness-probe',
    title: 'liveness probe missing',
    kinds: LONG_RUNNING,
    vigil: [{ rule: 'container-liveness-probe-missing' }],
    trivy: [],
    kubeScore: [{ check: 'pod-probes', summary: /livenessProbe/ }],
    truth: anyContainer(false, (c) => c['livenessProbe'] === undefined),
    note: 'kube-score checks probes only on pods a Service selects.',
  },
  {
    id: 'pdb-missing',
    title: 'no PodDisruptionBudget',
    kinds: ['Deployment', 'StatefulSet'],
    vigil: [{ rule: 'pod-disruption-budget-missing' }],
    trivy: [],
    kubeScore: [
      { check: 'deployment-has-poddisruptionbudget' },
      { check: 'statefulset-has-poddisruptionbudget' },
    ],
    note: 'Vigil skips workloads with one replica (set or defaulted), where a PDB only blocks node drains; kube-score skips replicas: 1 but not an unset count.',
  },
  {
    id: 'single-replica',
    title: 'single replica',
    kinds: ['Deployment'],
    vigil: [{ rule: 'deployment-single-replica' }],
    trivy: [],
    kubeScore: [{ check: 'deployment-replicas' }],
    truth: (o) => {
      const r = obj(o['spec'])['replicas'];
      return typeof r !== 'number' || r < 2;
    },
    note: 'kube-score checks replicas only on Deployments a Service selects.',
  },
  {
    id: 'sa-token-automount',
    title: 'service account token automounted',
    kinds: POD_KINDS,
    vigil: [{ rule: 'service-account-token-automounted' }],
    trivy: ['KSV-0036'],
    kubeScore: [],
  },
  {
    id: 'network-policy',
    title: 'workload not selected by a NetworkPolicy',
    kinds: POD_KINDS,
    vigil: [{ rule: 'network-workload-not-isolated' }],
    trivy: [],
    kubeScore: [{ check: 'pod-networkpolicy' }],
    note: 'kube-score grades ingress-only as a warning.',
  },
  {
    id: 'service-exposed',
    title: 'Service exposed (NodePort/LoadBalancer)',
    kinds: ['Service'],
    vigil: [{ rule: 'network-service-exposed' }],
    trivy: [],
    kubeScore: [{ check: 'service-type' }],
    truth: (o) => ['NodePort', 'LoadBalancer'].includes(String(obj(o['spec'])['type'])),
    note: 'kube-score flags NodePort only.',
  },
  {
    id: 'cluster-admin-binding',
    title: 'binding to cluster-admin',
    kinds: ['RoleBinding', 'ClusterRoleBinding'],
    vigil: [{ rule: 'rbac-cluster-admin-binding' }],
    trivy: ['KSV-0111'],
    kubeScore: [],
    truth: grantsEverything,
    note: 'Both count a binding to a role allowing every verb on every resource as cluster-admin.',
  },
  {
    id: 'pod-exec',
    title: 'pods/exec or pods/attach granted',
    kinds: ['RoleBinding', 'ClusterRoleBinding'],
    // Vigil reports a binding once, under its most severe rule: cluster-admin (or an
    // all-wildcard role) is rbac-cluster-admin-binding, which includes exec.
    vigil: [{ rule: 'rbac-pod-exec-attach' }, { rule: 'rbac-cluster-admin-binding' }],
    trivy: [],
    kubeScore: [],
    note: 'Counts cluster-admin bindings too (they include exec): Vigil reports those under rbac-cluster-admin-binding. trivy checks exec on Roles, not bindings (not mapped).',
    truth: (o, lookup) => {
      if (grantsEverything(o, lookup)) return true;
      if (arr(o['subjects']).length === 0) return false;
      const ref = obj(o['roleRef']);
      const ns = ref['kind'] === 'Role' ? str(obj(o['metadata'])['namespace']) : '';
      const role = lookup(str(ref['kind']), ns, str(ref['name']));
      const has = (r: Obj, f: string, xs: string[]): boolean =>
        Array.isArray(r[f]) && (r[f] as unknown[]).some((x) => typeof x === 'string' && xs.includes(x));
      return arr(role?.['rules']).some(
        (r) =>
          has(r, 'apiGroups', ['', '*']) &&
          has(r, 'resources', ['pods/exec', 'pods/attach', '*']) &&
          has(r, 'verbs', ['create', 'get', '*']),
      );
    },
  },
  {
    id: 'secret-in-configmap',
    title: 'secret-like value in a ConfigMap',
    kinds: ['ConfigMap'],
    vigil: [{ rule: 'configmap-contains-secret' }],
    trivy: ['KSV-01010', 'KSV-0109'],
    kubeScore: [],
  },
  {
    id: 'secret-in-env',
    title: 'secret-like value in a container env',
    kinds: POD_KINDS,
    vigil: [{ rule: 'container-hardcoded-secret' }],
    trivy: [],
    kubeScore: [],
  },
];

// ---------------------------------------------------------------------------
// Parsing each tool's JSON output into (resource key, check-level id, detail) hits.

export interface Hit {
  /** kind/namespace/name ('' for cluster-scoped). */
  key: string;
  kind: string;
  /** Tool's own rule/check id. */
  id: string;
  /** Message or summary, for message-scoped matches. */
  text: string;
}

export function resourceKey(kind: string, namespace: string | null | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function vigilHits(report: unknown): Hit[] {
  const out: Hit[] = [];
  for (const f of arr(obj(report)['findings'])) {
    const r = obj(f['resource']);
    const kind = str(r['kind']);
    out.push({
      key: resourceKey(kind, r['namespace'] as string | null, str(r['name'])),
      kind,
      id: str(f['ruleId']),
      text: str(f['message']),
    });
  }
  return out;
}

/** A trivy check id without its zero padding: KSV-0017, KSV017 and AVD-KSV-0017 are all KSV17. */
export function trivyId(id: string): string {
  const m = /KSV-?0*(\d+)$/.exec(id);
  return m ? `KSV${m[1]}` : id;
}

/**
 * The documents of the corpus files: for each file (as trivy names it, relative to the scanned
 * directory), the first line, kind, name and resource key of every document.
 */
export type DocumentLines = Map<string, { line: number; kind: string; name: string; key: string }[]>;

/** Where each object of a multi-document corpus file starts (documents are separated by `---` lines). */
export function documentLines(files: ReadonlyMap<string, string>): DocumentLines {
  const out: DocumentLines = new Map();
  for (const [file, text] of files) {
    const docs: { line: number; kind: string; name: string; key: string }[] = [];
    let start = 1;
    let kind = '';
    let name = '';
    let namespace = '';
    let inMeta = false;
    const flush = (): void => {
      if (kind !== '') docs.push({ line: start, kind, name, key: resourceKey(kind, namespace, name) });
      kind = name = namespace = '';
      inMeta = false;
    };
    text.split('\n').forEach((l, i) => {
      if (l === '---') {
        flush();
        start = i + 2;
        return;
      }
      if (l.startsWith('kind: ')) kind = l.slice(6).trim();
      else if (l === 'metadata:') inMeta = true;
      else if (!l.startsWith(' ')) inMeta = false;
      else if (inMeta && l.startsWith('  name: ')) name = l.slice(8).trim();
      else if (inMeta && l.startsWith('  namespace: ')) namespace = l.slice(13).trim();
    });
    flush();
    out.set(file, docs);
  }
  return out;
}

/** The resource a trivy message names: `… of Deployment 'web'`, `… of 'deployment' 'web'`, `Role 'r' …`, `… of deployment "web" …`. */
const TRIVY_SUBJECT = [
  /\bof (\w+) '([^']+)'/,
  /\bof '(\w+)' '([^']+)'/,
  /^(\w+) '([^']+)'/,
  /\bof (\w+) "([^"]+)"/,
];

/**
 * trivy config: failed misconfigurations, each assigned to a corpus document of the file trivy
 * names. trivy's line numbers in multi-document files do not line up with the documents (they
 * run a few lines early), so the document is the one of the kind and name the message names;
 * only for messages that name none (checks the mapping does not use, such as KSV-0106) is it
 * the document the reported first line falls in.
 */
export function trivyHits(report: unknown, docs: DocumentLines): Hit[] {
  const out: Hit[] = [];
  for (const res of arr(obj(report)['Results'])) {
    const inFile = docs.get(str(res['Target'])) ?? [];
    for (const m of arr(res['Misconfigurations'])) {
      if (m['Status'] !== 'FAIL') continue;
      const text = str(m['Message']);
      let doc: { key: string; kind: string } | undefined;
      for (const re of TRIVY_SUBJECT) {
        const named = re.exec(text);
        if (!named) continue;
        const kind = (named[1] ?? '').toLowerCase();
        doc = inFile.find((d) => d.kind.toLowerCase() === kind && d.name === named[2]);
        if (doc) break;
      }
      const line = obj(m['CauseMetadata'])['StartLine'];
      if (!doc && typeof line === 'number')
        for (const d of inFile) {
          if (d.line > line) break;
          doc = d;
        }
      if (doc) out.push({ key: doc.key, kind: doc.kind, id: str(m['ID']), text });
    }
  }
  return out;
}

/** kube-score: a check fails when it is not skipped and graded below 10 (all OK). */
export function kubeScoreHits(report: unknown): Hit[] {
  const out: Hit[] = [];
  for (const o of Array.isArray(report) ? report.filter(isObj) : []) {
    const kind = str(obj(o['type_meta'])['kind']);
    const m = obj(o['object_meta']);
    const key = resourceKey(kind, m['namespace'] as string | undefined, str(m['name']));
    for (const c of arr(o['checks'])) {
      if (c['skipped'] === true || typeof c['grade'] !== 'number' || c['grade'] >= 10) continue;
      const id = str(obj(c['check'])['id']);
      const comments = arr(c['comments']);
      if (comments.length === 0) out.push({ key, kind, id, text: '' });
      for (const cm of comments) out.push({ key, kind, id, text: str(cm['summary']) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison.

const SAMPLE = 8;

export interface ToolSide {
  /** The tool's ids mapped to this check. */
  ids: string[];
  /** Resources flagged. */
  flagged: number;
}

export interface PairDiff {
  tools: [Tool, Tool];
  both: number;
  onlyFirst: number;
  onlySecond: number;
  sampleOnlyFirst: string[];
  sampleOnlySecond: string[];
}

export interface TruthDiff {
  /** Resources the corpus makes positive that the tool does not flag. */
  missed: number;
  /** Resources the tool flags that the corpus makes negative. */
  extra: number;
  sampleMissed: string[];
  sampleExtra: string[];
}

export interface CheckComparison {
  id: string;
  title: string;
  kinds: string[];
  tools: Partial<Record<Tool, ToolSide>>;
  truth: number | null;
  pairs: PairDiff[];
  vsTruth: Partial<Record<Tool, TruthDiff>>;
  note?: string;
}

export interface Comparison {
  resources: number;
  vigilProfile: string;
  toolsCompared: Tool[];
  checks: CheckComparison[];
  /** Vigil rule ids the mapping names that the registry does not have. */
  vigilRulesMissing: string[];
  /** Ids that fired on the corpus but are not mapped to any equivalent check. */
  unmapped: Partial<Record<Tool, Record<string, number>>>;
}

function flaggedBy(
  hits: readonly Hit[],
  kinds: ReadonlySet<string>,
  match: (h: Hit) => boolean,
): Set<string> {
  const s = new Set<string>();
  for (const h of hits) if (kinds.has(h.kind) && match(h)) s.add(h.key);
  return s;
}

function sample(xs: Iterable<string>): string[] {
  return [...xs].sort().slice(0, SAMPLE);
}

function matcher(tool: Tool, c: CheckDef): ((h: Hit) => boolean) | undefined {
  if (tool === 'vigil')
    return c.vigil.length === 0
      ? undefined
      : (h) => c.vigil.some((m) => m.rule === h.id && (!m.message || m.message.test(h.text)));
  if (tool === 'trivy') {
    const ids = new Set(c.trivy.map(trivyId));
    return ids.size === 0 ? undefined : (h) => ids.has(trivyId(h.id));
  }
  return c.kubeScore.length === 0
    ? undefined
    : (h) => c.kubeScore.some((m) => m.check === h.id && (!m.summary || m.summary.test(h.text)));
}

/** An id as the mapping compares it (trivy's without zero padding). */
function sameCheck(tool: Tool, id: string): string {
  return tool === 'trivy' ? trivyId(id) : id;
}

function ids(tool: Tool, c: CheckDef): string[] {
  if (tool === 'vigil') return [...new Set(c.vigil.map((m) => m.rule))];
  if (tool === 'trivy') return c.trivy;
  return [...new Set(c.kubeScore.map((m) => m.check))];
}

export function compare(
  corpus: readonly CorpusObject[],
  hits: Partial<Record<Tool, Hit[]>>,
  vigilRuleIds: ReadonlySet<string>,
  vigilProfile: string,
): Comparison {
  const present = TOOLS.filter((t) => hits[t] !== undefined);
  const byKey = new Map<string, Obj>();
  for (const { object } of corpus) {
    const m = obj(object['metadata']);
    byKey.set(
      resourceKey(String(object['kind']), m['namespace'] as string | undefined, String(m['name'])),
      object,
    );
  }
  const lookup: CorpusLookup = (kind, namespace, name) => byKey.get(resourceKey(kind, namespace, name));
  const checks: CheckComparison[] = [];
  const mappedIds: Record<Tool, Set<string>> = {
    vigil: new Set(),
    'kube-score': new Set(),
    trivy: new Set(),
  };
  for (const c of CHECKS) {
    const kinds = new Set(c.kinds);
    const sets: Partial<Record<Tool, Set<string>>> = {};
    const tools: Partial<Record<Tool, ToolSide>> = {};
    for (const t of present) {
      for (const id of ids(t, c)) mappedIds[t].add(sameCheck(t, id));
      const m = matcher(t, c);
      if (!m) continue;
      const s = flaggedBy(hits[t] ?? [], kinds, m);
      sets[t] = s;
      tools[t] = { ids: ids(t, c), flagged: s.size };
    }
    let truthSet: Set<string> | undefined;
    if (c.truth) {
      truthSet = new Set();
      for (const { object } of corpus) {
        const kind = String(object['kind']);
        if (!kinds.has(kind) || !c.truth(object, lookup)) continue;
        const m = obj(object['metadata']);
        truthSet.add(resourceKey(kind, m['namespace'] as string | undefined, String(m['name'])));
      }
    }
    const pairs: PairDiff[] = [];
    const withSets = present.filter((t) => sets[t] !== undefined);
    for (let i = 0; i < withSets.length; i++)
      for (let j = i + 1; j < withSets.length; j++) {
        const a = withSets[i] as Tool;
        const b = withSets[j] as Tool;
        const sa = sets[a] ?? new Set<string>();
        const sb = sets[b] ?? new Set<string>();
        const onlyA = [...sa].filter((k) => !sb.has(k));
        const onlyB = [...sb].filter((k) => !sa.has(k));
        pairs.push({
          tools: [a, b],
          both: sa.size - onlyA.length,
          onlyFirst: onlyA.length,
          onlySecond: onlyB.length,
          sampleOnlyFirst: sample(onlyA),
          sampleOnlySecond: sample(onlyB),
        });
      }
    const vsTruth: Partial<Record<Tool, TruthDiff>> = {};
    if (truthSet)
      for (const t of withSets) {
        const s = sets[t] ?? new Set<string>();
        const missed = [...truthSet].filter((k) => !s.has(k));
        const extra = [...s].filter((k) => !truthSet.has(k));
        vsTruth[t] = {
          missed: missed.length,
          extra: extra.length,
          sampleMissed: sample(missed),
          sampleExtra: sample(extra),
        };
      }
    const entry: CheckComparison = {
      id: c.id,
      title: c.title,
      kinds: [...c.kinds],
      tools,
      truth: truthSet ? truthSet.size : null,
      pairs,
      vsTruth,
    };
    if (c.note) entry.note = c.note;
    checks.push(entry);
  }
  const unmapped: Partial<Record<Tool, Record<string, number>>> = {};
  for (const t of present) {
    const counts: Record<string, Set<string>> = {};
    for (const h of hits[t] ?? [])
      if (!mappedIds[t].has(sameCheck(t, h.id))) (counts[h.id] ??= new Set()).add(h.key);
    unmapped[t] = Object.fromEntries(
      Object.entries(counts)
        .map(([id, keys]) => [id, keys.size] as const)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    );
  }
  const vigilRulesMissing = [...new Set(CHECKS.flatMap((c) => c.vigil.map((m) => m.rule)))]
    .filter((id) => !vigilRuleIds.has(id))
    .sort();
  return {
    resources: corpus.length,
    vigilProfile,
    toolsCompared: present,
    checks,
    vigilRulesMissing,
    unmapped,
  };
}
