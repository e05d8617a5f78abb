/**
 * A real Kubernetes control plane on loopback, started the way envtest starts one:
 * etcd, kube-apiserver (RBAC, client-certificate admin, service-account keys) and
 * kube-controller-manager (so namespaces delete and Deployments create Pods), with
 * certificates and data in a temporary directory. No kubelet or scheduler: pods
 * stay Pending, which is all Vigil needs.
 *
 * Binaries come from scripts/controlplane-build.sh (built from the pinned Go
 * modules in e2e/controlplane/tools and cached outside the repo).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:https';
import { parseYaml, toYaml } from '../../operator/src/yaml.ts';
import { certFiles, issueCert, selfSignedCert } from '../../operator/src/testing/certs.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Vigil's CRD manifests and the names the API server knows them by. */
export const CRD_FILES: readonly string[] = ['securitypolicies.yaml', 'scanreports.yaml'].map((f) =>
  join(REPO_ROOT, 'crds', f),
);
export const CRD_NAMES: readonly string[] = [
  'securitypolicies.security.vigil.dev',
  'scanreports.security.vigil.dev',
];

export interface ControlPlaneOptions {
  /** Directory for certificates, etcd data and logs. A temp dir when omitted. */
  dir?: string;
  /** Extra kube-apiserver flags (e.g. ['--max-requests-inflight=5']). */
  apiServerFlags?: string[];
  /** Extra IP addresses for the API server's serving certificate (a node reaching it off loopback). */
  extraSans?: string[];
  /** Extra kube-controller-manager flags; like apiServerFlags, they replace defaults of the same name. */
  controllerManagerFlags?: string[];
  /** Start kube-controller-manager (default true). */
  controllerManager?: boolean;
  /** Detach processes so they outlive this Node process (make cluster-up). */
  detached?: boolean;
  /**
   * `process` (default): plain child processes. `docker`: containers driven by
   * testcontainers from a locally built FROM-scratch image (needs a Docker engine).
   * Default from VIGIL_CONTROLPLANE_RUNTIME.
   */
  runtime?: 'process' | 'docker';
  /** Audit backends of the API server (off when omitted). */
  audit?: AuditBackendOptions;
}

/** The API server's audit log and webhook backends (kube-apiserver --audit-* flags). */
export interface AuditBackendOptions {
  /** An audit.k8s.io/v1 Policy (--audit-policy-file). */
  policyFile: string;
  /** The log backend: JSON lines of audit.k8s.io/v1 Event (--audit-log-path). */
  logPath?: string;
  /** The webhook backend's kubeconfig (--audit-webhook-config-file), in batch mode. */
  webhookConfigFile?: string;
  /** --audit-webhook-batch-max-wait (the API server's default is 30s). */
  webhookBatchMaxWait?: string;
  /** --audit-webhook-initial-backoff (default 10s): the wait before a failed batch is retried. */
  webhookInitialBackoff?: string;
}

/** kube-apiserver flags for the audit backends. */
export function auditFlags(a: AuditBackendOptions): string[] {
  const flags = [`--audit-policy-file=${a.policyFile}`];
  if (a.logPath !== undefined)
    flags.push(`--audit-log-path=${a.logPath}`, '--audit-log-format=json', '--audit-log-mode=blocking');
  if (a.webhookConfigFile !== undefined) {
    flags.push(`--audit-webhook-config-file=${a.webhookConfigFile}`, '--audit-webhook-mode=batch');
    if (a.webhookBatchMaxWait !== undefined)
      flags.push(`--audit-webhook-batch-max-wait=${a.webhookBatchMaxWait}`);
    if (a.webhookInitialBackoff !== undefined)
      flags.push(`--audit-webhook-initial-backoff=${a.webhookInitialBackoff}`);
  }
  return flags;
}

export interface ControlPlaneState {
  dir: string;
  binDir: string;
  etcdPort: number;
  apiPort: number;
  kubeconfig: string;
  pids: Record<string, number>;
  apiServerArgs: string[];
}

/** Directory holding the pinned binaries; builds them on first use. */
export function ensureBinaries(): string {
  const script = join(REPO_ROOT, 'scripts', 'controlplane-build.sh');
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/**
 * A client certificate `<name>.crt`/`<name>.key` signed by the cluster CA in `dir`: the API server
 * authenticates it as user `cn` in the groups `orgs` (e.g. a kubelet: system:node:NAME in system:nodes).
 */
export function issueClientCert(dir: string, name: string, cn: string, orgs: string[] = []): void {
  issueCert(certFiles(dir, name), certFiles(dir, 'ca'), {
    subject: `${orgs.map((o) => `/O=${o}`).join('')}/CN=${cn}`,
    key: 'rsa',
    days: 3650,
    usage: 'clientAuth',
  });
}

/** CA, API server serving cert, admin client cert (system:masters), service-account key pair. */
function generateCerts(dir: string, extraSans: readonly string[] = []): void {
  const ca = selfSignedCert(certFiles(dir, 'ca'), { subject: '/CN=vigil-test-ca', key: 'rsa', days: 3650 });
  issueCert(certFiles(dir, 'server'), ca, {
    subject: '/CN=kube-apiserver',
    key: 'rsa',
    days: 3650,
    usage: 'serverAuth',
    sans: [
      'IP:127.0.0.1',
      'IP:10.0.0.1',
      ...extraSans.map((ip) => `IP:${ip}`),
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
    ],
  });
  issueClientCert(dir, 'admin', 'vigil-admin', ['system:masters']);
  execFileSync('openssl', ['genrsa', '-out', 'sa.key', '2048'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  execFileSync('openssl', ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/**
 * A kubeconfig file for the cluster of `adminKubeconfig` that authenticates with a bearer `token`
 * (e.g. of the vigil ServiceAccount, as in the pod), in a new temporary directory.
 */
export function tokenKubeconfig(adminKubeconfig: string, token: string): string {
  const admin = parseYaml(readFileSync(adminKubeconfig, 'utf8')) as {
    clusters?: { cluster?: Record<string, unknown> }[];
  };
  const server = admin.clusters?.[0]?.cluster;
  if (!server) throw new Error(`no cluster in ${adminKubeconfig}`);
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-token-')), 'kubeconfig');
  writeFileSync(
    file,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: server }],
      users: [{ name: 'vigil', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'vigil' } }],
      'current-context': 'c',
    }),
  );
  return file;
}

/** A kubeconfig for the API server at `server`, authenticating with `<cert>.crt`/`<cert>.key` of `dir`. */
export function kubeconfigYaml(server: string, dir: string, cert = 'admin'): string {
  const b64 = (f: string): string => readFileSync(join(dir, f)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: vigil-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    '- name: vigil-admin',
    '  user:',
    `    client-certificate-data: ${b64(`${cert}.crt`)}`,
    `    client-key-data: ${b64(`${cert}.key`)}`,
    'contexts:',
    '- name: vigil-local',
    '  context: {cluster: vigil-local, user: vigil-admin}',
    'current-context: vigil-local',
    '',
  ].join('\n');
}

/** GET a path on the API server with the admin certificate; resolves with status and body. */
export function apiGet(
  state: ControlPlaneState,
  path: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: state.apiPort,
        path,
        method: 'GET',
        ca: readFileSync(join(state.dir, 'ca.crt')),
        cert: readFileSync(join(state.dir, 'admin.crt')),
        key: readFileSync(join(state.dir, 'admin.key')),
        timeout: timeoutMs,
      },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs: number,
  logHint: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
      if (/ exited \(code /.test(lastErr)) throw e;
    }
    await sleep(200);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}${logHint()}`,
  );
}

/**
 * Default flags with `extra` appended, a default dropped where `extra` sets the same flag (list
 * flags such as --authorization-mode would otherwise accumulate).
 */
export function mergeFlags(base: readonly string[], extra: readonly string[] = []): string[] {
  const overridden = new Set(extra.map((f) => f.split('=')[0]));
  return [...base.filter((f) => !overridden.has(f.split('=')[0])), ...extra];
}

export class ControlPlane {
  private readonly children = new Map<string, ChildProcess>();
  private readonly containers = new Map<string, import('./containers.ts').ComponentContainer>();
  private image: string | undefined;
  readonly state: ControlPlaneState;
  private readonly opts: ControlPlaneOptions;
  private readonly ownsDir: boolean;

  private constructor(state: ControlPlaneState, opts: ControlPlaneOptions, ownsDir: boolean) {
    this.state = state;
    this.opts = opts;
    this.ownsDir = ownsDir;
  }

  get kubeconfig(): string {
    return this.state.kubeconfig;
  }

  get kubectlPath(): string {
    return join(this.state.binDir, 'kubectl');
  }

  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const binDir = ensureBinaries();
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vigil-cp-'));
    mkdirSync(dir, { recursive: true });
    generateCerts(dir, opts.extraSans);
    const state: ControlPlaneState = {
      dir,
      binDir,
      etcdPort: await freePort(),
      apiPort: await freePort(),
      kubeconfig: join(dir, 'kubeconfig'),
      pids: {},
      apiServerArgs: [],
    };
    const cp = new ControlPlane(state, opts, ownsDir);
    try {
      await cp.startEtcd();
      await cp.startApiServer();
      writeFileSync(state.kubeconfig, kubeconfigYaml(`https://127.0.0.1:${state.apiPort}`, dir));
      if (opts.controllerManager !== false) await cp.startControllerManager();
      writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    } catch (e) {
      await cp.stop();
      throw e;
    }
    return cp;
  }

  get runtime(): 'process' | 'docker' {
    return (
      this.opts.runtime ?? (process.env['VIGIL_CONTROLPLANE_RUNTIME'] === 'docker' ? 'docker' : 'process')
    );
  }

  /** Starts a component as a process or, with the docker runtime, as a container. */
  private async launch(name: string, bin: string, args: string[]): Promise<void> {
    if (this.runtime === 'process') {
      this.spawnLogged(name, bin, args);
      return;
    }
    const c = await import('./containers.ts');
    this.image ??= await c.buildControlPlaneImage(this.state.binDir);
    this.containers.set(name, await c.startComponentContainer(this.image, this.state.dir, name, bin, args));
  }

  private spawnLogged(name: string, bin: string, args: string[]): ChildProcess {
    const log = openSync(join(this.state.dir, `${name}.log`), 'a');
    const child = spawn(join(this.state.binDir, bin), args, {
      stdio: ['ignore', log, log],
      detached: this.opts.detached === true,
    });
    if (this.opts.detached) child.unref();
    this.children.set(name, child);
    if (child.pid !== undefined) this.state.pids[name] = child.pid;
    return child;
  }

  /** Throws when a component has exited, so waits fail at once with its log. */
  private assertRunning(name: string): void {
    const c = this.children.get(name);
    if (c && (c.exitCode !== null || c.signalCode !== null))
      throw new Error(`${name} exited (code ${c.exitCode ?? c.signalCode})${this.logHint(name)}`);
  }

  private logHint(name: string): string {
    const f = join(this.state.dir, `${name}.log`);
    if (!existsSync(f)) return '';
    const tail = readFileSync(f, 'utf8').split('\n').slice(-15).join('\n');
    return `\n--- last lines of ${name}.log ---\n${tail}`;
  }

  async startEtcd(): Promise<void> {
    const s = this.state;
    const peer = await freePort();
    await this.launch('etcd', 'etcd', [
      `--data-dir=${join(s.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${s.etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${s.etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=default=http://127.0.0.1:${peer}`,
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ]);
    await waitFor(
      'etcd health',
      async () => {
        this.assertRunning('etcd');
        const r = await fetch(`http://127.0.0.1:${s.etcdPort}/health`);
        return r.ok;
      },
      30_000,
      () => this.logHint('etcd'),
    );
  }

  async startApiServer(audit: AuditBackendOptions | undefined = this.opts.audit): Promise<void> {
    const s = this.state;
    const d = s.dir;
    const base = [
      `--etcd-servers=http://127.0.0.1:${s.etcdPort}`,
      `--secure-port=${s.apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--tls-cert-file=${join(d, 'server.crt')}`,
      `--tls-private-key-file=${join(d, 'server.key')}`,
      `--client-ca-file=${join(d, 'ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(d, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(d, 'sa.key')}`,
      '--allow-privileged=true',
      // No endpoint for the kubernetes Service: loopback addresses are not allowed there.
      '--endpoint-reconciler-type=none',
      '--v=1',
    ];
    const args = mergeFlags(base, [...(this.opts.apiServerFlags ?? []), ...(audit ? auditFlags(audit) : [])]);
    s.apiServerArgs = args;
    await this.launch('kube-apiserver', 'kube-apiserver', args);
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        this.assertRunning('kube-apiserver');
        return (await apiGet(s, '/readyz', 2000)).status === 200;
      },
      90_000,
      () => this.logHint('kube-apiserver'),
    );
  }

  async startControllerManager(): Promise<void> {
    const d = this.state.dir;
    await this.launch(
      'kube-controller-manager',
      'kube-controller-manager',
      mergeFlags(
        [
          `--kubeconfig=${this.state.kubeconfig}`,
          `--authentication-kubeconfig=${this.state.kubeconfig}`,
          `--authorization-kubeconfig=${this.state.kubeconfig}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${await freePort()}`,
          `--service-account-private-key-file=${join(d, 'sa.key')}`,
          `--root-ca-file=${join(d, 'ca.crt')}`,
          '--controllers=*,-node-ipam-controller,-node-lifecycle-controller,-persistentvolume-attach-detach-controller,-persistentvolume-binder-controller',
          '--concurrent-deployment-syncs=10',
          '--concurrent-replicaset-syncs=10',
          '--v=1',
        ],
        this.opts.controllerManagerFlags,
      ),
    );
    // The controller manager is ready once it has created the default ServiceAccount.
    await waitFor(
      'kube-controller-manager (default ServiceAccount)',
      async () => {
        this.assertRunning('kube-controller-manager');
        return (
          (await apiGet(this.state, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200
        );
      },
      60_000,
      () => this.logHint('kube-controller-manager'),
    );
  }

  /**
   * Restarts kube-apiserver (same ports, certificates and etcd) with these audit backends
   * instead of its options' (undefined: none), and waits until it is ready again.
   */
  async restartApiServerWithAudit(audit: AuditBackendOptions | undefined): Promise<void> {
    const c = this.children.get('kube-apiserver');
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    } else await this.killContainer('kube-apiserver');
    this.children.delete('kube-apiserver');
    await this.startApiServer(audit);
  }

  /** Kills a component (SIGKILL), for fault tests. */
  async killContainer(name: string): Promise<void> {
    await this.containers.get(name)?.stop(0);
    this.containers.delete(name);
  }

  kill(name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager'): void {
    const c = this.children.get(name);
    if (c && c.exitCode === null) c.kill('SIGKILL');
    this.children.delete(name);
    delete this.state.pids[name];
  }

  /**
   * Applies Vigil's CRDs server-side (by default `crds/`; any manifest that holds them, such
   * as the install bundle, will do) and waits until the API server serves both.
   */
  installCrds(files: readonly string[] = CRD_FILES): void {
    this.kubectl(['apply', '--server-side', ...files.flatMap((f) => ['-f', f])]);
    this.kubectl([
      'wait',
      '--for',
      'condition=established',
      '--timeout=60s',
      ...CRD_NAMES.map((n) => `crd/${n}`),
    ]);
  }

  /** Runs kubectl against this control plane; returns stdout, throws with stderr on failure. */
  kubectl(args: string[], input?: string): string {
    return execFileSync(this.kubectlPath, ['--kubeconfig', this.kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  async stop(): Promise<void> {
    for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) {
      const c = this.children.get(name);
      if (!c || c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    this.children.clear();
    for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) await this.killContainer(name);
    if (this.ownsDir) rmSync(this.state.dir, { recursive: true, force: true });
  }
}

/** Stops the processes of a detached control plane from its state file (make cluster-down). */
export async function stopFromState(dir: string): Promise<boolean> {
  const f = join(dir, 'state.json');
  if (!existsSync(f)) return false;
  const state = JSON.parse(readFileSync(f, 'utf8')) as ControlPlaneState;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) {
    const pid = state.pids[name];
    if (pid === undefined || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  return true;
}
