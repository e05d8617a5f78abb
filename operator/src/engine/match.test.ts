import { expect } from 'chai';
import {
  anyGlob,
  globMatch,
  labelsOf,
  selectorErrors,
  selectorMatches,
  type LabelSelector,
} from './match.ts';

describe('engine/match globMatch', () => {
  const cases: [string, string, boolean][] = [
    ['prod', 'prod', true],
    ['prod', 'prod-1', false],
    ['prod', 'Prod', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['team-*', 'team-a', true],
    ['team-*', 'team-', true],
    ['team-*', 'teams', false],
    ['team-*', 'x-team-a', false],
    ['*-system', 'kube-system', true],
    ['kube-?', 'kube-a', true],
    ['kube-?', 'kube-ab', false],
    ['kube-?', 'kube-', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    // Regex metacharacters are literal.
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['a+', 'aa', false],
    ['(x|y)', 'x', false],
    ['$^', '$^', true],
    ['back\\slash*', 'back\\slash-1', true],
    // `*` crosses any character, newlines included.
    ['a*z', 'a\nz', true],
    ['', '', true],
    ['', 'x', false],
  ];
  for (const [pattern, value, want] of cases)
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      expect(globMatch(pattern, value)).to.equal(want);
    });

  it('anyGlob: true when any pattern matches; false for none', () => {
    expect(anyGlob(['x', 'team-*'], 'team-a')).to.equal(true);
    expect(anyGlob(['x', 'y'], 'team-a')).to.equal(false);
    expect(anyGlob([], 'team-a')).to.equal(false);
  });

  it('is fast on adversarial patterns against realistic names', () => {
    const t0 = performance.now();
    globMatch('*a*a*a*a*a*a*a*b', 'a'.repeat(253));
    expect(performance.now() - t0).to.be.lessThan(2000);
  });
});

describe('engine/match selectorErrors', () => {
  it('accepts absent, null, empty and well-formed selectors', () => {
    expect(selectorErrors(undefined, 's')).to.deep.equal([]);
    expect(selectorErrors(null, 's')).to.deep.equal([]);
    expect(selectorErrors({}, 's')).to.deep.equal([]);
    expect(
      selectorErrors(
        {
          matchLabels: { a: 'b' },
          matchExpressions: [
            { key: 'k', operator: 'In', values: ['v'] },
            { key: 'k', operator: 'NotIn', values: ['v'] },
            { key: 'k', operator: 'Exists' },
            { key: 'k', operator: 'DoesNotExist', values: [] },
          ],
        },
        's',
      ),
    ).to.deep.equal([]);
  });

  it('names each problem with its path', () => {
    expect(selectorErrors('x', 's')).to.deep.equal(['s must be an object']);
    expect(selectorErrors({ matchLabels: ['a'] }, 's')).to.deep.equal([
      's.matchLabels must be a map of strings',
    ]);
    expect(selectorErrors({ matchLabels: { a: 1 } }, 's')).to.deep.equal([
      's.matchLabels.a must be a string',
    ]);
    expect(selectorErrors({ matchExpressions: [{ operator: 'Exists' }] }, 's')).to.deep.equal([
      's.matchExpressions[0].key must be a string',
    ]);
    expect(
      selectorErrors({ matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] }, 's'),
    ).to.deep.equal(['s.matchExpressions[0].operator must be In, NotIn, Exists or DoesNotExist']);
    expect(selectorErrors({ matchExpressions: [{ key: 'k', operator: 'In' }] }, 's')).to.deep.equal([
      's.matchExpressions[0].values must be non-empty for In',
    ]);
    expect(
      selectorErrors({ matchExpressions: [{ key: 'k', operator: 'NotIn', values: [] }] }, 's'),
    ).to.deep.equal(['s.matchExpressions[0].values must be non-empty for NotIn']);
  });

  it('Exists and DoesNotExist take no values (as Kubernetes and the CRD require)', () => {
    expect(
      selectorErrors({ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] }, 's'),
    ).to.deep.equal(['s.matchExpressions[0].values must be empty for Exists']);
    expect(
      selectorErrors({ matchExpressions: [{ key: 'k', operator: 'DoesNotExist', values: ['v'] }] }, 's'),
    ).to.deep.equal(['s.matchExpressions[0].values must be empty for DoesNotExist']);
  });
});

describe('engine/match selectorMatches', () => {
  const labels = { app: 'web', tier: 'front', empty: '' };
  const cases: [string, LabelSelector | undefined, boolean][] = [
    ['no selector', undefined, true],
    ['empty selector', {}, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, true],
    ['matchLabels all must hold', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, false],
    ['matchLabels empty value', { matchLabels: { empty: '' } }, true],
    ['In hit', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, false],
    ['In on missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: [''] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    ['NotIn miss', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] }, true],
    ['NotIn on missing key', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists on empty value', { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, true],
    ['Exists missing', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions combined',
      {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }],
      },
      false,
    ],
    ['inherited keys are not labels', { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, false],
  ];
  for (const [name, sel, want] of cases)
    it(`${name} → ${want}`, () => {
      expect(selectorMatches(sel, labels)).to.equal(want);
    });
});

describe('engine/match labelsOf', () => {
  it('keeps string labels only and tolerates junk', () => {
    expect(labelsOf({ labels: { a: 'b', n: 1, o: {}, s: '' } })).to.deep.equal({ a: 'b', s: '' });
    expect(labelsOf(undefined)).to.deep.equal({});
    expect(labelsOf({ labels: ['a'] })).to.deep.equal({});
    expect(labelsOf('x')).to.deep.equal({});
  });
});
