/**
 * Fault 10: soak with an oracle. Random churn — pods, Deployments, Services,
 * NetworkPolicies, Roles and RoleBindings created, changed and deleted,
 * namespace labels flipped, policies edited (profile, severity overrides,
 * rules switched off and on), exceptions added that expire during the run —
 * for FAULTS_SOAK_SECONDS (default 60; 600 with FAULTS_FULL=1). Afterwards
 * the ScanReports must equal what `vigil scan` computes on a dump of the
 * final state, per subject (finding set and exact counts).
 *
 * The churn comes from a seeded PRNG (FAULTS_SEED, printed), so a failure
 * reproduces with the same seed.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { prng } from '../prng.ts';
import { FULL, Kube, cleanup, expectConverged, measured, metricValue, sleep } from './lib.ts';

const NS = ['f10-0', 'f10-1', 'f10-2'];
const SECONDS = Number(process.env['FAULTS_SOAK_SECONDS'] ?? (FULL ? 600 : 60));
/** make test replays one fixed churn; make test-faults (FULL) draws a fresh seed each run. */
const SEED = Number(process.env['FAULTS_SEED'] ?? (FULL ? Math.floor(Math.random() * 2 ** 31) : 20261123));

const RULES_TO_TOGGLE = [
  'pss-privileged',
  'pss-host-namespaces',
  'pss-run-as-non-root',
  'pss-capabilities-restricted',
  'pss-allow-privilege-escalation',
  'container-memory-limit-missing',
];

describe('fault: soak with random churn, checked against vigil scan', function () {
  this.timeout((SECONDS + 300) * 1000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(() => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
  });

  after(async () => {
    const code = await op?.stop();
    cleanup(k, ['f10-a', 'f10-b', 'f10-c'], NS);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it(`reports equal the truth after ${SECONDS} s of churn (seed ${SEED})`, async () => {
    console.log(`      soak seed ${SEED} (FAULTS_SEED=${SEED} reproduces the churn), ${SECONDS} s`);
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const chance = (p: number): boolean => rnd() < p;
    // Exceptions that lapse during the run; the last one must be over before the final check.
    let lastExpiry = 0;
    const exceptions: string[] = [];
    const policy = (
      name: string,
      profile: string,
      namespaces: string[],
      rulesYaml: string[],
      exc: string[],
    ): string =>
      `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}}
spec:
  profile: ${profile}
  match: {namespaces: [${namespaces.join(', ')}]}
  rules: [${rulesYaml.join(', ')}]
  exceptions: [${exc.join(', ')}]
`;
    const policyState = {
      a: { profile: 'recommended', rules: [] as string[] },
      b: { profile: 'pss-restricted', rules: [] as string[] },
    };
    const applyPolicies = (): void => {
      k.apply(policy('f10-a', policyState.a.profile, ['f10-0', 'f10-1'], policyState.a.rules, exceptions));
      k.apply(policy('f10-b', policyState.b.profile, ['"f10-*"'], policyState.b.rules, []));
    };
    applyPolicies();
    k.apply(`apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: f10-c}
spec:
  profile: pss-baseline
  match: {namespaceSelector: {matchLabels: {tier: prod}}}
`);

    const pod = (name: string, ns: string): string => {
      const privileged = chance(0.3);
      const sc = [
        `privileged: ${privileged}`,
        chance(0.5) ? 'runAsNonRoot: true' : 'runAsUser: 0',
        // The API server refuses privileged with allowPrivilegeEscalation: false.
        `allowPrivilegeEscalation: ${privileged || chance(0.6)}`,
        chance(0.3) ? 'capabilities: {drop: [ALL]}' : 'capabilities: {add: [NET_ADMIN]}',
      ].join(', ');
      return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  hostNetwork: ${chance(0.2)}
  hostPID: ${chance(0.1)}
  containers:
  - name: app
    image: registry.example/app:${chance(0.2) ? 'latest' : '1.0'}
    securityContext: {${sc}}
${chance(0.5) ? '    resources: {limits: {cpu: 100m, memory: 64Mi}, requests: {cpu: 50m, memory: 32Mi}}\n' : ''}`;
    };
    const deployment = (name: string, ns: string): string => {
      const p = pod(name, ns).split('\nspec:\n')[1] ?? '';
      return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
${p
  .split('\n')
  .map((l) => (l ? `    ${l}` : l))
  .join('\n')}`;
    };

    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    const t0 = Date.now();
    const counts: Record<string, number> = {};
    const did = (what: string): void => {
      counts[what] = (counts[what] ?? 0) + 1;
    };
    while (Date.now() - t0 < SECONDS * 1000) {
      const ns = pick(NS);
      const n = Math.floor(rnd() * 8);
      const r = rnd();
      const late = Date.now() - t0 > SECONDS * 1000 - 40_000;
      try {
        if (r < 0.25) {
          // Pods are immutable where it matters: replace means delete + create.
          k.try(['delete', 'pod', `p${n}`, '-n', ns, '--wait=false', '--ignore-not-found']);
          k.try(['apply', '-f', '-'], pod(`p${n}`, ns));
          did('pod');
        } else if (r < 0.35) {
          k.try(['delete', 'pod', `p${n}`, '-n', ns, '--wait=false', '--ignore-not-found']);
          did('pod-delete');
        } else if (r < 0.55) {
          k.apply(deployment(`d${n % 4}`, ns));
          did('deployment');
        } else if (r < 0.6) {
          k.try(['delete', 'deployment', `d${n % 4}`, '-n', ns, '--wait=false', '--ignore-not-found']);
          did('deployment-delete');
        } else if (r < 0.66) {
          if (chance(0.5))
            k.apply(
              `apiVersion: v1\nkind: Service\nmetadata: {name: s${n % 3}, namespace: ${ns}}\nspec:\n  type: ${pick(['ClusterIP', 'NodePort'])}\n  selector: {app: d${n % 4}}\n  ports: [{port: 80}]\n`,
            );
          else k.try(['delete', 'service', `s${n % 3}`, '-n', ns, '--ignore-not-found', '--wait=false']);
          did('service');
        } else if (r < 0.71) {
          if (chance(0.5))
            k.apply(
              `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ${ns}}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n`,
            );
          else k.try(['delete', 'networkpolicy', 'deny', '-n', ns, '--ignore-not-found', '--wait=false']);
          did('networkpolicy');
        } else if (r < 0.77) {
          k.apply(
            `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r${n % 2}, namespace: ${ns}}\nrules:\n- apiGroups: [""]\n  resources: [${pick(['secrets', 'pods', 'pods/exec', 'configmaps'])}]\n  verbs: [${pick(['get', '"*"', 'create', 'list'])}]\n`,
          );
          // roleRef is immutable: a binding to another role is a new binding.
          k.try(['delete', 'rolebinding', `rb${n % 2}`, '-n', ns, '--ignore-not-found', '--wait=false']);
          k.apply(
            `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb${n % 2}, namespace: ${ns}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ${chance(0.3) ? 'ClusterRole' : 'Role'}, name: ${chance(0.3) ? 'admin' : `r${n % 2}`}}\nsubjects:\n- {kind: ServiceAccount, name: default, namespace: ${ns}}\n`,
          );
          did('rbac');
        } else if (r < 0.82) {
          k.run(['label', 'namespace', ns, `tier=${pick(['prod', 'dev'])}`, '--overwrite']);
          did('namespace-label');
        } else if (r < 0.9) {
          const st = chance(0.5) ? policyState.a : policyState.b;
          const c = rnd();
          if (c < 0.3) st.profile = pick(['recommended', 'pss-restricted', 'pss-baseline', 'all']);
          else if (c < 0.65)
            st.rules = [
              `{id: ${pick(RULES_TO_TOGGLE)}, severity: ${pick(['critical', 'high', 'medium', 'low', 'info'])}}`,
            ];
          else if (c < 0.85) st.rules = [`{id: ${pick(RULES_TO_TOGGLE)}, enabled: false}`];
          else st.rules = [];
          applyPolicies();
          did('policy-edit');
        } else {
          // An exception: short-lived (expires during the run) unless we are near the end.
          const inMs = late ? 30 * 24 * 3600 * 1000 : 5000 + Math.floor(rnd() * 20_000);
          const at = new Date(Date.now() + inMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
          if (!late) lastExpiry = Math.max(lastExpiry, Date.now() + inMs);
          exceptions.splice(0, Math.max(0, exceptions.length - 3));
          exceptions.push(
            `{rules: [${pick(RULES_TO_TOGGLE)}], match: {namespaces: [${ns}]}, reason: soak, owner: soak, expiresAt: "${at}"}`,
          );
          applyPolicies();
          did('exception');
        }
      } catch (e) {
        // A rejected change (e.g. a race with a namespace label) is churn too; keep going.
        const err = (e as { stderr?: unknown }).stderr;
        const text = typeof err === 'string' && err !== '' ? err : e instanceof Error ? e.message : String(e);
        did(`rejected: ${text.split('\n')[0]?.slice(0, 100)}`);
      }
      await sleep(Math.floor(rnd() * 300));
    }
    const ops = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`      ${ops} operations: ${JSON.stringify(counts)}`);
    const wait = lastExpiry - Date.now() + 2000;
    if (wait > 0) await sleep(wait);
    const t1 = Date.now();
    const conv = await expectConverged(k, NS, 180_000);
    measured('end of churn → reports equal the truth', Date.now() - t1);
    expect(conv).to.be.lessThan(180_000);
    const text = await op.metrics();
    expect(op.child.exitCode).to.equal(null);
    const rss = metricValue(text, 'process_resident_memory_bytes');
    measured('operator RSS after the soak', Math.round(rss / 1024 / 1024), 'MiB');
  });
});
