import { expect } from 'chai';
import { AuditEvaluator } from './evaluate.ts';
import { event } from './rules/_testkit.ts';
import { auditSettingsOf } from './settings.ts';
import type { AuditSettings } from './types.ts';

function settings(exceptions: unknown[]): AuditSettings {
  const s = auditSettingsOf({ spec: { audit: { exceptions } } });
  if (Array.isArray(s)) throw new Error(s.join('; '));
  return s;
}

const secretRead = (user: string, time: string, namespace = 'shop') =>
  event({ user, verb: 'get', resource: 'secrets', namespace, name: 's', time });

describe('audit exceptions (spec.audit.exceptions)', () => {
  const backup = {
    rules: ['audit-secret-read-unexpected'],
    users: ['system:serviceaccount:backup:*'],
    namespaces: ['shop'],
    reason: 'the nightly backup reads every Secret (SEC-7)',
    owner: 'platform',
    expiresAt: '2026-07-01T00:00:00Z',
  };

  it('accepts the named rule for the named identities and namespaces while in force, judged at the event time', () => {
    const ev = new AuditEvaluator(settings([backup]));
    const ids = (e: ReturnType<typeof secretRead>): string[] => ev.judge(e).map((d) => d.ruleId);
    expect(ids(secretRead('system:serviceaccount:backup:agent', '2026-06-30T23:59:59Z'))).to.deep.equal([]);
    // Expired: reported again.
    expect(ids(secretRead('system:serviceaccount:backup:agent', '2026-07-01T00:00:00Z'))).to.deep.equal([
      'audit-secret-read-unexpected',
    ]);
    // Another identity, another namespace: not covered.
    expect(ids(secretRead('mallory', '2026-06-01T00:00:00Z'))).to.deep.equal([
      'audit-secret-read-unexpected',
    ]);
    expect(
      ids(secretRead('system:serviceaccount:backup:agent', '2026-06-01T00:00:00Z', 'bank')),
    ).to.deep.equal(['audit-secret-read-unexpected']);
  });

  it('refuses an exception without users, reason or owner, or with an unknown rule or a bad date', () => {
    expect(
      auditSettingsOf({
        spec: { audit: { exceptions: [{ rules: ['nope'], users: [], expiresAt: 'soon' }] } },
      }),
    ).to.deep.equal([
      'spec.audit.exceptions[0].rules: unknown rule "nope"',
      'spec.audit.exceptions[0].users: name the identities (globs) it accepts',
      'spec.audit.exceptions[0].reason: required (who accepted the risk, and why)',
      'spec.audit.exceptions[0].owner: required (who accepted the risk, and why)',
      'spec.audit.exceptions[0].expiresAt: expected an RFC 3339 date-time',
    ]);
  });
});
