import { expect } from 'chai';
import { exceptionExpired } from './exception-expired.ts';
import { runRule } from '../testing.ts';
import type { KubeObject } from '../../engine/types.ts';

function policy(exceptions: unknown[]): KubeObject {
  return {
    apiVersion: 'security.vigil.dev/v1alpha1',
    kind: 'SecurityPolicy',
    metadata: { name: 'p' },
    spec: { exceptions },
  };
}

describe('rule policy-exception-expired', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const cases: { name: string; exceptions: unknown[]; hits: number }[] = [
    { name: 'no exceptions', exceptions: [], hits: 0 },
    { name: 'no expiry', exceptions: [{ rules: ['x'], owner: 'a', reason: 'r' }], hits: 0 },
    {
      name: 'future expiry',
      exceptions: [{ rules: ['x'], owner: 'a', reason: 'r', expiresAt: '2026-07-01T00:00:00Z' }],
      hits: 0,
    },
    {
      name: 'past expiry',
      exceptions: [{ rules: ['x'], owner: 'a', reason: 'r', expiresAt: '2026-05-01T00:00:00Z' }],
      hits: 1,
    },
    {
      name: 'expiry exactly now',
      exceptions: [{ rules: ['x'], owner: 'a', reason: 'r', expiresAt: '2026-06-01T00:00:00Z' }],
      hits: 1,
    },
    {
      name: 'one of two expired',
      exceptions: [
        { rules: ['x'], owner: 'a', reason: 'r', expiresAt: '2026-05-01T00:00:00Z' },
        { rules: ['y'], owner: 'b', reason: 'r', expiresAt: '2027-05-01T00:00:00Z' },
      ],
      hits: 1,
    },
    { name: 'malformed spec', exceptions: ['junk', 7, null], hits: 0 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.hits} finding(s)`, () => {
      expect(runRule(exceptionExpired, policy(c.exceptions), { now })).to.have.length(c.hits);
    });
  }
  it('names the owner and rules, and not the reason text', () => {
    const [hit] = runRule(
      exceptionExpired,
      policy([
        { rules: ['pss-privileged'], owner: 'team-a', reason: 'r', expiresAt: '2026-01-01T00:00:00Z' },
      ]),
      { now },
    );
    expect(hit?.message).to.contain('team-a').and.contain('pss-privileged').and.contain('2026-01-01');
  });
});
