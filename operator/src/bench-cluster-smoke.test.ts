/**
 * Smoke test of the in-cluster benchmark harness (bench/cluster.ts) without a
 * cluster: the object layout adds up to the requested pod count, the percentile
 * and histogram-quantile math, the Prometheus text parser, the request
 * accounting and the result shape. `make bench` runs the real thing against a
 * local control plane (`node bench/cluster.ts --smoke` is a two-minute version).
 */
import { expect } from 'chai';
import { parseExposition } from './observability/exposition.ts';
import {
  RESULT_KEYS,
  apportion,
  bareStyle,
  barePod,
  controllerObject,
  expectedPods,
  histogramBuckets,
  histogramDelta,
  histogramQuantile,
  layout,
  metricSum,
  percentile,
  podSpec,
  renderMarkdown,
  requestsByVerb,
  subtractCounts,
  summarize,
  total,
  writeCount,
  type ClusterDetails,
  type ClusterResult,
} from '../../bench/cluster.ts';

describe('in-cluster benchmark harness (smoke, no cluster)', () => {
  describe('layout', () => {
    it('apportions exactly, proportionally, largest remainders first', () => {
      expect(apportion(10, [1, 1, 1])).to.deep.equal([4, 3, 3]);
      expect(apportion(100, [0.3, 0.2, 0.15, 0.2, 0.15])).to.deep.equal([30, 20, 15, 20, 15]);
      expect(apportion(7, [0.3, 0.2, 0.15, 0.2, 0.15]).reduce((a, b) => a + b, 0)).to.equal(7);
      expect(apportion(0, [1, 2])).to.deep.equal([0, 0]);
    });

    for (const [pods, namespaces] of [
      [10_000, 50],
      [200, 4],
      [50, 3],
      [7, 5],
      [1, 1],
    ] as const) {
      it(`plans exactly ${pods} pods in ${namespaces} namespaces, half bare`, () => {
        const plan = layout(pods, namespaces);
        expect(plan).to.have.length(namespaces);
        expect(expectedPods(plan)).to.equal(pods);
        expect(plan.reduce((n, p) => n + p.bare, 0)).to.equal(Math.floor(pods / 2));
        expect(new Set(plan.map((p) => p.name)).size).to.equal(namespaces);
        for (const p of plan) for (const c of p.controllers) expect(c.replicas).to.be.greaterThan(0);
      });
    }

    it('makes 10,000 pods from 5,000 bare pods and 250 controllers of four kinds', () => {
      const plan = layout(10_000, 50);
      const kinds = new Map<string, number>();
      for (const p of plan) for (const c of p.controllers) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      expect(Object.fromEntries(kinds)).to.deep.equal({
        Deployment: 100,
        ReplicaSet: 50,
        StatefulSet: 50,
        Job: 50,
      });
      expect(plan.filter((p) => p.defaultDeny)).to.have.length(25);
    });

    it('mixes bare pod styles: 1 in 20 privileged, 4 in 20 clean, 12 in 20 typical', () => {
      const styles = Array.from({ length: 20 }, (_, j) => bareStyle(j));
      expect(styles.filter((s) => s === 'privileged')).to.have.length(1);
      expect(styles.filter((s) => s === 'clean')).to.have.length(4);
      expect(styles.filter((s) => s === 'typical')).to.have.length(12);
      expect(bareStyle(20)).to.equal('privileged');
    });

    it('builds valid-looking manifests: privileged pods, Parallel StatefulSets, Jobs that never restart', () => {
      const pod = barePod('bench-000', 'pod-00000', 'privileged') as {
        spec: { containers: { securityContext?: { privileged?: boolean } }[] };
      };
      expect(pod.spec.containers[0]?.securityContext?.privileged).to.equal(true);
      expect(podSpec('host')).to.include({ hostNetwork: true, hostPID: true });
      const sts = controllerObject('ns', {
        kind: 'StatefulSet',
        name: 'db',
        replicas: 3,
        style: 'typical',
      }) as {
        spec: { podManagementPolicy: string; replicas: number };
      };
      expect(sts.spec).to.include({ podManagementPolicy: 'Parallel', replicas: 3 });
      const job = controllerObject('ns', { kind: 'Job', name: 'b', replicas: 2, style: 'latest' }) as {
        spec: { parallelism: number; template: { spec: { restartPolicy: string } } };
      };
      expect(job.spec.parallelism).to.equal(2);
      expect(job.spec.template.spec.restartPolicy).to.equal('Never');
    });
  });

  describe('statistics', () => {
    it('interpolates percentiles between closest ranks', () => {
      const v = [5, 1, 4, 2, 3];
      expect(percentile(v, 50)).to.equal(3);
      expect(percentile(v, 0)).to.equal(1);
      expect(percentile(v, 100)).to.equal(5);
      expect(percentile(v, 95)).to.be.closeTo(4.8, 1e-9);
      expect(percentile([10, 20], 50)).to.equal(15);
      expect(Number.isNaN(percentile([], 50))).to.equal(true);
      const s = summarize(Array.from({ length: 101 }, (_, i) => i));
      expect(s).to.deep.equal({ count: 101, p50: 50, p95: 95, p99: 99, max: 100 });
    });

    it('computes histogram quantiles like Prometheus histogram_quantile', () => {
      const b = [
        { le: 0.1, count: 50 },
        { le: 0.5, count: 90 },
        { le: 1, count: 100 },
        { le: Infinity, count: 100 },
      ];
      expect(histogramQuantile(0.5, b)).to.be.closeTo(0.1, 1e-9);
      expect(histogramQuantile(0.25, b)).to.be.closeTo(0.05, 1e-9);
      expect(histogramQuantile(0.7, b)).to.be.closeTo(0.3, 1e-9);
      expect(histogramQuantile(0.95, b)).to.be.closeTo(0.75, 1e-9);
      // A rank in the +Inf bucket returns the highest finite bound.
      expect(histogramQuantile(0.99, [...b.slice(0, 3), { le: Infinity, count: 200 }])).to.equal(1);
      expect(Number.isNaN(histogramQuantile(0.5, [{ le: Infinity, count: 0 }]))).to.equal(true);
    });

    it('parses exposition text and subtracts scrapes', () => {
      const before = parseExposition(
        [
          '# HELP vigil_api_requests_total Requests',
          '# TYPE vigil_api_requests_total counter',
          'vigil_api_requests_total{verb="PATCH"} 10',
          'vigil_api_requests_total{verb="LIST"} 3',
          'vigil_time_to_finding_seconds_bucket{le="0.5"} 4',
          'vigil_time_to_finding_seconds_bucket{le="+Inf"} 5',
          'workqueue_depth{name="subjects",controller="subject"} 0',
          'odd{msg="a \\"quoted\\" value"} 1',
        ].join('\n'),
      ).samples;
      const after = parseExposition(
        [
          'vigil_api_requests_total{verb="PATCH"} 25',
          'vigil_api_requests_total{verb="LIST"} 3',
          'vigil_api_requests_total{verb="POST"} 2',
          'vigil_time_to_finding_seconds_bucket{le="0.5"} 10',
          'vigil_time_to_finding_seconds_bucket{le="+Inf"} 14',
          'vigil_reports_written_total 7',
        ].join('\n'),
      ).samples;
      expect(before.find((s) => s.name === 'odd')?.labels['msg']).to.equal('a "quoted" value');
      expect(metricSum(before, 'workqueue_depth', { name: 'subjects' })).to.equal(0);
      expect(metricSum(after, 'vigil_reports_written_total')).to.equal(7);
      const d = subtractCounts(requestsByVerb(after), requestsByVerb(before));
      expect(d).to.deep.equal({ PATCH: 15, LIST: 0, POST: 2 });
      expect(writeCount(d)).to.equal(17);
      expect(total(d)).to.equal(17);
      const h = histogramDelta(
        histogramBuckets(before, 'vigil_time_to_finding_seconds'),
        histogramBuckets(after, 'vigil_time_to_finding_seconds'),
      );
      expect(h).to.deep.equal([
        { le: 0.5, count: 6 },
        { le: Infinity, count: 9 },
      ]);
    });
  });

  describe('results', () => {
    const result: ClusterResult = {
      pods: 10_000,
      findingsKnownSeconds: 6.4,
      reportsPersistedSeconds: 12.5,
      fullEvaluationSeconds: 12.5,
      timeToFindingP50Ms: 80,
      timeToFindingP95Ms: 400,
      timeToFindingP99Ms: 900,
      rssMiB: 180,
      memorySource: 'operator process RSS on the host',
      apiRequestsPerSecond: 95.5,
      steadyStateWritesPerMinute: 0,
    };

    it('has exactly the keys of the documented cluster.json shape', () => {
      expect(Object.keys(result)).to.deep.equal([...RESULT_KEYS]);
      expect(RESULT_KEYS).to.deep.equal([
        'pods',
        'findingsKnownSeconds',
        'reportsPersistedSeconds',
        'fullEvaluationSeconds',
        'timeToFindingP50Ms',
        'timeToFindingP95Ms',
        'timeToFindingP99Ms',
        'rssMiB',
        'memorySource',
        'apiRequestsPerSecond',
        'steadyStateWritesPerMinute',
      ]);
    });

    it('renders the BENCHMARKS.md table with each target met or not', () => {
      const p = { count: 1, p50: 1, p95: 1, p99: 1, max: 1 };
      const start = {
        cacheSyncSeconds: 6,
        fullEvaluationSeconds: 12.5,
        reportsWritten: 4000,
        requests: {},
        peakRssMiB: 170,
        rssAfterMiB: 160,
      };
      const details: ClusterDetails = {
        generatedAt: '2026-11-23T00:00:00.000Z',
        machine: { cpuModel: 'cpu', cpus: 2, memoryGiB: 8, os: 'Linux', node: 'v24', kubernetes: 'v1.37.2' },
        loadAverage: { start: [1, 1, 1], afterSetup: [1, 1, 1], end: [1, 1, 1] },
        options: {
          pods: 10_000,
          namespaces: 50,
          churnRate: 50,
          churnSeconds: 60,
          quietSeconds: 60,
          workers: undefined,
          restart: true,
          outDir: '/tmp',
          markdown: true,
          concurrency: 48,
          operatorDir: '/tmp',
          nodeOptions: undefined,
          memoryLimit: '256Mi',
        },
        memoryLimit: { limit: '256Mi', cgroup: '/sys/fs/cgroup/memory/x', peakChargedMiB: 231, oomKills: 0 },
        setup: { seconds: 50, objects: { Pod: 5000 }, podsSeconds: 2, retries: 0 },
        coldStart: start,
        warmRestart: { ...start, fullEvaluationSeconds: 3.2, reportsWritten: 0 },
        boundedRestart: {
          ...start,
          nodeOptions: '--max-semi-space-size=16',
          peakRssMiB: 230,
          idleRssMiB: 150,
        },
        subjects: { reports: 4000 },
        churn: {
          seconds: 61,
          operations: { create: 1200 },
          achievedRate: 50,
          apiErrors: 0,
          external: { ...p, unmatched: 0, byOperation: { create: p } },
          internal: { ...p, buckets: [] },
          requests: { PATCH: 100 },
          requestsPerSecond: 95.5,
          writesPerSecond: 90,
          reportsWritten: 100,
          peakRssMiB: 180,
        },
        quiet: {
          seconds: 60,
          requests: {},
          requestsPerSecond: 0,
          writes: 0,
          reportsWritten: 0,
          writesPerMinute: 0,
          rssMiB: 150,
        },
        rss: { peakMiB: 180, samples: [] },
        totalSeconds: 400,
      };
      const md = renderMarkdown(result, details);
      expect(md).to.match(/known.*cold start \| 6\.4 s \| < 10 s \| met \|/);
      expect(md).to.match(/ScanReport persisted.*cold start \(4,000 report writes\) \| 12\.5 s \|/);
      expect(md).to.match(/reports in place.*\| 3\.2 s \| < 10 s \| met \|/);
      expect(md).to.match(/p99 ≤ 1000 ms \| met \|/);
      expect(md).to.include('| Operator RSS on the host, peak over the run | 180 MiB | | |');
      expect(md).to.include('95.5/s (PATCH 100)');
      expect(md).to.match(/--max-semi-space-size=16.*\| 230 \/ 150 MiB \| ≤ 200 MiB \| \*\*not met\*\* \|/);
      expect(md).to.match(/Memory limit 256Mi .*\| 231 MiB \/ 0 \| no OOM kill \| met \|/);
      const oom = renderMarkdown(result, {
        ...details,
        options: { ...details.options, nodeOptions: '--max-old-space-size=144' },
        memoryLimit: { ...details.memoryLimit, oomKills: 1 },
      });
      expect(oom).to.match(
        /NODE_OPTIONS=--max-old-space-size=144`.*\| 231 MiB \/ 1 \| no OOM kill \| \*\*not met\*\* \|/,
      );
      const none = renderMarkdown(result, {
        ...details,
        memoryLimit: { limit: null, cgroup: null, error: 'EACCES' },
      });
      expect(none).to.include('| Memory limit | none (EACCES): Node sized its heap from the host');
    });
  });
});
