/**
 * Shared helpers of the fault-injection suites: kubectl on a given control
 * plane, polling with measured recovery time, metric reads, report checks,
 * and the oracle — what `vigil scan` computes on a dump of the cluster,
 * compared per subject with the ScanReports the operator wrote.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT,
  issueClientCert,
  kubeconfigYaml,
  type ControlPlane,
} from '../controlplane/controlplane.ts';
import { SUBJECT_KINDS, isSubject } from '../../operator/src/runtime/kinds.ts';
import { SEVERITIES } from '../../operator/src/engine/types.ts';
import type { KubeObject } from '../../operator/src/engine/types.ts';
import { metricSum, parseExposition } from '../../operator/src/observability/exposition.ts';

/** FAULTS_FULL=1: the full fault set (10-minute soak, full sizes). */
export const FULL = process.env['FAULTS_FULL'] === '1';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ReportFinding {
  ruleId: string;
  severity: string;
  policy?: string;
  container?: string;
  message: string;
}

export interface Report {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
    managedFields?: { manager: string; operation: string; subresource?: string }[];
  };
  spec: { subject: { kind: string; name: string; namespace?: string; uid?: string } };
  status?: {
    summary?: Record<string, number>;
    findings?: ReportFinding[];
    omittedFindings?: number;
    conditions?: { type: string; status: string; reason: string; message?: string }[];
  };
}

/** kubectl bound to one control plane. */
export class Kube {
  readonly cp: ControlPlane;
  constructor(cp: ControlPlane) {
    this.cp = cp;
  }

  run(args: string[], input?: string): string {
    return this.cp.kubectl(args, input);
  }

  /** kubectl that may fail; returns status and output. */
  try(args: string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
    const r = spawnSync(this.cp.kubectlPath, ['--kubeconfig', this.cp.kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed view of kubectl's JSON
  json<T>(args: string[]): T {
    return JSON.parse(this.run([...args, '-o', 'json'])) as T;
  }

  apply(yaml: string): void {
    this.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml);
  }

  reports(ns?: string): Report[] {
    return this.json<{ items: Report[] }>(['get', 'scanreports', ...(ns ? ['-n', ns] : ['-A'])]).items;
  }

  report(ns: string, name: string): Report | undefined {
    const r = this.try(['get', 'scanreport', name, '-n', ns, '-o', 'json']);
    return r.ok ? (JSON.parse(r.stdout) as Report) : undefined;
  }

  installCrds(): void {
    this.cp.installCrds();
  }

  ensureNamespace(ns: string): void {
    this.apply(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
  }

  /** Vigil's events (events.k8s.io/v1) in a namespace. */
  vigilEvents(ns: string): { reason: string; type: string; regarding?: { kind: string; name: string } }[] {
    return this.json<{
      items: {
        reason: string;
        type: string;
        reportingController?: string;
        regarding?: { kind: string; name: string };
      }[];
    }>(['get', 'events.events.k8s.io', '-n', ns]).items.filter((e) => e.reportingController === 'vigil');
  }
}

export interface ClientIdentity {
  cert: string;
  key: string;
  kubeconfig: string;
}

/**
 * A client certificate for `name` (not in system:masters, which the API server exempts from
 * its in-flight limits) bound to cluster-admin, and a kubeconfig for it.
 */
export function makeUser(cp: ControlPlane, name: string): ClientIdentity {
  const d = cp.state.dir;
  issueClientCert(d, name, name);
  const kubeconfig = join(d, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, kubeconfigYaml(`https://127.0.0.1:${cp.state.apiPort}`, d, name));
  cp.kubectl([
    'create',
    'clusterrolebinding',
    `${name}-admin`,
    '--clusterrole=cluster-admin',
    `--user=${name}`,
  ]);
  return { cert: join(d, `${name}.crt`), key: join(d, `${name}.key`), kubeconfig };
}

/** One request to the API server (admin certificate unless `as` is given), bypassing kubectl. */
export function apiRequest(
  cp: ControlPlane,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/merge-patch+json',
  as?: ClientIdentity,
): Promise<{ status: number; body: string }> {
  const d = cp.state.dir;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cp.state.apiPort,
        path,
        method,
        ca: readFileSync(join(d, 'ca.crt')),
        cert: readFileSync(as?.cert ?? join(d, 'admin.crt')),
        key: readFileSync(as?.key ?? join(d, 'admin.key')),
        timeout: 10_000,
        headers: payload === undefined ? {} : { 'content-type': contentType },
      },
      (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end(payload);
  });
}

/** Compacts etcd's history up to its current revision (gRPC gateway); returns the revision. */
export async function compactEtcd(cp: ControlPlane): Promise<number> {
  const base = `http://127.0.0.1:${cp.state.etcdPort}/v3`;
  const range = await fetch(`${base}/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64'), limit: 1 }),
  });
  const rev = Number(((await range.json()) as { header?: { revision?: string } }).header?.revision);
  if (!Number.isFinite(rev) || rev <= 0) throw new Error('could not read the etcd revision');
  const r = await fetch(`${base}/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: String(rev), physical: true }),
  });
  if (!r.ok) throw new Error(`etcd compaction failed: ${r.status} ${await r.text()}`);
  return rev;
}

/** Polls until fn returns a value (not undefined/false); resolves with it and the time it took. */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  let lastErr = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return { value, ms: Date.now() - t0 };
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`,
  );
}

/** Prints a measured number so it shows in the mocha output (and the report). */
export function measured(what: string, value: number, unit = 's'): void {
  const v = unit === 's' ? (value / 1000).toFixed(1) : String(value);
  console.log(`      ⏱  ${what}: ${v} ${unit}`);
}

/** The value of one Prometheus series (sum over series matching every given label). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return metricSum(parseExposition(text).samples, name, labels) ?? NaN;
}

/** Every severity count in a report's summary equals what its findings (plus omitted ones) say. */
export function summaryConsistent(r: Report): boolean {
  const s = r.status?.summary ?? {};
  const fs = r.status?.findings ?? [];
  const total = SEVERITIES.reduce((n, sev) => n + (s[sev] ?? 0), 0);
  if (total !== fs.length + (r.status?.omittedFindings ?? 0)) return false;
  if ((r.status?.omittedFindings ?? 0) > 0) return true;
  return SEVERITIES.every((sev) => (s[sev] ?? 0) === fs.filter((f) => f.severity === sev).length);
}

// ---- the oracle ------------------------------------------------------------------------------

/** One finding as both sides can name it. */
function findingKey(f: {
  policy?: string | null;
  ruleId: string;
  severity: string;
  container?: string | null;
}): string {
  return `${f.policy ?? ''}|${f.ruleId}|${f.severity}|${f.container ?? ''}`;
}

/** Subject key as the operator's work queue spells it: Kind/namespace/name. */
function subjectOf(kind: string, ns: string | null | undefined, name: string): string {
  return `${kind}/${ns ?? ''}/${name}`;
}

/** Per subject: the set of finding keys and the exact count of distinct findings by severity. */
export interface SubjectFindings {
  keys: string[];
  counts: Record<string, number>;
  /** Report side only: findings left out for the byte budget. */
  omitted?: number;
}
export type Truth = Map<string, SubjectFindings>;

/**
 * Which subjects a suite compares: those in its namespaces (a Namespace by its own name), and
 * cluster-scoped ones listed as `/name` (e.g. '/f9-big' for a ClusterRole named f9-big).
 */
function inScope(key: string, scope: ReadonlySet<string>): boolean {
  const [kind, ns, name] = key.split('/');
  if (kind === 'Namespace') return scope.has(name ?? '');
  return ns === '' ? scope.has(`/${name ?? ''}`) : scope.has(ns ?? '');
}

/** What the operator's ScanReports say, per subject in scope. */
export function reportedState(k: Kube, scope: ReadonlySet<string>): Truth {
  const out: Truth = new Map();
  for (const r of k.reports()) {
    const s = r.spec.subject;
    const key = subjectOf(s.kind, s.namespace, s.name);
    if (!inScope(key, scope)) continue;
    const counts: Record<string, number> = {};
    for (const sev of SEVERITIES) if (r.status?.summary?.[sev]) counts[sev] = r.status.summary[sev];
    out.set(key, {
      keys: [...new Set((r.status?.findings ?? []).map(findingKey))].sort(),
      counts,
      omitted: r.status?.omittedFindings ?? 0,
    });
  }
  return out;
}

/** A finding in `vigil scan --output json`. */
export interface CliFinding {
  ruleId: string;
  severity: string;
  container: string | null;
  message: string;
  resource: { kind: string; namespace: string | null; name: string };
}

/**
 * Dumps every watched kind and the SecurityPolicies, runs `vigil scan` once per policy on the
 * dump, and combines the findings per subject (only subjects the operator reports on: not
 * controller-owned Pods, ReplicaSets and Jobs).
 */
export function oracle(k: Kube, scope: ReadonlySet<string>): Truth {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-oracle-'));
  try {
    const kinds = SUBJECT_KINDS.map((w) => (w.group ? `${w.plural}.${w.group}` : w.plural)).join(',');
    // managedFields too: change-management rules read them (kubectl hides them by default).
    const dump = k.json<{ items: KubeObject[] }>(['get', kinds, '-A', '--show-managed-fields']);
    const subjects = new Set(
      dump.items
        .filter((o) => isSubject(o))
        .map((o) => subjectOf(String(o.kind), o.metadata?.namespace, o.metadata?.name ?? '')),
    );
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(dump));
    const policies = k.json<{ items: KubeObject[] }>(['get', 'securitypolicies']).items;
    const found = new Map<string, Map<string, string>>();
    for (const p of policies) {
      const name = p.metadata?.name ?? '';
      const pf = join(dir, `policy-${name}.json`);
      writeFileSync(
        pf,
        JSON.stringify({ apiVersion: p.apiVersion, kind: p.kind, metadata: { name }, spec: p['spec'] }),
      );
      const r = spawnSync(
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'vigil.js'),
          'scan',
          '--policy',
          pf,
          '-o',
          'json',
          '--fail-on',
          'never',
          join(dir, 'cluster.json'),
        ],
        { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      );
      if (r.status === 2 && /: spec/.test(r.stderr)) continue; // an invalid policy evaluates nothing
      if (r.status !== 0) throw new Error(`vigil scan --policy ${name} exited ${r.status}: ${r.stderr}`);
      for (const f of (JSON.parse(r.stdout) as { findings: CliFinding[] }).findings) {
        const key = subjectOf(f.resource.kind, f.resource.namespace, f.resource.name);
        if (!subjects.has(key) || !inScope(key, scope)) continue;
        const m = found.get(key) ?? new Map<string, string>();
        // Distinct findings as the report counts them: policy, rule, container, message.
        m.set(`${name}|${f.ruleId}|${f.container ?? ''}|${f.message}`, findingKey({ ...f, policy: name }));
        found.set(key, m);
      }
    }
    const out: Truth = new Map();
    for (const [key, m] of found) {
      const counts: Record<string, number> = {};
      for (const fk of m.values()) {
        const sev = fk.split('|')[2] ?? '';
        counts[sev] = (counts[sev] ?? 0) + 1;
      }
      out.set(key, { keys: [...new Set(m.values())].sort(), counts });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Differences between the truth and the reports, as readable lines (empty when equal): the
 * finding sets must be equal (for a report truncated by the byte budget, a subset), and the
 * summary must count exactly the distinct findings by severity.
 */
export function diffTruth(expected: Truth, actual: Truth): string[] {
  const lines: string[] = [];
  for (const key of [...new Set([...expected.keys(), ...actual.keys()])].sort()) {
    const e = expected.get(key) ?? { keys: [], counts: {} };
    const a = actual.get(key) ?? { keys: [], counts: {} };
    const truncated = (a.omitted ?? 0) > 0;
    const missing = truncated ? [] : e.keys.filter((x) => !a.keys.includes(x));
    const extra = a.keys.filter((x) => !e.keys.includes(x));
    if (missing.length > 0) lines.push(`${key}: missing ${missing.join(', ')}`);
    if (extra.length > 0) lines.push(`${key}: unexpected ${extra.join(', ')}`);
    if (JSON.stringify(sortKeys(e.counts)) !== JSON.stringify(sortKeys(a.counts)))
      lines.push(`${key}: summary ${JSON.stringify(a.counts)}, expected ${JSON.stringify(e.counts)}`);
  }
  return lines;
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/**
 * Waits until the reports in scope (namespaces, and `/name` for cluster-scoped subjects) equal
 * the oracle, recomputed on every try since the cluster may still be settling; resolves with
 * the time it took, or fails with the diff.
 */
export async function expectConverged(
  k: Kube,
  namespaces: readonly string[],
  timeoutMs = 60_000,
): Promise<number> {
  const scope = new Set(namespaces);
  const t0 = Date.now();
  let diff: string[] = [];
  while (Date.now() - t0 < timeoutMs) {
    const truth = oracle(k, scope);
    diff = diffTruth(truth, reportedState(k, scope));
    if (diff.length === 0) {
      for (const r of k.reports()) {
        const s = r.spec.subject;
        if (inScope(subjectOf(s.kind, s.namespace, s.name), scope))
          expect(summaryConsistent(r), `summary of ${r.metadata.namespace}/${r.metadata.name}`).to.equal(
            true,
          );
      }
      return Date.now() - t0;
    }
    await sleep(1000);
  }
  throw new Error(
    `reports did not converge to vigil scan's findings within ${timeoutMs} ms:\n  ${diff.slice(0, 40).join('\n  ')}${diff.length > 40 ? `\n  … ${diff.length - 40} more` : ''}`,
  );
}

/** A SecurityPolicy limited to some namespaces. */
export function policyYaml(
  name: string,
  namespaces: readonly string[],
  extra = 'profile: recommended',
): string {
  return `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}}
spec:
  match: {namespaces: [${namespaces.map((n) => JSON.stringify(n)).join(', ')}]}
${extra
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

export function podYaml(
  name: string,
  ns: string,
  opts: { privileged?: boolean; hostNetwork?: boolean; labels?: Record<string, string> } = {},
): string {
  const labels = Object.entries(opts.labels ?? {})
    .map(([a, b]) => `${a}: ${JSON.stringify(b)}`)
    .join(', ');
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {${labels}}}
spec:
  hostNetwork: ${opts.hostNetwork === true}
  containers:
  - name: app
    image: registry.example/app:1.0
    securityContext: {privileged: ${opts.privileged === true}}
`;
}

/** Many objects in one kubectl call. */
export function listYaml(docs: readonly string[]): string {
  return docs.join('---\n');
}

/** Removes a suite's policies and namespaces (namespaces are deleted in the background). */
export function cleanup(k: Kube, policies: readonly string[], namespaces: readonly string[]): void {
  if (policies.length > 0)
    k.try(['delete', 'securitypolicy', ...policies, '--ignore-not-found', '--wait=false']);
  if (namespaces.length > 0)
    k.try(['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=false']);
}

/** Operator log lines (JSON) that match a message. */
export function logLines(file: string, message: RegExp): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!message.test(line)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return out;
}
