/**
 * Audit webhook benchmark: the operator (bin/vigil.js, from source) against a local control plane,
 * its audit receiver fed over HTTPS (keep-alive, bearer token) with RATE audit events per second
 * for SECONDS seconds, in EventList batches as the API server's batch backend sends them.
 *
 * The events are the recorded log's (operator/src/audit/testdata/recorded.jsonl), every one given
 * a fresh auditID and the current timestamps: by default 98 % from its benign requests and 2 %
 * from its abusive ones, judged with the recorded log's SecurityPolicy (testdata/policy.yaml), so
 * the operator also logs, counts and posts (deduplicated, rate-limited) Events for detections
 * while it keeps up.
 *
 * Measured: events accepted per second (the sender's 200s and vigil_audit_events_total), each
 * POST's latency (p50/p99/max), the detection lag from the operator's log lines (stageTimestamp →
 * detection, exact: `lagSeconds`), the operator's RSS (peak and at the end, from /proc) and CPU
 * (cores), refusals (429 and every vigil_audit_dropped_total reason), and whether the queue was
 * empty at the end. Writes bench/results/audit.json and the generated part of BENCHMARKS.md's
 * "Audit webhook" section.
 *
 * Usage: node bench/audit.ts [--rate 2000] [--seconds 60] [--batch 200] [--abusive 0.02]
 *          [--queue-size 20000] [--out DIR] [--no-markdown]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane, REPO_ROOT, freePort, waitFor } from '../e2e/controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../e2e/operator/process.ts';
import { metricSum, parseExposition } from '../operator/src/observability/exposition.ts';
import { certFiles, issueCert, selfSignedCert } from '../operator/src/testing/certs.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '60' },
    batch: { type: 'string', default: '200' },
    abusive: { type: 'string', default: '0.02' },
    'queue-size': { type: 'string', default: '20000' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results') },
    'no-markdown': { type: 'boolean', default: false },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);
const ABUSIVE = Number(args.abusive);
const TOKEN = 'bench-token-0123456789abcdef';

function certs(dir: string): void {
  const ca = selfSignedCert(certFiles(dir, 'ca'), { subject: '/CN=bench-ca' });
  issueCert(certFiles(dir, 'server'), ca, {
    subject: '/CN=vigil',
    sans: ['IP:127.0.0.1'],
    usage: 'serverAuth',
  });
}

/** The recorded log's events, split into benign and abusive (those carrying vigil.dev/expect). */
function templates(): { benign: Record<string, unknown>[]; abusive: Record<string, unknown>[] } {
  const lines = readFileSync(
    join(REPO_ROOT, 'operator', 'src', 'audit', 'testdata', 'recorded.jsonl'),
    'utf8',
  )
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['stage'] === 'ResponseComplete');
  const expect = (e: Record<string, unknown>): boolean =>
    typeof e['annotations'] === 'object' &&
    e['annotations'] !== null &&
    'vigil.dev/expect' in e['annotations'];
  return { benign: lines.filter((e) => !expect(e)), abusive: lines.filter(expect) };
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function procStat(pid: number): { rssBytes: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rss, cpuSeconds: ticks / 100 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'vigil-bench-audit-'));
  certs(dir);
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const { benign, abusive } = templates();
  console.log(`bench/audit: ${benign.length} benign and ${abusive.length} abusive event templates`);
  const cp = await ControlPlane.start();
  let op: OperatorProcess | undefined;
  const lags: number[] = [];
  try {
    cp.installCrds();
    cp.kubectl(['create', 'namespace', 'vigil-system']);
    // The recorded log's policy: under it, the benign templates make no detection.
    cp.kubectl(['apply', '-f', join(REPO_ROOT, 'operator', 'src', 'audit', 'testdata', 'policy.yaml')]);
    const port = await freePort();
    op = await startOperator({
      kubeconfig: cp.kubeconfig,
      logLevel: 'info',
      args: [
        '--audit-webhook-bind-address',
        `127.0.0.1:${port}`,
        '--audit-webhook-tls-cert-file',
        join(dir, 'server.crt'),
        '--audit-webhook-tls-key-file',
        join(dir, 'server.key'),
        '--audit-webhook-token-file',
        join(dir, 'token'),
        '--audit-queue-size',
        args['queue-size'],
      ],
      onLine: (line) => {
        if (!line.includes('"audit detection"')) return;
        const m = /"lagSeconds":([0-9.eE+-]+)/.exec(line);
        if (m?.[1]) lags.push(Number(m[1]) * 1000);
      },
    });
    const operator = op;
    await waitFor(
      'the audit receiver',
      () =>
        Promise.resolve(readFileSync(operator.logFile, 'utf8').includes('audit webhook receiver listening')),
      30_000,
    );
    const pid = operator.child.pid ?? 0;
    const ca = readFileSync(join(dir, 'ca.crt'));
    const agent = new Agent({ keepAlive: true, maxSockets: 8, ca });
    const post = (body: string): Promise<{ status: number; ms: number }> =>
      new Promise((resolve) => {
        const t0 = performance.now();
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/audit',
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${TOKEN}`,
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
          },
        );
        req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
        req.end(body);
      });

    // Let the operator settle, then take the baseline.
    await new Promise((r) => setTimeout(r, 3000));
    const metricsNow = async (): Promise<ReturnType<typeof parseExposition>['samples']> =>
      parseExposition(await operator.metrics()).samples;
    const m0 = await metricsNow();
    const p0 = procStat(pid);
    const rss: number[] = [];
    const sampler = setInterval(() => {
      try {
        rss.push(procStat(pid).rssBytes);
      } catch {
        // The process is gone: the run reports it.
      }
    }, 500);

    let seq = 0;
    const batchesPerSecond = RATE / BATCH;
    const intervalMs = 1000 / batchesPerSecond;
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    let sent = 0;
    let accepted = 0;
    const inflight = new Set<Promise<void>>();
    const start = performance.now();
    let behindMs = 0;
    const totalBatches = Math.round(SECONDS * batchesPerSecond);
    for (let b = 0; b < totalBatches; b++) {
      const due = start + b * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else behindMs = Math.max(behindMs, -wait);
      const now = new Date().toISOString().replace('Z', '000Z');
      const items = Array.from({ length: BATCH }, () => {
        seq++;
        const pool = Math.random() < ABUSIVE ? abusive : benign;
        const t = pool[seq % pool.length] ?? {};
        return {
          ...t,
          auditID: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
          requestReceivedTimestamp: now,
          stageTimestamp: now,
        };
      });
      const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
      sent += BATCH;
      const p = post(body).then((r) => {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        latencies.push(r.ms);
        if (r.status === 200) accepted += BATCH;
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await Promise.all(inflight);
    const sendSeconds = (performance.now() - start) / 1000;
    // Wait for the queue to drain (the operator judges after answering).
    const drainStart = performance.now();
    await waitFor(
      'the audit queue to drain',
      async () => metricSum(await metricsNow(), 'vigil_audit_queue_length') === 0,
      120_000,
    );
    const drainSeconds = (performance.now() - drainStart) / 1000;
    clearInterval(sampler);
    const m1 = await metricsNow();
    const p1 = procStat(pid);
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      (metricSum(m1, name, labels) ?? 0) - (metricSum(m0, name, labels) ?? 0);
    const lat = [...latencies].sort((a, b) => a - b);
    const lag = [...lags].sort((a, b) => a - b);
    const MiB = 1024 * 1024;
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? '',
        node: process.version,
        loadAverageAtEnd: os.loadavg(),
      },
      offered: {
        eventsPerSecond: RATE,
        seconds: SECONDS,
        batchSize: BATCH,
        abusiveFraction: ABUSIVE,
        events: sent,
      },
      sendSeconds: Number(sendSeconds.toFixed(2)),
      senderBehindMaxMs: Math.round(behindMs),
      acceptedEvents: accepted,
      acceptedPerSecond: Math.round(accepted / sendSeconds),
      judgedEventsMetric: delta('vigil_audit_events_total'),
      drainSecondsAfterLastBatch: Number(drainSeconds.toFixed(2)),
      statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
      postLatencyMs: {
        p50: Number(pct(lat, 50).toFixed(1)),
        p99: Number(pct(lat, 99).toFixed(1)),
        max: Number((lat[lat.length - 1] ?? NaN).toFixed(1)),
      },
      detections: delta('vigil_audit_detections_total'),
      detectionLagMs: {
        n: lag.length,
        p50: Math.round(pct(lag, 50)),
        p99: Math.round(pct(lag, 99)),
        max: Math.round(lag[lag.length - 1] ?? NaN),
      },
      dropped: Object.fromEntries(
        ['queue_full', 'unauthenticated', 'malformed', 'too_large'].map((r) => [
          r,
          delta('vigil_audit_dropped_total', { reason: r }),
        ]),
      ),
      operator: {
        rssMiBPeak: Number((Math.max(...rss) / MiB).toFixed(1)),
        rssMiBAtStart: Number((p0.rssBytes / MiB).toFixed(1)),
        rssMiBAtEnd: Number((p1.rssBytes / MiB).toFixed(1)),
        cpuCoresDuringRun: Number(
          ((p1.cpuSeconds - p0.cpuSeconds) / (sendSeconds + drainSeconds)).toFixed(2),
        ),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, 'audit.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (!args['no-markdown']) writeMarkdown(result);
    agent.destroy();
  } finally {
    await op?.stop();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Result = {
  machine: { cpus: number; model: string; node: string };
  offered: {
    eventsPerSecond: number;
    seconds: number;
    batchSize: number;
    abusiveFraction: number;
    events: number;
  };
  acceptedPerSecond: number;
  acceptedEvents: number;
  judgedEventsMetric: number;
  drainSecondsAfterLastBatch: number;
  statuses: Record<string, number>;
  postLatencyMs: { p50: number; p99: number; max: number };
  detections: number;
  detectionLagMs: { n: number; p50: number; p99: number; max: number };
  dropped: Record<string, number>;
  operator: { rssMiBPeak: number; rssMiBAtStart: number; rssMiBAtEnd: number; cpuCoresDuringRun: number };
};

function writeMarkdown(r: Result): void {
  const file = join(REPO_ROOT, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- BEGIN audit results: generated by bench/audit.ts, do not edit -->';
  const end = '<!-- END audit results -->';
  const drops = Object.entries(r.dropped)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const body = [
    begin,
    '',
    `${r.machine.cpus} CPUs (${r.machine.model}), Node ${r.machine.node}; ${r.offered.eventsPerSecond} events/s offered for ${r.offered.seconds} s in batches of ${r.offered.batchSize} (${(r.offered.abusiveFraction * 100).toFixed(0)} % abusive), ${r.offered.events} events.`,
    '',
    '| Measure | Value |',
    '|---|---|',
    `| Accepted | ${r.acceptedEvents} events, ${r.acceptedPerSecond} events/s (the operator counted vigil_audit_events_total +${r.judgedEventsMetric}) |`,
    `| Responses | ${Object.entries(r.statuses)
      .map(([k, v]) => `${v} × ${k}`)
      .join(', ')} |`,
    `| POST latency (batch of ${r.offered.batchSize}) | p50 ${r.postLatencyMs.p50} ms, p99 ${r.postLatencyMs.p99} ms, max ${r.postLatencyMs.max} ms |`,
    `| Detections | ${r.detections}; lag stageTimestamp → detection p50 ${r.detectionLagMs.p50} ms, p99 ${r.detectionLagMs.p99} ms, max ${r.detectionLagMs.max} ms |`,
    `| Queue drained after the last batch | ${r.drainSecondsAfterLastBatch} s |`,
    `| Dropped (vigil_audit_dropped_total) | ${drops} |`,
    `| Operator RSS | ${r.operator.rssMiBAtStart} MiB before, peak ${r.operator.rssMiBPeak} MiB, ${r.operator.rssMiBAtEnd} MiB after |`,
    `| Operator CPU | ${r.operator.cpuCoresDuringRun} cores on average |`,
    '',
    end,
  ].join('\n');
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) {
    console.log('bench/audit: BENCHMARKS.md has no audit results markers; not written');
    return;
  }
  writeFileSync(file, text.slice(0, i) + body + text.slice(j + end.length));
}

await main();
