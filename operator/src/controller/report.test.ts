import { expect } from 'chai';
import type { ScanReport } from '../api/types.generated.ts';
import type { Finding, ResourceRef, Severity } from '../engine/types.ts';
import {
  DEFAULT_REPORT_BUDGET_BYTES,
  buildReport,
  reportName,
  reportNamespace,
  stableStringify,
} from './report.ts';

const DEPLOY: ResourceRef = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'web',
  uid: 'u-1',
};
const CLUSTER_ROLE: ResourceRef = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  name: 'admin-all',
  uid: 'c-1',
};
const T0 = new Date('2030-01-01T00:00:00.000Z');
const T1 = new Date('2030-01-02T12:30:45.678Z');

function finding(over: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'pss-privileged',
    title: 'Privileged containers',
    severity: 'critical',
    category: 'pod-security',
    controls: ['PSS:privileged'],
    resource: DEPLOY,
    container: 'app',
    message: 'container "app" sets securityContext.privileged=true',
    remediation: 'Remove securityContext.privileged or set it to false.',
    policy: 'baseline',
    ...over,
  };
}

function build(findings: Finding[], previous?: ScanReport, now = T0, budgetBytes?: number) {
  return buildReport({
    subject: DEPLOY,
    findings,
    operatorNamespace: 'vigil-system',
    previous,
    now,
    ...(budgetBytes !== undefined ? { budgetBytes } : {}),
  });
}

/** What the API server would hand back: the written object as plain JSON. */
function roundTrip(r: unknown): ScanReport {
  return JSON.parse(JSON.stringify(r)) as ScanReport;
}

describe('reportName', () => {
  const cases: [Pick<ResourceRef, 'kind' | 'name' | 'namespace'>, RegExp | string][] = [
    [{ kind: 'Deployment', name: 'web' }, 'deployment-web'],
    [{ kind: 'Pod', name: 'x' }, 'pod-x'],
    [{ kind: 'ClusterRole', name: 'foo' }, 'clusterrole-foo'],
    [{ kind: 'Pod', name: 'web-7d4b9.abc' }, 'pod-web-7d4b9.abc'],
    [
      { kind: 'ClusterRole', name: 'system:controller:job-controller' },
      /^clusterrole-system-controller-job-controller-[0-9a-f]{10}$/,
    ],
    [{ kind: 'ClusterRole', name: 'Admin' }, /^clusterrole-admin-[0-9a-f]{10}$/],
    [{ kind: 'Role', name: '..weird..' }, /^role\.weird-[0-9a-f]{10}$/],
    [{ kind: 'ClusterRole', name: ':::' }, /^clusterrole-[0-9a-f]{10}$/],
  ];
  for (const [subject, expected] of cases) {
    it(`${subject.kind}/${subject.name}`, () => {
      const n = reportName(subject);
      if (typeof expected === 'string') expect(n).to.equal(expected);
      else expect(n).to.match(expected);
    });
  }

  it('is a valid DNS-1123 subdomain of at most 253 chars for long names, with a hash suffix', () => {
    const long = reportName({ kind: 'ConfigMap', name: 'a'.repeat(253) });
    expect(long.length).to.be.at.most(253);
    expect(long).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    expect(long).to.match(/-[0-9a-f]{10}$/);
  });

  it('keeps names distinct when sanitizing maps them together', () => {
    const a = reportName({ kind: 'ClusterRole', name: 'system:foo' });
    const b = reportName({ kind: 'ClusterRole', name: 'system-foo' });
    const c = reportName({ kind: 'ClusterRole', name: 'System-foo' });
    expect(new Set([a, b, c]).size).to.equal(3);
  });

  it('places cluster-scoped subjects in the operator namespace', () => {
    expect(reportNamespace(DEPLOY, 'vigil-system')).to.equal('shop');
    expect(reportNamespace(CLUSTER_ROLE, 'vigil-system')).to.equal('vigil-system');
  });
});

describe('buildReport', () => {
  it('builds metadata, spec, summary, findings and conditions', () => {
    const { report, changes, omitted } = build([
      finding(),
      finding({ ruleId: 'run-as-non-root', severity: 'medium', message: 'container "app" may run as root' }),
    ]);
    expect(report.apiVersion).to.equal('security.vigil.dev/v1alpha1');
    expect(report.kind).to.equal('ScanReport');
    expect(report.metadata.name).to.equal('deployment-web');
    expect(report.metadata.namespace).to.equal('shop');
    expect(report.metadata.ownerReferences).to.deep.equal([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-1' },
    ]);
    expect(report.metadata.labels).to.deep.equal({
      'app.kubernetes.io/managed-by': 'vigil',
      'security.vigil.dev/subject-kind': 'Deployment',
      'security.vigil.dev/subject-uid': 'u-1',
    });
    expect(report.spec.subject).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      uid: 'u-1',
    });
    expect(report.status.summary).to.deep.equal({ critical: 1, high: 0, medium: 1, low: 0, info: 0 });
    expect(report.status.omittedFindings).to.equal(0);
    expect(omitted).to.equal(0);
    expect(report.status.findings?.map((f) => [f.ruleId, f.firstSeen])).to.deep.equal([
      ['pss-privileged', '2030-01-01T00:00:00Z'],
      ['run-as-non-root', '2030-01-01T00:00:00Z'],
    ]);
    expect(report.status.conditions).to.deep.equal([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Scanned',
        message: 'The subject has been evaluated',
        lastTransitionTime: '2030-01-01T00:00:00Z',
      },
      {
        type: 'Compliant',
        status: 'False',
        reason: 'FindingsPresent',
        message: '2 findings: 1 critical, 1 medium',
        lastTransitionTime: '2030-01-01T00:00:00Z',
      },
    ]);
    expect(report.status.lastEvaluated).to.equal('2030-01-01T00:00:00Z');
    expect(changes).to.deep.equal({ create: true, metadata: true, status: true });
  });

  it('reports Compliant=True with no findings', () => {
    const { report } = build([]);
    expect(report.status.findings).to.deep.equal([]);
    expect(report.status.conditions?.[1]).to.include({
      type: 'Compliant',
      status: 'True',
      reason: 'NoFindings',
    });
  });

  it('puts cluster-scoped subjects in the operator namespace with a cluster-scoped owner', () => {
    const { report } = buildReport({
      subject: CLUSTER_ROLE,
      findings: [finding({ resource: CLUSTER_ROLE, container: undefined, ruleId: 'rbac-wildcard' })],
      operatorNamespace: 'vigil-system',
      now: T0,
    });
    expect(report.metadata.name).to.equal('clusterrole-admin-all');
    expect(report.metadata.namespace).to.equal('vigil-system');
    expect(report.metadata.ownerReferences).to.deep.equal([
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin-all', uid: 'c-1' },
    ]);
    expect(report.spec.subject).to.not.have.property('namespace');
  });

  it('omits the ownerReference and uid label when the uid is unknown', () => {
    const { report } = buildReport({
      subject: { apiVersion: 'v1', kind: 'Namespace', name: 'team-a' },
      findings: [],
      operatorNamespace: 'vigil-system',
      now: T0,
    });
    expect(report.metadata).to.not.have.property('ownerReferences');
    expect(report.metadata.labels).to.not.have.property('security.vigil.dev/subject-uid');
  });

  it('orders findings deterministically regardless of input order and drops exact duplicates', () => {
    const fs = [
      finding({ severity: 'low', ruleId: 'b', container: 'z' }),
      finding({ severity: 'critical', ruleId: 'z' }),
      finding({ severity: 'low', ruleId: 'a', container: 'y' }),
      finding({ severity: 'high', ruleId: 'a', policy: 'p2' }),
      finding({ severity: 'high', ruleId: 'a', policy: 'p1' }),
      finding({ severity: 'high', ruleId: 'a', policy: 'p1' }),
    ];
    const a = build(fs).report;
    const b = build([...fs].reverse()).report;
    expect(stableStringify(a)).to.equal(stableStringify(b));
    expect(
      a.status.findings?.map((f) => `${f.severity}/${f.ruleId}/${f.policy}/${f.container}`),
    ).to.deep.equal([
      'critical/z/baseline/app',
      'high/a/p1/app',
      'high/a/p2/app',
      'low/a/baseline/y',
      'low/b/baseline/z',
    ]);
  });

  it('is a no-op against its own previous output (nothing to write, timestamps kept)', () => {
    const first = build([finding()], undefined, T0);
    const second = build([finding()], roundTrip(first.report), T1);
    expect(second.report).to.deep.equal(first.report);
    expect(second.changes).to.deep.equal({ create: false, metadata: false, status: false });
    expect(second.report.status.lastEvaluated).to.equal('2030-01-01T00:00:00Z');
    expect(second.report.status.findings?.[0]?.firstSeen).to.equal('2030-01-01T00:00:00Z');
    expect(second.report.status.conditions?.map((c) => c.lastTransitionTime)).to.deep.equal([
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:00:00Z',
    ]);
  });

  it('preserves firstSeen of findings that persist and stamps new ones', () => {
    const first = build([finding()], undefined, T0);
    const second = build(
      [
        finding(),
        finding({ ruleId: 'host-network', severity: 'high', container: undefined, message: 'hostNetwork' }),
      ],
      roundTrip(first.report),
      T1,
    );
    const bySeen = Object.fromEntries(
      (second.report.status.findings ?? []).map((f) => [f.ruleId, f.firstSeen]),
    );
    expect(bySeen).to.deep.equal({
      'pss-privileged': '2030-01-01T00:00:00Z',
      'host-network': '2030-01-02T12:30:45Z',
    });
    expect(second.changes.status).to.equal(true);
    expect(second.report.status.lastEvaluated).to.equal('2030-01-02T12:30:45Z');
  });

  it('matches firstSeen when only numbers in the message changed', () => {
    const first = build([finding({ message: 'runs 3 replicas as root' })], undefined, T0);
    const second = build([finding({ message: 'runs 4 replicas as root' })], roundTrip(first.report), T1);
    expect(second.report.status.findings?.[0]?.firstSeen).to.equal('2030-01-01T00:00:00Z');
  });

  it('keeps firstSeen per policy and container', () => {
    const first = build([finding({ container: 'a' })], undefined, T0);
    const second = build(
      [
        finding({ container: 'a' }),
        finding({ container: 'b' }),
        finding({ container: 'a', policy: 'other' }),
      ],
      roundTrip(first.report),
      T1,
    );
    expect(second.report.status.findings?.map((f) => [f.policy, f.container, f.firstSeen])).to.deep.equal([
      ['baseline', 'a', '2030-01-01T00:00:00Z'],
      ['baseline', 'b', '2030-01-02T12:30:45Z'],
      ['other', 'a', '2030-01-02T12:30:45Z'],
    ]);
  });

  it('flips Compliant with a new transition time when findings are resolved', () => {
    const first = build([finding()], undefined, T0);
    const second = build([], roundTrip(first.report), T1);
    const [ready, compliant] = second.report.status.conditions ?? [];
    expect(ready?.lastTransitionTime).to.equal('2030-01-01T00:00:00Z');
    expect(compliant).to.include({ status: 'True', lastTransitionTime: '2030-01-02T12:30:45Z' });
    // A change of findings is a status write only: one request, not two.
    expect(second.changes).to.deep.equal({ create: false, metadata: false, status: true });
  });

  it("reverts edits by others to status, Vigil's labels and the owner", () => {
    const first = build([finding()], undefined, T0);
    const edited = roundTrip(first.report);
    if (edited.status?.findings) edited.status.findings = [];
    expect(build([finding()], edited, T1).changes.status).to.equal(true);

    const relabelled = roundTrip(first.report);
    if (relabelled.metadata?.labels) relabelled.metadata.labels['security.vigil.dev/subject-kind'] = 'Pod';
    expect(build([finding()], relabelled, T1).changes).to.deep.equal({
      create: false,
      metadata: true,
      status: false,
    });

    const newOwner = build([finding()], roundTrip(first.report), T1);
    expect(newOwner.changes.metadata).to.equal(false);
    const recreated = buildReport({
      subject: { ...DEPLOY, uid: 'u-2' },
      findings: [finding()],
      operatorNamespace: 'x',
      previous: roundTrip(first.report),
      now: T1,
    });
    expect(recreated.changes.metadata).to.equal(true);
    expect(recreated.report.metadata.ownerReferences?.[0]?.uid).to.equal('u-2');
  });

  it('ignores labels and annotations added by others', () => {
    const first = roundTrip(build([finding()], undefined, T0).report);
    if (first.metadata) {
      first.metadata.labels = { ...first.metadata.labels, team: 'a' };
      first.metadata.annotations = { ...first.metadata.annotations, note: 'x' };
    }
    expect(build([finding()], first, T1).changes).to.deep.equal({
      create: false,
      metadata: false,
      status: false,
    });
  });

  it('tolerates a malformed previous report', () => {
    const junk = {
      metadata: { annotations: {} },
      status: { findings: [null, 5, { ruleId: 1 }], conditions: 'x' },
    };
    const { report } = build([finding()], junk as unknown as ScanReport, T1);
    expect(report.status.findings?.[0]?.firstSeen).to.equal('2030-01-02T12:30:45Z');
  });

  it('shortens very long messages', () => {
    const { report } = build([finding({ message: 'm'.repeat(5000) })]);
    expect(report.status.findings?.[0]?.message.length).to.equal(1024);
    expect(report.status.findings?.[0]?.message).to.include('…');
  });

  describe('byte budget', () => {
    function many(n: number, sev: Severity, rule = 'r'): Finding[] {
      return Array.from({ length: n }, (_, i) =>
        finding({
          severity: sev,
          ruleId: rule,
          container: `c${String(i).padStart(4, '0')}`,
          message: `m${i}`,
        }),
      );
    }

    it('stays within the default 512 KiB budget and keeps exact counts', () => {
      const fs = [...many(2000, 'critical', 'crit'), ...many(3000, 'info', 'inf')];
      const { report, omitted, bytes } = build(fs);
      expect(DEFAULT_REPORT_BUDGET_BYTES).to.equal(524_288);
      expect(bytes).to.be.at.most(DEFAULT_REPORT_BUDGET_BYTES);
      expect(Buffer.byteLength(JSON.stringify(report))).to.equal(bytes);
      expect(report.status.summary).to.deep.equal({ critical: 2000, high: 0, medium: 0, low: 0, info: 3000 });
      expect(report.status.omittedFindings).to.equal(omitted);
      expect((report.status.findings?.length ?? 0) + omitted).to.equal(5000);
    });

    it('strips detail of less severe findings before dropping any', () => {
      const fs = [...many(5, 'critical', 'crit'), ...many(40, 'info', 'inf')];
      const full = build(fs).bytes;
      const { report, omitted, detailStripped, bytes } = build(fs, undefined, T0, full - 500);
      expect(omitted).to.equal(0);
      expect(detailStripped).to.equal(true);
      expect(bytes).to.be.at.most(full - 500);
      const crit = report.status.findings?.filter((f) => f.severity === 'critical') ?? [];
      const info = report.status.findings?.filter((f) => f.severity === 'info') ?? [];
      expect(crit.every((f) => f.remediation !== undefined && f.title !== undefined)).to.equal(true);
      expect(info.every((f) => f.remediation === undefined && f.title === undefined)).to.equal(true);
      expect(report.status.conditions?.[0]).to.include({
        type: 'Ready',
        status: 'True',
        reason: 'Truncated',
      });
    });

    it('drops the least severe findings first and says how many', () => {
      const fs = [...many(20, 'critical', 'crit'), ...many(20, 'high', 'hi'), ...many(200, 'low', 'lo')];
      const budget = 12_000;
      const { report, omitted, bytes } = build(fs, undefined, T0, budget);
      expect(bytes).to.be.at.most(budget);
      expect(omitted).to.be.greaterThan(0);
      const kept = report.status.findings ?? [];
      expect(kept.filter((f) => f.severity === 'critical')).to.have.length(20);
      expect(kept.filter((f) => f.severity === 'high')).to.have.length(20);
      expect(kept.filter((f) => f.severity === 'low')).to.have.length(200 - omitted);
      expect(report.status.omittedFindings).to.equal(omitted);
      expect(report.status.summary?.low).to.equal(200);
      const ready = report.status.conditions?.[0];
      expect(ready?.reason).to.equal('Truncated');
      expect(ready?.message).to.include(`${omitted} of 240 findings omitted`);
    });

    it('is stable across reconciles when truncated', () => {
      const fs = [...many(20, 'critical', 'crit'), ...many(200, 'low', 'lo')];
      const first = build(fs, undefined, T0, 10_000);
      const second = build(fs, roundTrip(first.report), T1, 10_000);
      expect(second.changes).to.deep.equal({ create: false, metadata: false, status: false });
      expect(second.omitted).to.equal(first.omitted);
    });

    it('still produces a report (with no findings listed) when the budget is absurdly small', () => {
      const { report, omitted } = build(many(50, 'high'), undefined, T0, 100);
      expect(omitted).to.equal(50);
      expect(report.status.findings).to.deep.equal([]);
      expect(report.status.summary?.high).to.equal(50);
    });
  });
});

describe('stableStringify', () => {
  it('sorts keys and drops undefined members', () => {
    expect(stableStringify({ b: 1, a: [1, { d: undefined, c: 'x' }], e: undefined })).to.equal(
      '{"a":[1,{"c":"x"}],"b":1}',
    );
    expect(stableStringify(null)).to.equal('null');
  });
});
