/**
 * The Helm chart charts/vigil and manifests/install.yaml describe the same install; these helpers
 * keep them one: the pinned helm binary, rendering the chart, and an object-by-object comparison
 * that names every difference. Used by scripts/render-chart.ts, scripts/chart-drift.ts and the
 * chart e2e test (e2e/chart/chart.e2e.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlAll } from '../operator/src/yaml.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CHART_DIR = join(ROOT, 'charts', 'vigil');
export const INSTALL_YAML = join(ROOT, 'manifests', 'install.yaml');

/**
 * Labels Helm charts conventionally add for Helm's own bookkeeping. With
 * HELM_BOOKKEEPING_ANNOTATIONS they are the only difference the drift check tolerates, and only in
 * an object's own metadata (never in selectors or pod templates).
 */
export const HELM_BOOKKEEPING_LABELS: readonly string[] = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
];
/** The chart's Namespace carries `helm.sh/resource-policy: keep` (helm uninstall leaves it). */
export const HELM_BOOKKEEPING_ANNOTATIONS: readonly string[] = ['helm.sh/resource-policy'];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** The pinned helm (scripts/helm-build.sh builds it once per machine). */
export function helmBin(): string {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'helm-build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (dir === undefined || dir === '') throw new Error('scripts/helm-build.sh printed no directory');
  return join(dir, 'helm');
}

/** Every non-empty document of a multi-document YAML stream; a YAML error throws, naming `what`. */
export function parseObjects(text: string, what: string): K8sObject[] {
  const objs: K8sObject[] = [];
  let docs: unknown[];
  try {
    docs = parseYamlAll(text);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  }
  for (const o of docs) {
    if (o === null || o === undefined) continue;
    if (typeof o !== 'object' || Array.isArray(o)) throw new Error(`${what}: a document is not an object`);
    const obj = o as Partial<K8sObject>;
    if (typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new Error(`${what}: a document has no kind or metadata.name`);
    }
    objs.push(obj as K8sObject);
  }
  return objs;
}

export function readObjects(file: string): K8sObject[] {
  return parseObjects(readFileSync(file, 'utf8'), file);
}

export interface TemplateOptions {
  helm: string;
  release?: string;
  namespace?: string;
  /** --set-json arguments, e.g. ['replicas=1', 'networkPolicy.apiServerPorts=[8443]']. */
  setJson?: readonly string[];
  valuesFiles?: readonly string[];
  chart?: string;
}

export function helmTemplateArgs(o: TemplateOptions): string[] {
  const args = [
    'template',
    o.release ?? 'vigil',
    o.chart ?? CHART_DIR,
    '--namespace',
    o.namespace ?? 'vigil-system',
    '--include-crds',
  ];
  for (const s of o.setJson ?? []) args.push('--set-json', s);
  for (const f of o.valuesFiles ?? []) args.push('--values', f);
  return args;
}

/** `helm template` of the chart, parsed. */
export function renderChart(o: TemplateOptions): K8sObject[] {
  const out = execFileSync(o.helm, helmTemplateArgs(o), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return parseObjects(out, 'helm template');
}

export function objectKey(o: K8sObject): string {
  const ns = o.metadata.namespace;
  return `${o.kind} ${ns !== undefined && ns !== '' ? `${ns}/` : ''}${o.metadata.name}`;
}

function withoutBookkeeping(o: K8sObject): K8sObject {
  const copy = structuredClone(o);
  const strip = (field: 'labels' | 'annotations', keys: readonly string[]): void => {
    const m = copy.metadata[field];
    if (!m) return;
    for (const k of keys) delete m[k];
    if (Object.keys(m).length === 0) delete copy.metadata[field];
  };
  strip('labels', HELM_BOOKKEEPING_LABELS);
  strip('annotations', HELM_BOOKKEEPING_ANNOTATIONS);
  return copy;
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

function diffValues(path: string, want: unknown, got: unknown, out: string[]): void {
  if (Array.isArray(want) && Array.isArray(got)) {
    if (want.length !== got.length) {
      out.push(`${path}: ${want.length} items in install.yaml, ${got.length} in the chart`);
    }
    for (let i = 0; i < Math.min(want.length, got.length); i++) {
      diffValues(`${path}[${i}]`, want[i], got[i], out);
    }
    return;
  }
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isMap(want) && isMap(got)) {
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])].sort();
    for (const k of keys) diffValues(path === '' ? k : `${path}.${k}`, want[k], got[k], out);
    return;
  }
  if (!Object.is(want, got)) out.push(`${path}: install.yaml ${show(want)}, chart ${show(got)}`);
}

/**
 * Differences between the objects of install.yaml (`want`) and of the chart (`got`), one line each,
 * naming the object and the field; empty when they are the same apart from
 * HELM_BOOKKEEPING_LABELS and HELM_BOOKKEEPING_ANNOTATIONS in their metadata.
 */
export function compareObjects(want: readonly K8sObject[], got: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const index = (objs: readonly K8sObject[], what: string): Map<string, K8sObject> => {
    const m = new Map<string, K8sObject>();
    for (const o of objs) {
      const k = objectKey(o);
      if (m.has(k)) problems.push(`${k}: appears twice in ${what}`);
      m.set(k, o);
    }
    return m;
  };
  const w = index(want, 'install.yaml');
  const g = index(got, 'the chart');
  for (const [k, o] of w) {
    const c = g.get(k);
    if (!c) {
      problems.push(`${k}: in install.yaml, not rendered by the chart`);
      continue;
    }
    const diffs: string[] = [];
    diffValues('', withoutBookkeeping(o), withoutBookkeeping(c), diffs);
    for (const d of diffs) problems.push(`${k}: ${d}`);
  }
  for (const k of g.keys()) if (!w.has(k)) problems.push(`${k}: rendered by the chart, not in install.yaml`);
  return problems;
}

export interface ImageRef {
  repository: string;
  tag: string;
  digest: string;
}

/** Splits repository[:tag][@digest] (a registry port is not mistaken for a tag). */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : '';
  const colon = name.lastIndexOf(':');
  const tagged = colon > name.lastIndexOf('/');
  const repository = tagged ? name.slice(0, colon) : name;
  const tag = tagged ? name.slice(colon + 1) : '';
  if (repository === '' || (tag === '' && digest === '') || (at >= 0 && digest === '')) {
    throw new Error(`not an image reference with a tag or digest: ${JSON.stringify(ref)}`);
  }
  return { repository, tag, digest };
}

/** The image of the operator's `manager` container in a set of objects (install.yaml's). */
export function managerImage(objs: readonly K8sObject[]): string {
  const deployments = objs.filter((o) => o.kind === 'Deployment');
  if (deployments.length !== 1) throw new Error(`expected one Deployment, found ${deployments.length}`);
  const spec = deployments[0]?.spec as
    { template?: { spec?: { containers?: { name?: string; image?: string }[] } } } | undefined;
  const image = spec?.template?.spec?.containers?.find((c) => c.name === 'manager')?.image;
  if (typeof image !== 'string') throw new Error('the Deployment has no manager container with an image');
  return image;
}
