/**
 * Issue 19 item 8: one finding per problem per profile. PSA's restricted level overrides four
 * baseline checks; where both rules run (recommended, all) the overlapping problem is reported
 * once, by the baseline rule, at its listed severity. pss-restricted keeps PSA's semantics.
 */
import { expect } from 'chai';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy } from '../../engine/policy.ts';
import type { Finding, KubeObject, ProfileName } from '../../engine/types.ts';
import { ALL_RULES, ruleById } from '../index.ts';
import { FIXED_NOW, pod, podWithContainer } from '../testing.ts';

function scan(obj: KubeObject, profile: ProfileName): Finding[] {
  const { policy } = compilePolicy({ profile }, ALL_RULES);
  if (!policy) throw new Error(`${profile} compiles`);
  return evaluateSubjects([{ object: obj }], policy, { now: FIXED_NOW }).findings.filter(
    (f) => f.category === 'pod-security',
  );
}

const show = (fs: Finding[]): string[] => fs.map((f) => `${f.ruleId} ${f.severity}`).sort();

/** Findings whose severity differs from the one `vigil rules` lists for their rule. */
const offList = (fs: Finding[]): string[] =>
  fs.filter((f) => ruleById(f.ruleId)?.severity !== f.severity).map((f) => `${f.ruleId} ${f.severity}`);

const hostPath = pod({ volumes: [{ name: 'h', hostPath: { path: '/' } }] });
const sysAdmin = podWithContainer({
  securityContext: { capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] } },
});
const unconfined = pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } });
const unmasked = podWithContainer({ securityContext: { procMount: 'Unmasked' } });

describe('one finding per problem per profile (PSS overrides)', () => {
  for (const profile of ['recommended', 'all'] as const) {
    it(`hostPath: one critical pss-host-path-volumes finding (${profile})`, () => {
      const fs = scan(hostPath, profile).filter((f) => f.message.includes('volumes[0]'));
      expect(show(fs)).to.deep.equal(['pss-host-path-volumes critical']);
      expect(offList(fs)).to.deep.equal([]);
    });

    it(`an added capability: one finding, by pss-capabilities-baseline (${profile})`, () => {
      const fs = scan(sysAdmin, profile).filter((f) => f.message.includes('SYS_ADMIN'));
      expect(show(fs)).to.deep.equal(['pss-capabilities-baseline critical']);
    });

    it(`explicit Unconfined seccomp: one high finding (${profile})`, () => {
      const fs = scan(unconfined, profile).filter((f) => f.message.includes('Unconfined'));
      expect(show(fs)).to.deep.equal(['pss-seccomp-profile-baseline high']);
      expect(offList(fs)).to.deep.equal([]);
    });

    it(`Unmasked procMount: one high finding (${profile})`, () => {
      const fs = scan(unmasked, profile).filter((f) => f.message.includes('procMount'));
      expect(show(fs)).to.deep.equal(['pss-proc-mount high']);
      expect(offList(fs)).to.deep.equal([]);
    });
  }

  it('restricted-only problems stay with the restricted rules beside the baseline ones', () => {
    const nfs = pod({ volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }] });
    expect(show(scan(nfs, 'all').filter((f) => f.message.includes('volumes[0]')))).to.deep.equal([
      'pss-restricted-volumes medium',
    ]);
    const chown = podWithContainer({ securityContext: { capabilities: { add: ['CHOWN'], drop: ['ALL'] } } });
    expect(show(scan(chown, 'all').filter((f) => f.message.includes('CHOWN')))).to.deep.equal([
      'pss-capabilities-restricted medium',
    ]);
    const userns = podWithContainer({ securityContext: { procMount: 'Unmasked' } }, { hostUsers: false });
    expect(show(scan(userns, 'all').filter((f) => f.message.includes('procMount')))).to.deep.equal([
      'pss-proc-mount-restricted medium',
    ]);
  });

  it('pss-restricted keeps PSA semantics: the restricted checks report the overridden problems', () => {
    expect(
      show(scan(hostPath, 'pss-restricted').filter((f) => f.message.includes('volumes[0]'))),
    ).to.deep.equal(['pss-restricted-volumes critical']);
    expect(
      show(scan(sysAdmin, 'pss-restricted').filter((f) => f.message.includes('SYS_ADMIN'))),
    ).to.deep.equal(['pss-capabilities-restricted critical']);
    expect(show(scan(hostPath, 'pss-baseline'))).to.deep.equal(['pss-host-path-volumes critical']);
  });

  it('a policy that disables the baseline rule gets the problem from the restricted rule', () => {
    const { policy } = compilePolicy(
      { profile: 'recommended', rules: [{ id: 'pss-host-path-volumes', enabled: false }] },
      ALL_RULES,
    );
    if (!policy) throw new Error('compiles');
    const fs = evaluateSubjects([{ object: hostPath }], policy, { now: FIXED_NOW }).findings;
    expect(show(fs.filter((f) => f.message.includes('volumes[0]')))).to.deep.equal([
      'pss-restricted-volumes critical',
    ]);
  });
});
