/**
 * Issue 5 acceptance on the real control plane, read with the real kubectl:
 * policies become ScanReports, conditions, events and metrics within seconds,
 * fixes resolve findings, invalid policies are reported, and nothing is
 * written in steady state or across restarts.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { waitFor } from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from './process.ts';

interface Report {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec: { subject: { kind: string; name: string } };
  status?: {
    summary?: Record<string, number>;
    findings?: {
      ruleId: string;
      severity: string;
      controls?: string[];
      firstSeen?: string;
      policy?: string;
    }[];
    conditions?: { type: string; status: string; reason: string }[];
  };
}

const k = (args: string[], input?: string): string => cluster().kubectl(args, input);
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed view of kubectl's JSON
const json = <T>(args: string[]): T => JSON.parse(k([...args, '-o', 'json'])) as T;
const reports = (ns: string): Report[] => json<{ items: Report[] }>(['get', 'scanreports', '-n', ns]).items;
const report = (ns: string, name: string): Report | undefined =>
  reports(ns).find((r) => r.metadata.name === name);

function events(
  ns: string,
  kind: string,
  name: string,
): { reason: string; type: string; note?: string; reportingController?: string }[] {
  const list = json<{
    items: {
      reason: string;
      type: string;
      note?: string;
      reportingController?: string;
      regarding?: { kind: string; name: string };
    }[];
  }>(['get', 'events.events.k8s.io', '-n', ns]);
  return list.items.filter(
    (e) => e.regarding?.kind === kind && e.regarding.name === name && e.reportingController === 'vigil',
  );
}

async function eventually<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  let value: T | undefined | false;
  await waitFor(what, () => Promise.resolve((value = fn()) !== undefined && value !== false), timeoutMs);
  return value as T;
}

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: team-a}
spec:
  containers:
  - name: app
    image: registry.example/app:1.0
    securityContext: {privileged: true}
`;

const hostNetDeployment = (hostNetwork: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: ${hostNetwork}
      containers:
      - name: web
        image: registry.example/web:1.0
`;

describe('vigil operator on a real control plane', function () {
  let op: OperatorProcess | undefined;
  const running = (): OperatorProcess => {
    if (!op) throw new Error('operator not started');
    return op;
  };

  before(async () => {
    cluster().installCrds();
    for (const ns of ['vigil-system', 'team-a', 'other'])
      k(['apply', '-f', '-'], `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${ns}"}}`);
    k(
      ['apply', '-f', '-'],
      `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: tenants-restricted}
spec:
  profile: pss-restricted
  match: {namespaces: ["team-*"]}
`,
    );
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
  });

  after(async () => {
    const code = await op?.stop();
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('reports a privileged Pod and a hostNetwork Deployment in team-a within seconds, with events', async () => {
    k(['apply', '-f', '-'], privilegedPod);
    k(['apply', '-f', '-'], hostNetDeployment(true));
    const pod = await eventually('pod report', () => report('team-a', 'pod-priv'));
    expect(pod.spec.subject).to.include({ kind: 'Pod', name: 'priv' });
    expect(pod.status?.findings?.some((f) => f.controls?.includes('PSS:privileged'))).to.equal(true);
    expect((pod.status?.summary?.['critical'] ?? 0) + (pod.status?.summary?.['high'] ?? 0)).to.be.greaterThan(
      0,
    );
    expect(pod.metadata.ownerReferences?.[0]).to.include({ kind: 'Pod', name: 'priv' });
    const dep = await eventually('deployment report', () => report('team-a', 'deployment-web'));
    expect(dep.status?.findings?.some((f) => f.controls?.includes('PSS:hostNamespaces'))).to.equal(true);
    // Pods the Deployment creates are covered through it: no report of their own.
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      reports('team-a')
        .filter((r) => r.spec.subject.kind === 'Pod')
        .map((r) => r.spec.subject.name),
    ).to.deep.equal(['priv']);

    const table = k(['get', 'scanreports', '-n', 'team-a']);
    expect(table).to.match(/pod-priv\s+Pod\s+priv\s+\d+\s+\d+/);
    expect(table).to.match(/deployment-web\s+Deployment\s+web/);

    await eventually('Warning event on the pod', () =>
      events('team-a', 'Pod', 'priv').find((e) => e.type === 'Warning' && e.reason === 'FindingDetected'),
    );
    await eventually('Warning event on the deployment', () =>
      events('team-a', 'Deployment', 'web').find((e) => e.type === 'Warning'),
    );
  });

  it('leaves namespaces the policy does not match alone', async () => {
    k(['apply', '-f', '-'], privilegedPod.replace('team-a', 'other'));
    await new Promise((r) => setTimeout(r, 2000));
    expect(reports('other')).to.deep.equal([]);
  });

  it('keeps the policy status: Ready, observedGeneration and summary counts', async () => {
    k(['wait', '--for=condition=Ready', '--timeout=30s', 'securitypolicy/tenants-restricted']);
    const p = await eventually('policy summary', () => {
      const pol = json<{
        metadata: { generation: number };
        status?: {
          observedGeneration?: number;
          summary?: Record<string, number>;
          resourcesEvaluated?: number;
        };
      }>(['get', 'securitypolicy', 'tenants-restricted']);
      const s = pol.status?.summary ?? {};
      return (s['critical'] ?? 0) + (s['high'] ?? 0) > 0 ? pol : undefined;
    });
    expect(p.status?.observedGeneration).to.equal(p.metadata.generation);
    expect(p.status?.resourcesEvaluated).to.be.greaterThan(1);
    const table = k(['get', 'secpol', 'tenants-restricted']);
    expect(table).to.match(/tenants-restricted\s+pss-restricted\s+audit\s+True/);
  });

  it('exports vigil_findings and reconcile metrics', async () => {
    const text = await running().metrics();
    expect(text).to.match(
      /vigil_findings\{[^}]*policy="tenants-restricted"[^}]*severity="critical"[^}]*\} [1-9]/,
    );
    expect(text).to.contain('controller_runtime_reconcile_total');
    expect(text).to.contain('workqueue_depth');
    expect(text).to.match(/vigil_time_to_finding_seconds_count [1-9]/);
  });

  it('writes nothing in steady state', async () => {
    const before = reports('team-a')
      .map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`)
      .sort();
    const m1 = /vigil_reports_written_total (\d+)/.exec(await running().metrics())?.[1];
    await new Promise((r) => setTimeout(r, 5000));
    const after = reports('team-a')
      .map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`)
      .sort();
    const m2 = /vigil_reports_written_total (\d+)/.exec(await running().metrics())?.[1];
    expect(after).to.deep.equal(before);
    expect(m2).to.equal(m1);
  });

  it('keeps reports unchanged across a restart (no churn, firstSeen preserved)', async () => {
    const before = reports('team-a');
    expect(await running().stop()).to.equal(0);
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    await new Promise((r) => setTimeout(r, 4000));
    const after = reports('team-a');
    expect(after.map((r) => r.metadata.resourceVersion).sort()).to.deep.equal(
      before.map((r) => r.metadata.resourceVersion).sort(),
    );
    const text = await op.metrics();
    expect(text).to.match(/vigil_reports_written_total 0\b/);
  });

  it('restores a ScanReport a user deletes or edits, findings keeping their firstSeen', async () => {
    const firstSeen = (): string[] =>
      (report('team-a', 'pod-priv')?.status?.findings ?? []).map((f) => `${f.ruleId} ${f.firstSeen ?? ''}`);
    const original = firstSeen();
    expect(original).to.not.deep.equal([]);
    await new Promise((r) => setTimeout(r, 1100)); // firstSeen has whole seconds: a new one would differ
    k(['delete', 'scanreport', 'pod-priv', '-n', 'team-a']);
    await eventually('report recreated', () => report('team-a', 'pod-priv'));
    expect(firstSeen()).to.deep.equal(original);
    k([
      'patch',
      'scanreport',
      'pod-priv',
      '-n',
      'team-a',
      '--type=merge',
      '-p',
      '{"status":{"summary":{"critical":0,"high":0}}}',
    ]);
    await eventually('report restored', () => {
      const r = report('team-a', 'pod-priv');
      return r && (r.status?.summary?.['critical'] ?? 0) + (r.status?.summary?.['high'] ?? 0) > 0
        ? r
        : undefined;
    });
    expect(firstSeen()).to.deep.equal(original);
  });

  it('resolves findings when the offender is fixed or deleted, with a Normal event', async () => {
    k(['apply', '-f', '-'], hostNetDeployment(false));
    await eventually('hostNetwork finding resolved', () => {
      const r = report('team-a', 'deployment-web');
      return r === undefined || !r.status?.findings?.some((f) => f.controls?.includes('PSS:hostNamespaces'));
    });
    await eventually('Normal event on the deployment', () =>
      events('team-a', 'Deployment', 'web').find(
        (e) => e.type === 'Normal' && e.reason === 'FindingResolved',
      ),
    );
    k(['delete', 'pod', 'priv', '-n', 'team-a', '--wait=false']);
    await eventually('pod report gone', () => report('team-a', 'pod-priv') === undefined);
  });

  it('marks a policy with an unknown rule id Accepted=False naming it, and keeps working', async () => {
    k(
      ['apply', '-f', '-'],
      `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: typo}
spec:
  profile: recommended
  rules: [{id: pss-privilegd, severity: critical}]
`,
    );
    k(['wait', '--for=condition=Accepted=False', '--timeout=20s', 'securitypolicy/typo']);
    const pol = json<{
      status: { conditions: { type: string; status: string; reason: string; message: string }[] };
    }>(['get', 'securitypolicy', 'typo']);
    const accepted = pol.status.conditions.find((c) => c.type === 'Accepted');
    expect(accepted?.reason).to.equal('UnknownRule');
    expect(accepted?.message).to.contain('pss-privilegd');
    // The valid policy still works: a new offender is still reported.
    k(['apply', '-f', '-'], privilegedPod.replace('name: priv', 'name: priv2'));
    await eventually('report for a new offender', () => report('team-a', 'pod-priv2'));
  });
});
