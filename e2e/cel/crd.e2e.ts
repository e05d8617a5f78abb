/**
 * spec.customRules in the SecurityPolicy CRD on a real API server: the schema is accepted, a
 * well-formed custom rule is stored as written, and what the schema can refuse is refused at
 * `kubectl apply` (server-side dry run), before Vigil ever sees it.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../controlplane/controlplane.ts';
import { kubectl, mustKubectl, toYaml } from '../admission/lib.ts';

const CRD = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'crds', 'securitypolicies.yaml');

const rule = {
  id: 'require-team-label',
  title: 'Workloads carry a team label',
  severity: 'high',
  match: { kinds: ['Deployment'] },
  variables: [{ name: 'labels', expression: 'object.metadata.?labels.orValue({})' }],
  validations: [{ expression: "'team' in variables.labels", messageExpression: "'missing team label'" }],
  remediation: 'Add metadata.labels.team.',
};

const policy = (customRules: unknown[]) =>
  toYaml([
    {
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'custom' },
      spec: { customRules },
    },
  ]);

describe('the SecurityPolicy CRD with spec.customRules', function () {
  this.timeout(300_000);

  before(async function () {
    mustKubectl(['apply', '--server-side', '-f', CRD]);
    await waitFor(
      'the SecurityPolicy CRD established',
      () => Promise.resolve(kubectl(['get', 'securitypolicies']).ok),
      60_000,
    );
  });

  it('accepts a custom rule and stores it as written, with the default category', function () {
    const out = JSON.parse(
      mustKubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], policy([rule])),
    ) as { spec: { customRules: Record<string, unknown>[] } };
    expect(out.spec.customRules).to.deep.equal([{ ...rule, category: 'custom' }]);
  });

  it('refuses at apply what the schema can: ids, severities, categories, empty validations, duplicate ids', function () {
    const refused = (customRules: unknown[]): string => {
      const r = kubectl(['create', '--dry-run=server', '-f', '-'], policy(customRules));
      expect(r.ok, JSON.stringify(customRules)).to.equal(false);
      return r.stderr;
    };
    expect(refused([{ ...rule, id: 'Team_Label' }])).to.contain('spec.customRules[0].id');
    expect(refused([{ ...rule, severity: 'urgent' }])).to.contain('spec.customRules[0].severity');
    expect(refused([{ ...rule, category: 'misc' }])).to.contain('spec.customRules[0].category');
    expect(refused([{ ...rule, validations: [] }])).to.contain('spec.customRules[0].validations');
    expect(refused([{ ...rule, variables: [{ name: 'a-b', expression: '1' }] }])).to.contain(
      'spec.customRules[0].variables[0].name',
    );
    expect(refused([rule, rule])).to.contain('Duplicate value');
    const { title: _, ...untitled } = rule;
    expect(refused([untitled])).to.contain('title');
  });
});
