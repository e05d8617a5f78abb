import { expect } from 'chai';
import fc from 'fast-check';
import { compareApk, compareDpkg, comparePep440, compareSemver } from './versions.ts';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const num = fc.integer({ min: 0, max: 30 }).map(String);
const pick = <T>(xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const join = (parts: fc.Arbitrary<string>[]): fc.Arbitrary<string> =>
  fc.tuple(...parts).map((p) => p.join(''));
const opt = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.option(a, { nil: '' }).map((x) => x);

/** Version strings in each ecosystem's grammar, with the parts that make ordering hard. */
const GRAMMARS: [string, (a: string, b: string) => number, fc.Arbitrary<string>][] = [
  [
    'dpkg',
    compareDpkg,
    join([
      opt(num.map((n) => `${n}:`)),
      num,
      opt(num.map((n) => `.${n}`)),
      opt(pick(['~rc1', '~', '~~', '+dfsg', 'a', '.0', '+b1'])),
      opt(join([pick(['-']), num, opt(pick(['ubuntu1', '+deb12u1', '~bpo1', '.1']))])),
    ]),
  ],
  [
    'apk',
    compareApk,
    join([
      num,
      opt(num.map((n) => `.${n}`)),
      opt(pick(['.0', '.01', '.00'])),
      opt(pick(['a', 'b'])),
      opt(join([pick(['_alpha', '_beta', '_pre', '_rc', '_p', '_git']), opt(num)])),
      opt(num.map((n) => `-r${n}`)),
    ]),
  ],
  [
    'semver',
    compareSemver,
    join([
      opt(pick(['v'])),
      num,
      num.map((n) => `.${n}`),
      num.map((n) => `.${n}`),
      opt(
        join([
          pick(['-']),
          pick(['alpha', 'beta', 'rc', '0', '1', '11', 'alpha.1', 'beta.2', '0.20220906165146-f3363e06e74c']),
        ]),
      ),
      opt(pick(['+build', '+incompatible'])),
    ]),
  ],
  [
    'pep440',
    comparePep440,
    join([
      opt(num.map((n) => `${n}!`)),
      num,
      opt(num.map((n) => `.${n}`)),
      opt(join([pick(['a', 'b', 'rc', 'c', 'alpha']), opt(num)])),
      opt(num.map((n) => `.post${n}`)),
      opt(num.map((n) => `.dev${n}`)),
      opt(pick(['+abc', '+1', '+1.abc', '+ubuntu.2'])),
    ]),
  ],
];

describe('images/versions properties (fast-check)', () => {
  for (const [name, cmp, version] of GRAMMARS) {
    it(`${name}: a total order — reflexive, antisymmetric, transitive`, () => {
      fc.assert(
        fc.property(version, version, version, (a, b, c) => {
          expect(cmp(a, a), `${a} = ${a}`).to.equal(0);
          expect(sign(cmp(a, b)), `${a} vs ${b}`).to.equal(-sign(cmp(b, a)));
          const ab = sign(cmp(a, b));
          const bc = sign(cmp(b, c));
          if (ab <= 0 && bc <= 0) expect(sign(cmp(a, c)), `${a} ≤ ${b} ≤ ${c}`).to.be.at.most(0);
          if (ab === 0 && bc === 0) expect(cmp(a, c), `${a} = ${b} = ${c}`).to.equal(0);
        }),
        { numRuns: 3000, seed: 18 },
      );
    });
  }
});
