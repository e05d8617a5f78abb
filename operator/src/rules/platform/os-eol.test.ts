import { expect } from 'chai';
import { osEol, osImageOf } from './os-eol.ts';
import { runRule } from '../testing.ts';
import { DATASET_NOW, node } from './_testkit.ts';
import { DATASET } from './dataset.ts';

describe('rule platform-os-eol', () => {
  const cases: { osImage: unknown; now?: Date; severity?: string; contains?: string }[] = [
    {
      osImage: 'Ubuntu 18.04.6 LTS',
      severity: 'medium',
      contains: 'only under Ubuntu Pro (ESM) until 2028-04-30',
    },
    { osImage: 'Ubuntu 16.04.7 LTS', severity: 'high', contains: 'Ubuntu Pro (ESM) ended on 2026-04-30' },
    { osImage: 'Ubuntu 20.04.6 LTS', severity: 'medium', contains: 'ended on 2025-05-31' },
    { osImage: 'Ubuntu 22.04.4 LTS' },
    { osImage: 'Ubuntu 24.04.1 LTS' },
    { osImage: 'Ubuntu 23.10', severity: 'high', contains: '2024-07-31' },
    { osImage: 'Debian GNU/Linux 10 (buster)', severity: 'high', contains: 'Debian LTS ended on 2024-06-30' },
    { osImage: 'Debian GNU/Linux 11 (bullseye)', severity: 'high', contains: '2026-08-31' },
    {
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      severity: 'medium',
      contains: 'Debian LTS until 2028-06-30',
    },
    { osImage: 'CentOS Linux 7 (Core)', severity: 'high', contains: '2024-06-30' },
    { osImage: 'CentOS Stream 8', severity: 'high', contains: '2024-05-31' },
    { osImage: 'CentOS Stream 9' },
    { osImage: 'Amazon Linux 2', severity: 'high', contains: 'reached end of support on 2026-06-30' },
    { osImage: 'Amazon Linux 2', now: new Date('2026-06-30T18:00:00Z') },
    { osImage: 'Amazon Linux 2023.5.20240624' },
    { osImage: 'Container-Optimized OS from Google' },
    { osImage: 'Bottlerocket OS 1.20.0 (aws-k8s-1.29)' },
    { osImage: 'Flatcar Container Linux by Kinvolk 3815.2.0 (Oklo)' },
    { osImage: 'Red Hat Enterprise Linux CoreOS 414.92.202405201509-0 (Plow)' },
    { osImage: 'Windows Server 2019 Datacenter' },
    { osImage: 'Ubuntu 99.04 LTS' },
    { osImage: '' },
    { osImage: 7 },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.osImage)} → ${c.severity ?? 'no finding'}`, () => {
      const hits = runRule(osEol, node({ osImage: c.osImage }, 'n1'), { now: c.now ?? DATASET_NOW });
      if (!c.severity) {
        expect(hits).to.deep.equal([]);
        return;
      }
      expect(hits).to.have.length(1);
      expect(hits[0]?.severity).to.equal(c.severity);
      expect(hits[0]?.message).to.contain('node "n1" runs').and.contain('(status.nodeInfo.osImage)');
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }

  it('matches osImage strings to dataset entries', () => {
    expect(osImageOf('Ubuntu 18.04.6 LTS', DATASET.osImages)?.version).to.equal('18.04');
    expect(osImageOf('Amazon Linux 2023', DATASET.osImages)?.version).to.equal('2023');
    expect(osImageOf('Amazon Linux 2', DATASET.osImages)?.version).to.equal('2');
    expect(osImageOf(undefined, DATASET.osImages)).to.equal(undefined);
  });

  it('malformed nodes → no finding, no crash', () => {
    expect(runRule(osEol, { kind: 'Node' }, { now: DATASET_NOW })).to.deep.equal([]);
    expect(runRule(osEol, node('junk'), { now: DATASET_NOW })).to.deep.equal([]);
  });
});
