import { expect } from 'chai';
import {
  affectedBy,
  compareVersions,
  coreOf,
  inRange,
  minorOf,
  parseBound,
  parseVersion,
  suggestedFix,
} from './version.ts';

function v(s: string) {
  const p = parseVersion(s);
  if (!p) throw new Error(`test version ${s} does not parse`);
  return p;
}

describe('platform version parsing', () => {
  const cases: { input: string; core: string; vendor?: string; pre?: (string | number)[] }[] = [
    { input: 'v1.28.3', core: '1.28.3' },
    { input: '1.28', core: '1.28.0' },
    { input: 'v1.28.3-eks-8ccc7ba', core: '1.28.3', vendor: 'eks-8ccc7ba' },
    { input: 'v1.27.4-gke.900', core: '1.27.4', vendor: 'gke.900' },
    { input: 'v1.30.0+k3s1', core: '1.30.0', vendor: 'k3s1' },
    { input: 'v1.29.4+rke2r1', core: '1.29.4', vendor: 'rke2r1' },
    { input: 'v1.29.4-rke2r1', core: '1.29.4', vendor: 'rke2r1' },
    { input: 'v1.29.0-rc.1', core: '1.29.0-rc.1', pre: ['rc', 1] },
    {
      input: 'v1.31.0-alpha.3.123+0fa1b2c',
      core: '1.31.0-alpha.3.123',
      pre: ['alpha', 3, 123],
      vendor: '0fa1b2c',
    },
    { input: '2.0.0-beta.0', core: '2.0.0-beta.0', pre: ['beta', 0] },
    { input: '1.7.12-0ubuntu2~22.04.1', core: '1.7.12', vendor: '0ubuntu2~22.04.1' },
    { input: '  v1.37.2  ', core: '1.37.2' },
  ];
  for (const c of cases) {
    it(`parses ${JSON.stringify(c.input)}`, () => {
      const p = v(c.input);
      expect(coreOf(p)).to.equal(c.core);
      expect(p.vendor).to.equal(c.vendor);
      expect(p.pre).to.deep.equal(c.pre ?? []);
    });
  }

  for (const bad of ['', 'abc', 'v1', '1.x.3', '1.2.3garbage', 'latest', 'x'.repeat(300)]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 20))}`, () => {
      expect(parseVersion(bad)).to.equal(undefined);
    });
  }
  for (const bad of [undefined, null, 42, {}, ['1.2.3'], true]) {
    it(`rejects non-string ${JSON.stringify(bad)}`, () => {
      expect(parseVersion(bad)).to.equal(undefined);
    });
  }

  it('reads "0" as the lowest bound and refuses vendor builds as bounds', () => {
    expect(parseBound('0')).to.include({ major: 0, minor: 0, patch: 0 });
    expect(parseBound('1.12.3')).to.include({ major: 1, minor: 12, patch: 3 });
    expect(parseBound('1.12.3-eks-1')).to.equal(undefined);
  });
});

describe('platform version ordering', () => {
  const ordered = [
    '0',
    '1.2.0',
    '1.9.11',
    '1.10.0',
    '1.10.11',
    '2.0.0-beta.0',
    '2.0.0-beta.1',
    '2.0.0-rc.1',
    '2.0.0',
    '2.0.1',
  ];
  for (let i = 0; i + 1 < ordered.length; i++) {
    const a = ordered[i] ?? '';
    const b = ordered[i + 1] ?? '';
    it(`${a} < ${b}`, () => {
      const pa = parseBound(a);
      const pb = parseBound(b);
      expect(pa && pb && compareVersions(pa, pb)).to.be.lessThan(0);
      expect(pa && pb && compareVersions(pb, pa)).to.be.greaterThan(0);
    });
  }
  it('ignores vendor suffixes when comparing', () => {
    expect(compareVersions(v('v1.28.3-eks-8ccc7ba'), v('1.28.3'))).to.equal(0);
    expect(minorOf(v('v1.28.3-eks-8ccc7ba'))).to.equal('1.28');
  });
});

describe('platform version ranges', () => {
  const ranges = [
    { introduced: '0', fixed: '1.10.11' },
    { introduced: '1.11.0', fixed: '1.11.5' },
    { introduced: '1.12.0', fixed: '1.12.3' },
  ];
  const table: [string, boolean][] = [
    ['1.9.0', true],
    ['1.10.10', true],
    ['1.10.11', false],
    ['1.11.0', true],
    ['1.11.4', true],
    ['1.11.5', false],
    ['1.12.2', true],
    ['v1.12.2-gke.1', true],
    ['1.12.3', false],
    ['1.13.0', false],
  ];
  for (const [ver, want] of table) {
    it(`${ver} ${want ? 'is' : 'is not'} in the CVE-2018-1002105 ranges`, () => {
      expect(affectedBy(v(ver), ranges)).to.equal(want);
    });
  }
  it('handles lastAffected (inclusive) and open-ended ranges', () => {
    expect(inRange(v('1.31.14'), { introduced: '1.31.0', lastAffected: '1.31.14' })).to.equal(true);
    expect(inRange(v('1.31.15'), { introduced: '1.31.0', lastAffected: '1.31.14' })).to.equal(false);
    expect(inRange(v('1.2.0'), { introduced: '1.3.0' })).to.equal(false);
    expect(inRange(v('1.99.0'), { introduced: '1.3.0' })).to.equal(true);
  });
  it('treats a malformed bound as not matching', () => {
    expect(inRange(v('1.5.0'), { introduced: 'bogus', fixed: '2.0.0' })).to.equal(false);
    expect(inRange(v('1.5.0'), { introduced: '0', fixed: 'bogus' })).to.equal(false);
  });
  it('suggests the fix of the same minor, else the next newer fix', () => {
    const fixed = ['1.10.11', '1.11.5', '1.12.3'];
    expect(suggestedFix(v('1.12.2'), fixed)).to.equal('1.12.3');
    expect(suggestedFix(v('1.9.3'), fixed)).to.equal('1.10.11');
    expect(suggestedFix(v('1.13.0'), fixed)).to.equal(undefined);
    expect(suggestedFix(v('1.31.14'), ['1.32.10', '1.33.6'])).to.equal('1.32.10');
  });
});
