import { expect } from 'chai';
import { ClusterIndex } from './cluster-index.ts';
import { compareFindings, evaluateObject, evaluateSubjects, resourceRef } from './evaluate.ts';
import { compilePolicy, type CompiledPolicy } from './policy.ts';
import type { Finding, KubeObject, Rule, RuleContext, RuleHit, Subject } from './types.ts';
import { perObject } from '../rules/rbac/_memo.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

function rule(
  id: string,
  check: (obj: KubeObject, ctx: RuleContext) => RuleHit[],
  over: Partial<Rule> = {},
): Rule {
  return {
    id,
    title: `Title ${id}`,
    severity: 'medium',
    category: 'workload',
    controls: ['CIS:1.1'],
    rationale: 'A rationale that is long enough to pass.',
    remediation: `Fix ${id}.`,
    kinds: ['Pod'],
    profiles: ['recommended'],
    check,
    ...over,
  };
}

function pod(name: string, ns = 'prod', labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels } };
}

/** Reports one hit per object, naming it. */
const always = rule('always', (o) => [{ message: `hit ${String(o.metadata?.name)}`, container: 'app' }]);

function compile(rules: Rule[], spec: Record<string, unknown> = {}, name?: string): CompiledPolicy {
  const r = compilePolicy(spec, rules, name);
  if (!r.policy) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function evalOne(obj: KubeObject, policy: CompiledPolicy, others: KubeObject[] = []) {
  return evaluateObject(obj, policy, new ClusterIndex([obj, ...others]), NOW, { file: 'f.yaml', line: 7 });
}

describe('engine/evaluate evaluateObject', () => {
  it('the rules of one object share a memo (perObject computes once); the next object gets a fresh one', () => {
    const computed: string[] = [];
    const derive = (obj: KubeObject, ctx: Pick<RuleContext, 'objectMemo'>): string =>
      perObject(ctx, 'test/derived', () => {
        const name = String(obj.metadata?.name);
        computed.push(name);
        return name.toUpperCase();
      });
    const a = rule('a', (o, ctx) => [{ message: `a ${derive(o, ctx)}` }]);
    const b = rule('b', (o, ctx) => [{ message: `b ${derive(o, ctx)}` }]);
    const policy = compile([a, b]);
    expect(evalOne(pod('web'), policy).findings.map((f) => f.message)).to.deep.equal(['a WEB', 'b WEB']);
    expect(evalOne(pod('db'), policy).findings.map((f) => f.message)).to.deep.equal(['a DB', 'b DB']);
    expect(computed).to.deep.equal(['web', 'db']);
    // Without a memo (a rule called on its own), the value is computed every time.
    expect(derive(pod('x'), {})).to.equal('X');
    expect(derive(pod('x'), {})).to.equal('X');
    expect(computed).to.deep.equal(['web', 'db', 'x', 'x']);
  });

  it('turns hits into findings with rule metadata, resource, container and location', () => {
    const r = evalOne(pod('web'), compile([always]));
    expect(r.matched).to.equal(true);
    expect(r.errors).to.deep.equal([]);
    expect(r.findings).to.deep.equal([
      {
        ruleId: 'always',
        title: 'Title always',
        severity: 'medium',
        category: 'workload',
        controls: ['CIS:1.1'],
        resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
        message: 'hit web',
        remediation: 'Fix always.',
        policy: 'cli',
        container: 'app',
        location: { file: 'f.yaml', line: 7 },
      },
    ]);
  });

  it('omits container when the hit has none, and location when unknown', () => {
    const r = evaluateObject(
      pod('web'),
      compile([rule('whole', () => [{ message: 'm' }])]),
      new ClusterIndex([]),
      NOW,
    );
    expect(r.findings[0]).to.not.have.property('container');
    expect(r.findings[0]).to.not.have.property('location');
  });

  it('runs a rule only on its kinds', () => {
    const onlyDeploy = rule('deploy-only', () => [{ message: 'x' }], { kinds: ['Deployment'] });
    expect(evalOne(pod('web'), compile([onlyDeploy])).findings).to.deep.equal([]);
  });

  it('a per-hit severity wins over the default; a policy override wins over both; controls are merged', () => {
    const r = rule('sev', () => [
      { message: 'a', severity: 'critical', controls: ['PSS:privileged', 'CIS:1.1'] },
      { message: 'b' },
    ]);
    const plain = evalOne(pod('web'), compile([r])).findings;
    expect(plain.map((f) => f.severity)).to.deep.equal(['critical', 'medium']);
    expect(plain[0]?.controls).to.deep.equal(['CIS:1.1', 'PSS:privileged']);
    expect(plain[1]?.controls).to.deep.equal(['CIS:1.1']);
    const overridden = evalOne(
      pod('web'),
      compile([r], { rules: [{ id: 'sev', severity: 'low' }] }),
    ).findings;
    expect(overridden.map((f) => f.severity)).to.deep.equal(['low', 'low']);
  });

  it('passes params (defaults merged with overrides), the index and now to the rule', () => {
    const seen: RuleContext[] = [];
    const spy = rule(
      'spy',
      (_o, ctx) => {
        seen.push(ctx);
        return [];
      },
      {
        params: [
          { name: 'n', description: 'd', type: 'number', default: 1 },
          { name: 's', description: 'd', type: 'string', default: 'x' },
        ],
      },
    );
    const other = pod('other');
    evalOne(pod('web'), compile([spy], { rules: [{ id: 'spy', params: { n: 2 } }] }), [other]);
    expect(seen[0]?.params).to.deep.equal({ n: 2, s: 'x' });
    expect(seen[0]?.now).to.equal(NOW);
    expect(seen[0]?.index.get('Pod', 'prod', 'other')).to.equal(other);
  });

  it('a throwing rule becomes a RuleError and the other rules still run', () => {
    const boom = rule('boom', () => {
      throw new Error('kaboom');
    });
    const weird = rule('weird', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'not an error';
    });
    const r = evalOne(pod('web'), compile([boom, weird, always]));
    expect(r.errors).to.deep.equal([
      {
        ruleId: 'boom',
        resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
        message: 'kaboom',
      },
      {
        ruleId: 'weird',
        resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
        message: 'not an error',
      },
    ]);
    expect(r.findings.map((f) => f.ruleId)).to.deep.equal(['always']);
  });

  it('a rule that returns something other than a list of hits becomes a RuleError, not a crash', () => {
    const broken = rule('broken', () => undefined as unknown as RuleHit[]);
    const junkHit = rule('junk-hit', () => [null as unknown as RuleHit]);
    let r: ReturnType<typeof evalOne> | undefined;
    expect(() => {
      r = evalOne(pod('web'), compile([broken, junkHit, always]));
    }).to.not.throw();
    expect(r?.errors.map((e) => e.ruleId)).to.deep.equal(['broken', 'junk-hit']);
    expect(r?.findings.map((f) => f.ruleId)).to.deep.equal(['always']);
  });

  it('objects outside the policy match, and objects without a kind, are not matched', () => {
    const p = compile([always], { match: { namespaces: ['team-*'] } });
    expect(evalOne(pod('web', 'prod'), p)).to.deep.include({ matched: false, findings: [] });
    expect(evalOne(pod('web', 'team-a'), p).matched).to.equal(true);
    expect(evalOne({ apiVersion: 'v1', metadata: { name: 'x' } }, compile([always])).matched).to.equal(false);
  });

  it('a SecurityPolicy is evaluated only by itself, whatever the match says', () => {
    const expired = rule('expired', () => [{ message: 'lapsed' }], { kinds: ['SecurityPolicy'] });
    const p = compile([expired], { match: { namespaces: ['team-*'] } }, 'mine');
    const self: KubeObject = {
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'mine' },
    };
    const other: KubeObject = { ...self, metadata: { name: 'theirs' } };
    expect(evalOne(self, p).findings.map((f) => f.message)).to.deep.equal(['lapsed']);
    expect(evalOne(other, p)).to.deep.include({ matched: false, findings: [] });
  });

  describe('exceptions', () => {
    const base = { owner: 'o', reason: 'r' };
    const other = rule('other', () => [{ message: 'o' }]);

    it('an active exception hides the named rule only, and counts what it hid', () => {
      const p = compile([always, other], {
        exceptions: [{ ...base, rules: ['always'], expiresAt: '2026-07-01T00:00:00Z' }],
      });
      const r = evalOne(pod('web'), p);
      expect(r.findings.map((f) => f.ruleId)).to.deep.equal(['other']);
      expect(r.suppressed).to.equal(1);
    });

    it('an expired exception hides nothing', () => {
      const p = compile([always], {
        exceptions: [{ ...base, rules: ['always'], expiresAt: '2026-05-01T00:00:00Z' }],
      });
      expect(evalOne(pod('web'), p)).to.deep.include({ suppressed: 0 });
      expect(evalOne(pod('web'), p).findings).to.have.length(1);
    });

    it('expiry is exclusive: at expiresAt the finding is back', () => {
      const p = compile([always], {
        exceptions: [{ ...base, rules: ['always'], expiresAt: NOW.toISOString() }],
      });
      expect(evalOne(pod('web'), p).findings).to.have.length(1);
    });

    it('rule globs, and a match without rules, hide every matching rule on matching objects only', () => {
      const glob = compile([always, other], { exceptions: [{ ...base, rules: ['al*'] }] });
      expect(evalOne(pod('web'), glob).findings.map((f) => f.ruleId)).to.deep.equal(['other']);
      const byMatch = compile([always, other], {
        exceptions: [
          { ...base, match: { namespaces: ['legacy'], objectSelector: { matchLabels: { app: 'old' } } } },
        ],
      });
      expect(evalOne(pod('web', 'legacy', { app: 'old' }), byMatch).findings).to.deep.equal([]);
      expect(evalOne(pod('web', 'legacy', { app: 'old' }), byMatch).suppressed).to.equal(2);
      expect(evalOne(pod('web', 'legacy', { app: 'new' }), byMatch).findings).to.have.length(2);
      expect(evalOne(pod('web', 'prod', { app: 'old' }), byMatch).findings).to.have.length(2);
    });
  });
});

describe('engine/evaluate evaluateSubjects', () => {
  const multi = rule('multi', (o) =>
    [
      { message: 'z', container: 'b' },
      { message: 'a', container: 'a' },
    ].map((h) => ({ ...h, message: `${h.message}:${String(o.metadata?.name)}` })),
  );
  const subjects: Subject[] = [
    { object: pod('b', 'prod'), location: { file: 'x.yaml', line: 9 } },
    { object: pod('a', 'prod'), location: { file: 'x.yaml', line: 1 } },
    { object: pod('a', 'dev'), location: { file: 'y.yaml', line: 1 } },
    { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'prod' } } },
    { object: { kind: 7 } },
  ];

  it('returns findings in a stable total order, whatever the input order', () => {
    const p = compile([multi, always]);
    const forward = evaluateSubjects(subjects, p, { now: NOW });
    const backward = evaluateSubjects([...subjects].reverse(), p, { now: NOW });
    expect(backward.findings).to.deep.equal(forward.findings);
    expect(
      forward.findings.map(
        (f) => `${f.resource.namespace}/${f.resource.name} ${f.ruleId} ${f.container ?? ''}`,
      ),
    ).to.deep.equal([
      'dev/a always app',
      'dev/a multi a',
      'dev/a multi b',
      'prod/a always app',
      'prod/a multi a',
      'prod/a multi b',
      'prod/b always app',
      'prod/b multi a',
      'prod/b multi b',
    ]);
    for (let i = 1; i < forward.findings.length; i++)
      expect(
        compareFindings(forward.findings[i - 1] as Finding, forward.findings[i] as Finding),
      ).to.be.lessThan(0);
  });

  it('counts the resources the policy matched (with kind), and collects rule errors', () => {
    const boom = rule('boom', () => {
      throw new Error('x');
    });
    const r = evaluateSubjects(subjects, compile([boom]), { now: NOW });
    expect(r.resourcesEvaluated).to.equal(4);
    expect(r.errors).to.have.length(3);
    expect(r.findings).to.deep.equal([]);
  });

  it('builds one index over every subject for cross-resource rules', () => {
    const cross = rule('sees-configmap', (_o, ctx) =>
      ctx.index.get('ConfigMap', 'prod', 'cm') ? [{ message: 'found' }] : [],
    );
    const r = evaluateSubjects(subjects, compile([cross]), { now: NOW });
    expect(r.findings).to.have.length(3);
  });

  it('orders same-named resources by file and line', () => {
    const a = { ...pod('same'), metadata: { name: 'same', namespace: 'prod' } };
    const r = evaluateSubjects(
      [
        { object: a, location: { file: 'b.yaml', line: 1 } },
        { object: a, location: { file: 'a.yaml', line: 5 } },
        { object: a, location: { file: 'a.yaml', line: 2 } },
      ],
      compile([always]),
      { now: NOW },
    );
    expect(r.findings.map((f) => `${f.location?.file}:${f.location?.line}`)).to.deep.equal([
      'a.yaml:2',
      'a.yaml:5',
      'b.yaml:1',
    ]);
  });
});

describe('engine/evaluate resourceRef', () => {
  it('reads apiVersion, kind, namespace, name and uid defensively', () => {
    expect(
      resourceRef({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n', uid: 'u' } }),
    ).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'p',
      namespace: 'n',
      uid: 'u',
    });
    expect(resourceRef({ apiVersion: 1, kind: {}, metadata: 'x' as never })).to.deep.equal({
      apiVersion: '',
      kind: '',
      name: '',
    });
    expect(resourceRef({ kind: 'ClusterRole', metadata: { name: 'c', namespace: '' } })).to.not.have.property(
      'namespace',
    );
  });
});
