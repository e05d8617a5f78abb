/**
 * Deterministic benchmark corpus: N realistic Kubernetes resources (Deployments,
 * StatefulSets, DaemonSets, bare Pods, Jobs, CronJobs, Services, RBAC, PDBs,
 * NetworkPolicies, ConfigMaps …) mixing hardened and careless configurations, spread
 * over a few dozen multi-document YAML files, one namespace per file.
 *
 * The same (resources, seed) always yields byte-identical files: a seeded PRNG
 * (mulberry32), never Math.random, and no clock.
 *
 * Usage: node bench/corpus.ts [--resources N] [--seed S] [--out DIR]
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toYaml } from '../operator/src/yaml.ts';
import { prng } from '../e2e/prng.ts';

export const DEFAULT_RESOURCES = 10_000;
export const DEFAULT_SEED = 20_260_801;
/** Bump when the generator's output changes, so cached corpora are not reused. */
export const GENERATOR_VERSION = 1;

type Obj = Record<string, unknown>;

export interface CorpusObject {
  /** The file (relative to the corpus directory) the object is written to. */
  file: string;
  object: Obj;
}

export interface Corpus {
  resources: number;
  seed: number;
  objects: CorpusObject[];
  /** File name → YAML text (multi-document). */
  files: Map<string, string>;
  kinds: Record<string, number>;
}

const NAMESPACES = [
  'payments',
  'checkout',
  'catalog',
  'search',
  'identity',
  'notifications',
  'analytics',
  'ml-serving',
  'data-pipeline',
  'ingest',
  'billing',
  'frontend',
  'backend',
  'monitoring',
  'logging',
  'platform',
  'ci',
  'staging-web',
  'staging-api',
  'legacy',
  'batch',
  'edge',
  'ops',
  'security',
];

const APP_WORDS = [
  'api',
  'web',
  'worker',
  'gateway',
  'auth',
  'cart',
  'orders',
  'ledger',
  'mailer',
  'indexer',
  'scheduler',
  'cache',
  'proxy',
  'renderer',
  'exporter',
  'sync',
  'broker',
  'router',
  'reports',
  'uploader',
];

const IMAGES = [
  'registry.example.com/shop/api',
  'registry.example.com/shop/web',
  'ghcr.io/example/worker',
  'docker.io/library/nginx',
  'docker.io/library/redis',
  'quay.io/prometheus/node-exporter',
  'docker.io/bitnami/postgresql',
  'gcr.io/distroless/static',
  'registry.example.com/platform/agent',
  'docker.io/library/busybox',
];

interface Rng {
  next: () => number;
  chance: (p: number) => boolean;
  pick: <T>(xs: readonly T[]) => T;
  int: (lo: number, hi: number) => number;
}

function makeRng(seed: number): Rng {
  const next = prng(seed);
  return {
    next,
    chance: (p) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

/** How careful the author of a workload was. */
type Care = 'hardened' | 'typical' | 'sloppy';

interface WorkloadTraits {
  care: Care;
  /** DaemonSet-style node agents: host access is common (and sometimes needed). */
  agent: boolean;
  probes: boolean;
}

function hex(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'.charAt(r.int(0, 15));
  return s;
}

function image(r: Rng, care: Care): string {
  const repo = r.pick(IMAGES);
  const roll = r.next();
  if (care === 'hardened')
    return roll < 0.4
      ? `${repo}@sha256:${hex(r, 64)}`
      : `${repo}:${r.int(1, 4)}.${r.int(0, 30)}.${r.int(0, 9)}`;
  const latest = care === 'sloppy' ? 0.35 : 0.1;
  const untagged = care === 'sloppy' ? 0.25 : 0.06;
  if (roll < latest) return `${repo}:latest`;
  if (roll < latest + untagged) return repo;
  if (roll < latest + untagged + 0.08) return `${repo}@sha256:${hex(r, 64)}`;
  return `${repo}:${r.int(1, 4)}.${r.int(0, 30)}.${r.int(0, 9)}`;
}

function resources(r: Rng, care: Care): Obj | undefined {
  const full = {
    requests: { cpu: `${r.pick([50, 100, 250, 500])}m`, memory: `${r.pick([64, 128, 256, 512])}Mi` },
    limits: { cpu: `${r.pick([500, 1000, 2000])}m`, memory: `${r.pick([256, 512, 1024])}Mi` },
  };
  if (care === 'hardened') return full;
  const roll = r.next();
  if (care === 'sloppy') {
    if (roll < 0.6) return undefined;
    if (roll < 0.8) return { requests: full.requests };
    return { limits: { memory: full.limits.memory } };
  }
  if (roll < 0.5) return full;
  if (roll < 0.7) return { requests: full.requests, limits: { memory: full.limits.memory } };
  if (roll < 0.8) return { requests: full.requests };
  if (roll < 0.9) return { limits: full.limits };
  return undefined;
}

function probe(r: Rng, port: number): Obj {
  return r.chance(0.7)
    ? {
        httpGet: { path: r.pick(['/healthz', '/ready', '/livez']), port },
        periodSeconds: r.pick([5, 10, 15]),
      }
    : { tcpSocket: { port }, periodSeconds: 10 };
}

function hardenedContainerSC(r: Rng): Obj {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: r.int(10001, 65000),
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function containerSC(r: Rng, t: WorkloadTraits): Obj | undefined {
  if (t.care === 'hardened') return hardenedContainerSC(r);
  const sloppy = t.care === 'sloppy';
  if (!t.agent && r.chance(sloppy ? 0.6 : 0.3)) return undefined;
  const sc: Obj = {};
  if (r.chance(sloppy ? 0.2 : 0.7)) sc['allowPrivilegeEscalation'] = false;
  else if (r.chance(0.15)) sc['allowPrivilegeEscalation'] = true;
  if (r.chance(sloppy ? 0.2 : 0.55)) sc['readOnlyRootFilesystem'] = true;
  if (r.chance(sloppy ? 0.15 : 0.5)) sc['runAsNonRoot'] = true;
  if (r.chance(0.35)) sc['runAsUser'] = r.chance(0.08) ? 0 : r.pick([1000, 1001, 10001, 65532]);
  if (r.chance(sloppy ? 0.1 : 0.5)) sc['capabilities'] = { drop: ['ALL'] };
  if (r.chance(t.agent ? 0.3 : 0.04))
    sc['capabilities'] = { add: [r.pick(['NET_ADMIN', 'SYS_ADMIN', 'NET_BIND_SERVICE', 'SYS_PTRACE'])] };
  if (r.chance(t.agent ? 0.4 : sloppy ? 0.05 : 0.02)) sc['privileged'] = true;
  if (r.chance(0.3)) sc['seccompProfile'] = { type: 'RuntimeDefault' };
  return Object.keys(sc).length > 0 ? sc : undefined;
}

function container(r: Rng, t: WorkloadTraits, name: string, sidecar: boolean): Obj {
  const port = r.pick([8080, 8443, 9090, 3000, 5000]);
  const c: Obj = { name, image: image(r, t.care) };
  if (r.chance(0.4)) c['imagePullPolicy'] = r.pick(['Always', 'IfNotPresent']);
  if (!sidecar) c['ports'] = [{ name: 'http', containerPort: port }];
  if (!sidecar && r.chance(t.agent ? 0.3 : 0.02))
    (c['ports'] as Obj[]).push({ name: 'host', containerPort: 9100, hostPort: 9100 });
  if (r.chance(0.5)) {
    const env: Obj[] = [
      { name: 'LOG_LEVEL', value: r.pick(['info', 'debug', 'warn']) },
      { name: 'PORT', value: String(port) },
    ];
    if (r.chance(0.2))
      env.push({ name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: `${name}-secrets`, key: 'token' } } });
    else if (r.chance(t.care === 'sloppy' ? 0.15 : 0.03))
      // A credential pasted into the manifest (fake, but shaped like a real one).
      env.push({
        name: r.pick(['DB_PASSWORD', 'SECRET_KEY', 'REDIS_PASSWORD']),
        value: `s3cr3t-${hex(r, 20)}`,
      });
    c['env'] = env;
  }
  const res = resources(r, t.care);
  if (res) c['resources'] = res;
  const sc = containerSC(r, t);
  if (sc) c['securityContext'] = sc;
  if (t.probes) {
    const p = t.care === 'hardened' ? 1 : t.care === 'sloppy' ? 0.3 : 0.65;
    if (r.chance(p)) c['readinessProbe'] = probe(r, port);
    if (r.chance(p - 0.1)) c['livenessProbe'] = probe(r, port);
  }
  if (r.chance(0.2)) c['volumeMounts'] = [{ name: 'tmp', mountPath: '/tmp' }];
  return c;
}

/** A PodSpec; `labels` are the pod template's labels. */
function podSpec(r: Rng, t: WorkloadTraits, app: string, restartNever: boolean): Obj {
  const spec: Obj = {};
  const sloppy = t.care === 'sloppy';
  if (r.chance(0.6)) spec['serviceAccountName'] = app;
  if (r.chance(t.care === 'hardened' ? 0.8 : 0.2)) spec['automountServiceAccountToken'] = false;
  if (t.care === 'hardened' || r.chance(sloppy ? 0.05 : 0.3)) {
    const psc: Obj = { runAsNonRoot: true, runAsUser: r.int(10001, 65000), fsGroup: 2000 };
    if (r.chance(0.7)) psc['seccompProfile'] = { type: 'RuntimeDefault' };
    spec['securityContext'] = psc;
  } else if (r.chance(0.01)) {
    // A real authoring mistake: allowPrivilegeEscalation exists only per container; the
    // API server drops it at pod level, so it protects nothing.
    spec['securityContext'] = { allowPrivilegeEscalation: false, runAsNonRoot: true };
  }
  if (t.care !== 'hardened') {
    if (r.chance(t.agent ? 0.5 : 0.015)) spec['hostNetwork'] = true;
    if (r.chance(t.agent ? 0.3 : 0.008)) spec['hostPID'] = true;
    if (r.chance(t.agent ? 0.1 : 0.008)) spec['hostIPC'] = true;
  }
  const containers = [container(r, t, app, false)];
  if (r.chance(0.2)) containers.push(container(r, t, r.pick(['envoy', 'log-shipper', 'metrics']), true));
  spec['containers'] = containers;
  if (r.chance(0.15)) {
    const init: Obj = {
      name: 'init-config',
      image: `docker.io/library/busybox:1.${r.int(30, 37)}`,
      command: ['sh', '-c', 'cp /config/* /work/'],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    };
    const sc = containerSC(r, t);
    if (sc) init['securityContext'] = sc;
    spec['initContainers'] = [init];
  }
  const volumes: Obj[] = [{ name: 'tmp', emptyDir: {} }];
  if (t.care !== 'hardened' && r.chance(t.agent ? 0.7 : 0.03))
    volumes.push({
      name: 'host',
      hostPath: { path: r.pick(['/var/log', '/var/run/docker.sock', '/proc', '/etc', '/var/lib/kubelet']) },
    });
  spec['volumes'] = volumes;
  if (restartNever) spec['restartPolicy'] = r.pick(['Never', 'OnFailure']);
  return spec;
}

function meta(name: string, namespace: string | undefined, app: string, team: string): Obj {
  const m: Obj = { name };
  if (namespace !== undefined) m['namespace'] = namespace;
  m['labels'] = { app, 'app.kubernetes.io/name': app, team };
  return m;
}

function traits(r: Rng, agent: boolean, probes: boolean): WorkloadTraits {
  const roll = r.next();
  const care: Care = roll < 0.35 ? 'hardened' : roll < 0.8 ? 'typical' : 'sloppy';
  return { care, agent, probes };
}

/** One "unit": an app and what usually ships with it. Returns the objects in order. */
function unit(r: Rng, ns: string, id: number): Obj[] {
  const word = r.pick(APP_WORDS);
  const app = `${word}-${id}`;
  const team = r.pick(['alpha', 'bravo', 'charlie', 'delta']);
  const labels = { app };
  const out: Obj[] = [];
  const roll = r.next();
  if (roll < 0.48) {
    const t = traits(r, false, true);
    if (r.chance(0.4))
      out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(app, ns, app, team) });
    if (r.chance(0.35))
      out.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta(`${app}-config`, ns, app, team),
        data: { LOG_FORMAT: 'json', FEATURE_FLAGS: 'search,checkout' },
      });
    const replicas = r.chance(0.25) ? 1 : r.chance(0.1) ? undefined : r.int(2, 6);
    const dspec: Obj = {
      selector: { matchLabels: labels },
      template: { metadata: { labels: { ...labels, team } }, spec: podSpec(r, t, app, false) },
    };
    if (replicas !== undefined) dspec['replicas'] = replicas;
    out.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(app, ns, app, team), spec: dspec });
    if (r.chance(0.8)) {
      const type = r.pick(['ClusterIP', 'ClusterIP', 'ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer']);
      const sspec: Obj = { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] };
      if (type !== 'ClusterIP' || r.chance(0.5)) sspec['type'] = type;
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(app, ns, app, team), spec: sspec });
    }
    if (r.chance(0.35))
      out.push({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta(app, ns, app, team),
        spec: { selector: { matchLabels: labels }, minAvailable: 1 },
      });
    if (r.chance(0.3))
      out.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta(app, ns, app, team),
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'gateway' } } }] }],
        },
      });
  } else if (roll < 0.54) {
    const t = traits(r, false, true);
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${app}-headless`, ns, app, team),
      spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'http', port: 5432 }] },
    });
    out.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(app, ns, app, team),
      spec: {
        serviceName: `${app}-headless`,
        replicas: r.pick([1, 3]),
        selector: { matchLabels: labels },
        template: { metadata: { labels: { ...labels, team } }, spec: podSpec(r, t, app, false) },
      },
    });
  } else if (roll < 0.59) {
    const t = traits(r, true, r.chance(0.5));
    out.push({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(app, ns, app, team),
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels: { ...labels, team } }, spec: podSpec(r, t, app, false) },
      },
    });
  } else if (roll < 0.71) {
    const t = traits(r, false, false);
    const pod = podSpec(r, t, app, true);
    if (r.chance(0.6)) {
      const jobTemplate = { spec: { template: { metadata: { labels: { ...labels, team } }, spec: pod } } };
      const cspec: Obj = { schedule: `${r.int(0, 59)} ${r.int(0, 23)} * * *`, jobTemplate };
      if (r.chance(0.5)) cspec['startingDeadlineSeconds'] = 300;
      out.push({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta(app, ns, app, team), spec: cspec });
    } else {
      out.push({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: meta(app, ns, app, team),
        spec: { backoffLimit: 3, template: { metadata: { labels: { ...labels, team } }, spec: pod } },
      });
    }
  } else if (roll < 0.79) {
    const t = traits(r, false, r.chance(0.5));
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(r.chance(0.5) ? `debug-${id}` : app, ns, app, team),
      spec: podSpec(r, t, app, false),
    });
  } else if (roll < 0.93) {
    out.push(...rbac(r, ns, app, team));
  } else {
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${app}-settings`, ns, app, team),
      data: r.chance(0.1)
        ? {
            'app.properties': `name=${app}\ndb.user=app\ndb.password=pw-${hex(r, 16)}\n`,
            DB_PASSWORD: `pw-${hex(r, 16)}`,
          }
        : { 'app.properties': `name=${app}\ntimeout=30s\n`, REGION: r.pick(['eu-west-1', 'us-east-2']) },
    });
  }
  return out;
}

function rbac(r: Rng, ns: string, app: string, team: string): Obj[] {
  const rules: Obj[] = [];
  const roll = r.next();
  if (roll < 0.15) rules.push({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
  else if (roll < 0.3)
    rules.push({ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'list', 'create'] });
  else if (roll < 0.45)
    rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] });
  else if (roll < 0.55) rules.push({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] });
  else
    rules.push({ apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['get', 'list', 'watch'] });
  if (r.chance(0.3)) rules.push({ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] });
  const subject = r.chance(0.2)
    ? { kind: 'ServiceAccount', name: 'default', namespace: ns }
    : r.chance(0.3)
      ? { kind: 'Group', name: `${team}-devs`, apiGroup: 'rbac.authorization.k8s.io' }
      : { kind: 'ServiceAccount', name: app, namespace: ns };
  const cluster = r.chance(0.2);
  const bindToClusterAdmin = r.chance(0.06);
  const roleKind = cluster ? 'ClusterRole' : 'Role';
  const out: Obj[] = [];
  if (!bindToClusterAdmin)
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: roleKind,
      metadata: meta(app, cluster ? undefined : ns, app, team),
      rules,
    });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: cluster ? 'ClusterRoleBinding' : 'RoleBinding',
    metadata: meta(app, cluster ? undefined : ns, app, team),
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: bindToClusterAdmin ? 'ClusterRole' : roleKind,
      name: bindToClusterAdmin ? 'cluster-admin' : app,
    },
    subjects: [subject],
  });
  return out;
}

/** Number of files for N resources: a few dozen, about 250 resources each. */
export function fileCount(resources: number): number {
  return Math.max(1, Math.min(48, Math.ceil(resources / 250)));
}

/** Generates the corpus in memory. Exactly `resources` objects (the last unit is cut short). */
export function generateCorpus(resources: number = DEFAULT_RESOURCES, seed: number = DEFAULT_SEED): Corpus {
  if (!Number.isSafeInteger(resources) || resources < 1)
    throw new Error(`resources must be a positive integer`);
  const r = makeRng(seed);
  const nFiles = fileCount(resources);
  const perFile = Math.ceil(resources / nFiles);
  const objects: CorpusObject[] = [];
  const kinds: Record<string, number> = {};
  let id = 0;
  for (let f = 0; f < nFiles && objects.length < resources; f++) {
    const ns = NAMESPACES[f % NAMESPACES.length] ?? 'default';
    const file = `${String(f + 1).padStart(2, '0')}-${ns}.yaml`;
    const target = Math.min(resources, (f + 1) * perFile);
    while (objects.length < target) {
      for (const o of unit(r, ns, ++id)) {
        if (objects.length >= target) break;
        objects.push({ file, object: o });
        kinds[o['kind'] as string] = (kinds[o['kind'] as string] ?? 0) + 1;
      }
    }
  }
  const files = new Map<string, string>();
  const parts = new Map<string, string[]>();
  for (const o of objects) {
    let p = parts.get(o.file);
    if (!p) parts.set(o.file, (p = []));
    p.push(toYaml(o.object));
  }
  for (const [file, docs] of parts) files.set(file, docs.join('---\n'));
  return { resources: objects.length, seed, objects, files, kinds };
}

/** Writes the corpus into `dir` (its previous *.yaml files are removed first). */
export function writeCorpus(dir: string, corpus: Corpus): string[] {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('.yaml')) rmSync(join(dir, name));
  const written: string[] = [];
  for (const [file, text] of corpus.files) {
    const p = join(dir, file);
    writeFileSync(p, text);
    written.push(p);
  }
  return written.sort();
}

function main(): void {
  const { values } = parseArgs({
    options: {
      resources: { type: 'string', default: String(DEFAULT_RESOURCES) },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      out: { type: 'string' },
    },
  });
  const n = Number(values.resources);
  const corpus = generateCorpus(n, Number(values.seed));
  const dir = values.out ?? join(import.meta.dirname, '.work', `corpus-${n}`);
  const files = writeCorpus(dir, corpus);
  console.log(`${corpus.resources} resources in ${files.length} files under ${dir}`);
  console.log(JSON.stringify(corpus.kinds));
}

if (import.meta.main) main();
