/**
 * The audit pipeline against a real API server: the harness's kube-apiserver is restarted with
 * config/audit/policy.yaml, the log backend and the webhook backend (batch mode) pointed at the
 * operator's receiver, which authenticates it by client certificate. A test user with a client
 * certificate and a little RBAC abuses it through the API and kubectl: reads Secrets it should
 * not, binds itself to cluster-admin, creates a privileged Pod, impersonates, probes until it is
 * denied again and again; and does benign things. The detections must appear as AuditDetection
 * Events on the objects and in /metrics; the time from each request to its detection (log line)
 * and to its Event (visible in the API) is measured and printed. An unauthenticated POST to the
 * receiver gets 401 and is counted. Finally `vigil audit` on the log backend's file gives the
 * same (ruleId, auditID) pairs as the webhook path.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cluster } from '../harness.ts';
import {
  REPO_ROOT,
  freePort,
  issueClientCert,
  kubeconfigYaml,
  waitFor,
  type ControlPlane,
} from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { metricSum, parseExposition } from '../../operator/src/observability/exposition.ts';
import { certFiles, issueCert, selfSignedCert } from '../../operator/src/testing/certs.ts';

const NS = 'audit-shop';
const SECRETS = 40;
const BURST = 5;

const POLICY = `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: audit-e2e
spec:
  profile: pss-baseline
  match:
    namespaces: [${NS}]
  audit:
    # The harness's controller manager and kubectl run as vigil-admin: expected to read Secrets.
    expectedSecretReaders: [vigil-admin]
    deniedBurst: { threshold: ${BURST}, windowSeconds: 60 }
`;

/** The receiver's CA, its serving certificate for 127.0.0.1, and the API server's client certificate. */
function webhookCerts(dir: string): void {
  const ca = selfSignedCert(certFiles(dir, 'wh-ca'), { subject: '/CN=vigil-audit-ca' });
  issueCert(certFiles(dir, 'wh-server'), ca, {
    subject: '/CN=wh-server',
    sans: ['IP:127.0.0.1'],
    usage: 'serverAuth',
  });
  issueCert(certFiles(dir, 'wh-apiserver'), ca, { subject: '/CN=wh-apiserver', usage: 'clientAuth' });
}

interface Answer {
  status: number;
  auditID: string;
  body: string;
}

/** One request to the API server as a client-certificate user; resolves with the Audit-Id. */
function api(
  cp: ControlPlane,
  user: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const d = cp.state.dir;
  const opts: RequestOptions = {
    host: '127.0.0.1',
    port: cp.state.apiPort,
    method,
    path,
    ca: readFileSync(join(d, 'ca.crt')),
    cert: readFileSync(join(d, `${user}.crt`)),
    key: readFileSync(join(d, `${user}.key`)),
    headers: { 'content-type': 'application/json', ...headers },
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, auditID: String(res.headers['audit-id'] ?? ''), body: text }),
      );
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface LoggedDetection {
  ruleId: string;
  auditID: string;
  severity: string;
  time: string;
  user: string;
  /** Date.now() when the operator printed it. */
  at: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function report(what: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const line = `${what}: n=${s.length} p50 ${(percentile(s, 50) / 1000).toFixed(2)} s, p99 ${(percentile(s, 99) / 1000).toFixed(2)} s, max ${((s[s.length - 1] ?? NaN) / 1000).toFixed(2)} s`;
  console.log(`      ⏱  ${line}`);
  return line;
}

describe('audit webhook: the real API server sends its audit events to the operator', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let dir: string;
  let op: OperatorProcess | undefined;
  let receiverPort: number;
  const logPath = (): string => join(dir, 'audit.log');
  const detections: LoggedDetection[] = [];
  /** Request sent (Date.now()) by auditID, for the user's requests. */
  const sentAt = new Map<string, number>();
  /** When a user request's AuditDetection Event was first seen in the API, by auditID. */
  const eventSeenAt = new Map<string, number>();
  let markerMs = 0;

  const kubectl = (args: string[], input?: string): string => cp.kubectl(args, input);
  const asUser = (user: string, args: string[]): { ok: boolean; out: string } => {
    const r = spawnSync(cp.kubectlPath, ['--kubeconfig', join(dir, `${user}.kubeconfig`), ...args], {
      encoding: 'utf8',
    });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  };
  const metrics = async (): Promise<ReturnType<typeof parseExposition>['samples']> =>
    parseExposition(await (op as OperatorProcess).metrics()).samples;

  before(async () => {
    cp = cluster();
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-e2e-'));
    webhookCerts(dir);
    receiverPort = await freePort();
    const webhookConfig = join(dir, 'webhook-kubeconfig.yaml');
    writeFileSync(
      webhookConfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: vigil',
        '  cluster:',
        `    server: https://127.0.0.1:${receiverPort}/audit`,
        `    certificate-authority: ${join(dir, 'wh-ca.crt')}`,
        'users:',
        '- name: apiserver',
        '  user:',
        `    client-certificate: ${join(dir, 'wh-apiserver.crt')}`,
        `    client-key: ${join(dir, 'wh-apiserver.key')}`,
        'contexts:',
        '- name: vigil',
        '  context: {cluster: vigil, user: apiserver}',
        'current-context: vigil',
        '',
      ].join('\n'),
    );
    const t0 = Date.now();
    await cp.restartApiServerWithAudit({
      policyFile: join(REPO_ROOT, 'config', 'audit', 'policy.yaml'),
      logPath: logPath(),
      webhookConfigFile: webhookConfig,
      webhookBatchMaxWait: '1s',
      webhookInitialBackoff: '1s',
    });
    console.log(
      `      API server restarted with the audit backends in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    cp.installCrds();
    for (const ns of ['vigil-system', NS]) {
      const r = spawnSync(cp.kubectlPath, ['--kubeconfig', cp.kubeconfig, 'create', 'namespace', ns], {
        encoding: 'utf8',
      });
      if (r.status !== 0 && !r.stderr.includes('AlreadyExists')) throw new Error(r.stderr);
    }
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    kubectl(['apply', '-f', join(dir, 'policy.yaml')]);

    // The test users: mallory (the attacker, a little RBAC) and dev-bob (whom mallory may impersonate).
    for (const u of ['mallory', 'dev-bob']) {
      issueClientCert(cp.state.dir, u, u);
      writeFileSync(
        join(dir, `${u}.kubeconfig`),
        kubeconfigYaml(`https://127.0.0.1:${cp.state.apiPort}`, cp.state.dir, u),
      );
    }
    kubectl(
      ['apply', '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: mallory, namespace: ${NS}}
rules:
  - {apiGroups: [''], resources: [secrets, configmaps], verbs: [get, list]}
  - {apiGroups: [''], resources: [pods], verbs: [create, get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mallory, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mallory}
subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mallory-cluster}
rules:
  - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}
  - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [cluster-admin]}
  - {apiGroups: [''], resources: [users], verbs: [impersonate], resourceNames: [dev-bob]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mallory-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mallory-cluster}
subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: dev-bob, namespace: ${NS}}
rules:
  - {apiGroups: [''], resources: [configmaps], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-bob, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: dev-bob}
subjects: [{kind: User, name: dev-bob, apiGroup: rbac.authorization.k8s.io}]
`,
    );
    const secrets = Array.from(
      { length: SECRETS + 1 },
      (_, i) =>
        `apiVersion: v1\nkind: Secret\nmetadata: {name: s-${i === SECRETS ? 'sentinel' : i}, namespace: ${NS}}\nstringData: {password: p${i}}\n`,
    );
    kubectl(['apply', '-f', '-'], secrets.join('---\n'));
    kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ${NS}}\ndata: {a: b}\n`,
    );

    op = await startOperator({
      kubeconfig: cp.kubeconfig,
      logLevel: 'info',
      args: [
        '--audit-webhook-bind-address',
        `127.0.0.1:${receiverPort}`,
        '--audit-webhook-tls-cert-file',
        join(dir, 'wh-server.crt'),
        '--audit-webhook-tls-key-file',
        join(dir, 'wh-server.key'),
        '--audit-webhook-client-ca-file',
        join(dir, 'wh-ca.crt'),
      ],
      onLine: (line) => {
        if (!line.includes('"audit detection"')) return;
        const at = Date.now();
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          detections.push({
            ruleId: String(j['ruleId']),
            auditID: String(j['auditID']),
            severity: String(j['severity']),
            time: String(j['time']),
            user: String(j['user']),
            at,
          });
        } catch {
          // Not a JSON line: not a detection.
        }
      },
    });
    await waitFor(
      'the audit receiver',
      () =>
        Promise.resolve(readFileSync(op?.logFile ?? '', 'utf8').includes('audit webhook receiver listening')),
      30_000,
    );
  });

  after(async () => {
    const code = await op?.stop();
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('reports abuse by a test user as AuditDetection Events on the objects and in /metrics, and measures request → detection → Event', async () => {
    // Benign: the control plane's and vigil-admin's own traffic settle first.
    await new Promise((r) => setTimeout(r, 3000));
    markerMs = Date.now();

    const mine = async (
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ): Promise<Answer> => {
      const at = Date.now();
      const a = await api(cp, 'mallory', method, path, body, headers);
      expect(a.auditID, `${method} ${path}: Audit-Id header`).to.not.equal('');
      sentAt.set(a.auditID, at);
      return a;
    };
    // Benign requests by the same user: allowed reads of ConfigMaps.
    const benign: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await mine('GET', `/api/v1/namespaces/${NS}/configmaps/settings`);
      expect(a.status).to.equal(200);
      benign.push(a.auditID);
    }
    benign.push((await mine('GET', `/api/v1/namespaces/${NS}/configmaps`)).auditID);

    // Abuse 1: Secrets read by an identity the policy does not expect, one by one (each its own Event).
    const secretReads: string[] = [];
    for (let i = 0; i < SECRETS; i++) {
      const a = await mine('GET', `/api/v1/namespaces/${NS}/secrets/s-${i}`);
      expect(a.status).to.equal(200);
      secretReads.push(a.auditID);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Abuse 2: a privileged Pod.
    const pod = await mine('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'priv', namespace: NS },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36', securityContext: { privileged: true } }] },
    });
    expect(pod.status, pod.body).to.equal(201);
    // Abuse 3: impersonation, allowed (dev-bob) through kubectl, refused (system:admin) through the API.
    const imp = asUser('mallory', ['--as=dev-bob', 'get', 'configmaps', '-n', NS]);
    expect(imp.ok, imp.out).to.equal(true);
    const impDenied = await mine('GET', `/api/v1/namespaces/${NS}/pods`, undefined, {
      'Impersonate-User': 'system:admin',
    });
    expect(impDenied.status).to.equal(403);
    // Abuse 4: reconnaissance, a burst of denied requests.
    const probes: string[] = [];
    for (let i = 0; i < BURST + 2; i++) {
      const a = await mine('GET', `/api/v1/nodes/probe-${i}`);
      expect(a.status).to.equal(403);
      probes.push(a.auditID);
    }
    // Abuse 5, last (from now on mallory is cluster-admin): bind itself to cluster-admin, through kubectl.
    const crb = asUser('mallory', [
      'create',
      'clusterrolebinding',
      'mallory-pwn',
      '--clusterrole=cluster-admin',
      '--user=mallory',
    ]);
    expect(crb.ok, crb.out).to.equal(true);
    // The sentinel: the last request; once its detection is in, the webhook has caught up.
    const sentinel = await mine('GET', `/api/v1/namespaces/${NS}/secrets/s-sentinel`);

    await waitFor(
      'the sentinel detection',
      () => Promise.resolve(detections.some((d) => d.auditID === sentinel.auditID)),
      60_000,
    );

    // Events on the objects: every Secret read has one (each Secret is its own object).
    const expectEvents = async (): Promise<void> => {
      const want = [...secretReads, sentinel.auditID];
      await waitFor(
        'AuditDetection events for every Secret read',
        () => {
          const list = JSON.parse(
            kubectl(['get', 'events', '-A', '--field-selector', 'reason=AuditDetection', '-o', 'json']),
          ) as { items: { note?: string; message?: string }[] };
          const now = Date.now();
          for (const e of list.items) {
            const m = /auditID (\S+)$/.exec(e.note ?? e.message ?? '');
            if (m?.[1] && !eventSeenAt.has(m[1])) eventSeenAt.set(m[1], now);
          }
          return Promise.resolve(want.every((id) => eventSeenAt.has(id)));
        },
        60_000,
      );
    };
    // (Request → Event is timed in the next test, with the Events polled while the requests run.)
    await expectEvents();

    const byAudit = (id: string): LoggedDetection[] => detections.filter((d) => d.auditID === id);
    for (const id of secretReads)
      expect(byAudit(id).map((d) => d.ruleId)).to.include('audit-secret-read-unexpected');
    for (const id of benign) expect(byAudit(id), `benign request ${id}`).to.deep.equal([]);
    const rulesOf = (user: string): Set<string> =>
      new Set(
        detections
          .filter((d) => d.user === user && Date.parse(d.time) >= markerMs - 1000)
          .map((d) => d.ruleId),
      );
    const malloryRules = rulesOf('mallory');
    for (const r of [
      'audit-secret-read-unexpected',
      'audit-cluster-admin-binding',
      'audit-privileged-pod',
      'audit-impersonation',
      'audit-denied-burst',
    ])
      expect([...malloryRules], r).to.include(r);
    // The refused impersonation was the first denial: the burst crosses the threshold on a probe.
    expect(probes.flatMap((id) => byAudit(id).map((d) => d.ruleId))).to.include('audit-denied-burst');

    // Events on the objects themselves.
    const eventsOn = (ns: string, kind: string, name: string): string[] =>
      (
        JSON.parse(
          kubectl([
            'get',
            'events',
            '-n',
            ns,
            '--field-selector',
            `reason=AuditDetection,involvedObject.kind=${kind},involvedObject.name=${name}`,
            '-o',
            'json',
          ]),
        ) as { items: { message?: string; note?: string }[] }
      ).items.map((e) => e.note ?? e.message ?? '');
    expect(eventsOn(NS, 'Secret', 's-0').join('\n')).to.include('audit-secret-read-unexpected');
    expect(eventsOn('default', 'ClusterRoleBinding', 'mallory-pwn').join('\n')).to.include(
      'audit-cluster-admin-binding',
    );
    expect(eventsOn(NS, 'Pod', 'priv').join('\n')).to.include('audit-privileged-pod');
    expect(eventsOn('default', 'Namespace', NS).join('\n')).to.include('audit-impersonation');
    // kubectl describe finds events by the object's uid: Vigil knows it for the kinds it watches (Pods).
    const described = kubectl(['describe', 'pod', 'priv', '-n', NS]);
    expect(described).to.match(/Warning\s+AuditDetection\s+.*audit-privileged-pod/);

    // Metrics.
    const s = await metrics();
    const sum = (name: string, labels: Record<string, string> = {}): number =>
      metricSum(s, name, labels) ?? NaN;
    expect(
      sum('vigil_audit_detections_total', { rule: 'audit-secret-read-unexpected', severity: 'high' }),
    ).to.be.at.least(SECRETS + 1);
    expect(sum('vigil_audit_detections_total', { rule: 'audit-cluster-admin-binding' })).to.be.at.least(1);
    expect(sum('vigil_audit_detections_total', { rule: 'audit-privileged-pod' })).to.be.at.least(1);
    expect(sum('vigil_audit_detections_total', { rule: 'audit-denied-burst' })).to.be.at.least(1);
    expect(sum('vigil_audit_events_total')).to.be.greaterThan(SECRETS * 2);
    expect(sum('vigil_audit_detection_lag_seconds_count')).to.equal(sum('vigil_audit_detections_total'));
    expect(sum('vigil_audit_dropped_total', { reason: 'queue_full' })).to.equal(0);
    expect(sum('vigil_audit_dropped_total', { reason: 'malformed' })).to.equal(0);

    // Request → detection (the operator's log line) for every detection of the user's requests.
    const toDetection = [...sentAt].flatMap(([id, at]) =>
      byAudit(id)
        .slice(0, 1)
        .map((d) => d.at - at),
    );
    report('request → detection (log line)', toDetection);
    console.log(
      `      lag histogram (stageTimestamp → detection): ${sum('vigil_audit_detection_lag_seconds_count')} detections, mean ${(sum('vigil_audit_detection_lag_seconds_sum') / Math.max(1, sum('vigil_audit_detection_lag_seconds_count'))).toFixed(2)} s`,
    );
  });

  it('measures request → AuditDetection Event in the API (p50, p99)', async () => {
    // Fresh objects, so every read makes a new Event; the Events are watched while the requests run.
    const N = 30;
    kubectl(
      ['apply', '-f', '-'],
      Array.from(
        { length: N },
        (_, i) =>
          `apiVersion: v1\nkind: Secret\nmetadata: {name: t-${i}, namespace: ${NS}}\nstringData: {k: v}\n`,
      ).join('---\n'),
    );
    const ids: string[] = [];
    const at = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const list = JSON.parse(
          kubectl(['get', 'events', '-n', NS, '--field-selector', 'reason=AuditDetection', '-o', 'json']),
        ) as { items: { note?: string; message?: string }[] };
        const now = Date.now();
        for (const e of list.items) {
          const m = /auditID (\S+)$/.exec(e.note ?? e.message ?? '');
          if (m?.[1] && !eventSeenAt.has(m[1])) eventSeenAt.set(m[1], now);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    for (let i = 0; i < N; i++) {
      const t = Date.now();
      const a = await api(cp, 'mallory', 'GET', `/api/v1/namespaces/${NS}/secrets/t-${i}`);
      expect(a.status).to.equal(200);
      ids.push(a.auditID);
      at.set(a.auditID, t);
      sentAt.set(a.auditID, t);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(
      'an Event for every read',
      () => Promise.resolve(ids.every((id) => eventSeenAt.has(id))),
      60_000,
    );
    polling = false;
    await poller;
    const toEvent = ids.map((id) => (eventSeenAt.get(id) ?? NaN) - (at.get(id) ?? NaN));
    expect(toEvent.every((ms) => Number.isFinite(ms) && ms >= 0)).to.equal(true);
    report(
      `request → AuditDetection Event visible in the API (polled every 100 ms, batch-max-wait 1s)`,
      toEvent,
    );
    const toDetection = ids.flatMap((id) =>
      detections
        .filter((d) => d.auditID === id)
        .slice(0, 1)
        .map((d) => d.at - (at.get(id) ?? NaN)),
    );
    report('request → detection (log line), same requests', toDetection);
  });

  it('refuses an unauthenticated POST to the receiver with 401 and counts it', async () => {
    const before =
      metricSum(await metrics(), 'vigil_audit_dropped_total', { reason: 'unauthenticated' }) ?? NaN;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: receiverPort,
          method: 'POST',
          path: '/audit',
          ca: readFileSync(join(dir, 'wh-ca.crt')),
          headers: { 'content-type': 'application/json' },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [] }));
    });
    expect(status).to.equal(401);
    const after =
      metricSum(await metrics(), 'vigil_audit_dropped_total', { reason: 'unauthenticated' }) ?? NaN;
    expect(after - before).to.equal(1);
  });

  it("shows each identity's recent detections in a ScanReport kubectl lists (bounded), left alone by the controller", async () => {
    type Listed = {
      metadata: { name: string };
      spec: { subject: { kind: string; name: string } };
      status?: { summary?: Record<string, number>; findings?: { ruleId: string; message: string }[] };
    };
    const list = (): Listed[] =>
      (
        JSON.parse(
          kubectl([
            'get',
            'scanreports',
            '-n',
            'vigil-system',
            '-l',
            'security.vigil.dev/source=audit',
            '-o',
            'json',
          ]),
        ) as { items: Listed[] }
      ).items;
    let mallory: Listed | undefined;
    await waitFor(
      "mallory's identity report",
      () => {
        mallory = list().find((r) => r.spec.subject.kind === 'Identity' && r.spec.subject.name === 'mallory');
        return Promise.resolve(mallory !== undefined);
      },
      30_000,
    );
    const rules = new Set((mallory?.status?.findings ?? []).map((f) => f.ruleId));
    expect([...rules]).to.include('audit-secret-read-unexpected');
    expect(mallory?.status?.findings?.length).to.be.at.most(20);
    const total = Object.values(mallory?.status?.summary ?? {}).reduce((a, b) => a + b, 0);
    expect(total, 'the summary counts every detection, beyond the listed ones').to.be.greaterThan(SECRETS);
    const table = kubectl([
      'get',
      'scanreports',
      '-n',
      'vigil-system',
      '-l',
      'security.vigil.dev/source=audit',
    ]);
    expect(table).to.match(new RegExp(`${mallory?.metadata.name ?? '?'}\\s+Identity\\s+mallory`));
    // The controller does not take it for an orphan: still there after a resync-worth of quiet.
    await new Promise((r) => setTimeout(r, 3000));
    expect(list().some((r) => r.metadata.name === mallory?.metadata.name)).to.equal(true);
  });

  it('vigil audit on the API server log gives the same detections as the webhook path', async () => {
    // Both paths judged the same requests: compare (ruleId, auditID) from the marker on.
    const since = markerMs - 1000;
    const run = (): { ruleId: string; auditID: string; time: string }[] => {
      const r = spawnSync(
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'vigil.js'),
          'audit',
          '--policy',
          join(dir, 'policy.yaml'),
          '--output',
          'json',
          '--fail-on',
          'never',
          logPath(),
        ],
        { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      );
      expect(r.status, r.stderr).to.equal(0);
      return (JSON.parse(r.stdout) as { detections: { ruleId: string; auditID: string; time: string }[] })
        .detections;
    };
    const key = (d: { ruleId: string; auditID: string }): string => `${d.ruleId} ${d.auditID}`;
    // The log backend and the webhook flush independently: wait until the webhook has every
    // detection the log has up to its newest, then compare.
    let offline: string[] = [];
    let online: string[] = [];
    await waitFor(
      'the webhook path to match the log',
      () => {
        const fromLog = run().filter((d) => Date.parse(d.time) >= since);
        const newest = Math.max(...fromLog.map((d) => Date.parse(d.time)));
        offline = fromLog.map(key).sort();
        online = detections
          .filter((d) => Date.parse(d.time) >= since && Date.parse(d.time) <= newest)
          .map(key)
          .sort();
        return Promise.resolve(offline.length > 0 && JSON.stringify(offline) === JSON.stringify(online));
      },
      30_000,
    ).catch(() => undefined);
    console.log(
      `      vigil audit on the log: ${offline.length} detections; webhook: ${online.length} in the same period`,
    );
    expect(online).to.deep.equal(offline);
    expect(offline.length).to.be.greaterThan(SECRETS);
  });

  it('responds, opt-in: quarantines an identity after a chosen detection (writes denied, reads allowed) until a person lifts it', async () => {
    // A fresh identity with a little RBAC (mallory is cluster-admin by now).
    issueClientCert(cp.state.dir, 'eve', 'eve');
    writeFileSync(
      join(dir, 'eve.kubeconfig'),
      kubeconfigYaml(`https://127.0.0.1:${cp.state.apiPort}`, cp.state.dir, 'eve'),
    );
    kubectl(
      ['apply', '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: eve, namespace: ${NS}}
rules:
  - {apiGroups: [''], resources: [secrets], verbs: [get]}
  - {apiGroups: [''], resources: [configmaps], verbs: [get, create, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: eve, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: eve}
subjects: [{kind: User, name: eve, apiGroup: rbac.authorization.k8s.io}]
`,
    );
    const writeOk = (name: string): { ok: boolean; out: string } =>
      asUser('eve', ['create', 'configmap', name, '-n', NS, '--from-literal=a=b']);
    expect(writeOk('before').ok, 'eve may write before any detection').to.equal(true);
    kubectl(
      ['apply', '-f', '-'],
      `${POLICY}    responses:
      - rules: [audit-secret-read-unexpected]
        action: quarantine
`,
    );
    type Guard = { metadata: { name: string; annotations?: Record<string, string> } };
    const guards = (): Guard[] =>
      (
        JSON.parse(
          kubectl([
            'get',
            'validatingadmissionpolicies',
            '-l',
            'security.vigil.dev/response=quarantine',
            '-o',
            'json',
          ]),
        ) as { items: Guard[] }
      ).items;
    // eve reads a Secret: the detection quarantines her (the settings reach the operator through its cache).
    const t0 = Date.now();
    await waitFor(
      'the quarantine of eve',
      () => {
        asUser('eve', ['get', 'secret', 's-0', '-n', NS]);
        return Promise.resolve(
          guards().some((g) => g.metadata.annotations?.['security.vigil.dev/user'] === 'eve'),
        );
      },
      60_000,
    );
    console.log(`      secret read → quarantine in place: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const guard = guards().find((g) => g.metadata.annotations?.['security.vigil.dev/user'] === 'eve');
    expect(guard?.metadata.annotations?.['security.vigil.dev/rule']).to.equal('audit-secret-read-unexpected');
    let denied = { ok: true, out: '' };
    await waitFor(
      "eve's writes denied",
      () => {
        denied = writeOk(`during-${Date.now()}`);
        return Promise.resolve(!denied.ok);
      },
      30_000,
    );
    expect(denied.out).to.include('quarantined by Vigil after audit-secret-read-unexpected');
    expect(asUser('eve', ['get', 'configmap', 'before', '-n', NS]).ok, 'reads stay allowed').to.equal(true);
    expect(writeOk('admin-can').ok).to.equal(false);
    kubectl(['create', 'configmap', 'admin-writes', '-n', NS, '--from-literal=a=b']); // others are not affected
    // The response is an Event on the SecurityPolicy and a metric.
    await waitFor(
      'the AuditResponse event',
      () =>
        Promise.resolve(
          kubectl(['get', 'events.events.k8s.io', '-n', 'default', '-o', 'json']).includes(
            '"reason": "AuditResponse"',
          ),
        ),
      30_000,
    );
    expect(
      metricSum(await metrics(), 'vigil_audit_responses_total', {
        rule: 'audit-secret-read-unexpected',
        action: 'quarantine',
      }),
    ).to.equal(1);
    // Never Vigil itself: the operator runs as vigil-admin, an expected reader here, and is not quarantined.
    expect(guards().map((g) => g.metadata.annotations?.['security.vigil.dev/user'])).to.deep.equal(['eve']);
    // A person lifts it.
    const name = guard?.metadata.name ?? '';
    kubectl(['delete', 'validatingadmissionpolicybinding', name]);
    kubectl(['delete', 'validatingadmissionpolicy', name]);
    await waitFor('eve may write again', () => Promise.resolve(writeOk(`after-${Date.now()}`).ok), 30_000);
  });
});
