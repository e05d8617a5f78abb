/**
 * Memory of the operator as users run it (issue 17 point 4): the image `make image` built, installed
 * from manifests/install.yaml (only the image changed) on a real node (e2e/node/node.ts: kubelet,
 * containerd, runc), so the container runs with the Deployment's memory limit, NODE_OPTIONS,
 * read-only root filesystem and no compile cache (a cold start: nothing cached in the image, no
 * writable home). The cluster holds bench/cluster.ts's load (N pods, half of them made by
 * kube-controller-manager for Deployments, ReplicaSets, StatefulSets and Jobs, and the same
 * `recommended` SecurityPolicy); the pods carry a schedulerName no scheduler answers to, so they
 * stay Pending as on the node-less bench control plane and only Vigil runs on the node.
 *
 * Phases: (1) cold start: install, no ScanReports yet; wait until the policy is Ready and the
 * ScanReport count has been stable for 15 s; (2) takeover: the leader pod is deleted; the standby
 * (whose caches are synced) takes over and its replacement starts cold with every report in place;
 * wait again. Memory is read from the operator containers' cgroups (the container's own memory
 * cgroup below the pod's, cgroup v1 memory.max_usage_in_bytes or v2 memory.peak) and sampled
 * every 500 ms (usage, and rss/cache from memory.stat).
 *
 * Writes bench/results/cluster-pod-memory.json and, unless --no-update, the pod figure into
 * bench/results/cluster.json (`rssMiB`, `memorySource`) and cluster-details.json (`podMemory`).
 *
 * Usage: node bench/pod-memory.ts [--pods N] [--namespaces K] [--no-update] [--out DIR]
 * Needs root, `make image` (its reference in .vigil/image/reference) and the node binaries
 * (make setup-noderuntime), like `make test-node`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane, waitFor } from '../e2e/controlplane/controlplane.ts';
import { LocalNode, nodeControlPlaneOptions } from '../e2e/node/node.ts';
import { builtImage, renderInstall } from '../e2e/node/image.ts';
import {
  Api,
  RESULT_KEYS,
  TARGETS,
  createObjects,
  defaultOptions,
  expectedPods,
  layout,
  updateMarkdown,
  waitForPods,
} from './cluster.ts';

const BENCH_DIR = import.meta.dirname;
const NS = 'vigil-system';
const SELECTOR = 'app.kubernetes.io/name=vigil,app.kubernetes.io/component=operator';
const GROUP_PATH = '/apis/security.vigil.dev/v1alpha1';
const MiB = 2 ** 20;
const round = (x: number, d = 1): number => Number(x.toFixed(d));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PodInfo {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    containerStatuses?: { name: string; containerID?: string; ready: boolean; restartCount: number }[];
  };
}

export interface ContainerMemory {
  pod: string;
  /** Largest memory charged to the container's cgroup since it started (bytes). */
  peakBytes: number;
  usageBytes: number;
  limitBytes: number;
  /** memory.stat: anonymous memory (rss / anon) and page cache at the time of reading. */
  rssBytes: number;
  cacheBytes: number;
  /** OOM kills recorded by the cgroup. */
  oomKills: number;
}

/** The memory cgroup directory of a container of a pod (cgroupfs driver; v1 or v2 layout). */
export function containerCgroup(root: string, podUid: string, containerId: string): string | undefined {
  const v1 = join(root, 'memory', 'kubepods');
  const v2 = join(root, 'kubepods');
  for (const base of existsSync(v1) ? [v1] : [v2]) {
    for (const qos of ['', 'burstable', 'besteffort']) {
      const d = join(base, qos, `pod${podUid}`, containerId);
      if (existsSync(d)) return d;
    }
  }
  return undefined;
}

/** Reads a container's memory cgroup (v1: memory.max_usage_in_bytes …; v2: memory.peak …). */
export function readContainerMemory(dir: string, pod: string): ContainerMemory {
  const num = (f: string): number => {
    const t = readFileSync(join(dir, f), 'utf8').trim();
    return t === 'max' ? Infinity : Number(t);
  };
  const stat = new Map(
    readFileSync(join(dir, 'memory.stat'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [k, v] = l.split(' ');
        return [k ?? '', Number(v)] as const;
      }),
  );
  if (existsSync(join(dir, 'memory.max_usage_in_bytes'))) {
    const oom = /oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.oom_control'), 'utf8'));
    return {
      pod,
      peakBytes: num('memory.max_usage_in_bytes'),
      usageBytes: num('memory.usage_in_bytes'),
      limitBytes: num('memory.limit_in_bytes'),
      rssBytes: stat.get('rss') ?? 0,
      cacheBytes: stat.get('cache') ?? 0,
      oomKills: Number(oom?.[1] ?? 0),
    };
  }
  const oom = /oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.events'), 'utf8'));
  return {
    pod,
    peakBytes: num('memory.peak'),
    usageBytes: num('memory.current'),
    limitBytes: num('memory.max'),
    rssBytes: stat.get('anon') ?? 0,
    cacheBytes: stat.get('file') ?? 0,
    oomKills: Number(oom?.[1] ?? 0),
  };
}

interface Sample {
  t: number;
  phase: string;
  pod: string;
  usageMiB: number;
  rssMiB: number;
}

interface PhaseResult {
  /** Seconds from applying install.yaml (or deleting the leader) to the policy Ready and reports stable. */
  seconds: number;
  scanReports: number;
  /** Container restarts of the operator pods at the end of the phase (a V8 heap exhaustion shows here). */
  restarts: number;
  containers: (Omit<
    ContainerMemory,
    'peakBytes' | 'usageBytes' | 'limitBytes' | 'rssBytes' | 'cacheBytes'
  > & {
    peakMiB: number;
    usageMiB: number;
    limitMiB: number;
    rssMiB: number;
    cacheMiB: number;
  })[];
}

export interface PodMemoryResult {
  generatedAt: string;
  image: string;
  pods: number;
  machine: { cpus: number; memoryGiB: number; os: string; cgroup: 'v1' | 'v2' };
  loadAverage: number[];
  coldStart: PhaseResult;
  takeover: PhaseResult;
  /** Largest container peak over both phases. */
  peakMiB: number;
  oomKills: number;
  samples: Sample[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' },
      namespaces: { type: 'string' },
      out: { type: 'string' },
      'no-update': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(readFileSync(import.meta.filename, 'utf8').split('*/')[0]);
    return;
  }
  const o = defaultOptions();
  if (values.pods) o.pods = Number(values.pods);
  if (values.namespaces) o.namespaces = Number(values.namespaces);
  o.schedulerName = 'vigil-bench-unscheduled';
  const outDir = resolve(values.out ?? join(BENCH_DIR, 'results'));
  mkdirSync(outDir, { recursive: true });
  const image = builtImage();
  const plan = layout(o.pods, o.namespaces);
  const want = expectedPods(plan);
  const base = nodeControlPlaneOptions(mkdtempSync(join(os.tmpdir(), 'vigil-cp-')));
  o.log(`starting a control plane and a node (${want} pods planned; image ${image})`);
  const cp = await ControlPlane.start({
    ...base,
    // As bench/cluster.ts runs it: 5,000 controller-made pods at the default 20 QPS take minutes.
    controllerManagerFlags: [
      ...(base.controllerManagerFlags ?? []),
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--concurrent-statefulset-syncs=10',
      '--concurrent-job-syncs=10',
      '--kube-api-qps=300',
      '--kube-api-burst=600',
    ],
  });
  let node: LocalNode | undefined;
  const samples: Sample[] = [];
  const t0 = performance.now();
  let phase = 'setup';
  const api = new Api(cp.state, o.concurrency + 8);
  const peaks = new Map<string, ContainerMemory>();
  let sampler: NodeJS.Timeout | undefined;
  try {
    node = await LocalNode.start(cp);
    cp.installCrds();
    o.log('creating objects');
    await createObjects(api, plan, o);
    await waitForPods(api, want, o);
    o.log(
      `${want} pods; load ${os
        .loadavg()
        .map((x) => round(x, 2))
        .join(' ')}`,
    );
    await sleep(5000);

    const operatorPods = async (): Promise<PodInfo[]> =>
      (
        await api.json<{ items: PodInfo[] }>(
          `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(SELECTOR)}`,
        )
      ).items;
    const cgroupRoot = '/sys/fs/cgroup';
    const readAll = async (): Promise<ContainerMemory[]> => {
      const out: ContainerMemory[] = [];
      for (const p of await operatorPods()) {
        const id = p.status.containerStatuses?.find((c) => c.name === 'manager')?.containerID;
        if (!id) continue;
        const dir = containerCgroup(cgroupRoot, p.metadata.uid, id.replace(/^[a-z]+:\/\//, ''));
        if (!dir) continue;
        try {
          const m = readContainerMemory(dir, p.metadata.name);
          out.push(m);
          const prev = peaks.get(`${p.metadata.name}/${id}`);
          if (!prev || m.peakBytes >= prev.peakBytes) peaks.set(`${p.metadata.name}/${id}`, m);
        } catch {
          // the container just went away
        }
      }
      return out;
    };
    sampler = setInterval(() => {
      void readAll().then((ms) => {
        for (const m of ms)
          samples.push({
            t: round((performance.now() - t0) / 1000),
            phase,
            pod: m.pod,
            usageMiB: round(m.usageBytes / MiB),
            rssMiB: round(m.rssBytes / MiB),
          });
      });
    }, 500);

    const settle = async (label: string): Promise<PhaseResult> => {
      const start = performance.now();
      await waitFor(
        `${label}: the policy Ready`,
        async () => {
          const p = await api.json<{ status?: { conditions?: { type: string; status: string }[] } }>(
            `${GROUP_PATH}/securitypolicies/recommended`,
          );
          return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
        },
        15 * 60_000,
      );
      let last = -1;
      let since = performance.now();
      await waitFor(
        `${label}: ScanReports stable for 15 s`,
        async () => {
          const n = await api.count(`${GROUP_PATH}/scanreports`);
          if (n !== last) {
            last = n;
            since = performance.now();
          }
          return performance.now() - since > 15_000;
        },
        15 * 60_000,
      );
      const seconds = round((performance.now() - start) / 1000 - 15, 2);
      await readAll();
      const restarts = (await operatorPods()).reduce(
        (n, p) => n + (p.status.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0),
        0,
      );
      const containers = [...peaks.values()].map((m) => ({
        pod: m.pod,
        oomKills: m.oomKills,
        peakMiB: round(m.peakBytes / MiB),
        usageMiB: round(m.usageBytes / MiB),
        limitMiB: round(m.limitBytes / MiB),
        rssMiB: round(m.rssBytes / MiB),
        cacheMiB: round(m.cacheBytes / MiB),
      }));
      o.log(
        `  ${label}: ${last} ScanReports, ${restarts} restarts; containers ${JSON.stringify(containers)}`,
      );
      return { seconds, scanReports: last, restarts, containers };
    };

    phase = 'cold-start';
    o.log('cold start: install.yaml with the built image, no reports in the cluster');
    cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', renderInstall(image)]);
    const coldStart = await settle('cold start');

    phase = 'takeover';
    const holder = cp
      .kubectl(['get', 'lease', 'vigil-leader', '-n', NS, '-o', 'jsonpath={.spec.holderIdentity}'])
      .trim();
    const leader = (await operatorPods()).find(
      (p) => holder === p.metadata.name || holder.startsWith(`${p.metadata.name}-`),
    );
    if (!leader) throw new Error(`no operator pod holds the lease (holder "${holder}")`);
    o.log(`takeover: deleting the leader ${leader.metadata.name}`);
    cp.kubectl(['delete', 'pod', '-n', NS, leader.metadata.name, '--wait=true']);
    await waitFor(
      'a new leader and 2 ready operator pods',
      async () => {
        const h = cp
          .kubectl(['get', 'lease', 'vigil-leader', '-n', NS, '-o', 'jsonpath={.spec.holderIdentity}'])
          .trim();
        const ps = (await operatorPods()).filter((p) => !p.metadata.deletionTimestamp);
        return (
          h !== holder &&
          ps.length === 2 &&
          ps.every((p) => p.status.containerStatuses?.every((c) => c.ready) === true)
        );
      },
      5 * 60_000,
    );
    // The new leader re-evaluates everything against the reports in place.
    await sleep(30_000);
    const takeover = await settle('takeover');

    clearInterval(sampler);
    sampler = undefined;
    const all = [...peaks.values()];
    const result: PodMemoryResult = {
      generatedAt: new Date().toISOString(),
      image,
      pods: want,
      machine: {
        cpus: os.cpus().length,
        memoryGiB: round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()}`,
        cgroup: existsSync(join(cgroupRoot, 'memory', 'kubepods')) ? 'v1' : 'v2',
      },
      loadAverage: os.loadavg().map((x) => round(x, 2)),
      coldStart,
      takeover,
      peakMiB: round(Math.max(...all.map((m) => m.peakBytes)) / MiB),
      oomKills: all.reduce((n, m) => n + m.oomKills, 0),
      samples,
    };
    writeFileSync(join(outDir, 'cluster-pod-memory.json'), `${JSON.stringify(result, null, 2)}\n`);
    o.log(`peak ${result.peakMiB} MiB charged to an operator container; ${result.oomKills} OOM kills`);
    if (!values['no-update']) {
      updateClusterResults(outDir, result);
      updateMarkdown(join(BENCH_DIR, '..', 'BENCHMARKS.md'), renderPodMarkdown(result, nodeOptions()), {
        begin: POD_MD_BEGIN,
        end: POD_MD_END,
      });
    }
  } finally {
    if (sampler) clearInterval(sampler);
    if (node) await node.stop();
    await cp.stop();
  }
}

export const POD_MD_BEGIN =
  '<!-- BEGIN pod memory results: generated by bench/pod-memory.ts, do not edit -->';
export const POD_MD_END = '<!-- END pod memory results -->';

/** NODE_OPTIONS of the Deployment the run installed. */
function nodeOptions(): string {
  const m = /name: NODE_OPTIONS\s+value: (.+)/.exec(
    readFileSync(join(BENCH_DIR, '..', 'config', 'manager', 'manager.yaml'), 'utf8'),
  );
  return m?.[1]?.trim() ?? '';
}

/** BENCHMARKS.md's pod memory table. */
export function renderPodMarkdown(r: PodMemoryResult, nodeOpts: string): string {
  const by = (p: PhaseResult): string =>
    p.containers.map((c) => `${c.pod.replace(/^.*-/, '…-')} ${c.peakMiB}`).join(', ');
  const met = r.peakMiB <= TARGETS.rssMiB && r.oomKills === 0 ? 'met' : '**not met**';
  return [
    `Run of ${r.generatedAt.slice(0, 10)}: ${r.pods.toLocaleString('en-US')} pods; image \`${r.image}\`; cgroup ${r.machine.cgroup}; ${r.machine.cpus} CPUs; load average at the end ${r.loadAverage.join(' ')}. Deployment as shipped: memory limit ${r.coldStart.containers[0]?.limitMiB ?? '?'} MiB, \`NODE_OPTIONS=${nodeOpts}\`.`,
    '',
    '| Measure | Result | Target | |',
    '|---|---:|---:|---|',
    `| Most memory charged to an operator container's cgroup, over the run | ${r.peakMiB} MiB | ≤ ${TARGETS.rssMiB} MiB | ${met} |`,
    `| Cold start (no reports): peak per container, MiB (leader and standby) | ${by(r.coldStart)} | | |`,
    `| After the leader's deletion (standby takes over, a new replica starts with ${r.takeover.scanReports.toLocaleString('en-US')} reports in place): peak per container since it started (the deleted leader included), MiB | ${by(r.takeover)} | | |`,
    `| OOM kills / container restarts | ${r.oomKills} / ${r.takeover.restarts} | 0 | ${r.oomKills === 0 && r.takeover.restarts === 0 ? 'met' : '**not met**'} |`,
  ].join('\n');
}

/** The pod figure into cluster.json (rssMiB, memorySource) and cluster-details.json (podMemory). */
export function updateClusterResults(dir: string, r: PodMemoryResult): void {
  const resultFile = join(dir, 'cluster.json');
  const detailsFile = join(dir, 'cluster-details.json');
  if (!existsSync(resultFile) || !existsSync(detailsFile)) return;
  const read = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
  read['rssMiB'] = r.peakMiB;
  read['memorySource'] = 'pod cgroup';
  // In the documented order (RESULT_KEYS), whatever the file had.
  const result: Record<string, unknown> = {};
  for (const k of [...RESULT_KEYS, ...Object.keys(read)]) if (read[k] !== undefined) result[k] = read[k];
  writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  const details = JSON.parse(readFileSync(detailsFile, 'utf8')) as Record<string, unknown>;
  const { samples: _s, ...summary } = r;
  details['podMemory'] = summary;
  writeFileSync(detailsFile, `${JSON.stringify(details, null, 2)}\n`);
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
