/**
 * Issue 19 item 8: one finding per problem per profile. PSA's restricted level overrides four
 * baseline checks; where both rules run (recommended, all) the overlapping problem is reported
 * once, by the baseline rule, at its listed severity. pss-restricted keeps PSA's semantics.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseYaml } from '../../yaml.ts';
import { rulesJson } from '../../cli/rules.ts';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy } from '../../engine/policy.ts';
import { severityRank, type Finding, type KubeObject, type ProfileName } from '../../engine/types.ts';
import { upstreamFixtures } from '../../testing/pss-fixtures.ts';
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

/** The severities `vigil rules` lists for a rule: its own and the ones it declares raising to. */
function listedSeverities(ruleId: string): string[] {
  const r = ruleById(ruleId);
  return r ? [r.severity, ...(r.raisedTo ?? []).map((x) => x.severity)] : [];
}

describe('severities: what a scan reports is what `vigil rules` lists (issue 19 item 8)', () => {
  it('pss-restricted-volumes: a hostPath volume in pss-restricted is critical, which vigil rules lists', () => {
    const listed = rulesJson(ALL_RULES).find(
      (r) => (r as { id: string }).id === 'pss-restricted-volumes',
    ) as {
      severity: string;
      raisedTo: { severity: string; when: string }[];
    };
    expect(listed.severity).to.equal('medium');
    expect(listed.raisedTo.map((x) => x.severity)).to.deep.equal([
      ruleById('pss-host-path-volumes')?.severity,
    ]);
    expect(listed.raisedTo[0]?.when).to.contain('hostPath');
    const fs = scan(hostPath, 'pss-restricted').filter((f) => f.ruleId === 'pss-restricted-volumes');
    expect(fs.map((f) => f.severity)).to.deep.equal(['critical']);
    const nfs = pod({ volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }] });
    expect(scan(nfs, 'pss-restricted').map((f) => `${f.ruleId} ${f.severity}`)).to.include(
      'pss-restricted-volumes medium',
    );
  });

  it('every Pod Security finding on the upstream fixtures, in every profile, has a listed severity', () => {
    const pods = [
      hostPath,
      sysAdmin,
      unconfined,
      unmasked,
      ...upstreamFixtures().map((e) => parseYaml(readFileSync(e.file, 'utf8')) as KubeObject),
    ];
    const off: string[] = [];
    let seen = 0;
    for (const profile of ['pss-baseline', 'pss-restricted', 'recommended', 'all'] as const)
      for (const p of pods)
        for (const f of scan(p, profile)) {
          seen++;
          if (!listedSeverities(f.ruleId).includes(f.severity))
            off.push(`${profile} ${f.ruleId} ${f.severity}`);
        }
    expect(seen).to.be.greaterThan(300);
    expect([...new Set(off)]).to.deep.equal([]);
  });

  it('rules raise only above their own severity', () => {
    for (const r of ALL_RULES)
      for (const x of r.raisedTo ?? [])
        expect(severityRank(x.severity), `${r.id} raised to ${x.severity}`).to.be.greaterThan(
          severityRank(r.severity),
        );
  });
});
