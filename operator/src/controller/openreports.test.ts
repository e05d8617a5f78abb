import { expect } from 'chai';
import type { Finding } from '../engine/types.ts';
import { buildReport } from './report.ts';
import { openReportCollection, toOpenReport } from './openreports.ts';

function finding(ruleId: string, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding {
  return {
    ruleId,
    title: `title of ${ruleId}`,
    severity,
    category: 'pod-security',
    controls: ['PSS:privileged'],
    message: `${ruleId} message`,
    remediation: `fix ${ruleId}`,
    policy: 'p',
    resource: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'team' },
    ...extra,
  };
}

const NOW = new Date('2026-06-01T00:00:00Z');

describe('controller/openreports: a ScanReport as an OpenReports Report', () => {
  it('maps a namespaced subject to a Report: scope, owner, one failed result per finding, summary', () => {
    const { report } = buildReport({
      subject: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'team', uid: 'u1' },
      findings: [
        finding('pss-privileged', 'critical', { container: 'app' }),
        finding('image-latest-tag', 'high'),
      ],
      operatorNamespace: 'vigil-system',
      now: NOW,
    });
    const open = toOpenReport(report);
    expect(open.kind).to.equal('Report');
    expect(open.metadata.name).to.equal(report.metadata.name);
    expect(open.metadata.namespace).to.equal('team');
    expect(open.metadata.labels).to.deep.equal(report.metadata.labels);
    expect(open.metadata.ownerReferences).to.deep.equal(report.metadata.ownerReferences);
    expect(open.scope).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'web',
      namespace: 'team',
      uid: 'u1',
    });
    expect(open.summary).to.deep.equal({ pass: 0, fail: 2, warn: 0, error: 0, skip: 0 });
    const priv = open.results.find((r) => r.rule === 'pss-privileged');
    expect(priv).to.deep.include({ source: 'vigil', policy: 'p', result: 'fail', severity: 'critical' });
    expect(priv?.properties?.['container']).to.equal('app');
    expect(priv?.properties?.['remediation']).to.equal('fix pss-privileged');
    expect(priv?.timestamp).to.deep.equal({ seconds: NOW.getTime() / 1000, nanos: 0 });
    expect(openReportCollection('team')).to.equal('/apis/openreports.io/v1alpha1/namespaces/team/reports');
  });

  it('maps a cluster-scoped subject to a ClusterReport with no namespace', () => {
    const { report } = buildReport({
      subject: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'wild', uid: 'u2' },
      findings: [finding('rbac-wildcard', 'critical')],
      operatorNamespace: 'vigil-system',
      now: NOW,
    });
    const open = toOpenReport(report);
    expect(open.kind).to.equal('ClusterReport');
    expect(open.metadata.namespace).to.equal(undefined);
    expect(open.scope.namespace).to.equal(undefined);
    expect(openReportCollection('')).to.equal('/apis/openreports.io/v1alpha1/clusterreports');
  });
});
