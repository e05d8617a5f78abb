/**
 * Vigil eats its own cooking: the install bundle must pass every rule Vigil ships
 * (`vigil scan --profile all manifests/install.yaml` reports nothing), the RBAC must stay
 * least-privilege, and every sample SecurityPolicy must compile.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateSubjects } from './engine/evaluate.ts';
import { compilePolicy } from './engine/policy.ts';
import { allContainers, asArray, asObj, asString, dig, podTemplate } from './engine/podspec.ts';
import type { Finding, KubeObject, Subject } from './engine/types.ts';
import { ALL_RULES } from './rules/index.ts';
import { parseYaml, parseYamlAll } from './yaml.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL = join(ROOT, 'manifests', 'install.yaml');
const SAMPLES = join(ROOT, 'config', 'samples');

function loadInstall(): Subject[] {
  const subjects: Subject[] = [];
  for (const obj of parseYamlAll(readFileSync(INSTALL, 'utf8'))) {
    if (obj === null || obj === undefined) continue;
    subjects.push({ object: obj as KubeObject, location: { file: 'manifests/install.yaml' } });
  }
  return subjects;
}

const show = (f: Finding): string =>
  `${f.ruleId} ${f.resource.kind}/${f.resource.name}${f.container ? ` [${f.container}]` : ''}: ${f.message}`;

function ofKind(subjects: Subject[], kind: string): KubeObject[] {
  return subjects.map((s) => s.object).filter((o) => o.kind === kind);
}

function one(subjects: Subject[], kind: string, name: string): KubeObject {
  const found = ofKind(subjects, kind).filter((o) => asObj(o.metadata)['name'] === name);
  expect(found, `${kind}/${name} in install.yaml`).to.have.length(1);
  return found[0] as KubeObject;
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function rulesOf(role: KubeObject): PolicyRule[] {
  return asArray(role['rules']).map((r) => r as PolicyRule);
}

/** Does the role allow verb on group/resource (no resourceNames restriction)? */
function allows(role: KubeObject, group: string, resource: string, verb: string): boolean {
  return rulesOf(role).some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames ?? []).length === 0,
  );
}

describe('dogfood: manifests/install.yaml', () => {
  const subjects = loadInstall();

  it('contains the whole install: CRDs, namespace, RBAC, Deployment, PDB, Service, NetworkPolicies', () => {
    const kinds = subjects.map((s) => `${String(s.object.kind)}/${String(asObj(s.object.metadata)['name'])}`);
    expect(kinds).to.include.members([
      'CustomResourceDefinition/securitypolicies.security.vigil.dev',
      'CustomResourceDefinition/scanreports.security.vigil.dev',
      'Namespace/vigil-system',
      'ServiceAccount/vigil',
      'ClusterRole/vigil',
      'ClusterRoleBinding/vigil',
      'Role/vigil-leader-election',
      'RoleBinding/vigil-leader-election',
      'Deployment/vigil',
      'PodDisruptionBudget/vigil',
      'Service/vigil-metrics',
      'NetworkPolicy/default-deny-all',
      'NetworkPolicy/vigil',
    ]);
  });

  it('passes every rule Vigil ships (profile all): no findings, no rule errors', () => {
    const compiled = compilePolicy({ profile: 'all' }, ALL_RULES);
    expect(compiled.errors).to.deep.equal([]);
    const policy = compiled.policy;
    if (!policy) throw new Error('profile all did not compile');
    expect(policy.rules).to.have.length(ALL_RULES.length);
    const res = evaluateSubjects(subjects, policy, { now: new Date() });
    expect(res.errors).to.deep.equal([]);
    expect(res.resourcesEvaluated).to.equal(subjects.length);
    expect(res.findings.map(show)).to.deep.equal([]);
    expect(res.suppressed).to.equal(0);
  });

  it('keeps every namespaced object in vigil-system', () => {
    for (const s of subjects) {
      const kind = String(s.object.kind);
      if (['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(kind))
        continue;
      expect(asObj(s.object.metadata)['namespace'], `${kind} namespace`).to.equal('vigil-system');
    }
  });

  it('enforces the restricted Pod Security Standard on its own namespace', () => {
    const labels = asObj(asObj(one(subjects, 'Namespace', 'vigil-system').metadata)['labels']);
    expect(labels['pod-security.kubernetes.io/enforce']).to.equal('restricted');
  });

  it('grants the operator read-only access to what it evaluates, and never Secrets or ConfigMaps', () => {
    const role = one(subjects, 'ClusterRole', 'vigil');
    for (const r of rulesOf(role)) {
      for (const field of [r.apiGroups, r.resources, r.verbs]) expect(field).to.not.include('*');
      expect(r.verbs).to.not.include.members(['escalate', 'bind', 'impersonate', 'deletecollection']);
      expect(r.resources).to.not.include.members([
        'secrets',
        'configmaps',
        'pods/exec',
        'pods/attach',
        'nodes/proxy',
      ]);
    }
    const read: [string, string][] = [
      ['', 'pods'],
      ['', 'namespaces'],
      ['', 'nodes'],
      ['', 'services'],
      ['', 'serviceaccounts'],
      ['', 'replicationcontrollers'],
      ['apps', 'deployments'],
      ['apps', 'replicasets'],
      ['apps', 'statefulsets'],
      ['apps', 'daemonsets'],
      ['batch', 'jobs'],
      ['batch', 'cronjobs'],
      ['rbac.authorization.k8s.io', 'roles'],
      ['rbac.authorization.k8s.io', 'clusterroles'],
      ['rbac.authorization.k8s.io', 'rolebindings'],
      ['rbac.authorization.k8s.io', 'clusterrolebindings'],
      ['networking.k8s.io', 'networkpolicies'],
      ['networking.k8s.io', 'ingresses'],
      ['security.vigil.dev', 'securitypolicies'],
    ];
    for (const [g, res] of read) {
      for (const v of ['get', 'list', 'watch'])
        expect(allows(role, g, res, v), `${v} ${g}/${res}`).to.equal(true);
      for (const v of ['create', 'update', 'patch', 'delete'])
        expect(allows(role, g, res, v), `${v} ${g}/${res}`).to.equal(false);
    }
    for (const v of ['create', 'get', 'list', 'watch', 'update', 'patch', 'delete'])
      expect(allows(role, 'security.vigil.dev', 'scanreports', v), `${v} scanreports`).to.equal(true);
    for (const v of ['get', 'update', 'patch']) {
      expect(allows(role, 'security.vigil.dev', 'securitypolicies/status', v)).to.equal(true);
    }
    expect(allows(role, 'events.k8s.io', 'events', 'create')).to.equal(true);
    expect(allows(role, 'events.k8s.io', 'events', 'patch')).to.equal(true);
    expect(allows(role, 'coordination.k8s.io', 'leases', 'update')).to.equal(false);
    // Admission control it generates (warn/enforce): its own two kinds, never webhooks.
    for (const res of ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'])
      for (const v of ['create', 'get', 'list', 'patch', 'update', 'delete'])
        expect(allows(role, 'admissionregistration.k8s.io', res, v), `${v} ${res}`).to.equal(true);
    for (const res of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'])
      for (const v of ['create', 'get', 'update', 'patch', 'delete'])
        expect(allows(role, 'admissionregistration.k8s.io', res, v), `${v} ${res}`).to.equal(false);
  });

  it('limits leader election to one named Lease in vigil-system', () => {
    const role = one(subjects, 'Role', 'vigil-leader-election');
    expect(asObj(role.metadata)['namespace']).to.equal('vigil-system');
    for (const r of rulesOf(role)) {
      expect(r.apiGroups).to.deep.equal(['coordination.k8s.io']);
      expect(r.resources).to.deep.equal(['leases']);
      if (r.verbs.some((v) => v !== 'create')) expect(r.resourceNames).to.deep.equal(['vigil-leader']);
    }
  });

  it('runs the operator restricted, read-only, with its image pinned by digest', () => {
    const deploy = one(subjects, 'Deployment', 'vigil');
    const tpl = podTemplate(deploy);
    if (!tpl) throw new Error('no pod template');
    expect(tpl.spec['serviceAccountName']).to.equal('vigil');
    const containers = allContainers(tpl.spec);
    expect(containers).to.have.length(1);
    for (const { container } of containers) {
      expect(asString(container['image'])).to.match(
        /^ghcr\.io\/vigil-dev\/vigil:[\w.-]+@sha256:[0-9a-f]{64}$/,
      );
      expect(dig(container, 'securityContext', 'readOnlyRootFilesystem')).to.equal(true);
      expect(dig(container, 'securityContext', 'allowPrivilegeEscalation')).to.equal(false);
      expect(dig(container, 'securityContext', 'capabilities', 'drop')).to.deep.equal(['ALL']);
      expect(dig(container, 'livenessProbe', 'httpGet', 'path')).to.equal('/healthz');
      expect(dig(container, 'readinessProbe', 'httpGet', 'path')).to.equal('/readyz');
      expect(asArray(container['args'])).to.include.members([
        'operator',
        '--metrics-bind-address=:8080',
        '--health-probe-bind-address=:8081',
        '--leader-elect',
      ]);
    }
    expect(dig(tpl.spec, 'securityContext', 'runAsUser')).to.equal(65532);
  });
});

describe('dogfood: config/samples', () => {
  const files = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();

  it('has samples, and its kustomization lists exactly them', () => {
    expect(files.length).to.be.greaterThanOrEqual(4);
    const k = parseYaml(readFileSync(join(SAMPLES, 'kustomization.yaml'), 'utf8')) as {
      resources?: string[];
    };
    expect([...(k.resources ?? [])].sort()).to.deep.equal(files);
  });

  for (const f of files) {
    it(`${f} is a SecurityPolicy that compiles without errors`, () => {
      const docs = parseYamlAll(readFileSync(join(SAMPLES, f), 'utf8'));
      expect(docs).to.have.length(1);
      const obj = docs[0] as KubeObject;
      expect(obj.apiVersion).to.equal('security.vigil.dev/v1alpha1');
      expect(obj.kind).to.equal('SecurityPolicy');
      expect(asObj(obj.metadata)['name']).to.equal(f.replace(/\.yaml$/, ''));
      const res = compilePolicy(obj, ALL_RULES);
      expect(res.errors).to.deep.equal([]);
      expect(res.policy?.rules.length).to.be.greaterThan(0);
    });
  }

  /** A sample policy, compiled. */
  function sample(name: string): NonNullable<ReturnType<typeof compilePolicy>['policy']> {
    const obj = parseYaml(readFileSync(join(SAMPLES, `${name}.yaml`), 'utf8')) as KubeObject;
    const p = compilePolicy(obj, ALL_RULES).policy;
    if (!p) throw new Error(`${name} does not compile`);
    return p;
  }

  const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  const editedDeployment = (namespace: string, name: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': name, team: 'payments' },
      managedFields: [
        { manager: 'argocd-controller', operation: 'Apply', time: '2026-01-01T00:00:00Z' },
        { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-02T00:00:00Z' },
      ],
    },
    spec: {
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'x' }] } },
    },
  });

  it('production-change-management reports hand edits in production, except the excepted hot-fix target', () => {
    const policy = sample('production-change-management');
    const subjects: Subject[] = [
      ns('shop', { environment: 'production' }),
      ns('payments', { environment: 'production' }),
      ns('dev'),
      editedDeployment('shop', 'web'),
      editedDeployment('payments', 'payments-api'),
      editedDeployment('dev', 'web'),
    ].map((object) => ({ object }));
    const before = evaluateSubjects(subjects, policy, { now: new Date('2027-01-01T00:00:00Z') });
    const changed = (r: typeof before): string[] =>
      r.findings
        .filter((f) => f.ruleId === 'change-unapproved-field-manager')
        .map((f) => `${f.resource.namespace ?? ''}/${f.resource.name}`);
    expect(changed(before)).to.deep.equal(['shop/web']);
    const after = evaluateSubjects(subjects, policy, { now: new Date('2027-04-01T00:00:00Z') });
    expect(changed(after)).to.deep.equal(['payments/payments-api', 'shop/web']);
  });

  it('restricted-tenants matches team-* namespaces but not sandboxes', () => {
    const policy = sample('restricted-tenants');
    const pod = (namespace: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace },
      spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] },
    });
    const subjects: Subject[] = [
      ns('team-a'),
      ns('team-b', { 'vigil.dev/tier': 'sandbox' }),
      ns('other'),
      pod('team-a'),
      pod('team-b'),
      pod('other'),
    ].map((object) => ({ object }));
    const res = evaluateSubjects(subjects, policy, { now: new Date() });
    const where = new Set(
      res.findings.filter((f) => f.ruleId === 'pss-privileged').map((f) => f.resource.namespace),
    );
    expect([...where]).to.deep.equal(['team-a']);
  });

  it('baseline-with-node-agent-exception hides only fluent-bit hostPath findings, until it expires', () => {
    const policy = sample('baseline-with-node-agent-exception');
    const ds = (namespace: string, name: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'agent', image: 'x' }],
            volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
          },
        },
      },
    });
    const subjects: Subject[] = [
      ds('logging', 'fluent-bit'),
      ds('logging', 'other'),
      ds('default', 'fluent-bit'),
    ].map((object) => ({ object }));
    const at = (now: string): string[] =>
      evaluateSubjects(subjects, policy, { now: new Date(now) })
        .findings.filter((f) => f.ruleId === 'pss-host-path-volumes')
        .map((f) => `${f.resource.namespace ?? ''}/${f.resource.name}`);
    expect(at('2027-01-01T00:00:00Z')).to.deep.equal(['default/fluent-bit', 'logging/other']);
    expect(at('2027-07-01T00:00:00Z')).to.deep.equal([
      'default/fluent-bit',
      'logging/fluent-bit',
      'logging/other',
    ]);
  });
});
