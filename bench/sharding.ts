/**
 * Sharding benchmark (issue 17 point 5): `vigil operator --sharding` with 1, 2 and 3 replicas
 * against one local control plane (bench/cluster.ts's setup: N pods, half bare, half made by
 * kube-controller-manager for workloads, a `recommended` policy over every namespace).
 *
 * For each shard count: no ScanReports present, the replicas start together (short lease timings,
 * so they agree on the members within about a second); measured until every replica has finished
 * its full evaluation after the last member change and the SecurityPolicy is Ready with every
 * share counted:
 * - time to all reports (spawn → the last replica's "full evaluation complete");
 * - per replica: CPU seconds (/proc/<pid>/stat utime+stime at the end), peak RSS (sampled every
 *   250 ms), the pods in its share (rendezvous assignment recomputed from the identities).
 *
 * Per-1k-pod figures: a least-squares line over every replica of every run, x = pods in its share,
 * y = CPU seconds (or peak RSS MiB): slope = per 1k pods, intercept = what a replica costs
 * whatever its share (its process, the unfiltered kinds, decoding every pod event: the API cannot
 * filter by a hash, so each replica still receives every pod). The projection to 100k pods for
 * 1, 2, 4 and 8 shards is that line at 100k/shards: a LINEAR projection from the measured
 * per-1k figures, not a measurement.
 *
 * Writes bench/results/sharding.json. Usage: node bench/sharding.ts [--pods N] [--namespaces K]
 *   [--shards 1,2,3] [--out FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane, waitFor } from '../e2e/controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../e2e/operator/process.ts';
import { ownerOf } from '../operator/src/runtime/sharding.ts';
import {
  Api,
  createObjects,
  defaultOptions,
  expectedPods,
  layout,
  startControllerManager,
  waitForPods,
} from './cluster.ts';

const GROUP_PATH = '/apis/security.vigil.dev/v1alpha1';
const ARGS = [
  '--sharding',
  '--leader-elect-lease-duration',
  '6',
  '--leader-elect-renew-deadline',
  '4',
  '--leader-elect-retry-period',
  '1',
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 after the name.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface ReplicaResult {
  identity: string;
  sharePods: number;
  shareNamespaces: number;
  cpuSeconds: number;
  rssPeakMiB: number;
  rssEndMiB: number;
}

interface RunResult {
  shards: number;
  timeToAllReportsSeconds: number;
  reports: number;
  replicas: ReplicaResult[];
}

function fit(points: readonly { x: number; y: number }[]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' },
      namespaces: { type: 'string' },
      shards: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const o = {
    ...defaultOptions(false),
    pods: Number(values.pods ?? 4000),
    namespaces: Number(values.namespaces ?? 40),
    log: (m: string) => console.error(`[sharding-bench ${new Date().toISOString().slice(11, 19)}] ${m}`),
  };
  const shardCounts = (values.shards ?? '1,2,3').split(',').map(Number);
  const out = values.out ?? join(import.meta.dirname, 'results', 'sharding.json');
  const plan = layout(o.pods, o.namespaces);
  const want = expectedPods(plan);
  const t0 = performance.now();
  o.log(`control plane; ${String(want)} pods in ${String(plan.length)} namespaces`);
  const cp = await ControlPlane.start({ controllerManager: false });
  const kcm = await startControllerManager(cp);
  const api = new Api(cp.state, o.concurrency + 8);
  const runs: RunResult[] = [];
  try {
    cp.installCrds();
    await createObjects(api, plan, o);
    await waitForPods(api, want, o);
    await sleep(5000);
    const podsByNs = new Map<string, number>();
    for (const p of (await api.json<{ items: { metadata: { namespace: string } }[] }>('/api/v1/pods')).items)
      podsByNs.set(p.metadata.namespace, (podsByNs.get(p.metadata.namespace) ?? 0) + 1);

    for (const shards of shardCounts) {
      // Cold: no reports, no member leases left from the previous run.
      for (const ns of [...podsByNs.keys(), 'vigil-system'])
        await api.call('DELETE', `${GROUP_PATH}/namespaces/${ns}/scanreports`);
      await api.call('DELETE', '/apis/coordination.k8s.io/v1/namespaces/vigil-system/leases');
      await waitFor(
        'no ScanReports',
        async () => (await api.count(`${GROUP_PATH}/scanreports`)) === 0,
        120_000,
      );
      o.log(`${String(shards)} shard(s)`);
      const done = new Map<number, number>();
      const lastChange = new Map<number, number>();
      const spawned = performance.now();
      const ops: OperatorProcess[] = await Promise.all(
        Array.from({ length: shards }, (_, i) =>
          startOperator({
            kubeconfig: cp.kubeconfig,
            args: ARGS,
            // As shipped: the Deployment's NODE_OPTIONS (config/manager/manager.yaml).
            env: { POD_NAME: `bench-${String(i)}`, NODE_OPTIONS: o.nodeOptions ?? '' },
            logLevel: 'info',
            waitReady: false,
            onLine: (line, at) => {
              if (line.includes('"shard members changed"')) lastChange.set(i, at);
              if (line.includes('"full evaluation complete"')) done.set(i, at);
            },
          }),
        ),
      );
      const peaks = ops.map(() => 0);
      const sampler = setInterval(() => {
        ops.forEach((op, i) => (peaks[i] = Math.max(peaks[i] ?? 0, rssMiB(op.child.pid ?? -1))));
      }, 250);
      const ids = ops.map((op, i) => `bench-${String(i)}-${String(op.child.pid)}`);
      await waitFor(
        'every replica evaluated its final share, and the policy is Ready',
        async () => {
          for (let i = 0; i < shards; i++) {
            const d = done.get(i);
            if (d === undefined || d < (lastChange.get(i) ?? 0)) return false;
          }
          const p = await api.json<{ status?: { conditions?: { type: string; status: string }[] } }>(
            `${GROUP_PATH}/securitypolicies/recommended`,
          );
          return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
        },
        15 * 60_000,
      );
      const end = Math.max(...[...done.values()]);
      clearInterval(sampler);
      const reports = await api.count(`${GROUP_PATH}/scanreports`);
      const replicas: ReplicaResult[] = ops.map((op, i) => {
        const mine = [...podsByNs.entries()].filter(([ns]) => ownerOf(ns, ids) === ids[i]);
        return {
          identity: ids[i] ?? '',
          sharePods: mine.reduce((a, [, n]) => a + n, 0),
          shareNamespaces: mine.length,
          cpuSeconds: round(cpuSeconds(op.child.pid ?? -1)),
          rssPeakMiB: round(peaks[i] ?? 0, 1),
          rssEndMiB: round(rssMiB(op.child.pid ?? -1), 1),
        };
      });
      const run = { shards, timeToAllReportsSeconds: round((end - spawned) / 1000), reports, replicas };
      o.log(`  ${JSON.stringify(run)}`);
      runs.push(run);
      await Promise.all(ops.map((op) => op.stop()));
    }
  } finally {
    kcm.kill('SIGTERM');
    await cp.stop();
  }

  const points = runs.flatMap((r) => r.replicas);
  const cpu = fit(points.map((p) => ({ x: p.sharePods / 1000, y: p.cpuSeconds })));
  const mem = fit(points.map((p) => ({ x: p.sharePods / 1000, y: p.rssPeakMiB })));
  const projection = [1, 2, 4, 8].map((shards) => {
    const share = 100_000 / shards / 1000;
    return {
      shards,
      podsPerShard: 100_000 / shards,
      cpuSecondsPerReplica: round(cpu.intercept + cpu.slope * share, 1),
      rssMiBPerReplica: round(mem.intercept + mem.slope * share, 0),
    };
  });
  const result = {
    generatedBy: 'bench/sharding.ts',
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? '',
      loadAtEnd: os.loadavg().map((x) => round(x)),
    },
    pods: want,
    namespaces: plan.length,
    nodeOptions: o.nodeOptions ?? '',
    runs,
    perThousandPods: {
      cpuSeconds: round(cpu.slope, 3),
      cpuSecondsFixedPerReplica: round(cpu.intercept, 2),
      rssMiB: round(mem.slope, 2),
      rssMiBFixedPerReplica: round(mem.intercept, 1),
      method:
        'least-squares line over every replica of every run: x = pods in its share (thousands), y = its CPU seconds until its full evaluation / its peak RSS; the intercept is what a replica costs whatever its share (process, unfiltered kinds, decoding every pod event: the API cannot filter by a namespace hash)',
    },
    projection100kPods: {
      note: 'LINEAR projection of the per-1k figures above to 100k pods (not measured): per replica, intercept + slope × pods per shard. The intercept was measured on a 5k-pod cluster: receiving and decoding every pod event of a 100k-pod cluster costs each replica more than that, whatever its share, so the figures for many shards are a lower bound',
      shards: projection,
    },
    wallSeconds: round((performance.now() - t0) / 1000, 0),
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  o.log(`wrote ${out}`);
}

await main();
