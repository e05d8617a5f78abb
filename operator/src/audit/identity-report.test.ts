import { expect } from 'chai';
import { IDENTITY_REPORT_LIMIT, identityReportName, mergeIdentityReport } from './identity-report.ts';
import type { Detection } from './types.ts';

const det = (i: number, severity: Detection['severity'] = 'high'): Detection => ({
  ruleId: 'audit-secret-read-unexpected',
  title: 'Secret read by an unexpected identity',
  severity,
  category: 'api-abuse',
  auditID: `a-${String(i)}`,
  time: new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
  user: 'mallory',
  verb: 'get',
  resource: { group: '', resource: 'secrets', subresource: '', namespace: 'shop', name: `s-${String(i)}` },
  sourceIPs: [],
  message: `mallory get Secret shop/s-${String(i)}`,
  remediation: 'r',
});

describe('audit/identity-report: recent detections per identity as a ScanReport', () => {
  it('names reports uniquely and validly, whatever the username', () => {
    const a = identityReportName('system:serviceaccount:shop:ci');
    expect(a).to.match(/^identity-system-serviceaccount-shop-ci-[0-9a-f]{8}$/);
    expect(identityReportName('Mallory')).to.not.equal(identityReportName('mallory'));
    expect(identityReportName('x'.repeat(400)).length).to.be.at.most(253);
  });

  it('keeps the newest detections, bounded, and counts every one in the summary, across merges', () => {
    const first = mergeIdentityReport(
      undefined,
      'mallory',
      'vigil-system',
      [1, 2, 3].map((i) => det(i)),
      'p',
      'now',
    );
    expect(first.spec.subject).to.deep.equal({
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'Identity',
      name: 'mallory',
    });
    expect(first.metadata.labels['security.vigil.dev/source']).to.equal('audit');
    expect(first.status.findings?.map((f) => f.firstSeen)).to.deep.equal([
      det(3).time,
      det(2).time,
      det(1).time,
    ]);
    expect(first.status.findings?.[0]?.message).to.equal(
      'mallory get Secret shop/s-3 (get secrets in shop, auditID a-3)',
    );
    // A replica merges the same detections again and 30 new ones: no double counting, bounded list.
    const stored = { ...first, metadata: { ...first.metadata, resourceVersion: '7' } };
    const next = mergeIdentityReport(
      stored,
      'mallory',
      'vigil-system',
      [2, 3, ...Array.from({ length: 30 }, (_, i) => i + 10)].map((i) => det(i, i % 2 ? 'high' : 'critical')),
      'p',
      'now',
    );
    expect(next.metadata.resourceVersion).to.equal('7');
    expect(next.status.findings).to.have.length(IDENTITY_REPORT_LIMIT);
    expect(next.status.findings?.[0]?.firstSeen).to.equal(det(39).time);
    expect(next.status.summary).to.deep.equal({ critical: 15, high: 18, medium: 0, low: 0, info: 0 });
    expect(next.status.omittedFindings).to.equal(33 - IDENTITY_REPORT_LIMIT);
  });
});
