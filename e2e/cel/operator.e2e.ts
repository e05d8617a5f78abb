/**
 * Custom rules in the operator: a policy whose expression does not compile is not accepted
 * (Accepted=False, reason InvalidRule, naming the rule, the expression and the position); once
 * fixed, its custom rule reports a Deployment without the team label in that Deployment's
 * ScanReport, and nothing about one with the label.
 */
import { expect } from 'chai';
import { waitFor } from '../controlplane/controlplane.ts';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { toYaml } from '../admission/lib.ts';

const k = (args: string[], input?: string): string => cluster().kubectl(args, input);

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

const teamRule = (expression: string) => ({
  id: 'require-team-label',
  title: 'Workloads carry a team label',
  severity: 'high',
  match: { kinds: ['Deployment'] },
  variables: [{ name: 'labels', expression: 'object.metadata.?labels.orValue({})' }],
  validations: [{ expression, messageExpression: "'missing team label on ' + object.metadata.name" }],
  remediation: 'Add metadata.labels.team.',
});

const policy = (expression: string) =>
  toYaml([
    {
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'team-rules' },
      spec: { profile: 'pss-baseline', match: { namespaces: ['shop'] }, customRules: [teamRule(expression)] },
    },
  ]);

const deployment = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/app:1.0' }] },
    },
  },
});

async function eventually<T>(what: string, fn: () => T | undefined): Promise<T> {
  let value: T | undefined;
  await waitFor(what, () => Promise.resolve((value = fn()) !== undefined), 60_000);
  return value as T;
}

function conditions(): Condition[] {
  const p = JSON.parse(k(['get', 'securitypolicy', 'team-rules', '-o', 'json'])) as {
    status?: { conditions?: Condition[] };
  };
  return p.status?.conditions ?? [];
}

function ruleFindings(name: string): string[] | undefined {
  const list = JSON.parse(k(['get', 'scanreports', '-n', 'shop', '-o', 'json'])) as {
    items: {
      spec: { subject: { name: string } };
      status?: { findings?: { ruleId: string; message?: string }[] };
    }[];
  };
  const r = list.items.find((i) => i.spec.subject.name === name);
  return r?.status?.findings?.filter((f) => f.ruleId === 'require-team-label').map((f) => f.message ?? '');
}

describe('custom rules in the operator', function () {
  this.timeout(300_000);
  let op: OperatorProcess | undefined;

  before(async function () {
    cluster().installCrds();
    for (const ns of ['vigil-system', 'shop'])
      k(['apply', '-f', '-'], `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${ns}"}}`);
    k(['apply', '-f', '-'], toYaml([deployment('bare', {}), deployment('owned', { team: 'shop' })]));
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
  });

  after(async function () {
    const code = await op?.stop();
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('does not accept a policy whose expression does not compile, naming rule, expression and position', async function () {
    k(['apply', '-f', '-'], policy("'team' in variables.labels &&"));
    const accepted = await eventually('Accepted=False', () =>
      conditions().find((c) => c.type === 'Accepted' && c.status === 'False'),
    );
    expect(accepted.reason).to.equal('InvalidRule');
    expect(accepted.message).to.match(
      /^spec\.customRules\[0\]\.validations\[0\]\.expression: custom rule "require-team-label": invalid expression "'team' in variables\.labels &&": 1:30: Syntax error/,
    );
    // The issue: Ready=False with reason InvalidRule (Accepted says the same, with the position).
    expect(conditions().find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'InvalidRule',
    });
  });

  it('once fixed, reports the Deployment without the team label and not the one with it', async function () {
    k(['apply', '-f', '-'], policy("'team' in variables.labels"));
    await eventually('Accepted=True', () =>
      conditions().find((c) => c.type === 'Accepted' && c.status === 'True'),
    );
    const bare = await eventually('the finding on bare', () => {
      const f = ruleFindings('bare');
      return f && f.length > 0 ? f : undefined;
    });
    expect(bare).to.deep.equal(['missing team label on bare']);
    // Every resource evaluated: the one with the label has no finding of the rule (and, with no
    // other finding, no report).
    await eventually('Ready=True', () => conditions().find((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ruleFindings('owned') ?? []).to.deep.equal([]);
  });
});
