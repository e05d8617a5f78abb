/**
 * manifests/install.yaml on a real API server: it applies cleanly, the restricted Pod Security
 * admission admits the operator's pods, and the operator's ServiceAccount can do exactly what
 * Vigil needs (checked with `kubectl auth can-i`, i.e. the API server's own RBAC authorizer).
 * There is no kubelet, so the pods stay Pending; that is all this suite needs.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlAll, toYaml } from '../../operator/src/yaml.ts';
import { cluster } from '../harness.ts';
import { REPO_ROOT, tokenKubeconfig, waitFor } from '../controlplane/controlplane.ts';
import { startOperator } from '../operator/process.ts';

const INSTALL = join(REPO_ROOT, 'manifests', 'install.yaml');
const SA = 'system:serviceaccount:vigil-system:vigil';

function tryKubectl(args: string[], input?: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: cluster().kubectl(args, input) };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** `kubectl auth can-i` as the operator's ServiceAccount: true for "yes", false for "no". */
function canI(args: string[], as = SA): boolean {
  const r = tryKubectl(['auth', 'can-i', ...args, `--as=${as}`]);
  // stdout holds the answer; stderr may add warnings (e.g. "resource 'nodes' is not namespace scoped").
  const answer = r.out
    .split('\n')
    .find((l) => l.trim() === 'yes' || l.trim() === 'no')
    ?.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${args.join(' ')}: ${r.out}`);
  return answer === 'yes';
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

function installObjects(): Obj[] {
  return (parseYamlAll(readFileSync(INSTALL, 'utf8')) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}

describe('install bundle on a real API server', function () {
  before(() => {
    const k = cluster();
    k.installCrds([INSTALL]);
  });

  after(() => {
    // Suites share this control plane, and later ones create vigil-system themselves: remove all
    // but the CRDs (which every suite applies idempotently) and wait until the namespaces are gone.
    tryKubectl(['delete', 'securitypolicy', '--ignore-not-found', 'install-e2e-rbac']);
    const rest = installObjects().filter((o) => o.kind !== 'CustomResourceDefinition');
    tryKubectl(
      ['delete', '--ignore-not-found', '--wait=false', '-f', '-'],
      rest.map((o) => toYaml(o)).join('---\n'),
    );
    tryKubectl(['delete', 'namespace', '--ignore-not-found', '--wait=false', 'install-e2e']);
    const gone = tryKubectl([
      'wait',
      '--for=delete',
      '--timeout=150s',
      'namespace/vigil-system',
      'namespace/install-e2e',
    ]);
    if (!gone.ok && !/not found/i.test(gone.out)) throw new Error(`namespaces not deleted: ${gone.out}`);
  });

  it('creates every object, and re-applying it changes nothing', () => {
    const k = cluster();
    const objs = installObjects();
    expect(objs.length).to.be.greaterThan(10);
    const listed = k.kubectl(['get', '-f', INSTALL, '-o', 'name']).trim().split('\n');
    expect(listed).to.have.length(objs.length);
    const diff = tryKubectl(['diff', '--server-side', '-f', INSTALL]);
    expect(diff.ok, diff.out).to.equal(true);
  });

  it('the restricted namespace admits the operator pods (two replicas, Pending without a kubelet)', async () => {
    const k = cluster();
    let names: string[] = [];
    await waitFor(
      'vigil pods created by the ReplicaSet',
      () => {
        names = k
          .kubectl(['get', 'pods', '-n', 'vigil-system', '-l', 'app.kubernetes.io/name=vigil', '-o', 'name'])
          .trim()
          .split('\n')
          .filter((n) => n !== '');
        return Promise.resolve(names.length === 2);
      },
      60_000,
      () =>
        `\nreplicasets: ${tryKubectl(['get', 'rs', '-n', 'vigil-system', '-o', 'yaml']).out.slice(-2000)}`,
    );
    expect(names).to.have.length(2);
  });

  it('the namespace really enforces restricted: a privileged pod is rejected', () => {
    const r = tryKubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: vigil-system}
spec:
  containers: [{name: c, image: busybox@sha256:${'0'.repeat(64)}, securityContext: {privileged: true}}]
`,
    );
    expect(r.ok).to.equal(false);
    expect(r.out).to.match(/violates PodSecurity "restricted:latest"/);
  });

  const denied: [string, string[]][] = [
    ['get secrets anywhere', ['get', 'secrets', '--all-namespaces']],
    ['list secrets in its own namespace', ['list', 'secrets', '-n', 'vigil-system']],
    ['watch secrets', ['watch', 'secrets', '-n', 'kube-system']],
    ['read configmaps', ['list', 'configmaps', '--all-namespaces']],
    ['exec into pods', ['create', 'pods', '--subresource=exec', '-n', 'default']],
    ['attach to pods', ['create', 'pods', '--subresource=attach', '-n', 'default']],
    ['create pods', ['create', 'pods', '-n', 'default']],
    ['update deployments', ['update', 'deployments.apps', '-n', 'default']],
    ['delete namespaces', ['delete', 'namespaces']],
    ['delete pods', ['delete', 'pods', '-n', 'default']],
    ['write SecurityPolicy specs', ['update', 'securitypolicies.security.vigil.dev']],
    ['delete SecurityPolicies', ['delete', 'securitypolicies.security.vigil.dev']],
    ['create service account tokens', ['create', 'serviceaccounts', '--subresource=token', '-n', 'default']],
    ['proxy to nodes', ['get', 'nodes', '--subresource=proxy']],
    ['escalate roles', ['escalate', 'clusterroles.rbac.authorization.k8s.io']],
    ['bind roles', ['bind', 'clusterroles.rbac.authorization.k8s.io']],
    ['impersonate users', ['impersonate', 'users']],
    ['create RBAC', ['create', 'clusterrolebindings.rbac.authorization.k8s.io']],
    [
      'update leases outside its namespace',
      ['update', 'leases.coordination.k8s.io/vigil-leader', '-n', 'kube-system'],
    ],
    [
      'update other leases in its namespace',
      ['update', 'leases.coordination.k8s.io/other', '-n', 'vigil-system'],
    ],
    ['delete its lease', ['delete', 'leases.coordination.k8s.io/vigil-leader', '-n', 'vigil-system']],
    ['create core events', ['create', 'events', '-n', 'default']],
    // Admission control it generates is its own two kinds; never webhooks.
    [
      'write validating webhook configurations',
      ['create', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
    ],
    [
      'write mutating webhook configurations',
      ['update', 'mutatingwebhookconfigurations.admissionregistration.k8s.io'],
    ],
    ['do anything on anything', ['*', '*']],
  ];
  for (const [what, args] of denied) {
    it(`the operator cannot ${what}`, () => {
      expect(canI(args), `kubectl auth can-i ${args.join(' ')}`).to.equal(false);
    });
  }

  const allowed: [string, string[]][] = [
    ['list pods in every namespace', ['list', 'pods', '--all-namespaces']],
    ['watch deployments', ['watch', 'deployments.apps', '--all-namespaces']],
    ['list nodes', ['list', 'nodes']],
    ['watch cluster role bindings', ['watch', 'clusterrolebindings.rbac.authorization.k8s.io']],
    ['list network policies', ['list', 'networkpolicies.networking.k8s.io', '--all-namespaces']],
    ['watch pod disruption budgets', ['watch', 'poddisruptionbudgets.policy', '--all-namespaces']],
    [
      'watch horizontal pod autoscalers',
      ['watch', 'horizontalpodautoscalers.autoscaling', '--all-namespaces'],
    ],
    ['list limit ranges', ['list', 'limitranges', '--all-namespaces']],
    ['watch cronjobs', ['watch', 'cronjobs.batch', '--all-namespaces']],
    ['watch SecurityPolicies', ['watch', 'securitypolicies.security.vigil.dev']],
    ['patch SecurityPolicy status', ['patch', 'securitypolicies.security.vigil.dev', '--subresource=status']],
    [
      'create ScanReports beside their subjects',
      ['create', 'scanreports.security.vigil.dev', '-n', 'team-a'],
    ],
    ['delete ScanReports', ['delete', 'scanreports.security.vigil.dev', '-n', 'team-a']],
    // ScanReports have no status subresource: findings are written with the report itself.
    ['update ScanReports', ['update', 'scanreports.security.vigil.dev', '-n', 'team-a']],
    [
      'create and update the admission policies it generates',
      ['create', 'validatingadmissionpolicies.admissionregistration.k8s.io'],
    ],
    [
      'delete generated admission policy bindings',
      ['delete', 'validatingadmissionpolicybindings.admissionregistration.k8s.io'],
    ],
    ['create events.k8s.io events', ['create', 'events.events.k8s.io', '-n', 'default']],
    ['patch events.k8s.io events', ['patch', 'events.events.k8s.io', '-n', 'team-a']],
    ['create its lease', ['create', 'leases.coordination.k8s.io', '-n', 'vigil-system']],
    ['get its lease', ['get', 'leases.coordination.k8s.io/vigil-leader', '-n', 'vigil-system']],
    ['update its lease', ['update', 'leases.coordination.k8s.io/vigil-leader', '-n', 'vigil-system']],
  ];
  for (const [what, args] of allowed) {
    it(`the operator can ${what}`, () => {
      expect(canI(args), `kubectl auth can-i ${args.join(' ')}`).to.equal(true);
    });
  }

  it('can read the API server version (platform rules) through system:discovery', () => {
    expect(canI(['get', '/version'])).to.equal(true);
  });

  it('lets namespace viewers read their ScanReports (aggregated into the built-in view role)', async () => {
    const k = cluster();
    k.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: install-e2e}\n');
    k.kubectl([
      'create',
      'rolebinding',
      'jane-view',
      '--clusterrole=view',
      '--user=jane',
      '-n',
      'install-e2e',
    ]);
    await waitFor(
      'scanreports aggregated into the view role',
      () => Promise.resolve(canI(['list', 'scanreports.security.vigil.dev', '-n', 'install-e2e'], 'jane')),
      30_000,
    );
    expect(canI(['update', 'scanreports.security.vigil.dev', '-n', 'install-e2e'], 'jane')).to.equal(false);
    expect(canI(['list', 'scanreports.security.vigil.dev', '-n', 'default'], 'jane')).to.equal(false);
  });

  it('accepts every sample SecurityPolicy (strict validation, server-side dry run)', () => {
    const r = tryKubectl([
      'apply',
      '--dry-run=server',
      '--validate=strict',
      '-k',
      join(REPO_ROOT, 'config', 'samples'),
    ]);
    expect(r.ok, r.out).to.equal(true);
    expect(r.out).to.match(/securitypolicy\.security\.vigil\.dev\/\S+ created \(server dry run\)/);
  });

  it('is enough for the real operator: it runs as the vigil ServiceAccount without a single denied request', async function () {
    const k = cluster();
    k.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: install-e2e}\n');
    // A kubeconfig that authenticates with a token of the vigil ServiceAccount, as in the pod.
    const token = k.kubectl(['create', 'token', 'vigil', '-n', 'vigil-system', '--duration=1h']).trim();
    const kubeconfig = tokenKubeconfig(k.kubeconfig, token);
    k.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: install-e2e-rbac}
spec:
  profile: pss-restricted
  match: {namespaces: [install-e2e]}
---
apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: install-e2e}
spec:
  containers: [{name: c, image: busybox@sha256:${'0'.repeat(64)}, securityContext: {privileged: true}}]
`,
    );
    const op = await startOperator({
      kubeconfig,
      namespace: 'vigil-system',
      args: ['--leader-elect'],
      env: { POD_NAME: 'install-e2e-operator' },
    });
    let code: number | null;
    let seen = '';
    try {
      await waitFor(
        'the Lease, the ScanReport with its status, the policy status and the event',
        () => {
          const lease = tryKubectl(['get', 'lease', 'vigil-leader', '-n', 'vigil-system', '-o', 'json']);
          const holder = lease.ok
            ? (JSON.parse(lease.out) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity
            : undefined;
          const report = tryKubectl(['get', 'scanreport', 'pod-priv', '-n', 'install-e2e', '-o', 'json']);
          const critical = report.ok
            ? (JSON.parse(report.out) as { status?: { summary?: { critical?: number } } }).status?.summary
                ?.critical
            : undefined;
          const ready = tryKubectl([
            'get',
            'securitypolicy',
            'install-e2e-rbac',
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ]).out;
          const events = tryKubectl(['get', 'events.events.k8s.io', '-n', 'install-e2e', '-o', 'json']);
          const warned =
            events.ok &&
            (
              JSON.parse(events.out) as { items: { type?: string; regarding?: { name?: string } }[] }
            ).items.some((e) => e.type === 'Warning' && e.regarding?.name === 'priv');
          seen = `lease holder ${holder ?? 'none'}, report critical ${critical ?? 'none'}, policy Ready ${ready || 'none'}, warning event ${warned}`;
          return Promise.resolve(
            (holder ?? '').startsWith('install-e2e-operator') &&
              (critical ?? 0) > 0 &&
              ready === 'True' &&
              warned,
          );
        },
        60_000,
        () => `\nlast seen: ${seen}\n--- operator log ---\n${readFileSync(op.logFile, 'utf8').slice(-4000)}`,
      );
    } finally {
      code = await op.stop();
    }
    const log = readFileSync(op.logFile, 'utf8');
    expect(log).to.not.match(/forbidden|\b403\b/i);
    expect(code, 'exit code after SIGTERM').to.equal(0);
  });
});
