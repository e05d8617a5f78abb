import { expect } from 'chai';
import { compilePolicy, type CompiledPolicy } from '../engine/policy.ts';
import { ALL_RULES } from '../rules/index.ts';
import { rules as podSecurity } from '../rules/pod-security/index.ts';
import { WORKLOAD_KINDS } from '../engine/podspec.ts';
import { RULES_CEL } from './rules-cel.ts';
import { UNTRANSLATED_REASONS, globToRegex, matchCel, renderAdmission, selectorCel } from './translate.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

function compile(spec: Record<string, unknown>, name = 'p'): CompiledPolicy {
  const { policy, errors } = compilePolicy({ kind: 'SecurityPolicy', metadata: { name }, spec }, ALL_RULES);
  if (!policy) throw new Error(JSON.stringify(errors));
  return policy;
}

type Obj = Record<string, unknown>;
const spec = (o: unknown): Obj => (o as { spec: Obj }).spec;
const exprs = (o: unknown): string[] =>
  (spec(o)['validations'] as { expression: string }[]).map((v) => v.expression);

describe('admission translator', () => {
  it('translates all 19 Pod Security checks across the two levels', () => {
    const b = renderAdmission(compile({ profile: 'pss-baseline' }), NOW);
    const r = renderAdmission(compile({ profile: 'pss-restricted' }), NOW);
    expect(b.translatedRules).to.have.length(12);
    expect(r.translatedRules).to.have.length(15);
    expect(new Set([...b.translatedRules, ...r.translatedRules])).to.deep.equal(
      new Set(podSecurity.map((x) => x.id)),
    );
  });

  it('names objects after the policy, labels them and maps actions to validationActions', () => {
    const actions = (action: string): unknown[] =>
      renderAdmission(compile({ profile: 'pss-baseline', action }, 'team'), NOW).objects.map((o) => [
        (o as { kind: string }).kind,
        (o as { metadata: { name: string; labels: Obj } }).metadata.name,
        (o as { metadata: { labels: Obj } }).metadata.labels['app.kubernetes.io/managed-by'],
        spec(o)['validationActions'] ?? spec(o)['failurePolicy'],
      ]);
    expect(actions('enforce')).to.deep.equal(
      ['pods', 'workloads', 'cronjobs'].flatMap((s) => [
        ['ValidatingAdmissionPolicy', `vigil-team-${s}`, 'vigil', 'Fail'],
        ['ValidatingAdmissionPolicyBinding', `vigil-team-${s}`, 'vigil', ['Deny']],
      ]),
    );
    expect(actions('warn')[1]).to.deep.equal([
      'ValidatingAdmissionPolicyBinding',
      'vigil-team-pods',
      'vigil',
      ['Warn', 'Audit'],
    ]);
  });

  it('selects the pod spec by shape and keeps the engine path in messages', () => {
    const r = renderAdmission(compile({ profile: 'pss-baseline' }), NOW);
    const vars = r.objects
      .filter((_, i) => i % 2 === 0)
      .map((o) => (spec(o)['variables'] as Obj[])[0]?.['expression']);
    expect(vars).to.deep.equal([
      'object.spec',
      'object.spec.template.spec',
      'object.spec.jobTemplate.spec.template.spec',
    ]);
    const msgs = JSON.stringify(spec(r.objects[4])['validations']);
    expect(msgs).to.include('pod sets spec.jobTemplate.spec.template.spec.hostNetwork=true');
  });

  it('turns match into matchConstraints and matchConditions, and kinds into the shapes generated', () => {
    const p = compile({
      profile: 'pss-baseline',
      match: {
        kinds: ['Deployment', 'Pod'],
        namespaces: ['adm-*'],
        excludeNamespaces: ['adm-sys'],
        namespaceSelector: { matchLabels: { tier: 'prod' } },
      },
    });
    const r = renderAdmission(p, NOW);
    expect(r.names).to.deep.equal(['vigil-p-pods', 'vigil-p-workloads']);
    const wl = spec(r.objects[2]);
    expect((wl['matchConstraints'] as Obj)['namespaceSelector']).to.deep.equal({
      matchLabels: { tier: 'prod' },
    });
    expect(wl['matchConditions']).to.deep.equal([
      {
        name: 'policy-match',
        expression: "(request.namespace.matches('^adm-.*$')) && !(request.namespace == 'adm-sys')",
      },
      // Updates are judged only when they change the pod template (scaling is admitted).
      {
        name: 'template-changed',
        expression: "request.operation != 'UPDATE' || object.spec.template != oldObject.spec.template",
      },
      { name: 'policy-kinds', expression: "object.kind in ['Deployment']" },
    ]);
    const pods = spec(r.objects[0])['matchConditions'] as Obj[];
    expect(pods.map((c) => c['name'])).to.deep.equal(['policy-match']);
  });

  it('applies exceptions: whole-policy ones as matchConditions, per-rule ones as guards; expired ones are dropped', () => {
    const p = compile({
      profile: 'pss-baseline',
      exceptions: [
        { match: { names: ['legacy'] }, reason: 'r', owner: 'o' },
        { rules: ['pss-host-namespaces'], match: { names: ['netpod'] }, reason: 'r', owner: 'o' },
        {
          rules: ['pss-privileged'],
          match: { names: ['old'] },
          reason: 'r',
          owner: 'o',
          expiresAt: '2026-05-01T00:00:00Z',
        },
      ],
    });
    const pods = spec(renderAdmission(p, NOW).objects[0]);
    expect(pods['matchConditions']).to.deep.equal([
      { name: 'exception-0', expression: "!((object.metadata.?name.orValue('') == 'legacy'))" },
    ]);
    expect(pods['variables']).to.deep.include({
      name: 'exception1',
      expression: "(object.metadata.?name.orValue('') == 'netpod')",
    });
    expect(JSON.stringify(pods['variables'])).not.to.include('exception2');
    const guarded = exprs(renderAdmission(p, NOW).objects[0]).filter((e) =>
      e.startsWith('variables.exception1 || '),
    );
    expect(guarded).to.have.length(3); // hostNetwork, hostPID, hostIPC
    // Before it expires, the third exception guards pss-privileged too.
    const before = exprs(renderAdmission(p, new Date('2026-04-01T00:00:00Z')).objects[0]);
    expect(before.filter((e) => e.startsWith('variables.exception2 || '))).to.have.length(3);
  });

  it('an exception for a rule everywhere removes its validations', () => {
    const p = compile({
      profile: 'pss-baseline',
      exceptions: [{ rules: ['pss-privileged'], reason: 'r', owner: 'o' }],
    });
    const all = exprs(renderAdmission(p, NOW).objects[0]).join('\n');
    expect(all).not.to.include('privileged.orValue(false)');
    expect(all).to.include('hostNetwork');
  });

  it('lists rules it cannot translate, with a reason', () => {
    const r = renderAdmission(compile({ profile: 'all' }), NOW);
    const reasons = Object.fromEntries(r.untranslatedRules.map((u) => [u.id, u.reason]));
    const single = Object.keys(RULES_CEL);
    expect(single).to.have.length(12);
    expect(new Set(r.translatedRules)).to.deep.equal(new Set([...podSecurity.map((x) => x.id), ...single]));
    expect(r.untranslatedRules.length + r.translatedRules.length).to.equal(ALL_RULES.length);
    expect(Object.keys(reasons).some((id) => id.startsWith('pss-'))).to.equal(false);
    for (const reason of Object.values(reasons)) expect(reason).to.be.a('string').and.not.equal('');
    // Every untranslated rule that judges pods or their controllers says which other objects it needs.
    const podRules = ALL_RULES.filter((x) =>
      x.kinds.some((k) => (WORKLOAD_KINDS as readonly string[]).includes(k)),
    );
    for (const rule of podRules)
      if (!r.translatedRules.includes(rule.id))
        expect(reasons[rule.id], rule.id).to.equal(UNTRANSLATED_REASONS[rule.id]);
    expect(
      Object.keys(UNTRANSLATED_REASONS).filter((id) => !podRules.some((x) => x.id === id)),
    ).to.deep.equal([]);
    expect(reasons['container-requests-missing']).to.include('LimitRange');
    expect(reasons['container-readiness-probe-missing']).to.include('Service');
    expect(reasons['container-hardcoded-secret']).to.include('entropy');
    expect(reasons['rbac-cluster-admin-binding']).to.include('not pods or their controllers');
  });

  it('translates the single-object rules with the policy params baked in', () => {
    const p = compile({
      profile: 'recommended',
      rules: [
        { id: 'image-registry-not-allowed', params: { allowedRegistries: ['ghcr.io/acme'] } },
        { id: 'container-root-filesystem-writable', params: { exemptContainers: ['istio-proxy'] } },
      ],
    });
    const r = renderAdmission(p, NOW);
    expect(r.translatedRules).to.include.members([
      'image-registry-not-allowed',
      'container-root-filesystem-writable',
    ]);
    const pods = JSON.stringify(spec(r.objects[0])['validations']);
    expect(pods).to.include(`repo.startsWith('acme/')`);
    expect(pods).to.include(`c.name == 'istio-proxy'`);
    expect(pods).to.include(`'container-root-filesystem-writable: container \\"'`);
    // Defaults: an empty allow-list translates to no validation at all.
    const d = renderAdmission(compile({ profile: 'recommended' }), NOW);
    expect(d.translatedRules).to.include('image-registry-not-allowed');
    expect(JSON.stringify(d.objects)).not.to.include('image-registry-not-allowed: ');
  });

  it('writes globs and selectors as CEL', () => {
    expect(globToRegex('team-?.*')).to.equal('^team-.\\..*$');
    expect(selectorCel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, 'L')).to.equal(
      "(!('a' in L) || !(L['a'] in ['x']))",
    );
    expect(matchCel({})).to.equal('true');
  });
});

describe('admission translator: custom rules', () => {
  const teamLabel = {
    id: 'require-team-label',
    title: 'Workloads carry a team label',
    severity: 'high',
    match: { kinds: ['Deployment', 'StatefulSet'], namespaces: ['team-*'] },
    variables: [{ name: 'labels', expression: 'object.metadata.?labels.orValue({})' }],
    validations: [
      {
        expression: "'team' in variables.labels",
        messageExpression: "'missing team label on ' + object.metadata.name",
      },
    ],
    remediation: 'Add metadata.labels.team.',
  };

  it('gives each custom rule its own policy: its CEL as written, its kinds as resourceRules, its match and the id in the message', () => {
    const p = compile(
      {
        profile: 'pss-baseline',
        action: 'enforce',
        match: { namespaceSelector: { matchLabels: { tier: 'prod' } } },
        customRules: [teamLabel],
        exceptions: [
          { rules: ['require-team-label'], match: { names: ['legacy'] }, reason: 'r', owner: 'o' },
        ],
      },
      'p',
    );
    const r = renderAdmission(p, NOW);
    expect(r.translatedRules).to.include('require-team-label');
    expect(r.names).to.include('vigil-p-custom-require-team-label');
    const i = r.objects.findIndex(
      (o) =>
        (o as { kind: string; metadata: { name: string } }).kind === 'ValidatingAdmissionPolicy' &&
        (o as { metadata: { name: string } }).metadata.name === 'vigil-p-custom-require-team-label',
    );
    const s = spec(r.objects[i]);
    expect((s['matchConstraints'] as Obj)['resourceRules']).to.deep.equal([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['deployments', 'statefulsets'],
      },
    ]);
    expect((s['matchConstraints'] as Obj)['namespaceSelector']).to.deep.equal({
      matchLabels: { tier: 'prod' },
    });
    expect(s['variables']).to.deep.equal([
      { name: 'labels', expression: 'object.metadata.?labels.orValue({})' },
      { name: 'vigilException0', expression: "(object.metadata.?name.orValue('') == 'legacy')" },
    ]);
    expect(s['validations']).to.deep.equal([
      {
        expression: "variables.vigilException0 || ('team' in variables.labels)",
        messageExpression: "'require-team-label: ' + ('missing team label on ' + object.metadata.name)",
        reason: 'Forbidden',
      },
    ]);
    expect((s['matchConditions'] as Obj[]).map((c) => c['name'])).to.deep.equal(['rule-match']);
    expect(JSON.stringify(s['matchConditions'])).to.include("request.namespace.matches('^team-.*$')");
    const binding = r.objects[i + 1] as { spec: Obj };
    expect(binding.spec).to.deep.equal({
      policyName: 'vigil-p-custom-require-team-label',
      validationActions: ['Deny'],
    });
  });

  it('leaves a disabled custom rule out', () => {
    const p = compile({
      profile: 'pss-baseline',
      action: 'enforce',
      customRules: [teamLabel],
      rules: [{ id: 'require-team-label', enabled: false }],
    });
    const r = renderAdmission(p, NOW);
    expect(r.names.some((n) => n.includes('custom'))).to.equal(false);
  });
});
