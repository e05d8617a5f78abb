/**
 * Issue 19 item 1: install.yaml-style manifests leave metadata.namespace out; those
 * objects live in the namespace they are applied to, all of them together.
 */
import { expect } from 'chai';
import { parseYamlAll } from '../../yaml.ts';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy } from '../../engine/policy.ts';
import type { Finding, KubeObject } from '../../engine/types.ts';
import { ALL_RULES } from '../index.ts';
import { FIXED_NOW } from '../testing.ts';

const INSTALL = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: server}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: server}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: server}
subjects:
- {kind: ServiceAccount, name: server}
`;

function scan(yaml: string): Finding[] {
  const objects = parseYamlAll(yaml) as KubeObject[];
  const { policy } = compilePolicy({ profile: 'all' }, ALL_RULES);
  if (!policy) throw new Error('profile all compiles');
  return evaluateSubjects(
    objects.map((object) => ({ object })),
    policy,
    { now: FIXED_NOW },
  ).findings.filter((f) => f.category === 'rbac');
}

describe('RBAC on objects without metadata.namespace', () => {
  it('a namespace-less RoleBinding resolves its namespace-less Role and reports the grant', () => {
    const findings = scan(INSTALL);
    const ids = findings.map((f) => `${f.ruleId} ${f.resource.kind}`);
    expect(ids).to.include('rbac-secrets-read RoleBinding');
    expect(ids).not.to.include('rbac-role-ref-unresolved RoleBinding');
    const secrets = findings.find((f) => f.ruleId === 'rbac-secrets-read');
    expect(secrets?.message).to.equal(
      'grants get/list/watch on secrets in the unspecified (apply-time) namespace to ServiceAccount "server" (apply-time namespace) through Role "server" (apply-time namespace)',
    );
  });

  it('no message prints an empty namespace', () => {
    const unresolved = INSTALL.replace('kind: Role, name: server', 'kind: Role, name: missing');
    for (const f of [...scan(INSTALL), ...scan(unresolved)]) {
      expect(f.message).not.to.contain('namespace ""');
      expect(f.message).not.to.contain('"/');
    }
    const ref = scan(unresolved).find((f) => f.ruleId === 'rbac-role-ref-unresolved');
    expect(ref?.message).to.equal(
      'roleRef Role "missing" in the unspecified (apply-time) namespace is not in scope and not a known built-in role',
    );
  });

  it('a namespace-less binding does not resolve a Role of a named namespace, and vice versa', () => {
    const elsewhere = INSTALL.replace(
      'metadata: {name: server}\nrules',
      'metadata: {name: server, namespace: other}\nrules',
    );
    const ids = scan(elsewhere).map((f) => `${f.ruleId} ${f.resource.kind}`);
    expect(ids).to.include('rbac-role-ref-unresolved RoleBinding');
    expect(ids).not.to.include('rbac-secrets-read RoleBinding');
    // The Role is unbound in "other", so it carries the latent grant itself.
    expect(ids).to.include('rbac-secrets-read Role');
  });
});
