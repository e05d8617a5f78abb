import { expect } from 'chai';
import { kernelEol, parseKernel } from './kernel-eol.ts';
import { runRule } from '../testing.ts';
import { DATASET_NOW, node } from './_testkit.ts';

describe('rule platform-kernel-eol', () => {
  const cases: { kernel: unknown; os?: string; now?: Date; severity?: string; contains?: string }[] = [
    { kernel: '5.4.0-150-generic', severity: 'low', contains: 'distribution build of upstream line 5.4' },
    {
      kernel: '5.4.270',
      severity: 'medium',
      contains: 'upstream line 5.4, which kernel.org no longer maintains (end of life 2025-12-31)',
    },
    { kernel: '4.14.336-257.562.amzn2.x86_64', severity: 'low', contains: 'line 4.14' },
    { kernel: '4.19.0', severity: 'medium', contains: '2024-12-31' },
    {
      kernel: '3.10.0-1160.el7.x86_64',
      severity: 'low',
      contains: 'no longer lists any line older than 4.14',
    },
    { kernel: '5.8.0', severity: 'medium', contains: 'Non-longterm stable lines' },
    { kernel: '6.8.0-1015-aws', severity: 'low', contains: 'line 6.8' },
    { kernel: '5.15.0-1051-aws' },
    { kernel: '5.10.220' },
    { kernel: '6.1.0-18-amd64' },
    { kernel: '6.6.30-flatcar' },
    { kernel: '6.12.5' },
    { kernel: '6.14.0' },
    {
      kernel: '5.15.0-1051-aws',
      now: new Date('2027-01-05T00:00:00Z'),
      severity: 'low',
      contains: '2026-12-31',
    },
    { kernel: '10.0.17763.5458', os: 'windows' },
    { kernel: 'garbage' },
    { kernel: '' },
    { kernel: 5.4 },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.kernel)}${c.now ? ` at ${c.now.toISOString().slice(0, 10)}` : ''} → ${c.severity ?? 'no finding'}`, () => {
      const info: Record<string, unknown> = { kernelVersion: c.kernel };
      if (c.os) info['operatingSystem'] = c.os;
      const hits = runRule(kernelEol, node(info, 'n1'), { now: c.now ?? DATASET_NOW });
      if (!c.severity) {
        expect(hits).to.deep.equal([]);
        return;
      }
      expect(hits).to.have.length(1);
      expect(hits[0]?.severity).to.equal(c.severity);
      expect(hits[0]?.message).to.contain('(status.nodeInfo.kernelVersion)');
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }

  it('says, for distribution kernels, that backports make CVE exposure unprovable', () => {
    const [hit] = runRule(kernelEol, node({ kernelVersion: '5.4.0-150-generic' }), { now: DATASET_NOW });
    expect(hit?.message).to.contain('Distribution kernels backport fixes').and.contain('cannot prove');
    expect(hit?.controls).to.equal(undefined);
  });

  it('parses kernel strings', () => {
    expect(parseKernel('5.4.0-150-generic')).to.deep.equal({
      line: '5.4',
      major: 5,
      minor: 4,
      distribution: true,
    });
    expect(parseKernel('6.1')).to.deep.equal({ line: '6.1', major: 6, minor: 1, distribution: false });
    expect(parseKernel('x')).to.equal(undefined);
  });

  it('malformed nodes → no finding, no crash', () => {
    expect(runRule(kernelEol, { kind: 'Node' }, { now: DATASET_NOW })).to.deep.equal([]);
    expect(runRule(kernelEol, node(3), { now: DATASET_NOW })).to.deep.equal([]);
  });
});
