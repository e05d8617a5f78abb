/**
 * A real Kubernetes node beside the e2e control plane, so that Vigil runs as a Pod the way users
 * run it: kube-scheduler, a kubelet and kube-proxy (iptables mode) built from the same pinned
 * Kubernetes module as the control plane, containerd v2 with Debian's runc, Debian's CNI bridge and
 * host-local plugins, and a pause image built here from the Kubernetes source and served by the
 * local registry. Nothing is simulated: pods are scheduled, pulled from the registry by digest,
 * started in their own network namespace and cgroup, probed by the kubelet, and reach the API
 * server through the `kubernetes` Service (kube-proxy's rules).
 *
 * Host layout (root needed): a bridge vigil-cni0 with the node address 10.244.0.1/24; pods get
 * 10.244.0.2-254 and no masquerade (nothing leaves the machine); Services are 10.0.0.0/24. The
 * API server listens on every address (0.0.0.0) with a client-certificate requirement, advertising
 * 10.244.0.1 so the kubernetes Service points at it. Cgroup v1 hosts need `failCgroupV1: false`
 * (set below; the kubelet refuses cgroup v1 otherwise). Everything is removed by stop(): pods'
 * processes (by cgroup), mounts, network namespaces, kube-proxy's iptables rules, the bridge.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import {
  ControlPlane,
  REPO_ROOT,
  freePort,
  issueClientCert,
  kubeconfigYaml,
  waitFor,
  type ControlPlaneOptions,
} from '../controlplane/controlplane.ts';
import { layerFromDir, push, writeImage } from '../../scripts/image/oci.ts';
import { DEFAULT_REGISTRY, ensureRegistry } from '../../scripts/image/registry.ts';

export const NODE_NAME = 'vigil-node';
export const NODE_IP = '10.244.0.1';
export const POD_CIDR = '10.244.0.0/24';
export const BRIDGE = 'vigil-cni0';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** The node's binaries: Kubernetes' (same dir as the control plane's) and containerd's. */
export function nodeBinaries(): { k8s: string; containerd: string } {
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'node-build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [k8s, containerd] = out.trim().split('\n').slice(-2);
  if (!k8s || !containerd) throw new Error(`scripts/node-build.sh printed no bin directories: ${out}`);
  return { k8s, containerd };
}

/** Control-plane options a node needs: reachable off loopback, Node authorizer, a kubelet client cert. */
export function nodeControlPlaneOptions(dir: string): ControlPlaneOptions {
  return {
    dir,
    extraSans: [NODE_IP],
    apiServerFlags: [
      '--bind-address=0.0.0.0',
      `--advertise-address=${NODE_IP}`,
      '--endpoint-reconciler-type=lease',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--kubelet-client-certificate=${join(dir, 'admin.crt')}`,
      `--kubelet-client-key=${join(dir, 'admin.key')}`,
      // Reach the kubelet at its address, never by resolving the node's name through DNS.
      '--kubelet-preferred-address-types=InternalIP',
    ],
    // The node lifecycle controller lifts the not-ready taint the kubelet registers with.
    controllerManagerFlags: [
      '--controllers=*,-node-ipam-controller,-persistentvolume-attach-detach-controller,-persistentvolume-binder-controller',
    ],
  };
}

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const trySh = (cmd: string, args: string[]): boolean => {
  try {
    sh(cmd, args);
    return true;
  } catch {
    return false;
  }
};

/** Status of a GET, for health endpoints (self-signed TLS accepted: loopback only). */
function httpStatus(url: string): Promise<number> {
  return new Promise((res, rej) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { rejectUnauthorized: false, timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
  });
}

/** Builds the pause image (the static program from Kubernetes' build/pause) and pushes it. */
async function pauseImage(k8sBin: string, registry: string, work: string): Promise<string> {
  const tag = readFileSync(join(k8sBin, 'pause.version'), 'utf8').trim();
  const tree = join(work, 'pause-rootfs');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'pause'), readFileSync(join(k8sBin, 'pause')), { mode: 0o755 });
  const layout = join(work, 'pause-oci');
  mkdirSync(layout, { recursive: true });
  const img = writeImage(
    layout,
    [
      layerFromDir(
        layout,
        tree,
        `pause ${tag}, built from the Kubernetes module's build/pause/linux/pause.c`,
      ),
    ],
    {
      user: '65535:65535',
      env: [],
      entrypoint: ['/pause'],
      cmd: [],
      workingDir: '/',
      exposedPorts: [],
      labels: {},
    },
    `pause:${tag}`,
  );
  await push(img, registry, 'pause', tag);
  return `${registry}/pause:${tag}`;
}

/** The directories of a cgroup v1 subtree in every hierarchy, deepest first. */
function cgroupDirs(sub: string): string[] {
  const dirs: string[] = [];
  if (!existsSync(CGROUP_ROOT)) return dirs;
  for (const ctrl of readdirSync(CGROUP_ROOT)) {
    const walk = (d: string): void => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
      dirs.push(d);
    };
    walk(join(CGROUP_ROOT, ctrl, sub));
  }
  return dirs;
}

/** Kills every process in the kubelet's pod cgroups, then removes the cgroups. */
function removePodCgroups(): void {
  for (let round = 0; round < 20; round++) {
    let alive = 0;
    for (const d of cgroupDirs('kubepods')) {
      const procs = join(d, 'cgroup.procs');
      if (!existsSync(procs)) continue;
      for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean)) {
        alive++;
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (alive === 0) break;
    execFileSync('sleep', ['0.2']);
  }
  for (const d of cgroupDirs('kubepods')) {
    try {
      rmdirSync(d);
    } catch {
      // busy a moment longer, or not ours to remove
    }
  }
}

/** Unmounts everything mounted below `prefix` (deepest first; lazily, so a busy mount goes too). */
function unmountBelow(prefix: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) trySh('umount', ['-l', m]);
}

/** Processes whose command line mentions `needle` (containerd shims of this node). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) pids.push(Number(p));
    } catch {
      // exited
    }
  }
  return pids;
}

export interface LocalNodeOptions {
  registry?: string;
}

export class LocalNode {
  private readonly children = new Map<string, ChildProcess>();
  readonly dir: string;
  readonly bins: { k8s: string; containerd: string };
  readonly registry: string;
  readonly cp: ControlPlane;
  pauseImage = '';
  private kubeletPort = 0;

  private constructor(
    cp: ControlPlane,
    dir: string,
    bins: { k8s: string; containerd: string },
    registry: string,
  ) {
    this.cp = cp;
    this.dir = dir;
    this.bins = bins;
    this.registry = registry;
  }

  get containerdSocket(): string {
    return join(this.dir, 'containerd', 'containerd.sock');
  }

  /** Starts the node's components against `cp` (started with nodeControlPlaneOptions). */
  static async start(cp: ControlPlane, opts: LocalNodeOptions = {}): Promise<LocalNode> {
    const bins = nodeBinaries();
    const registry = opts.registry ?? (process.env['REGISTRY'] || DEFAULT_REGISTRY);
    await ensureRegistry(registry, join(REPO_ROOT, '.vigil', 'registry'));
    const dir = join(cp.state.dir, 'node');
    mkdirSync(dir, { recursive: true });
    const node = new LocalNode(cp, dir, bins, registry);
    try {
      LocalNode.cleanStale(bins.k8s);
      node.network();
      node.pauseImage = await pauseImage(bins.k8s, registry, dir);
      await node.startContainerd();
      await node.startScheduler();
      await node.startKubelet();
      await node.startKubeProxy();
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  }

  /** Leftovers of a node that was not stopped (a killed test run): pods' processes, rules, mounts. */
  static cleanStale(k8sBin: string): void {
    removePodCgroups();
    unmountBelow('/tmp/vigil-cp-');
    trySh(join(k8sBin, 'kube-proxy'), ['--cleanup', '--v=0']);
  }

  private network(): void {
    if (!trySh('ip', ['link', 'show', BRIDGE])) sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    if (!sh('ip', ['-4', 'addr', 'show', 'dev', BRIDGE]).includes(`${NODE_IP}/24`))
      sh('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', BRIDGE]);
    sh('ip', ['link', 'set', BRIDGE, 'up']);
    // Pods reach the API server through the kubernetes Service: packets crossing the bridge must
    // see kube-proxy's iptables rules, and the node must route between the bridge and itself.
    writeFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    mkdirSync(join(this.dir, 'cni', 'net.d'), { recursive: true });
    writeFileSync(
      join(this.dir, 'cni', 'net.d', '10-vigil.conflist'),
      JSON.stringify(
        {
          cniVersion: '1.0.0',
          name: 'vigil',
          plugins: [
            {
              type: 'bridge',
              bridge: BRIDGE,
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: {
                type: 'host-local',
                ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]],
                routes: [{ dst: '0.0.0.0/0' }],
                dataDir: join(this.dir, 'cni', 'ipam'),
              },
            },
          ],
        },
        null,
        2,
      ),
    );
  }

  private spawn(
    name: string,
    bin: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(bin, args, { stdio: ['ignore', log, log], env });
    this.children.set(name, child);
    return child;
  }

  logTail(name: string, lines = 20): string {
    const f = join(this.dir, `${name}.log`);
    if (!existsSync(f)) return '';
    return `\n--- last lines of ${name}.log ---\n${readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n')}`;
  }

  private assertRunning(name: string): void {
    const c = this.children.get(name);
    if (c && (c.exitCode !== null || c.signalCode !== null))
      throw new Error(`${name} exited (code ${c.exitCode ?? c.signalCode})${this.logTail(name)}`);
  }

  private async startContainerd(): Promise<void> {
    const d = join(this.dir, 'containerd');
    const hosts = join(d, 'certs.d', this.registry);
    mkdirSync(hosts, { recursive: true });
    // The local registry speaks plain HTTP on loopback.
    writeFileSync(
      join(hosts, 'hosts.toml'),
      `server = "http://${this.registry}"\n\n[host."http://${this.registry}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const config = `version = 3
root = "${join(d, 'root')}"
state = "${join(d, 'state')}"

[grpc]
  address = "${this.containerdSocket}"

[ttrpc]
  address = "${join(d, 'containerd.sock.ttrpc')}"

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '${this.pauseImage}'
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '${join(d, 'certs.d')}'

  [plugins.'io.containerd.cri.v1.runtime']
    netns_mounts_under_state_dir = true
    # This machine refuses negative oom_score_adj values even to root; the kubelet asks -998 for
    # sandboxes. containerd's own setting for such hosts caps them at containerd's score (0).
    restrict_oom_score_adj = true
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '${process.env['VIGIL_NODE_RUNC'] ?? '/usr/sbin/runc'}'
          Root = '${join(d, 'runc')}'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
      conf_dir = '${join(this.dir, 'cni', 'net.d')}'

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
`;
    writeFileSync(join(this.dir, 'containerd.toml'), config);
    const env = { ...process.env, PATH: `${this.bins.containerd}:/usr/sbin:/usr/bin:/sbin:/bin` };
    this.spawn(
      'containerd',
      join(this.bins.containerd, 'containerd'),
      ['--config', join(this.dir, 'containerd.toml')],
      env,
    );
    await waitFor(
      'containerd',
      () => {
        this.assertRunning('containerd');
        return Promise.resolve(
          existsSync(this.containerdSocket) &&
            trySh(join(this.bins.containerd, 'ctr'), ['--address', this.containerdSocket, 'version']),
        );
      },
      30_000,
      () => this.logTail('containerd'),
    );
  }

  private kubeconfigFor(name: string, cn: string, orgs: string[] = []): string {
    const certDir = this.cp.state.dir;
    issueClientCert(certDir, name, cn, orgs);
    const file = join(this.dir, `${name}.kubeconfig`);
    writeFileSync(file, kubeconfigYaml(`https://127.0.0.1:${this.cp.state.apiPort}`, certDir, name));
    return file;
  }

  private async healthz(name: string, url: string): Promise<void> {
    await waitFor(
      `${name} ${url}`,
      async () => {
        this.assertRunning(name);
        return (await httpStatus(url)) === 200;
      },
      60_000,
      () => this.logTail(name),
    );
  }

  private async startScheduler(): Promise<void> {
    const kc = this.kubeconfigFor('kube-scheduler', 'system:kube-scheduler');
    const port = await freePort();
    this.spawn('kube-scheduler', join(this.bins.k8s, 'kube-scheduler'), [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--v=1',
    ]);
    // /healthz of the secure port answers without credentials (an always-allowed path); its
    // serving certificate is self-signed.
    await this.healthz('kube-scheduler', `https://127.0.0.1:${port}/healthz`);
  }

  private async startKubelet(): Promise<void> {
    const kc = this.kubeconfigFor('kubelet', `system:node:${NODE_NAME}`, ['system:nodes']);
    this.kubeletPort = await freePort();
    const healthz = await freePort();
    const config = {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: NODE_IP,
      port: this.kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: healthz,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: join(this.cp.state.dir, 'ca.crt') },
      },
      authorization: { mode: 'Webhook' },
      // This host mounts cgroup v1; kubelet 1.35+ refuses it unless told otherwise.
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: true,
      enforceNodeAllocatable: ['pods'],
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${this.containerdSocket}`,
      imageServiceEndpoint: `unix://${this.containerdSocket}`,
      clusterDomain: 'cluster.local',
      // Pods get a resolver on their own loopback, where nothing answers: no lookup leaves the
      // machine (Vigil needs none; it reaches the API server by the Service's address).
      resolvConf: join(this.dir, 'resolv.conf'),
      maxPods: 40,
      serializeImagePulls: false,
      // A test machine's disk may be mostly used by other things: evict only when truly full.
      evictionHard: {
        'memory.available': '100Mi',
        'nodefs.available': '1%',
        'imagefs.available': '1%',
        'nodefs.inodesFree': '1%',
      },
      imageGCHighThresholdPercent: 99,
      imageGCLowThresholdPercent: 98,
      nodeStatusUpdateFrequency: '5s',
      syncFrequency: '10s',
      fileCheckFrequency: '10s',
      protectKernelDefaults: false,
      rotateCertificates: false,
    };
    writeFileSync(join(this.dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    writeFileSync(join(this.dir, 'kubelet.yaml'), JSON.stringify(config, null, 2));
    this.spawn('kubelet', join(this.bins.k8s, 'kubelet'), [
      `--config=${join(this.dir, 'kubelet.yaml')}`,
      `--kubeconfig=${kc}`,
      `--root-dir=${join(this.dir, 'kubelet')}`,
      `--cert-dir=${join(this.dir, 'kubelet-pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      '--v=1',
    ]);
    await waitFor(
      `node ${NODE_NAME} Ready`,
      () => {
        this.assertRunning('kubelet');
        try {
          const status = this.cp.kubectl([
            'get',
            'node',
            NODE_NAME,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ]);
          return Promise.resolve(status.trim() === 'True');
        } catch {
          return Promise.resolve(false);
        }
      },
      120_000,
      () => this.logTail('kubelet', 30),
    );
  }

  private async startKubeProxy(): Promise<void> {
    const kc = this.kubeconfigFor('kube-proxy', 'system:kube-proxy');
    const healthz = await freePort();
    const metrics = await freePort();
    const config = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clientConnection: { kubeconfig: kc },
      hostnameOverride: NODE_NAME,
      clusterCIDR: POD_CIDR,
      bindAddress: NODE_IP,
      healthzBindAddress: `127.0.0.1:${healthz}`,
      metricsBindAddress: `127.0.0.1:${metrics}`,
      // Leave the host's conntrack sysctls and loopback routing alone; NodePorts only on the bridge.
      conntrack: { maxPerCore: 0 },
      iptables: { localhostNodePorts: false },
      nodePortAddresses: [`${NODE_IP}/32`],
    };
    writeFileSync(join(this.dir, 'kube-proxy.yaml'), JSON.stringify(config, null, 2));
    this.spawn('kube-proxy', join(this.bins.k8s, 'kube-proxy'), [
      `--config=${join(this.dir, 'kube-proxy.yaml')}`,
      '--v=1',
    ]);
    await this.healthz('kube-proxy', `http://127.0.0.1:${healthz}/healthz`);
    // The kubernetes Service's rule is in place once kube-proxy has synced.
    await waitFor(
      'kube-proxy rule for the kubernetes Service',
      () => Promise.resolve(sh('iptables-save', ['-t', 'nat']).includes('default/kubernetes:https')),
      60_000,
      () => this.logTail('kube-proxy'),
    );
  }

  /** Bytes of memory a pod's cgroup uses now and at its peak (cgroup v1 memory controller). */
  podMemory(uid: string): { usage: number; peak: number; limit: number } {
    for (const qos of ['', 'burstable', 'besteffort']) {
      const d = join(CGROUP_ROOT, 'memory', 'kubepods', qos, `pod${uid}`);
      if (!existsSync(d)) continue;
      const read = (f: string): number => Number(readFileSync(join(d, f), 'utf8').trim());
      return {
        usage: read('memory.usage_in_bytes'),
        peak: read('memory.max_usage_in_bytes'),
        limit: read('memory.limit_in_bytes'),
      };
    }
    throw new Error(`no memory cgroup for pod ${uid} under ${CGROUP_ROOT}/memory/kubepods`);
  }

  async stop(): Promise<void> {
    const term = async (name: string): Promise<void> => {
      const c = this.children.get(name);
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    };
    for (const name of ['kubelet', 'kube-proxy', 'kube-scheduler']) await term(name);
    removePodCgroups();
    await term('containerd');
    for (const pid of processesMentioning(this.containerdSocket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    unmountBelow(this.dir);
    removePodCgroups();
    trySh(join(this.bins.k8s, 'kube-proxy'), ['--cleanup', '--v=0']);
    trySh('ip', ['link', 'delete', BRIDGE]);
    this.children.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
