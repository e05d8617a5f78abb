/**
 * bench/pod-memory.ts's cgroup reading (v1 and v2 file layouts, in a scratch directory laid out as
 * the kubelet's cgroupfs driver lays out kubepods) and the unscheduled pods it creates. Running it
 * needs root and a real node; `node bench/pod-memory.ts` does that.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { barePod, controllerObject, podSpec } from '../../bench/cluster.ts';
import {
  containerCgroup,
  readContainerMemory,
  renderPodMarkdown,
  type PodMemoryResult,
} from '../../bench/pod-memory.ts';

const MiB = 2 ** 20;

function layout(files: Record<string, string>, ...path: string[]): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'vigil-cg-'));
  const dir = join(root, ...path);
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
  return { root, dir };
}

describe('bench/pod-memory', () => {
  it('reads a container of a burstable pod under cgroup v1', () => {
    const { root, dir } = layout(
      {
        'memory.max_usage_in_bytes': `${190 * MiB}\n`,
        'memory.usage_in_bytes': `${150 * MiB}\n`,
        'memory.limit_in_bytes': `${256 * MiB}\n`,
        'memory.stat': `cache ${MiB}\nrss ${140 * MiB}\nmapped_file 0\n`,
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
      },
      'memory',
      'kubepods',
      'burstable',
      'poduid-1',
      'abc',
    );
    expect(containerCgroup(root, 'uid-1', 'abc')).to.equal(dir);
    expect(containerCgroup(root, 'uid-2', 'abc')).to.equal(undefined);
    expect(readContainerMemory(dir, 'p')).to.deep.equal({
      pod: 'p',
      peakBytes: 190 * MiB,
      usageBytes: 150 * MiB,
      limitBytes: 256 * MiB,
      rssBytes: 140 * MiB,
      cacheBytes: MiB,
      oomKills: 1,
    });
  });

  it('reads a container of a guaranteed pod under cgroup v2', () => {
    const { root, dir } = layout(
      {
        'memory.peak': `${200 * MiB}\n`,
        'memory.current': `${180 * MiB}\n`,
        'memory.max': 'max\n',
        'memory.stat': `anon ${170 * MiB}\nfile ${2 * MiB}\n`,
        'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
      },
      'kubepods',
      'poduid-3',
      'def',
    );
    expect(containerCgroup(root, 'uid-3', 'def')).to.equal(dir);
    const m = readContainerMemory(dir, 'q');
    expect(m).to.include({ peakBytes: 200 * MiB, usageBytes: 180 * MiB, rssBytes: 170 * MiB, oomKills: 0 });
    expect(m.limitBytes).to.equal(Infinity);
  });

  it('creates pods no scheduler picks when given a scheduler name, and the usual ones otherwise', () => {
    expect(podSpec('typical')).to.not.have.property('schedulerName');
    expect(podSpec('typical', 'Always', 'none')['schedulerName']).to.equal('none');
    const pod = barePod('ns', 'pod-00001', 'privileged', 'none') as { spec: Record<string, unknown> };
    expect(pod.spec['schedulerName']).to.equal('none');
    const job = controllerObject('ns', { kind: 'Job', name: 'j', replicas: 2, style: 'typical' }, 'none') as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    expect(job.spec.template.spec['schedulerName']).to.equal('none');
    expect(job.spec.template.spec['restartPolicy']).to.equal('Never');
  });

  it('renders the pod table with the verdict against the 200 MiB target', () => {
    const c = (pod: string, peakMiB: number) => ({
      pod,
      peakMiB,
      usageMiB: peakMiB,
      limitMiB: 256,
      rssMiB: peakMiB,
      cacheMiB: 0,
      oomKills: 0,
    });
    const r: PodMemoryResult = {
      generatedAt: '2026-12-04T10:00:00.000Z',
      image: '127.0.0.1:5000/vigil@sha256:00',
      pods: 10_000,
      machine: { cpus: 2, memoryGiB: 23.5, os: 'Linux', cgroup: 'v1' },
      loadAverage: [1, 2, 3],
      coldStart: { seconds: 60, scanReports: 4276, restarts: 0, containers: [c('vigil-1-aaaaa', 180)] },
      takeover: { seconds: 1, scanReports: 4276, restarts: 0, containers: [c('vigil-1-bbbbb', 195)] },
      peakMiB: 195,
      oomKills: 0,
      samples: [],
    };
    const md = renderPodMarkdown(r, '--max-old-space-size=128');
    expect(md).to.include(
      "| Most memory charged to an operator container's cgroup, over the run | 195 MiB | ≤ 200 MiB | met |",
    );
    expect(md).to.include('memory limit 256 MiB, `NODE_OPTIONS=--max-old-space-size=128`');
    expect(md).to.include(
      '4,276 reports in place): peak per container since it started (the deleted leader included), MiB | …-bbbbb 195 |',
    );
    expect(renderPodMarkdown({ ...r, peakMiB: 201 }, '')).to.match(
      /\| 201 MiB \| ≤ 200 MiB \| \*\*not met\*\* \|/,
    );
  });
});
