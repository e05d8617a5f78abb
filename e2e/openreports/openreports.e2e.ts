/**
 * OpenReports export (issue 17 point 6): with --openreports the operator writes each ScanReport
 * as an openreports.io/v1alpha1 Report (namespaced subjects) or ClusterReport (cluster-scoped
 * ones). The upstream CRDs, from the Go module pinned in e2e/openreports/tools, are installed on
 * the real API server, which validates every object Vigil writes against their schema.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { goModule } from '../../operator/src/testing/go-module.ts';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { Kube, eventually, measured, podYaml } from '../faults/lib.ts';

const NS = 'or-a';
const TOOLS = join(REPO_ROOT, 'e2e', 'openreports', 'tools');

interface OpenReport {
  kind: string;
  metadata: { name: string; namespace?: string; ownerReferences?: { kind: string; name: string }[] };
  scope: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string };
  source: string;
  summary: Record<string, number>;
  results: {
    policy: string;
    rule: string;
    result: string;
    severity: string;
    message: string;
    source: string;
  }[];
}

describe('OpenReports export (--openreports)', function () {
  this.timeout(300_000);
  let k: Kube;
  let op: OperatorProcess | undefined;
  const start = async (): Promise<void> => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig, args: ['--openreports'] });
  };

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    const { version, dir } = goModule('github.com/openreports/reports-api', TOOLS, 'OpenReports CRDs');
    console.log(`      OpenReports CRDs from github.com/openreports/reports-api@${version}`);
    for (const f of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml'])
      k.run(['apply', '--server-side', '-f', join(dir, 'config', 'crd', f)]);
    k.run([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/reports.openreports.io',
      'crd/clusterreports.openreports.io',
    ]);
    k.ensureNamespace(NS);
    // ScanReports about cluster-scoped subjects live in the operator's namespace.
    k.ensureNamespace('vigil-system');
    k.apply(`apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: or-policy}
spec:
  profile: recommended
`);
    await start();
  });

  after(async () => {
    await op?.stop();
  });

  const reports = (ns: string): OpenReport[] =>
    k.json<{ items: OpenReport[] }>(['get', 'reports.openreports.io', '-n', ns]).items;
  const clusterReports = (): OpenReport[] =>
    k.json<{ items: OpenReport[] }>(['get', 'clusterreports.openreports.io']).items;

  it('writes a Report for a namespaced subject: scope, one failed result per finding, summary', async () => {
    k.run(['create', '-f', '-'], podYaml('priv', NS, { privileged: true }));
    const { value, ms } = await eventually(
      'the Report of pod priv',
      () => reports(NS).find((r) => r.scope.kind === 'Pod' && r.scope.name === 'priv'),
      60_000,
    );
    measured('pod created → OpenReports Report', ms);
    const uid = k.json<{ metadata: { uid: string } }>(['get', 'pod', 'priv', '-n', NS]).metadata.uid;
    expect(value.scope).to.deep.equal({ apiVersion: 'v1', kind: 'Pod', name: 'priv', namespace: NS, uid });
    expect(value.source).to.equal('vigil');
    expect(value.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).to.deep.equal(['Pod/priv']);
    const scan = k.report(NS, value.metadata.name);
    if (!scan) throw new Error(`no ScanReport ${value.metadata.name}`);
    const findings = scan.status?.findings ?? [];
    expect(value.results.map((r) => `${r.policy}/${r.rule}/${r.severity}/${r.result}`).sort()).to.deep.equal(
      findings.map((f) => `or-policy/${f.ruleId}/${f.severity}/fail`).sort(),
    );
    expect(value.results.map((r) => r.rule)).to.include('pss-privileged');
    expect(value.summary).to.deep.equal({ pass: 0, fail: findings.length, warn: 0, error: 0, skip: 0 });
  });

  it('writes a ClusterReport for a cluster-scoped subject, and deletes it once the subject is fixed', async () => {
    k.apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: or-wild}
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
`);
    const { value } = await eventually(
      'the ClusterReport of ClusterRole or-wild',
      () => clusterReports().find((r) => r.scope.kind === 'ClusterRole' && r.scope.name === 'or-wild'),
      60_000,
    );
    expect(value.kind).to.equal('ClusterReport');
    expect(value.metadata.namespace).to.equal(undefined);
    // Its ScanReport lives in the operator's namespace; the ClusterReport carries the same findings.
    const scan = k.report('vigil-system', value.metadata.name);
    if (!scan) throw new Error(`no ScanReport vigil-system/${value.metadata.name}`);
    expect(value.results.map((r) => `${r.rule}/${r.severity}`).sort()).to.deep.equal(
      (scan.status?.findings ?? []).map((f) => `${f.ruleId}/${f.severity}`).sort(),
    );
    expect(value.results.some((r) => r.rule.startsWith('rbac-'))).to.equal(true);
    k.apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: or-wild}
rules: [{apiGroups: [''], resources: ['pods'], verbs: ['get']}]
`);
    await eventually(
      'the ClusterReport removed',
      () => !clusterReports().some((r) => r.scope.kind === 'ClusterRole' && r.scope.name === 'or-wild'),
      60_000,
    );
  });

  it('after a restart, rewrites a Report that went missing while the ScanReport stayed', async () => {
    await op?.stop();
    op = undefined;
    const name = reports(NS).find((r) => r.scope.name === 'priv')?.metadata.name;
    if (!name) throw new Error('no Report for pod priv');
    k.run(['delete', 'reports.openreports.io', name, '-n', NS]);
    await start();
    await eventually('the Report rewritten', () => reports(NS).some((r) => r.metadata.name === name), 60_000);
    expect(k.report(NS, name)).to.not.equal(undefined);
  });
});
