import { expect } from 'chai';
import { ClusterIndex } from './cluster-index.ts';
import {
  compilePolicy,
  DEFAULT_PROFILE,
  exceptionActive,
  matchesResource,
  rulesOfProfile,
  type CompiledPolicy,
  type ResourceMatch,
} from './policy.ts';
import type { KubeObject, Rule } from './types.ts';

function rule(id: string, over: Partial<Rule> = {}): Rule {
  return {
    id,
    title: `Title ${id}`,
    severity: 'medium',
    category: 'workload',
    controls: [],
    rationale: 'A rationale that is long enough to pass.',
    remediation: 'A remediation that is concrete.',
    kinds: ['Pod'],
    profiles: ['recommended'],
    check: () => [],
    ...over,
  };
}

const RULES: Rule[] = [
  rule('base-a', { profiles: ['pss-baseline', 'pss-restricted', 'recommended'], severity: 'high' }),
  rule('restricted-b', { profiles: ['pss-restricted', 'recommended'] }),
  rule('rec-c', {
    profiles: ['recommended'],
    params: [
      { name: 'names', description: 'd', type: 'string[]', default: ['x'] },
      { name: 'limit', description: 'd', type: 'number', default: 3 },
      { name: 'mode', description: 'd', type: 'string', default: 'strict' },
      { name: 'flag', description: 'd', type: 'boolean', default: false },
    ],
  }),
  rule('all-only-d', { profiles: [] }),
];

function ok(input: unknown, name?: string): CompiledPolicy {
  const r = compilePolicy(input, RULES, name);
  expect(r.errors, JSON.stringify(r.errors)).to.deep.equal([]);
  if (!r.policy) throw new Error('no policy');
  return r.policy;
}

/** Compiles and returns the error fields (and reasons) — a policy with errors is never returned. */
function errs(input: unknown): { field: string; reason: string }[] {
  const r = compilePolicy(input, RULES);
  expect(r.policy, 'a policy with errors must not be returned').to.equal(undefined);
  return r.errors.map((e) => ({ field: e.field, reason: e.reason }));
}

const ids = (p: CompiledPolicy): string[] => p.rules.map((a) => a.rule.id);

describe('engine/policy compilePolicy: profiles', () => {
  it('defaults to the recommended profile, audit, high event severity, empty match', () => {
    const p = ok({});
    expect(DEFAULT_PROFILE).to.equal('recommended');
    expect(p).to.deep.include({
      name: 'cli',
      profile: 'recommended',
      action: 'audit',
      minEventSeverity: 'high',
      match: {},
      exceptions: [],
    });
    expect(ids(p)).to.deep.equal(['base-a', 'rec-c', 'restricted-b']);
    expect(ok(undefined).profile).to.equal('recommended');
  });

  it('each profile holds exactly the rules that list it; all holds every rule; sorted by id', () => {
    expect(ids(ok({ profile: 'pss-baseline' }))).to.deep.equal(['base-a']);
    expect(ids(ok({ profile: 'pss-restricted' }))).to.deep.equal(['base-a', 'restricted-b']);
    expect(ids(ok({ profile: 'all' }))).to.deep.equal(['all-only-d', 'base-a', 'rec-c', 'restricted-b']);
    expect(rulesOfProfile(RULES, 'all')).to.have.length(RULES.length);
  });

  it('accepts a whole SecurityPolicy or a bare spec; the name comes from metadata', () => {
    const whole = ok({
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'prod' },
      spec: { profile: 'pss-baseline' },
    });
    expect(whole.name).to.equal('prod');
    expect(whole.profile).to.equal('pss-baseline');
    expect(ok({ profile: 'all' }, 'given').name).to.equal('given');
    expect(ok({ kind: 'SecurityPolicy', metadata: {} }).name).to.equal('cli');
  });

  it('unknown or non-string profiles are errors', () => {
    expect(errs({ profile: 'strict' })).to.deep.equal([{ field: 'spec.profile', reason: 'UnknownProfile' }]);
    expect(errs({ profile: 7 })).to.deep.equal([{ field: 'spec.profile', reason: 'UnknownProfile' }]);
    const msg = compilePolicy({ profile: 'strict' }, RULES).errors[0]?.message;
    expect(msg).to.contain('"strict"').and.contain('pss-baseline, pss-restricted, recommended, all');
  });

  it('a spec that is not an object, unknown actions and event severities are errors', () => {
    expect(errs({ kind: 'SecurityPolicy', spec: 'x' })).to.deep.equal([
      { field: 'spec', reason: 'InvalidSpec' },
    ]);
    expect(errs(null)).to.deep.equal([{ field: 'spec', reason: 'InvalidSpec' }]);
    expect(errs({ action: 'block' })).to.deep.equal([{ field: 'spec.action', reason: 'InvalidAction' }]);
    expect(errs({ events: { minSeverity: 'urgent' } })).to.deep.equal([
      { field: 'spec.events.minSeverity', reason: 'InvalidSeverity' },
    ]);
    expect(ok({ action: 'warn', events: { minSeverity: 'low' } })).to.deep.include({
      action: 'warn',
      minEventSeverity: 'low',
    });
  });
});

describe('engine/policy compilePolicy: rule overrides and params', () => {
  it('enabled:false removes a profile rule; enabled:true adds a rule outside the profile', () => {
    expect(ids(ok({ rules: [{ id: 'base-a', enabled: false }] }))).to.deep.equal(['rec-c', 'restricted-b']);
    expect(ids(ok({ profile: 'pss-baseline', rules: [{ id: 'all-only-d', enabled: true }] }))).to.deep.equal([
      'all-only-d',
      'base-a',
    ]);
    expect(ids(ok({ profile: 'pss-baseline', rules: [{ id: 'all-only-d' }] }))).to.deep.equal([
      'all-only-d',
      'base-a',
    ]);
  });

  it('a severity override replaces the default and is marked as overridden', () => {
    const p = ok({ rules: [{ id: 'base-a', severity: 'low' }] });
    const a = p.rules.find((r) => r.rule.id === 'base-a');
    expect(a).to.deep.include({ severity: 'low', severityOverridden: true });
    const c = p.rules.find((r) => r.rule.id === 'rec-c');
    expect(c).to.deep.include({ severity: 'medium', severityOverridden: false });
  });

  it('rule entries need a known id, listed once, a boolean enabled and a known severity', () => {
    expect(errs({ rules: [{}] })).to.deep.equal([{ field: 'spec.rules[0].id', reason: 'InvalidRule' }]);
    expect(errs({ rules: ['base-a'] })).to.deep.equal([{ field: 'spec.rules[0].id', reason: 'InvalidRule' }]);
    expect(errs({ rules: [{ id: 'nope' }] })).to.deep.equal([
      { field: 'spec.rules[0].id', reason: 'UnknownRule' },
    ]);
    expect(errs({ rules: [{ id: 'base-a' }, { id: 'base-a' }] })).to.deep.equal([
      { field: 'spec.rules[1].id', reason: 'DuplicateRule' },
    ]);
    expect(errs({ rules: [{ id: 'base-a', enabled: 'no' }] })).to.deep.equal([
      { field: 'spec.rules[0].enabled', reason: 'InvalidRule' },
    ]);
    expect(errs({ rules: [{ id: 'base-a', severity: 'urgent' }] })).to.deep.equal([
      { field: 'spec.rules[0].severity', reason: 'InvalidSeverity' },
    ]);
  });

  it('spec.rules and spec.exceptions must be lists', () => {
    expect(errs({ rules: { id: 'base-a', enabled: false } })).to.deep.equal([
      { field: 'spec.rules', reason: 'InvalidRule' },
    ]);
    expect(errs({ exceptions: { rules: ['base-a'], owner: 'o', reason: 'r' } })).to.deep.equal([
      { field: 'spec.exceptions', reason: 'InvalidException' },
    ]);
    expect(ids(ok({ rules: null, exceptions: null }))).to.deep.equal(['base-a', 'rec-c', 'restricted-b']);
  });

  it('params merge over declared defaults', () => {
    const p = ok({ rules: [{ id: 'rec-c', params: { limit: 5, names: ['a', 'b'] } }] });
    expect(p.rules.find((r) => r.rule.id === 'rec-c')?.params).to.deep.equal({
      names: ['a', 'b'],
      limit: 5,
      mode: 'strict',
      flag: false,
    });
    expect(ok({}).rules.find((r) => r.rule.id === 'rec-c')?.params).to.deep.equal({
      names: ['x'],
      limit: 3,
      mode: 'strict',
      flag: false,
    });
  });

  it('unknown params and params of the wrong type are errors naming the param', () => {
    expect(errs({ rules: [{ id: 'rec-c', params: { nope: 1 } }] })).to.deep.equal([
      { field: 'spec.rules[0].params.nope', reason: 'UnknownParam' },
    ]);
    expect(
      compilePolicy({ rules: [{ id: 'rec-c', params: { nope: 1 } }] }, RULES).errors[0]?.message,
    ).to.contain('known: names, limit, mode, flag');
    expect(errs({ rules: [{ id: 'base-a', params: { x: 1 } }] })[0]).to.deep.equal({
      field: 'spec.rules[0].params.x',
      reason: 'UnknownParam',
    });
    const wrong: [string, unknown][] = [
      ['names', 'a'],
      ['names', ['a', 1]],
      ['limit', '5'],
      ['limit', Number.NaN],
      ['limit', Number.POSITIVE_INFINITY],
      ['mode', 1],
      ['flag', 'true'],
    ];
    for (const [k, v] of wrong)
      expect(errs({ rules: [{ id: 'rec-c', params: { [k]: v } }] }), `${k}=${String(v)}`).to.deep.equal([
        { field: `spec.rules[0].params.${k}`, reason: 'InvalidParam' },
      ]);
    expect(errs({ rules: [{ id: 'rec-c', params: ['limit'] }] })).to.deep.equal([
      { field: 'spec.rules[0].params', reason: 'InvalidParam' },
    ]);
  });
});

describe('engine/policy compilePolicy: exceptions', () => {
  const base = { owner: 'team-a', reason: 'accepted' };

  it('compiles rules, match, owner, reason and expiry', () => {
    const p = ok({
      exceptions: [
        {
          ...base,
          rules: ['base-a', 'rec-*'],
          match: { namespaces: ['legacy'] },
          expiresAt: '2026-07-01T12:00:00+02:00',
        },
        { ...base, rules: ['restricted-b'] },
      ],
    });
    expect(p.exceptions[0]).to.deep.include({
      index: 0,
      rules: ['base-a', 'rec-*'],
      match: { namespaces: ['legacy'] },
      owner: 'team-a',
      reason: 'accepted',
    });
    expect(p.exceptions[0]?.expiresAt?.toISOString()).to.equal('2026-07-01T10:00:00.000Z');
    expect(p.exceptions[1]?.expiresAt).to.equal(undefined);
    expect(p.exceptions[1]?.match).to.equal(undefined);
  });

  it('needs an owner and a reason', () => {
    expect(errs({ exceptions: [{ rules: ['base-a'] }] })).to.deep.equal([
      { field: 'spec.exceptions[0].reason', reason: 'InvalidException' },
      { field: 'spec.exceptions[0].owner', reason: 'InvalidException' },
    ]);
    expect(errs({ exceptions: [{ rules: ['base-a'], owner: '', reason: 'r' }] })).to.deep.equal([
      { field: 'spec.exceptions[0].owner', reason: 'InvalidException' },
    ]);
  });

  it('needs at least one rule or a match', () => {
    expect(errs({ exceptions: [{ ...base }] })).to.deep.equal([
      { field: 'spec.exceptions[0]', reason: 'InvalidException' },
    ]);
    expect(errs({ exceptions: [{ ...base, rules: [] }] })).to.deep.equal([
      { field: 'spec.exceptions[0]', reason: 'InvalidException' },
    ]);
    expect(errs({ exceptions: [{ ...base, match: null }] })).to.deep.equal([
      { field: 'spec.exceptions[0]', reason: 'InvalidException' },
    ]);
    expect(ok({ exceptions: [{ ...base, match: { names: ['x'] } }] }).exceptions[0]?.rules).to.deep.equal([]);
  });

  it('rules must be a list of strings; a string is not silently read as "every rule"', () => {
    expect(errs({ exceptions: [{ ...base, rules: 'base-a', match: { namespaces: ['x'] } }] })).to.deep.equal([
      { field: 'spec.exceptions[0].rules', reason: 'InvalidException' },
    ]);
    expect(errs({ exceptions: [{ ...base, rules: ['base-a', 7] }] })).to.deep.equal([
      { field: 'spec.exceptions[0].rules', reason: 'InvalidException' },
    ]);
  });

  it('unknown rule ids are errors naming the entry; globs are allowed', () => {
    expect(errs({ exceptions: [{ ...base, rules: ['base-a', 'nope'] }] })).to.deep.equal([
      { field: 'spec.exceptions[0].rules[1]', reason: 'UnknownRule' },
    ]);
    expect(
      ok({ exceptions: [{ ...base, rules: ['*', 'ba?e-a', 'nothing-*'] }] }).exceptions[0]?.rules,
    ).to.deep.equal(['*', 'ba?e-a', 'nothing-*']);
  });

  it('expiresAt must be an RFC 3339 date-time with a zone and a real date', () => {
    for (const bad of [
      'tomorrow',
      '2026-01-01',
      '2026-01-01T00:00:00',
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T25:00:00Z',
      '',
      7,
      null,
      true,
    ])
      expect(
        errs({ exceptions: [{ ...base, rules: ['base-a'], expiresAt: bad }] }),
        JSON.stringify(bad),
      ).to.deep.equal([{ field: 'spec.exceptions[0].expiresAt', reason: 'InvalidException' }]);
    for (const good of [
      '2026-01-01T00:00:00Z',
      '2026-01-01t00:00:00z',
      '2026-01-01T00:00:00.123Z',
      '2026-01-01T00:00:00-05:00',
      '2028-02-29T00:00:00Z',
    ])
      expect(
        ok({ exceptions: [{ ...base, rules: ['base-a'], expiresAt: good }] }).exceptions[0]?.expiresAt,
        good,
      ).to.be.instanceOf(Date);
  });

  it('match errors inside exceptions name their path', () => {
    expect(
      errs({ exceptions: [{ ...base, rules: ['base-a'], match: { namespaces: 'prod' } }] }),
    ).to.deep.equal([{ field: 'spec.exceptions[0].match.namespaces', reason: 'InvalidMatch' }]);
  });

  it('exceptionActive: in force strictly before expiresAt', () => {
    const p = ok({
      exceptions: [
        { ...base, rules: ['base-a'], expiresAt: '2026-06-01T00:00:00Z' },
        { ...base, rules: ['base-a'] },
      ],
    });
    const [timed, forever] = p.exceptions;
    if (!timed || !forever) throw new Error('exceptions');
    expect(exceptionActive(timed, new Date('2026-05-31T23:59:59Z'))).to.equal(true);
    expect(exceptionActive(timed, new Date('2026-06-01T00:00:00Z'))).to.equal(false);
    expect(exceptionActive(forever, new Date('2999-01-01T00:00:00Z'))).to.equal(true);
  });
});

describe('engine/policy compilePolicy: match', () => {
  it('validates list fields and selectors, naming the field', () => {
    expect(errs({ match: 'prod' })).to.deep.equal([{ field: 'spec.match', reason: 'InvalidMatch' }]);
    expect(errs({ match: { namespaces: ['a', 1], kinds: 'Pod' } })).to.deep.equal([
      { field: 'spec.match.namespaces', reason: 'InvalidMatch' },
      { field: 'spec.match.kinds', reason: 'InvalidMatch' },
    ]);
    expect(errs({ match: { objectSelector: { matchLabels: { a: 1 } } } })).to.deep.equal([
      { field: 'spec.match.objectSelector', reason: 'InvalidSelector' },
    ]);
    expect(
      errs({ match: { namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } }),
    ).to.deep.equal([{ field: 'spec.match.namespaceSelector', reason: 'InvalidSelector' }]);
  });

  it('keeps valid criteria; null means absent', () => {
    const m = {
      namespaces: ['team-*'],
      excludeNamespaces: ['team-x'],
      names: ['web'],
      kinds: ['Pod'],
      objectSelector: { matchLabels: { app: 'web' } },
    };
    expect(ok({ match: m }).match).to.deep.equal(m);
    expect(ok({ match: null }).match).to.deep.equal({});
    expect(ok({ match: { namespaceSelector: null } }).match).to.deep.equal({});
  });
});

describe('engine/policy matchesResource', () => {
  const nsObj = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  const podIn = (ns: string | undefined, name = 'web', labels: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: labels as Record<string, string>,
      ...(ns === undefined ? {} : { namespace: ns }),
    },
  });
  const clusterRole: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'admin' },
  };
  const index = new ClusterIndex([
    nsObj('team-a', { env: 'prod', tier: 'web' }),
    nsObj('team-b', { env: 'dev' }),
    nsObj('other'),
  ]);
  const m = (x: ResourceMatch, obj: KubeObject): boolean => matchesResource(x, obj, index);

  it('an empty match selects everything, cluster-scoped objects included', () => {
    expect(m({}, podIn('team-a'))).to.equal(true);
    expect(m({}, clusterRole)).to.equal(true);
    expect(m({ namespaces: [], kinds: [], names: [] }, clusterRole)).to.equal(true);
  });

  it('kinds and name globs', () => {
    expect(m({ kinds: ['Pod'] }, podIn('team-a'))).to.equal(true);
    expect(m({ kinds: ['Deployment'] }, podIn('team-a'))).to.equal(false);
    expect(m({ names: ['we?'] }, podIn('team-a'))).to.equal(true);
    expect(m({ names: ['api-*'] }, podIn('team-a'))).to.equal(false);
    expect(m({ names: ['adm*'] }, clusterRole)).to.equal(true);
  });

  it('namespace globs and excludeNamespaces', () => {
    expect(m({ namespaces: ['team-*'] }, podIn('team-a'))).to.equal(true);
    expect(m({ namespaces: ['team-*'] }, podIn('teams'))).to.equal(false);
    expect(m({ namespaces: ['team-*'], excludeNamespaces: ['team-a'] }, podIn('team-a'))).to.equal(false);
    expect(m({ excludeNamespaces: ['kube-*'] }, podIn('kube-system'))).to.equal(false);
    expect(m({ excludeNamespaces: ['kube-*'] }, podIn('default'))).to.equal(true);
  });

  it('cluster-scoped objects match only policies without namespace criteria', () => {
    expect(m({ namespaces: ['*'] }, clusterRole)).to.equal(false);
    expect(m({ namespaceSelector: {} }, clusterRole)).to.equal(false);
    expect(m({ excludeNamespaces: ['kube-*'] }, clusterRole)).to.equal(true);
    expect(m({ namespaces: ['team-a'] }, podIn(undefined))).to.equal(false);
  });

  it('a Namespace object is in its own namespace', () => {
    expect(m({ namespaces: ['team-*'] }, nsObj('team-a'))).to.equal(true);
    expect(m({ excludeNamespaces: ['team-a'] }, nsObj('team-a'))).to.equal(false);
    expect(m({ namespaceSelector: { matchLabels: { env: 'prod' } } }, nsObj('team-a'))).to.equal(true);
  });

  it('namespaceSelector reads the Namespace labels from the index (none when absent)', () => {
    expect(m({ namespaceSelector: { matchLabels: { env: 'prod' } } }, podIn('team-a'))).to.equal(true);
    expect(m({ namespaceSelector: { matchLabels: { env: 'prod' } } }, podIn('team-b'))).to.equal(false);
    expect(m({ namespaceSelector: { matchLabels: { env: 'prod' } } }, podIn('unknown'))).to.equal(false);
    expect(
      m(
        { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } },
        podIn('unknown'),
      ),
    ).to.equal(true);
    expect(
      m(
        {
          namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] },
        },
        podIn('team-b'),
      ),
    ).to.equal(true);
    expect(
      m(
        { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } },
        podIn('other'),
      ),
    ).to.equal(true);
  });

  it('objectSelector uses the object labels; non-string label values are ignored', () => {
    const pod = podIn('team-a', 'web', { app: 'web', tier: 3 });
    expect(m({ objectSelector: { matchLabels: { app: 'web' } } }, pod)).to.equal(true);
    expect(m({ objectSelector: { matchLabels: { app: 'api' } } }, pod)).to.equal(false);
    expect(m({ objectSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }, pod)).to.equal(
      false,
    );
    expect(m({ objectSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }, pod)).to.equal(
      true,
    );
  });

  it('all criteria must hold', () => {
    const pod = podIn('team-a', 'web', { app: 'web' });
    const all: ResourceMatch = {
      kinds: ['Pod'],
      names: ['web'],
      namespaces: ['team-*'],
      objectSelector: { matchLabels: { app: 'web' } },
    };
    expect(m(all, pod)).to.equal(true);
    expect(m({ ...all, names: ['api'] }, pod)).to.equal(false);
  });

  it('never throws on malformed objects', () => {
    for (const o of [
      {},
      { kind: 7 },
      { kind: 'Pod', metadata: 'x' },
      { kind: 'Pod', metadata: { namespace: 7, labels: 'x' } },
    ] as KubeObject[])
      expect(() => m({ namespaces: ['*'], objectSelector: { matchLabels: { a: 'b' } } }, o)).to.not.throw();
  });
});

describe('compilePolicy: unknown fields', () => {
  const rules: Rule[] = [];
  for (const [name, spec, field] of [
    ['spec', { profile: 'all', severty: 'high' }, 'spec.severty'],
    ['a rule override', { rules: [{ id: 'x', severty: 'high' }] }, 'spec.rules[0].severty'],
    [
      'an exception',
      { exceptions: [{ rules: ['x'], reason: 'r', owner: 'o', expires: '2027-01-01T00:00:00Z' }] },
      'spec.exceptions[0].expires',
    ],
    ['a match', { match: { namespace: ['a'] } }, 'spec.match.namespace'],
    ['events', { events: { min: 'high' } }, 'spec.events.min'],
  ] as const) {
    it(`rejects an unknown field in ${name}, naming it`, () => {
      const r = compilePolicy({ spec }, rules);
      expect(r.policy).to.equal(undefined);
      const e = r.errors.find((x) => x.reason === 'UnknownField');
      expect(e?.field).to.equal(field);
    });
  }
});

describe('compilePolicy: spec.images', () => {
  it('defaults to analyse false and pullSecrets deny; absent stays absent', () => {
    expect(compilePolicy({ spec: { images: {} } }, RULES).policy?.images).to.deep.equal({
      analyse: false,
      pullSecrets: 'deny',
    });
    expect(
      compilePolicy({ spec: { images: { analyse: true, pullSecrets: 'allow' } } }, RULES).policy?.images,
    ).to.deep.equal({ analyse: true, pullSecrets: 'allow' });
    expect(compilePolicy({ spec: {} }, RULES).policy?.images).to.equal(undefined);
  });

  it('rejects bad values and unknown fields, naming them', () => {
    const errs = compilePolicy(
      { spec: { images: { analyse: 'yes', pullSecrets: 'sometimes', scan: true } } },
      RULES,
    ).errors.map((e) => e.field);
    expect(errs).to.include.members(['spec.images.analyse', 'spec.images.pullSecrets', 'spec.images.scan']);
    expect(compilePolicy({ spec: { images: 'on' } }, RULES).errors[0]?.field).to.equal('spec.images');
  });
});
