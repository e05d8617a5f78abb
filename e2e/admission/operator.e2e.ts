/**
 * Admission control run by the operator (issue 14, points 1, 3, 4 and 7): the operator from source
 * against a real control plane generates, owns, updates and removes the ValidatingAdmissionPolicies
 * of warn and enforce policies; the API server enforces them (also while the operator is down).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { Kube, eventually, measured, podYaml, sleep } from '../faults/lib.ts';

const NS = 'adm-a';
const POLICY = 'adm-guard';

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface PolicyStatus {
  observedGeneration?: number;
  conditions?: Cond[];
  admission?: {
    translatedRules?: string[];
    untranslatedRules?: { id: string; reason: string }[];
    existingViolations?: number;
    wouldReject?: { kind: string; namespace?: string; name: string; rules: string[] }[];
    validatingAdmissionPolicies?: string[];
    typeCheckingWarnings?: string[];
  };
}
interface Generated {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: { validationActions?: string[]; policyName?: string };
}

function policy(name: string, action: string, extra = ''): string {
  return `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}}
spec:
  profile: pss-baseline
  action: ${action}
  match: {namespaces: ["adm-*"]}
${extra}`;
}

/** An exception for the host network of Pods named node-agent-*. */
const agentException = (reason: string, expiresAt?: string): string => `  exceptions:
  - rules: [pss-host-namespaces]
    match: {kinds: [Pod], names: ["node-agent-*"]}
    reason: ${reason}
    owner: platform
${expiresAt === undefined ? '' : `    expiresAt: "${expiresAt}"\n`}`;

const deployment = (name: string, hostNetwork: boolean, privileged = false): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      hostNetwork: ${String(hostNetwork)}
      containers:
      - name: app
        image: registry.example/app:1.0
        securityContext: {privileged: ${String(privileged)}}
`;

describe('admission control run by the operator', function () {
  this.timeout(600_000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  const status = (name = POLICY): PolicyStatus =>
    k.json<{ status?: PolicyStatus }>(['get', 'securitypolicy', name]).status ?? {};
  const enforced = (name = POLICY): Cond | undefined =>
    status(name).conditions?.find((c) => c.type === 'Enforced');
  const generated = (
    kind: 'validatingadmissionpolicies' | 'validatingadmissionpolicybindings',
  ): Generated[] =>
    k
      .json<{ items: Generated[] }>(['get', kind, '-l', 'app.kubernetes.io/managed-by=vigil'])
      .items.filter((o) => o.metadata.annotations?.['security.vigil.dev/policy'] === POLICY);
  const names = (objs: Generated[]): string[] => objs.map((o) => o.metadata.name).sort();
  const startOp = async (): Promise<void> => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
  };

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    k.ensureNamespace(NS);
    // An existing violator, created before any policy: enforce would reject its next rollout.
    k.apply(deployment('legacy', false, true));
    await startOp();
  });

  after(async () => {
    await op?.stop();
  });

  it('previews, for an audit policy, what enforce would reject, and generates nothing', async () => {
    k.apply(policy(POLICY, 'audit'));
    const { ms } = await eventually(
      'the audit preview',
      () => {
        const s = status();
        return s.admission?.existingViolations === 1 && enforced()?.reason === 'AuditOnly' ? s : undefined;
      },
      60_000,
    );
    measured('policy created → preview in status', ms);
    const s = status();
    expect(s.admission?.wouldReject).to.deep.equal([
      { kind: 'Deployment', namespace: NS, name: 'legacy', rules: ['pss-privileged'] },
    ]);
    expect(s.admission?.translatedRules).to.include.members(['pss-privileged', 'pss-host-namespaces']);
    expect(s.admission?.untranslatedRules?.map((r) => r.id)).to.deep.equal(['policy-exception-expired']);
    expect(s.admission?.validatingAdmissionPolicies).to.deep.equal([]);
    expect(enforced()?.status).to.equal('False');
    expect(enforced()?.message).to.include('1 existing objects would be rejected');
    expect(generated('validatingadmissionpolicies')).to.deep.equal([]);
    // kubectl get shows the preview and the Enforced reason as columns.
    const table = k.run(['get', 'securitypolicy', POLICY]);
    expect(table).to.match(/WOULD-REJECT/);
    expect(table.split('\n')[1]).to.match(/AuditOnly\s+1\s/);
  });

  it('enforce: owned, labelled objects; rejects a privileged Pod and a hostNetwork Deployment, admits a compliant and an excepted one', async () => {
    k.apply(policy(POLICY, 'enforce', agentException('the node agent needs the host network (SEC-1)')));
    const { ms } = await eventually('Enforced=True', () => enforced()?.status === 'True', 60_000);
    measured('enforce applied → Enforced=True', ms);
    const uid = k.json<{ metadata: { uid: string } }>(['get', 'securitypolicy', POLICY]).metadata.uid;
    const vaps = generated('validatingadmissionpolicies');
    const expectedNames = [`vigil-${POLICY}-cronjobs`, `vigil-${POLICY}-pods`, `vigil-${POLICY}-workloads`];
    expect(names(vaps)).to.deep.equal(expectedNames);
    expect(names(generated('validatingadmissionpolicybindings'))).to.deep.equal(expectedNames);
    for (const o of [...vaps, ...generated('validatingadmissionpolicybindings')]) {
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).to.equal('vigil');
      expect(o.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'security.vigil.dev/v1alpha1',
          kind: 'SecurityPolicy',
          name: POLICY,
          uid,
          controller: true,
        },
      ]);
    }
    for (const b of generated('validatingadmissionpolicybindings'))
      expect(b.spec.validationActions).to.deep.equal(['Deny']);
    expect(status().admission?.validatingAdmissionPolicies).to.deep.equal([
      `vigil-${POLICY}-pods`,
      `vigil-${POLICY}-workloads`,
      `vigil-${POLICY}-cronjobs`,
    ]);
    expect(status().admission?.typeCheckingWarnings).to.deep.equal([]);

    // Policies load asynchronously in the API server, each on its own: wait (with dry runs, so
    // nothing is created meanwhile) until both the Pod and the workload policy deny.
    await eventually(
      'the pods and workloads policies in force',
      () =>
        !k.try(['create', '--dry-run=server', '-f', '-'], podYaml('priv', NS, { privileged: true })).ok &&
        !k.try(['create', '--dry-run=server', '-f', '-'], deployment('hostnet', true)).ok,
      30_000,
    );
    const priv = k.try(['create', '-f', '-'], podYaml('priv', NS, { privileged: true }));
    expect(priv.ok).to.equal(false);
    expect(priv.stderr).to.include(`ValidatingAdmissionPolicy 'vigil-${POLICY}-pods'`);
    expect(priv.stderr).to.include(
      'pss-privileged: container "app" sets spec.containers[0].securityContext.privileged=true',
    );

    const dep = k.try(['create', '-f', '-'], deployment('hostnet', true));
    expect(dep.ok).to.equal(false);
    expect(dep.stderr).to.include('pss-host-namespaces: pod sets spec.template.spec.hostNetwork=true');

    const fine = k.try(['create', '-f', '-'], podYaml('fine', NS));
    expect(fine.ok, fine.stderr).to.equal(true);
    const agent = k.try(['create', '-f', '-'], podYaml('node-agent-1', NS, { hostNetwork: true }));
    expect(agent.ok, agent.stderr).to.equal(true);
    // The existing violator: scaling it (an update that keeps its pod template) is admitted, as
    // is the Deployment controller scaling its ReplicaSet; its next rollout is refused.
    const scaled = k.try([
      'patch',
      'deployment',
      'legacy',
      '-n',
      NS,
      '--type=merge',
      '-p',
      '{"spec":{"replicas":2}}',
    ]);
    expect(scaled.ok, scaled.stderr).to.equal(true);
    const rollout = k.try(['set', 'image', 'deployment/legacy', '-n', NS, 'app=registry.example/app:2.0']);
    expect(rollout.ok).to.equal(false);
    expect(rollout.stderr).to.include(
      'pss-privileged: container "app" sets spec.template.spec.containers[0].securityContext.privileged=true',
    );
    // The exception is for Pods named node-agent-*, not for anything else with hostNetwork.
    expect(k.try(['create', '-f', '-'], podYaml('other-agent', NS, { hostNetwork: true })).ok).to.equal(
      false,
    );
  });

  it('warn: admits, with a kubectl warning naming the rule', async () => {
    k.apply(policy(POLICY, 'warn'));
    await eventually(
      'bindings switched to Warn',
      () =>
        generated('validatingadmissionpolicybindings').every(
          (b) => JSON.stringify(b.spec.validationActions) === '["Warn","Audit"]',
        ) && enforced()?.reason === 'Warning',
      60_000,
    );
    await eventually(
      'the warning',
      () =>
        k
          .try(['create', '--dry-run=server', '-f', '-'], podYaml('w', NS, { privileged: true }))
          .stderr.includes('Warning:'),
      30_000,
    );
    const r = k.try(['create', '-f', '-'], podYaml('warned', NS, { privileged: true }));
    expect(r.ok, r.stderr).to.equal(true);
    expect(r.stderr).to.match(
      /Warning: .*pss-privileged: container "app" sets spec\.containers\[0\]\.securityContext\.privileged=true/,
    );
  });

  it('an exception stops applying when it expires, without a restart', async () => {
    const expires = new Date(Date.now() + 20_000).toISOString().replace(/\.\d+Z$/, 'Z');
    k.apply(policy(POLICY, 'enforce', agentException('temporary', expires)));
    await eventually(
      'the excepted pod admitted under enforce',
      () =>
        enforced()?.reason === 'Enforced' &&
        k.try(['create', '--dry-run=server', '-f', '-'], podYaml('node-agent-2', NS, { hostNetwork: true }))
          .ok &&
        !k.try(['create', '--dry-run=server', '-f', '-'], podYaml('p2', NS, { privileged: true })).ok,
      60_000,
    );
    const { ms } = await eventually(
      'the lapsed exception no longer admits',
      () => {
        const r = k.try(
          ['create', '--dry-run=server', '-f', '-'],
          podYaml('node-agent-2', NS, { hostNetwork: true }),
        );
        return !r.ok && r.stderr.includes('pss-host-namespaces');
      },
      90_000,
      500,
    );
    measured('exception still in force for (expiry 20 s after apply)', ms);
  });

  it('a generated object the API server refuses: Enforced=False (Invalid) with its message, nothing half-applied', async () => {
    // vigil-<name>-pods fits the 253-character limit of object names; vigil-<name>-workloads does not.
    const long = `adm-${'x'.repeat(236)}`;
    k.apply(policy(long, 'enforce'));
    const { value } = await eventually(
      'Enforced=False Invalid',
      () => {
        const c = enforced(long);
        return c?.reason === 'Invalid' ? c : undefined;
      },
      60_000,
    );
    expect(value.status).to.equal('False');
    expect(value.message).to.include('must be no more than 253 characters');
    const left = k
      .json<{ items: Generated[] }>([
        'get',
        'validatingadmissionpolicies,validatingadmissionpolicybindings',
        '-l',
        'app.kubernetes.io/managed-by=vigil',
      ])
      .items.filter((o) => o.metadata.annotations?.['security.vigil.dev/policy'] === long);
    expect(left).to.deep.equal([]);
    expect(status(long).admission?.validatingAdmissionPolicies).to.deep.equal([]);
    k.run(['delete', 'securitypolicy', long]);
  });

  it('operator down: enforcement keeps running; a restarted operator adopts, updates and removes what it generated, without duplicates', async () => {
    k.apply(policy(POLICY, 'enforce'));
    await eventually(
      'enforce in place',
      () =>
        generated('validatingadmissionpolicybindings').length === 3 &&
        generated('validatingadmissionpolicybindings').every(
          (b) => JSON.stringify(b.spec.validationActions) === '["Deny"]',
        ),
      60_000,
    );
    await op?.stop();
    op = undefined;
    await sleep(1000);
    const denied = k.try(
      ['create', '--dry-run=server', '-f', '-'],
      podYaml('while-down', NS, { privileged: true }),
    );
    expect(denied.ok).to.equal(false);
    expect(denied.stderr).to.include('pss-privileged');

    // While it is down: the policy narrows to Pods and switches to warn, and someone tampers with a binding.
    k.apply(
      policy(POLICY, 'warn').replace(
        'match: {namespaces: ["adm-*"]}',
        'match: {namespaces: ["adm-*"], kinds: [Pod]}',
      ),
    );
    k.run([
      'patch',
      'validatingadmissionpolicybinding',
      `vigil-${POLICY}-pods`,
      '--type=merge',
      '-p',
      '{"spec":{"validationActions":["Audit"]}}',
    ]);
    const uidBefore = generated('validatingadmissionpolicies').find((o) => o.metadata.name.endsWith('-pods'))
      ?.metadata.uid;

    await startOp();
    const { ms } = await eventually(
      'converged after restart',
      () => {
        const vaps = generated('validatingadmissionpolicies');
        const bindings = generated('validatingadmissionpolicybindings');
        return (
          names(vaps).join() === `vigil-${POLICY}-pods` &&
          names(bindings).join() === `vigil-${POLICY}-pods` &&
          JSON.stringify(bindings[0]?.spec.validationActions) === '["Warn","Audit"]'
        );
      },
      90_000,
    );
    measured('operator restart → admission objects converged', ms);
    // Adopted (the same object), not recreated.
    expect(generated('validatingadmissionpolicies')[0]?.metadata.uid).to.equal(uidBefore);
  });

  it('custom rules are enforced too: their CEL as written, in a policy of their own, agreeing with vigil scan', async () => {
    k.ensureNamespace('adm-team');
    const policyText = `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: adm-team}
spec:
  profile: pss-baseline
  action: enforce
  match: {namespaces: [adm-team]}
  customRules:
    - id: require-team-label
      title: Workloads carry a team label
      severity: high
      match: {kinds: [Deployment]}
      variables: [{name: labels, expression: "object.metadata.?labels.orValue({})"}]
      validations:
        - expression: "'team' in variables.labels"
          messageExpression: "'missing team label on ' + object.metadata.name"
      remediation: Add metadata.labels.team.
`;
    k.apply(policyText);
    await eventually('Enforced=True for adm-team', () => enforced('adm-team')?.status === 'True', 90_000);
    const st = status('adm-team').admission;
    expect(st?.translatedRules).to.include('require-team-label');
    expect(st?.validatingAdmissionPolicies).to.include('vigil-adm-team-custom-require-team-label');
    const labelled = (name: string, team: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: adm-team${team ? ', labels: {team: payments}' : ''}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: app, image: registry.example/app:1.0}]}
`;
    let refused = { ok: true, stdout: '', stderr: '' };
    await eventually(
      'the custom rule in force',
      () => {
        refused = k.try(['create', '--dry-run=server', '-f', '-'], labelled('nolabel', false));
        return !refused.ok;
      },
      30_000,
    );
    expect(refused.stderr).to.include("ValidatingAdmissionPolicy 'vigil-adm-team-custom-require-team-label'");
    expect(refused.stderr).to.include('require-team-label: missing team label on nolabel');
    const ok = k.try(['create', '--dry-run=server', '-f', '-'], labelled('withlabel', true));
    expect(ok.ok, ok.stderr).to.equal(true);
    // vigil scan with the same policy says the same about the same objects.
    const dir = mkdtempSync(join(tmpdir(), 'vigil-adm-custom-'));
    writeFileSync(join(dir, 'policy.yaml'), policyText);
    writeFileSync(
      join(dir, 'objects.yaml'),
      `${labelled('nolabel', false)}---\n${labelled('withlabel', true)}`,
    );
    const scan = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'vigil.js'),
        'scan',
        '--policy',
        join(dir, 'policy.yaml'),
        '-o',
        'json',
        '--fail-on',
        'never',
        join(dir, 'objects.yaml'),
      ],
      { encoding: 'utf8' },
    );
    expect(scan.status, scan.stderr).to.equal(0);
    const found = (
      JSON.parse(scan.stdout) as { findings: { ruleId: string; resource: { name: string } }[] }
    ).findings
      .filter((f) => f.ruleId === 'require-team-label')
      .map((f) => f.resource.name);
    expect(found).to.deep.equal(['nolabel']);
    rmSync(dir, { recursive: true, force: true });
    k.run(['delete', 'securitypolicy', 'adm-team']);
  });

  it('deleting the policy removes its admission objects', async () => {
    k.run(['delete', 'securitypolicy', POLICY]);
    await eventually(
      'no admission objects left',
      () =>
        generated('validatingadmissionpolicies').length === 0 &&
        generated('validatingadmissionpolicybindings').length === 0,
      60_000,
    );
    expect(
      k.try(['create', '--dry-run=server', '-f', '-'], podYaml('after', NS, { privileged: true })).ok,
    ).to.equal(true);
  });
});
