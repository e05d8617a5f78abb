import { expect } from 'chai';
import { kubernetesEol, releaseOf } from './kubernetes-eol.ts';
import { runRule } from '../testing.ts';
import { clusterVersion, DATASET_NOW, node } from './_testkit.ts';
import { DATASET } from './dataset.ts';
import { parseVersion } from './version.ts';
import type { KubeObject } from '../../engine/types.ts';

describe('rule platform-kubernetes-eol', () => {
  const cases: { name: string; obj: KubeObject; now?: Date; severity?: string; contains?: string }[] = [
    { name: 'newest 1.37.2', obj: clusterVersion('v1.37.2') },
    { name: '1.35 with months left', obj: clusterVersion('v1.35.9') },
    {
      name: '1.34 past its scheduled end of life',
      obj: clusterVersion('v1.34.9'),
      severity: 'high',
      contains: 'reached end of life on 2026-10-27 (scheduled date)',
    },
    {
      name: '1.31 past end of life, final patch named',
      obj: clusterVersion('v1.31.14'),
      severity: 'high',
      contains: 'final patch release is 1.31.14',
    },
    {
      name: 'EKS 1.28 with vendor note',
      obj: clusterVersion('v1.28.3-eks-8ccc7ba'),
      severity: 'high',
      contains: 'extended) support policy',
    },
    {
      name: '1.12.2 (the CVE-2018-1002105 example)',
      obj: clusterVersion('v1.12.2'),
      severity: 'high',
      contains: '2019-07-08',
    },
    {
      name: '1.1 older than the table',
      obj: clusterVersion('v1.1.8'),
      severity: 'high',
      contains: 'older than any release',
    },
    { name: 'unknown future minor 1.40', obj: clusterVersion('v1.40.0') },
    { name: 'a 2.x version', obj: clusterVersion('v2.0.0') },
    {
      name: 'kubelet 1.29 on a node',
      obj: node({ kubeletVersion: 'v1.29.15' }),
      severity: 'high',
      contains: 'node "worker-1" kubelet v1.29.15 (status.nodeInfo.kubeletVersion)',
    },
    { name: 'kubelet 1.36 on a node', obj: node({ kubeletVersion: 'v1.36.4' }) },
    {
      name: '1.35 within 30 days of its end of life',
      obj: clusterVersion('v1.35.9'),
      now: new Date('2027-02-10T00:00:00Z'),
      severity: 'low',
      contains: 'in 19 day(s)',
    },
    {
      name: '1.34 on its last day',
      obj: clusterVersion('v1.34.9'),
      now: new Date('2026-10-27T23:00:00Z'),
      severity: 'low',
      contains: 'reaches end of life on 2026-10-27',
    },
    {
      name: '1.34 the day after',
      obj: clusterVersion('v1.34.9'),
      now: new Date('2026-10-28T00:00:00Z'),
      severity: 'high',
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.severity ?? 'no finding'}`, () => {
      const hits = runRule(kubernetesEol, c.obj, { now: c.now ?? DATASET_NOW });
      if (!c.severity) {
        expect(hits).to.deep.equal([]);
        return;
      }
      expect(hits).to.have.length(1);
      expect(hits[0]?.severity).to.equal(c.severity);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }

  it('lists the minors still supported at the scan time', () => {
    const [hit] = runRule(kubernetesEol, clusterVersion('v1.30.1'), { now: DATASET_NOW });
    expect(hit?.message).to.contain('Supported minors now: 1.35, 1.36, 1.37.');
  });

  it('honours warnDays (0 disables the early warning)', () => {
    const now = new Date('2027-02-10T00:00:00Z');
    expect(runRule(kubernetesEol, clusterVersion('v1.35.9'), { now, params: { warnDays: 0 } })).to.deep.equal(
      [],
    );
    expect(
      runRule(kubernetesEol, clusterVersion('v1.35.9'), { now: DATASET_NOW, params: { warnDays: 120 } }),
    ).to.have.length(1);
    expect(
      runRule(kubernetesEol, clusterVersion('v1.35.9'), { now, params: { warnDays: 'x' } }),
    ).to.have.length(1);
  });

  it('falls back to the cluster facts', () => {
    expect(
      runRule(kubernetesEol, clusterVersion(), { now: DATASET_NOW, serverVersion: 'v1.20.15' }),
    ).to.have.length(1);
  });

  it('finds the release entry of a version', () => {
    const v = parseVersion('v1.27.4-gke.900');
    expect(v && releaseOf(v, DATASET.releases)).to.include({ minor: '1.27', endOfLife: '2024-07-16' });
  });

  for (const [name, obj] of [
    ['no status', clusterVersion()],
    ['bad gitVersion', clusterVersion({})],
    ['node with junk', node(['x'])],
    ['node kubelet garbage', node({ kubeletVersion: 'v1' })],
  ] as [string, KubeObject][]) {
    it(`malformed input (${name}) → no finding, no crash`, () => {
      expect(runRule(kubernetesEol, obj, { now: DATASET_NOW })).to.deep.equal([]);
    });
  }
});
