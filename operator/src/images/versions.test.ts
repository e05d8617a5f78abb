import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compareApk, compareDpkg, comparePep440, compareSemver, parseDpkg, parsePep440 } from './versions.ts';

type Cmp = (a: string, b: string) => number;
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Every pair of an ascending list compares as its positions do (both directions). */
function ascending(cmp: Cmp, list: string[]): void {
  for (let i = 0; i < list.length; i++)
    for (let j = 0; j < list.length; j++) {
      const a = list[i] as string;
      const b = list[j] as string;
      expect(sign(cmp(a, b)), `${a} vs ${b}`).to.equal(sign(i - j));
    }
}

function equal(cmp: Cmp, pairs: [string, string][]): void {
  for (const [a, b] of pairs) {
    expect(cmp(a, b), `${a} = ${b}`).to.equal(0);
    expect(cmp(b, a), `${b} = ${a}`).to.equal(0);
  }
}

describe('images/versions', () => {
  describe('dpkg (Debian policy §5.6.12)', () => {
    it('orders ~ before the end of a part, and the end before letters (the policy example)', () => {
      ascending(compareDpkg, ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
    });
    it('compares digit runs numerically and non-letters after letters', () => {
      ascending(compareDpkg, ['1.2.3', '1.2.10', '1.2.10+dfsg', '1.2.10.1', '1.2.11~rc1', '1.2.11']);
    });
    it('puts the epoch first and the revision last', () => {
      ascending(compareDpkg, [
        '1.0',
        '1.0-1',
        '1.0-1ubuntu1',
        '1.0-1+deb12u1',
        '1.0-2',
        '2.0',
        '1:0.1',
        '2:0~beta',
      ]);
      ascending(compareDpkg, ['2.36-9', '2.36-9+deb12u3', '2.36-9+deb12u10', '2.36.1-1']);
    });
    it('parses as dpkg t-version.c does: first colon ends the epoch, last hyphen starts the revision', () => {
      expect(parseDpkg('0:0-0-0')).to.deep.equal({ epoch: 0, upstream: '0-0', revision: '0' });
      expect(parseDpkg('0:0:0-0')).to.deep.equal({ epoch: 0, upstream: '0:0', revision: '0' });
      expect(parseDpkg('0:0-0:0-0')).to.deep.equal({ epoch: 0, upstream: '0-0:0', revision: '0' });
      expect(parseDpkg('5:1')).to.deep.equal({ epoch: 5, upstream: '1', revision: '' });
      expect(parseDpkg('  \t0:0-1  ')).to.deep.equal({ epoch: 0, upstream: '0', revision: '1' });
      equal(compareDpkg, [
        ['0-00', '00-0'],
        ['0:0-', '0'],
      ]);
    });
    it('sorts every version installed on this machine as dpkg --compare-versions does', function () {
      this.timeout(120_000); // a few hundred dpkg processes: seconds on a loaded machine
      const status = readFileSync('/var/lib/dpkg/status', 'utf8');
      const tricky = [
        '1.0~rc1-1',
        '1.0-1~bpo1',
        '1:0.9',
        '1.0+really0.9-1',
        '2.0~~',
        '2.0~~a',
        '0.0.0~git20240101.abc-1',
      ];
      const versions = [
        ...new Set([...status.matchAll(/^Version: (.+)$/gm)].map((m) => m[1] ?? '').concat(tricky)),
      ]
        .sort(compareDpkg)
        .filter((v, i) => i % 2 === 0 || tricky.includes(v)); // half of them, to keep it short
      expect(versions.length).to.be.greaterThan(50);
      let dpkg: (a: string, op: string, b: string) => boolean;
      try {
        execFileSync('dpkg', ['--version'], { stdio: 'ignore' });
        dpkg = (a, op, b) => {
          try {
            execFileSync('dpkg', ['--compare-versions', a, op, b], { stdio: 'ignore' });
            return true;
          } catch {
            return false;
          }
        };
      } catch (err) {
        throw new Error(`this test needs dpkg (a Debian system) as the reference: ${String(err)}`, {
          cause: err,
        });
      }
      const disagree: string[] = [];
      for (let i = 1; i < versions.length; i++) {
        const a = versions[i - 1] as string;
        const b = versions[i] as string;
        const ours = sign(compareDpkg(a, b));
        const theirs = dpkg(a, 'lt', b) ? -1 : dpkg(a, 'eq', b) ? 0 : 1;
        if (ours !== theirs) disagree.push(`${a} vs ${b}: ours ${ours}, dpkg ${theirs}`);
      }
      expect(disagree).to.deep.equal([]);
    });
    it('treats a missing epoch as 0 and leading zeros as nothing', () => {
      equal(compareDpkg, [
        ['0:1.0', '1.0'],
        ['1.0-01', '1.0-1'],
        ['1.002', '1.2'],
      ]);
    });
    it('takes the last hyphen as the revision separator', () => {
      ascending(compareDpkg, ['1.0-beta-1', '1.0-beta-2', '1.0-rc-1']);
    });
  });

  describe('apk (apk-tools)', () => {
    it('orders pre-release suffixes before the release and post-release ones after', () => {
      ascending(compareApk, [
        '1.0_alpha',
        '1.0_alpha1',
        '1.0_alpha2',
        '1.0_beta',
        '1.0_pre1',
        '1.0_rc1',
        '1.0',
        '1.0_cvs1',
        '1.0_svn',
        '1.0_git20200101',
        '1.0_hg',
        '1.0_p1',
        '1.0_p2',
      ]);
    });
    it('orders revisions numerically and after the version they revise', () => {
      ascending(compareApk, ['1.0', '1.0-r1', '1.0-r2', '1.0-r10', '1.0a', '1.0b', '1.0.1', '1.1', '1.10']);
      ascending(compareApk, ['1.0_rc1-r5', '1.0-r1', '1.0_p1', '1.0_p1-r1']);
    });
    it("passes apk-tools' own reference list (testdata/apk-version.data, 729 comparisons)", () => {
      const file = new URL('./testdata/apk-version.data', import.meta.url);
      const cases = readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => /^(\S+) ([<>=]) (\S+)/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      expect(cases.length).to.equal(729);
      const wrong = cases.filter(([, a, op, b]) => {
        const c = sign(compareApk(a ?? '', b ?? ''));
        return c !== (op === '<' ? -1 : op === '>' ? 1 : 0);
      });
      expect(wrong.map((m) => m[0])).to.deep.equal([]);
    });
    it('compares the real Alpine versions of one package', () => {
      ascending(compareApk, ['3.0.8-r0', '3.0.8-r3', '3.0.12-r0', '3.1.4-r5', '3.3.0_alpha1-r0', '3.3.0-r0']);
      equal(compareApk, [['2.38.1-r0', '2.38.1-r0']]);
    });
  });

  describe('semver (npm, Go)', () => {
    it('orders prereleases as semver.org §11 lists them', () => {
      ascending(compareSemver, [
        '1.0.0-alpha',
        '1.0.0-alpha.1',
        '1.0.0-alpha.beta',
        '1.0.0-beta',
        '1.0.0-beta.2',
        '1.0.0-beta.11',
        '1.0.0-rc.1',
        '1.0.0',
        '2.0.0',
        '2.1.0',
        '2.1.1',
      ]);
    });
    it('ignores build metadata, a leading v and +incompatible', () => {
      equal(compareSemver, [
        ['1.0.0+20130313144700', '1.0.0'],
        ['v1.2.3', '1.2.3'],
        ['v2.0.0+incompatible', '2.0.0'],
      ]);
    });
    it('orders Go pseudo-versions between the tags they derive from', () => {
      ascending(compareSemver, [
        'v0.0.0-20210101000000-abcdefabcdef',
        'v0.0.0-20220906165146-f3363e06e74c',
        'v0.3.6',
        'v1.2.3',
        'v1.2.4-0.20191109021931-daa7c04131f5',
        'v1.2.4-pre',
        'v1.2.4-pre.0.20191109021931-daa7c04131f5',
        'v1.2.4',
      ]);
    });
  });

  describe('PEP 440', () => {
    it('orders the spec example list', () => {
      ascending(comparePep440, [
        '1.dev0',
        '1.0.dev456',
        '1.0a1',
        '1.0a2.dev456',
        '1.0a12.dev456',
        '1.0a12',
        '1.0b1.dev456',
        '1.0b2',
        '1.0b2.post345.dev456',
        '1.0b2.post345',
        '1.0rc1.dev456',
        '1.0rc1',
        '1.0',
        '1.0+abc.5',
        '1.0+abc.7',
        '1.0+5',
        '1.0.post456.dev34',
        '1.0.post456',
        '1.0.15',
        '1.1.dev1',
        '2.0',
        '1!0.1',
      ]);
    });
    it("orders packaging's reference list (pypa/packaging tests/test_version.py VERSIONS, both epochs)", () => {
      // Copied from pypa/packaging tests/test_version.py (commit 0345ccd3d1e5b0e14b84de4fb6bca0b82f7145e3),
      // "This list must be in the correct sorting order"; the second half is the same with 1!.
      const implicit = [
        '1.0.dev0',
        '1.0.dev456',
        '1.0.dev456+local',
        '1.0a0',
        '1.0a0.post0.dev0',
        '1.0a0.post0',
        '1.0a1.dev1',
        '1.0a1.dev1+local',
        '1.0a1',
        '1.0a1+local',
        '1.0b0',
        '1.0b1.dev456',
        '1.0b2',
        '1.0b2.post345.dev456',
        '1.0b2.post345',
        '1.0b2-346',
        '1.0rc0',
        '1.0rc1.dev1',
        '1.0c1',
        '1.0rc2',
        '1.0',
        '1.0.post0.dev0',
        '1.0.post0',
        '1.0.post456.dev34',
        '1.0.post456',
        '1.0.post456+local',
        '1.0.1.dev1',
        '1.0.1a1',
        '1.0.1',
        '1.0.1+local',
        '1.0.1.post1',
        '1.1.dev1',
        '1.2+a',
        '1.2+abc',
        '1.2+abcdef',
        '1.2+def',
        '1.2+0',
        '1.2+1',
        '1.2+1.abc',
        '1.2+1.1',
        '1.2+1.1.0',
        '1.2+2',
        '1.2+123',
        '1.2+123456',
        '1.2.r32+123456',
        '1.2.rev33+123456',
      ];
      ascending(comparePep440, [...implicit, ...implicit.map((v) => `1!${v}`)]);
    });
    it("normalises as packaging's test_normalized_versions says", () => {
      const pairs: [string, string][] = [
        ['1.0dev', '1.0.dev0'],
        ['1.0-DEV1', '1.0.dev1'],
        ['1.0.a', '1.0a0'],
        ['1.0-ALPHA1', '1.0a1'],
        ['1.0.B1', '1.0b1'],
        ['1.0-beta', '1.0b0'],
        ['1.0C', '1.0rc0'],
        ['1.0.RC1', '1.0rc1'],
        ['1.0post', '1.0.post0'],
        ['1.0r', '1.0.post0'],
        ['1.0rev', '1.0.post0'],
        ['1.0-5', '1.0.post5'],
        ['1.0-r5', '1.0.post5'],
        ['1.0-rev5', '1.0.post5'],
        ['1.0+AbC', '1.0+abc'],
        ['1.01', '1.1'],
        ['1.0a05', '1.0a5'],
        ['1.0c056', '1.0rc56'],
        ['1.0.post000', '1.0.post0'],
        ['1.1.dev09000', '1.1.dev9000'],
        ['00!1.2', '1.2'],
        ['0100!0.0', '100!0.0'],
        ['v1.0', '1.0'],
        ['   v1.0\t\n', '1.0'],
      ];
      equal(comparePep440, pairs);
    });
    it('normalises spellings as the spec does', () => {
      equal(comparePep440, [
        ['1.0', '1.0.0'],
        ['1.0-1', '1.0.post1'],
        ['1.0RC1', '1.0rc1'],
        ['1.0c1', '1.0rc1'],
        ['1.0alpha1', '1.0a1'],
        ['1.0-dev', '1.0.dev0'],
        ['v1.0', '1.0'],
        ['1.0.post', '1.0.post0'],
        ['0!1.0', '1.0'],
      ]);
    });
    it('rejects what is not a PEP 440 version', () => {
      expect(parsePep440('1.0-foo')).to.equal(undefined);
      expect(parsePep440('1.0.0.dev1.post1')).to.equal(undefined);
      // packaging's test_invalid_versions
      for (const v of [
        'french toast',
        '1.0+a+',
        '1.0++',
        '1.0+_foobar',
        '1.0+foo&asd',
        '1.0+1+1',
        '1. 0',
        '1.0 a1',
        '1.0a 1',
        '.',
        '1..0',
        '1.0.',
        '.1.0',
      ])
        expect(parsePep440(v), v).to.equal(undefined);
    });
  });
});
