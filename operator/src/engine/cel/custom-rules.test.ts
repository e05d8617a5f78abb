/**
 * spec.customRules through compilePolicy and the evaluation loop, with the real CEL evaluator
 * (the API server's code as WebAssembly; `make setup-cel` builds it), and `vigil scan --policy`
 * as a subprocess.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml, toYaml } from '../../yaml.ts';
import { ALL_RULES } from '../../rules/index.ts';
import { ClusterIndex } from '../cluster-index.ts';
import { evaluateSubjects } from '../evaluate.ts';
import { compilePolicy, type CompiledPolicy, type PolicyError } from '../policy.ts';
import type { KubeObject } from '../types.ts';
import { evaluator, wasmCandidates } from './wasm.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BIN = join(ROOT, 'bin', 'vigil.js');

const TEAM_RULE = {
  id: 'require-team-label',
  title: 'Workloads carry a team label',
  severity: 'high',
  match: { kinds: ['Deployment', 'StatefulSet'] },
  variables: [{ name: 'labels', expression: 'object.metadata.?labels.orValue({})' }],
  validations: [
    {
      expression: "'team' in variables.labels",
      messageExpression: "'missing team label on ' + object.metadata.name",
    },
  ],
  remediation: 'Add metadata.labels.team.',
};

function deployment(
  name: string,
  labels?: Record<string, string>,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', ...(labels ? { labels } : {}) },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/app:1.0', ...extra }] },
      },
    },
  };
}

function policy(spec: Record<string, unknown>): CompiledPolicy {
  const { policy: p, errors } = compilePolicy(
    { kind: 'SecurityPolicy', metadata: { name: 'p' }, spec },
    ALL_RULES,
  );
  expect(errors).to.deep.equal([]);
  if (!p) throw new Error('no policy');
  return p;
}

function errorsOf(spec: Record<string, unknown>): PolicyError[] {
  const r = compilePolicy({ kind: 'SecurityPolicy', metadata: { name: 'p' }, spec }, ALL_RULES);
  expect(r.policy).to.equal(undefined);
  return r.errors;
}

function findings(p: CompiledPolicy, objs: KubeObject[]) {
  return evaluateSubjects(
    objs.map((object) => ({ object })),
    p,
    { now: NOW },
  );
}

/** A policy of one custom rule with one validation, judging the objects. */
function verdicts(expression: string, objs: KubeObject[], messageExpression?: string): string[] {
  const p = policy({
    profile: 'pss-baseline',
    rules: ALL_RULES.filter((r) => r.profiles.includes('pss-baseline')).map((r) => ({
      id: r.id,
      enabled: false,
    })),
    customRules: [
      {
        id: 'probe',
        title: 'probe',
        severity: 'low',
        validations: [{ expression, ...(messageExpression ? { messageExpression } : {}) }],
      },
    ],
  });
  const r = findings(p, objs);
  expect(r.errors).to.deep.equal([]);
  return objs.map((o) => {
    const f = r.findings.filter((x) => x.resource.name === o.metadata?.name);
    return f.length === 0 ? 'pass' : f.map((x) => x.message).join('|');
  });
}

describe('custom rules (spec.customRules, CEL with the API server semantics)', function () {
  // Loading the 40 MB evaluator (once here, once per `vigil` subprocess) takes a second or two.
  this.timeout(60_000);
  before(function () {
    if (!wasmCandidates().some((p) => p.length > 0))
      throw new Error('no candidate path for the CEL evaluator (run make setup-cel)');
    // Fails loudly, saying how to build it, when the .wasm is missing.
    evaluator();
  });

  it('require-team-label: a finding on a Deployment without the label, none with it, carrying the rule', function () {
    const p = policy({ profile: 'pss-baseline', customRules: [TEAM_RULE] });
    const r = findings(p, [deployment('bare'), deployment('owned', { team: 'shop' })]);
    const custom = r.findings.filter((f) => f.ruleId === 'require-team-label');
    expect(custom).to.have.length(1);
    expect(custom[0]).to.deep.include({
      ruleId: 'require-team-label',
      title: 'Workloads carry a team label',
      severity: 'high',
      category: 'custom',
      message: 'missing team label on bare',
      remediation: 'Add metadata.labels.team.',
      policy: 'p',
    });
    expect(custom[0]?.resource).to.deep.include({ kind: 'Deployment', name: 'bare', namespace: 'shop' });
    expect(r.errors).to.deep.equal([]);
    // What a translation into a ValidatingAdmissionPolicy needs: the CEL as written and the match.
    expect(p.customRules[0]?.cel).to.deep.equal({
      variables: TEAM_RULE.variables,
      validations: TEAM_RULE.validations,
    });
    expect(p.customRules[0]?.match).to.deep.equal({ kinds: ['Deployment', 'StatefulSet'] });
  });

  it('applies only to the kinds and names of its match', function () {
    const p = policy({
      customRules: [{ ...TEAM_RULE, match: { kinds: ['Deployment'], names: ['web-*'] } }],
    });
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop' } };
    const r = findings(p, [deployment('web-a'), deployment('db'), pod]);
    expect(
      r.findings.filter((f) => f.ruleId === 'require-team-label').map((f) => f.resource.name),
    ).to.deep.equal(['web-a']);
  });

  it('severity overrides, enabled: false and exceptions apply as to built-in rules', function () {
    const base = { profile: 'pss-baseline', customRules: [TEAM_RULE] };
    const low = findings(policy({ ...base, rules: [{ id: 'require-team-label', severity: 'low' }] }), [
      deployment('bare'),
    ]);
    expect(low.findings.find((f) => f.ruleId === 'require-team-label')?.severity).to.equal('low');

    const off = findings(policy({ ...base, rules: [{ id: 'require-team-label', enabled: false }] }), [
      deployment('bare'),
    ]);
    expect(off.findings.filter((f) => f.ruleId === 'require-team-label')).to.deep.equal([]);

    const excepted = findings(
      policy({
        ...base,
        exceptions: [
          { rules: ['require-team-label'], match: { names: ['bare'] }, reason: 'legacy', owner: 'ops' },
        ],
      }),
      [deployment('bare'), deployment('other')],
    );
    expect(
      excepted.findings.filter((f) => f.ruleId === 'require-team-label').map((f) => f.resource.name),
    ).to.deep.equal(['other']);
    expect(excepted.suppressed).to.be.greaterThan(0);
  });

  it('compiling an unchanged rule again reuses its compilation (the operator recompiles on every policy event)', function () {
    const spec = { profile: 'pss-baseline', customRules: [TEAM_RULE] };
    const first = policy(spec).customRules[0];
    expect(policy(structuredClone(spec)).customRules[0]).to.equal(first);
    const changed = policy({
      ...spec,
      customRules: [{ ...TEAM_RULE, validations: [{ expression: "'owner' in variables.labels" }] }],
    }).customRules[0];
    expect(changed).to.not.equal(first);
    expect(findings(policy(spec), [deployment('bare')]).findings.map((f) => f.ruleId)).to.include(
      'require-team-label',
    );
  });

  it('a compile error names the rule, the expression and the position (reason InvalidRule)', function () {
    const errs = errorsOf({
      customRules: [
        {
          ...TEAM_RULE,
          validations: [
            { expression: "'team' in variables.labels &&" },
            { expression: 'object.spec.replicas' },
          ],
        },
      ],
    });
    expect(errs).to.have.length(2);
    expect(errs[0]).to.deep.include({
      field: 'spec.customRules[0].validations[0].expression',
      reason: 'InvalidRule',
    });
    expect(errs[0]?.message).to.match(
      /^custom rule "require-team-label": invalid expression "'team' in variables\.labels &&": 1:30: Syntax error/,
    );
    expect(errs[1]?.message).to.equal(
      'custom rule "require-team-label": invalid expression "object.spec.replicas": must evaluate to bool but got dyn',
    );
    const undeclared = errorsOf({
      customRules: [{ ...TEAM_RULE, variables: [{ name: 'x', expression: 'objekt.metadata' }] }],
    });
    expect(undeclared[0]).to.deep.include({
      field: 'spec.customRules[0].variables[0].expression',
      reason: 'InvalidRule',
    });
    expect(undeclared[0]?.message).to.contain("1:1: undeclared reference to 'objekt'");
    const badMessage = errorsOf({
      customRules: [{ ...TEAM_RULE, validations: [{ expression: 'true', messageExpression: '1 + 1' }] }],
    });
    expect(badMessage[0]).to.deep.include({ field: 'spec.customRules[0].validations[0].messageExpression' });
    expect(badMessage[0]?.message).to.contain('must evaluate to string but got int');
  });

  it('refuses malformed rules: ids, duplicates, built-in ids, severities, unknown fields, no validations', function () {
    const reasons = (rule: Record<string, unknown>, more: Record<string, unknown>[] = []) =>
      errorsOf({ customRules: [rule, ...more] }).map((e) => `${e.field} ${e.reason}`);
    expect(reasons({ ...TEAM_RULE, id: 'Team' })).to.deep.equal(['spec.customRules[0].id InvalidRule']);
    expect(reasons(TEAM_RULE, [TEAM_RULE])).to.deep.equal(['spec.customRules[1].id DuplicateRule']);
    expect(reasons({ ...TEAM_RULE, id: ALL_RULES[0]?.id })).to.deep.equal([
      'spec.customRules[0].id DuplicateRule',
    ]);
    expect(reasons({ ...TEAM_RULE, severity: 'urgent' })).to.deep.equal([
      'spec.customRules[0].severity InvalidSeverity',
    ]);
    expect(reasons({ ...TEAM_RULE, validation: [] })).to.deep.equal([
      'spec.customRules[0].validation UnknownField',
    ]);
    expect(reasons({ ...TEAM_RULE, validations: [] })).to.deep.equal([
      'spec.customRules[0].validations InvalidRule',
    ]);
    expect(reasons({ ...TEAM_RULE, variables: [{ name: 'a-b', expression: '1' }] })).to.deep.equal([
      'spec.customRules[0].variables[0].name InvalidRule',
    ]);
    expect(reasons({ ...TEAM_RULE, variables: [{ name: 'namespace', expression: '1' }] })).to.deep.equal([
      'spec.customRules[0].variables[0].name InvalidRule',
    ]);
    expect(
      reasons({ ...TEAM_RULE, validations: [{ expression: 'true', message: 'two\nlines' }] }),
    ).to.deep.equal(['spec.customRules[0].validations[0].message InvalidRule']);
    expect(reasons({ ...TEAM_RULE, validations: [{ expression: '  ' }] })).to.deep.equal([
      'spec.customRules[0].validations[0].expression InvalidRule',
    ]);
    expect(reasons({ ...TEAM_RULE, match: { kind: ['Pod'] } })).to.deep.equal([
      'spec.customRules[0].match.kind UnknownField',
    ]);
  });

  it('quantity, url, regex, optionals, all/exists, strings, ip/cidr, format and semver work', function () {
    const objs = [
      deployment('small', { team: 'a' }, { resources: { limits: { memory: '512Mi' } } }),
      deployment('big', undefined, {
        image: 'docker.io/evil/miner:latest',
        resources: { limits: { memory: '8Gi' } },
      }),
    ];
    const containers = 'object.spec.template.spec.containers';
    expect(
      verdicts(
        `${containers}.all(c, !has(c.resources.limits.memory) || quantity(c.resources.limits.memory).isLessThan(quantity('4Gi')))`,
        objs,
      ),
    ).to.deep.equal([
      'pass',
      `failed expression: ${containers}.all(c, !has(c.resources.limits.memory) || quantity(c.resources.limits.memory).isLessThan(quantity('4Gi')))`,
    ]);
    expect(
      verdicts(
        `${containers}.all(c, c.image.startsWith('registry.example.com/'))`,
        objs,
        `'image ' + ${containers}.filter(c, !c.image.startsWith('registry.example.com/'))[0].image + ' is not from the company registry'`,
      ),
    ).to.deep.equal(['pass', 'image docker.io/evil/miner:latest is not from the company registry']);
    expect(verdicts(`!${containers}.exists(c, c.image.matches(':latest$'))`, objs)[1]).to.not.equal('pass');
    expect(
      verdicts("url('https://' + object.metadata.name + '.example.com:8443/x').getPort() == '8443'", objs),
    ).to.deep.equal(['pass', 'pass']);
    expect(verdicts("object.metadata.?labels.?team.orValue('') != ''", objs, "'no team'")).to.deep.equal([
      'pass',
      'no team',
    ]);
    expect(verdicts("object.metadata.name.upperAscii().indexOf('I') != 1", objs)).to.deep.equal([
      'pass',
      "failed expression: object.metadata.name.upperAscii().indexOf('I') != 1",
    ]);
    expect(
      verdicts(
        "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3')) && isSemver('1.2.3') && semver('1.2.3').isLessThan(semver('1.10.0'))",
        objs,
      ),
    ).to.deep.equal(['pass', 'pass']);
    expect(verdicts('!format.dns1123Label().validate(object.metadata.name).hasValue()', objs)).to.deep.equal([
      'pass',
      'pass',
    ]);
    expect(verdicts('sets.contains([1, 2, 3], [object.spec.replicas])', objs)).to.deep.equal([
      'pass',
      'pass',
    ]);
  });

  it('an integer stays an integer (int arithmetic on spec fields, as in the API server)', function () {
    expect(verdicts('object.spec.replicas + 1 == 3', [deployment('d')])).to.deep.equal(['pass']);
  });

  it('namespaceObject is the Namespace in scope', function () {
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { tier: 'prod' } },
    };
    const p = policy({
      profile: 'pss-baseline',
      customRules: [
        {
          id: 'prod-needs-team',
          title: 't',
          severity: 'medium',
          match: { kinds: ['Deployment'] },
          validations: [
            {
              expression:
                "namespaceObject == null || namespaceObject.metadata.?labels.?tier.orValue('') != 'prod' || has(object.metadata.labels)",
              message: 'production workloads need labels',
            },
          ],
        },
      ],
    });
    const objs = [deployment('bare')];
    const withNs = evaluateSubjects(
      [...objs, ns].map((object) => ({ object })),
      p,
      { now: NOW, index: new ClusterIndex([...objs, ns]) },
    );
    expect(withNs.findings.filter((f) => f.ruleId === 'prod-needs-team').map((f) => f.message)).to.deep.equal(
      ['production workloads need labels'],
    );
    expect(findings(p, objs).findings.filter((f) => f.ruleId === 'prod-needs-team')).to.deep.equal([]);
  });

  it('a runtime error or an exhausted cost budget is the rule error of that object, not a hang', function () {
    // Reaching the cost limit takes seconds of CPU under WebAssembly (a behaviour test, not a timed one).
    this.timeout(180_000);
    const p = policy({
      profile: 'pss-baseline',
      customRules: [
        {
          id: 'hostile',
          title: 'hostile',
          severity: 'low',
          validations: [
            {
              expression:
                'object.spec.xs.all(a, object.spec.xs.all(b, object.spec.xs.all(c, a + b + c > 0)))',
            },
          ],
        },
        {
          id: 'divides',
          title: 'd',
          severity: 'low',
          validations: [{ expression: '1 / (object.spec.replicas - 2) == 0' }],
        },
      ],
    });
    const big = deployment('big');
    (big['spec'] as Record<string, unknown>)['xs'] = Array.from({ length: 300 }, (_, i) => i + 1);
    const r = findings(p, [big]);
    expect(r.errors.map((e) => `${e.ruleId}: ${e.message}`)).to.deep.equal([
      "divides: expression '1 / (object.spec.replicas - 2) == 0' resulted in error: division by zero",
      "hostile: expression 'object.spec.xs.all(a, object.spec.xs.all(b, object.spec.xs.all(c, a + b + c > 0)))' resulted in error: operation cancelled: actual cost limit exceeded",
    ]);
  });

  it("docs/custom-rules.md's example policy compiles and reports what the page says", function () {
    const doc = readFileSync(join(ROOT, 'docs', 'custom-rules.md'), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    if (!block) throw new Error('docs/custom-rules.md has no yaml example');
    const { policy: p, errors } = compilePolicy(parseYaml(block), ALL_RULES);
    expect(errors).to.deep.equal([]);
    if (!p) throw new Error('no policy');
    expect(p.customRules.map((r) => r.id)).to.deep.equal([
      'require-team-label',
      'company-registry',
      'memory-limit-under-4gi',
      'ingress-hosts-in-domain',
      'webhook-url-https',
    ]);
    const web = deployment('web', undefined, { image: 'docker.io/library/nginx:1.27' });
    const owned = deployment('owned', { team: 'shop' }, { resources: { limits: { memory: '512Mi' } } });
    const spark = {
      ...deployment('spark-exec', { team: 'data' }, { resources: { limits: { memory: '16Gi' } } }),
      metadata: { name: 'spark-exec', namespace: 'analytics', labels: { team: 'data' } },
    };
    const big = deployment('big', { team: 'shop' }, { resources: { limits: { memory: '4Gi' } } });
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'site', namespace: 'shop' },
      spec: { rules: [{ host: 'shop.example.com' }, { host: 'shop.example.org' }] },
    };
    const notifier = (name: string, webhook: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'shop', labels: { 'app.example.com/kind': 'notifier' } },
      data: { webhook },
    });
    const r = findings(p, [
      web,
      owned,
      spark,
      big,
      ingress,
      notifier('plain', 'http://hooks.example.com/x'),
      notifier('tls', 'https://hooks.example.com/x'),
    ]);
    expect(r.errors).to.deep.equal([]);
    const custom = new Set(p.customRules.map((c) => c.id));
    expect(
      r.findings
        .filter((f) => custom.has(f.ruleId))
        .map((f) => `${f.resource.name} ${f.ruleId} ${f.severity}: ${f.message}`),
    ).to.deep.equal([
      'plain webhook-url-https medium: data.webhook must be an https URL',
      "big memory-limit-under-4gi medium: a container's memory limit is 4Gi or more",
      'web company-registry critical: images outside registry.example.com: docker.io/library/nginx:1.27',
      'web require-team-label high: missing team label on web',
      'site ingress-hosts-in-domain medium: host shop.example.org is outside example.com',
    ]);
    expect(r.suppressed).to.be.greaterThan(0); // spark-exec's 16Gi, excepted
  });

  it('a rule that exceeds the cost limit on 3 objects is suspended: the next objects are its errors at once', function () {
    // Reaching the cost limit takes seconds of CPU under WebAssembly (a behaviour test, not a timed one).
    this.timeout(180_000);
    const p = policy({
      profile: 'pss-baseline',
      customRules: [
        {
          id: 'hostile',
          title: 'hostile',
          severity: 'low',
          match: { kinds: ['Deployment'] },
          validations: [
            {
              expression:
                'object.spec.xs.all(a, object.spec.xs.all(b, object.spec.xs.all(c, a + b + c > 0)))',
            },
          ],
        },
      ],
    });
    const objs = ['a', 'b', 'c', 'd', 'e'].map((n) => {
      const d = deployment(n);
      (d['spec'] as Record<string, unknown>)['xs'] = Array.from({ length: 300 }, (_, i) => i + 1);
      return d;
    });
    const r = findings(p, objs);
    expect(
      r.errors.map(
        (e) => `${e.resource.name}: ${e.message.replace(/^expression '.*' resulted in error: /, '')}`,
      ),
    ).to.deep.equal([
      'a: operation cancelled: actual cost limit exceeded',
      'b: operation cancelled: actual cost limit exceeded',
      'c: operation cancelled: actual cost limit exceeded',
      'd: rule hostile is suspended: it exceeded the CEL cost limit on 3 objects (a changed rule runs again)',
      'e: rule hostile is suspended: it exceeded the CEL cost limit on 3 objects (a changed rule runs again)',
    ]);
  });

  describe('vigil scan --policy', function () {
    let dir = '';
    before(function () {
      dir = mkdtempSync(join(tmpdir(), 'vigil-custom-'));
      writeFileSync(
        join(dir, 'workloads.yaml'),
        [deployment('bare'), deployment('owned', { team: 'shop' })].map((o) => `---\n${toYaml(o)}`).join(''),
      );
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });
    const scan = (spec: Record<string, unknown>) => {
      writeFileSync(
        join(dir, 'policy.yaml'),
        toYaml({
          apiVersion: 'security.vigil.dev/v1alpha1',
          kind: 'SecurityPolicy',
          metadata: { name: 'team' },
          spec,
        }),
      );
      return spawnSync(
        process.execPath,
        [BIN, 'scan', '-o', 'json', '--policy', 'policy.yaml', 'workloads.yaml'],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
    };

    it('reports require-team-label on the Deployment without the label only', function () {
      const r = scan({ profile: 'pss-baseline', customRules: [TEAM_RULE] });
      expect(r.stderr).to.equal('');
      const report = JSON.parse(r.stdout) as { findings: { ruleId: string; resource: { name: string } }[] };
      expect(
        report.findings.filter((f) => f.ruleId === 'require-team-label').map((f) => f.resource.name),
      ).to.deep.equal(['bare']);
      expect(r.status).to.equal(1);
    });

    it('an invalid expression exits 2 naming the rule, the expression and the position', function () {
      const r = scan({
        customRules: [{ ...TEAM_RULE, validations: [{ expression: 'has(object.metadata.labels.team' }] }],
      });
      expect(r.status).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(
        /^policy\.yaml: spec\.customRules\[0\]\.validations\[0\]\.expression: custom rule "require-team-label": invalid expression "has\(object\.metadata\.labels\.team": 1:32: /,
      );
    });
  });
});
