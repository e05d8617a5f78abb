import { expect } from 'chai';
import { formatMicroTime, formatTime, isSubdomain, sanitizeSubdomain, truncateName } from './names.ts';

describe('names', () => {
  it('sanitizes into DNS-1123 subdomain shape', () => {
    const cases: [string, string][] = [
      ['Deployment-Web', 'deployment-web'],
      ['system:controller:x', 'system-controller-x'],
      ['a..b', 'a.b'],
      ['-a-.-b-', 'a.b'],
      ['a__b', 'a-b'],
      [':::', ''],
    ];
    for (const [raw, want] of cases) {
      expect(sanitizeSubdomain(raw), raw).to.equal(want);
      if (want !== '') expect(isSubdomain(want), want).to.equal(true);
    }
  });

  it('validates subdomains', () => {
    expect(isSubdomain('pod-x')).to.equal(true);
    expect(isSubdomain('a.b-c')).to.equal(true);
    for (const bad of ['', 'A', '-a', 'a-', 'a..b', 'a_b', 'x'.repeat(254)])
      expect(isSubdomain(bad), bad).to.equal(false);
  });

  it('truncates without a trailing separator', () => {
    expect(truncateName('abc-def', 4)).to.equal('abc');
    expect(truncateName('ab.cd', 3)).to.equal('ab');
  });

  it('formats metav1.Time and metav1.MicroTime', () => {
    const ms = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    expect(formatTime(ms)).to.equal('2030-01-02T03:04:05Z');
    expect(formatMicroTime(ms)).to.equal('2030-01-02T03:04:05.678000Z');
  });
});
