import { expect } from 'chai';
import {
  ALLOWED_VOLUME_SOURCES,
  FORBIDDEN_VOLUME_SOURCES,
  pssRestrictedVolumes,
} from './restricted-volumes.ts';
import { malformedSweep, runTable, spec1, wrap } from './_testkit.ts';
import { runRule } from '../testing.ts';

const vols = (...v: unknown[]) => spec1(undefined, { volumes: v });

describe('rule pss-restricted-volumes', () => {
  runTable(pssRestrictedVolumes, [
    { name: 'no volumes', spec: spec1(), hits: 0 },
    {
      name: 'every allowed type',
      spec: vols(...ALLOWED_VOLUME_SOURCES.map((s, i) => ({ name: `v${i}`, [s]: {} }))),
      hits: 0,
    },
    {
      name: 'a volume with no source (the API server defaults it to emptyDir)',
      spec: vols({ name: 'v' }),
      hits: 0,
    },
    {
      name: 'hostPath (critical)',
      spec: vols({ name: 'ok', emptyDir: {} }, { name: 'root', hostPath: { path: '/' } }),
      hits: 1,
      severities: ['critical'],
      containers: [undefined],
      messages: ['volume "root" uses restricted volume type "hostPath" (@.volumes[1].hostPath)'],
    },
    {
      name: 'nfs (medium)',
      spec: vols({ name: 'n', nfs: { server: 's', path: '/' } }),
      hits: 1,
      severities: [undefined],
    },
    {
      name: 'gitRepo',
      spec: vols({ name: 'g', gitRepo: { repository: 'https://example.com/r.git' } }),
      hits: 1,
    },
    {
      name: 'an allowed source wins, as in PSA (API validation rejects two sources anyway)',
      spec: vols({ name: 'x', emptyDir: {}, hostPath: { path: '/' } }),
      hits: 0,
    },
    { name: 'null sources are unset', spec: vols({ name: 'x', hostPath: null }), hits: 0 },
    { name: 'two bad volumes', spec: vols({ name: 'a', iscsi: {} }, { name: 'b', rbd: {} }), hits: 2 },
  ]);
  for (const source of FORBIDDEN_VOLUME_SOURCES) {
    it(`forbids ${source}`, () => {
      const hits = runTableOnce({ name: 'v', [source]: {} });
      expect(hits).to.have.length(1);
      expect(hits[0]?.message).to.contain(`"${source}"`);
    });
  }
  malformedSweep(pssRestrictedVolumes);
  it('has all 30 VolumeSource types split into allowed and forbidden', () => {
    expect(ALLOWED_VOLUME_SOURCES.length + FORBIDDEN_VOLUME_SOURCES.length).to.equal(30);
    expect(new Set([...ALLOWED_VOLUME_SOURCES, ...FORBIDDEN_VOLUME_SOURCES]).size).to.equal(30);
  });
});

function runTableOnce(volume: Record<string, unknown>) {
  return runRule(pssRestrictedVolumes, wrap('Pod', vols(volume)));
}
