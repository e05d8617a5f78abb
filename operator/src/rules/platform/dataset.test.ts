import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DATASET,
  DATASET_ERRORS,
  endOfDay,
  isIsoDate,
  loadKernels,
  loadKubernetesCves,
  loadOsImages,
  loadReleases,
  loadRuntimeAdvisories,
  severityOfScore,
  type KubernetesCve,
} from './dataset.ts';
import { affectedBy, compareVersions, parseBound, parseVersion } from './version.ts';

const dataDir = join(dirname(fileURLToPath(import.meta.url)), '../../../../data/platform');
const COMPILED = '2026-11-23';

function cve(id: string): KubernetesCve {
  const e = DATASET.kubernetesCves.find((x) => x.id === id);
  if (!e) throw new Error(`${id} missing from the dataset`);
  return e;
}
function affects(id: string, version: string): boolean {
  const p = parseVersion(version);
  if (!p) throw new Error(`bad test version ${version}`);
  return affectedBy(p, cve(id).affected);
}

describe('platform dataset', () => {
  it('every JSON file in data/platform parses', () => {
    const files = readdirSync(dataDir).filter((f) => f.endsWith('.json'));
    expect(files).to.have.members([
      'kubernetes-cves.json',
      'kubernetes-releases.json',
      'container-runtimes.json',
      'os-images.json',
      'kernels.json',
    ]);
    for (const f of files)
      expect(() => JSON.parse(readFileSync(join(dataDir, f), 'utf8')) as unknown, f).not.to.throw();
  });

  it('loads with no schema errors (nothing silently dropped)', () => {
    expect(DATASET_ERRORS).to.deep.equal([]);
  });

  it(`records its compile date (${COMPILED}) and sources in every file header`, () => {
    for (const h of DATASET.headers) {
      expect(h.updated, h.file).to.equal(COMPILED);
      expect(h.sources.length, h.file).to.be.greaterThan(0);
    }
  });

  describe('Kubernetes CVE entries', () => {
    it('has the CVEs the issue names', () => {
      for (const id of [
        'CVE-2018-1002105',
        'CVE-2019-11247',
        'CVE-2019-11253',
        'CVE-2019-1002100',
        'CVE-2020-8554',
        'CVE-2020-8555',
        'CVE-2020-8558',
        'CVE-2020-8559',
        'CVE-2021-25741',
        'CVE-2021-25735',
        'CVE-2022-3162',
        'CVE-2022-3172',
        'CVE-2023-2727',
        'CVE-2023-2728',
        'CVE-2023-3676',
        'CVE-2023-3955',
        'CVE-2023-5528',
        'CVE-2024-3177',
        'CVE-2024-10220',
      ]) {
        cve(id);
      }
    });

    for (const e of DATASET.kubernetesCves) {
      it(`${e.id}: has a source, a severity matching its CVSS score, and ranges (or an unfixed reason)`, () => {
        expect(e.url).to.match(/^https:\/\//);
        expect(e.sources.length).to.be.greaterThan(0);
        expect(e.verification.length).to.be.greaterThan(20);
        if (e.cvss) expect(e.severity).to.equal(severityOfScore(e.cvss.score));
        expect(e.affected.length).to.be.greaterThan(0);
        if (e.unfixed) {
          expect(e.fixedIn).to.deep.equal([]);
          expect(e.unfixed.reason.length).to.be.greaterThan(20);
        } else {
          for (const r of e.affected)
            expect(r.fixed ?? r.lastAffected, `${r.introduced} has an upper bound`).to.be.a('string');
          const bounds = e.affected.map((r) => r.fixed).filter((f): f is string => f !== undefined);
          for (const b of bounds) expect(e.fixedIn, 'every range fix is listed in fixedIn').to.include(b);
        }
      });
    }

    it('ids are unique across the CVE and runtime files, and excluded ids are not also entries', () => {
      const ids = [...DATASET.kubernetesCves, ...DATASET.runtimeAdvisories].map((e) => e.id);
      expect(new Set(ids).size).to.equal(ids.length);
      const raw = JSON.parse(readFileSync(join(dataDir, 'kubernetes-cves.json'), 'utf8')) as {
        excluded: { id: string; reason: string }[];
      };
      for (const x of raw.excluded) {
        expect(ids, x.id).not.to.include(x.id);
        expect(x.reason.length, x.id).to.be.greaterThan(10);
      }
    });
  });

  describe('acceptance: known versions land where they should', () => {
    const table: [string, string, boolean][] = [
      ['CVE-2018-1002105', '1.12.2', true],
      ['CVE-2018-1002105', '1.12.3', false],
      ['CVE-2018-1002105', '1.10.10', true],
      ['CVE-2018-1002105', '1.10.11', false],
      ['CVE-2018-1002105', '1.11.4', true],
      ['CVE-2018-1002105', '1.11.5', false],
      ['CVE-2018-1002105', '1.13.0', false],
      ['CVE-2018-1002105', '1.8.15', true],
      ['CVE-2021-25741', '1.19.14', true],
      ['CVE-2021-25741', '1.19.15', false],
      ['CVE-2021-25741', '1.22.1', true],
      ['CVE-2021-25741', '1.22.2', false],
      ['CVE-2019-11254', '1.16.7', true],
      ['CVE-2019-11254', '1.16.8', false],
      ['CVE-2022-3172', '1.21.14', true],
      ['CVE-2022-3172', '1.22.14', false],
      ['CVE-2023-5528', '1.7.16', false],
      ['CVE-2023-5528', '1.8.0', true],
      ['CVE-2023-5528', '1.28.4', false],
      ['CVE-2024-10220', '1.30.2', true],
      ['CVE-2024-10220', '1.30.3', false],
      ['CVE-2025-4563', '1.31.9', false],
      ['CVE-2025-4563', '1.32.5', true],
      ['CVE-2025-13281', '1.31.14', true],
      ['CVE-2025-13281', '1.34.2', false],
      ['CVE-2020-8554', '1.37.2', true],
    ];
    for (const [id, version, want] of table) {
      it(`${version} ${want ? 'is' : 'is not'} affected by ${id}`, () => {
        expect(affects(id, version)).to.equal(want);
      });
    }
  });

  describe('end-of-life tables', () => {
    it('lists each Kubernetes minor once, in order, up to 1.37 with increasing dates', () => {
      const minors = DATASET.releases.map((r) => r.minor);
      expect(new Set(minors).size).to.equal(minors.length);
      expect(minors.at(-1)).to.equal('1.37');
      for (let i = 1; i < DATASET.releases.length; i++) {
        const prev = DATASET.releases[i - 1];
        const cur = DATASET.releases[i];
        if (!prev || !cur) continue;
        expect(Number(cur.minor.split('.')[1])).to.equal(Number(prev.minor.split('.')[1]) + 1);
        expect(endOfDay(cur.endOfLife)).to.be.greaterThan(endOfDay(prev.endOfLife));
      }
    });
    it('lists each OS release once with standard support ending before extended support', () => {
      const keys = DATASET.osImages.map((o) => `${o.distro} ${o.version}`);
      expect(new Set(keys).size).to.equal(keys.length);
      for (const o of DATASET.osImages) {
        if (o.extendedSupportEnd)
          expect(endOfDay(o.extendedSupportEnd), o.name).to.be.greaterThan(endOfDay(o.standardSupportEnd));
      }
    });
    it('lists kernel.org longterm lines with dates', () => {
      expect(DATASET.kernels.longterm.map((l) => l.line)).to.include.members([
        '5.4',
        '5.10',
        '5.15',
        '6.1',
        '6.6',
        '6.12',
      ]);
      expect(parseBound(`${DATASET.kernels.nonLongterm.below}.0`)).not.to.equal(undefined);
    });
  });

  describe('schema checks reject bad edits', () => {
    const good = {
      id: 'CVE-2099-0001',
      title: 'Example',
      severity: 'high',
      cvss: { score: 7.5 },
      components: ['kubelet'],
      affected: [{ introduced: '0', fixed: '1.30.1' }],
      fixedIn: ['1.30.1'],
      url: 'https://example.org/advisory',
      sources: ['https://example.org/advisory'],
      verification: 'Read from the advisory text directly.',
      summary: 'Example entry.',
    };
    const doc = (entries: unknown[]) => ({
      schemaVersion: 1,
      updated: '2026-11-23',
      sources: [{ name: 'x', url: 'https://example.org' }],
      entries,
    });
    const bad: [string, Record<string, unknown>][] = [
      ['missing url', { url: undefined }],
      ['http url', { url: 'http://example.org' }],
      ['no sources', { sources: [] }],
      ['severity not matching CVSS', { severity: 'medium' }],
      ['info severity', { severity: 'info', cvss: undefined }],
      ['no ranges', { affected: [] }],
      ['open range without unfixed', { affected: [{ introduced: '1.0.0' }] }],
      ['fixed before introduced', { affected: [{ introduced: '1.30.0', fixed: '1.29.0' }] }],
      [
        'both fixed and lastAffected',
        { affected: [{ introduced: '0', fixed: '1.2.0', lastAffected: '1.1.0' }] },
      ],
      ['unknown component', { components: ['etcd'] }],
      ['bad id', { id: 'GHSA-xxxx' }],
      ['unfixed with fixed versions', { unfixed: { reason: 'design flaw, will not be fixed upstream' } }],
      ['unfixed without reason', { unfixed: {} }],
      ['empty fixedIn without unfixed', { fixedIn: [] }],
      ['no verification note', { verification: '' }],
      ['bad platform', { platforms: ['solaris'] }],
    ];
    for (const [name, patch] of bad) {
      it(`drops an entry with ${name}`, () => {
        const res = loadKubernetesCves(doc([{ ...good, ...patch }]));
        expect(res.entries).to.deep.equal([]);
        expect(res.errors.length).to.be.greaterThan(0);
      });
    }
    it('keeps a good entry and a well-formed unfixed entry', () => {
      const unfixed = {
        ...good,
        id: 'CVE-2099-0002',
        affected: [{ introduced: '0' }],
        fixedIn: [],
        unfixed: { reason: 'Design flaw; will not be fixed upstream.' },
      };
      const res = loadKubernetesCves(doc([good, unfixed]));
      expect(res.errors).to.deep.equal([]);
      expect(res.entries.map((e) => e.id)).to.deep.equal(['CVE-2099-0001', 'CVE-2099-0002']);
    });
    it('rejects a header without date or sources, and garbage documents, without throwing', () => {
      expect(loadKubernetesCves({ schemaVersion: 1, entries: [good] }).errors.join()).to.match(/updated/);
      for (const junk of [null, 42, 'x', [], { entries: 'nope' }]) {
        expect(loadKubernetesCves(junk).errors.length).to.be.greaterThan(0);
        expect(loadRuntimeAdvisories(junk).errors.length).to.be.greaterThan(0);
        expect(loadReleases(junk).errors.length).to.be.greaterThan(0);
        expect(loadOsImages(junk).errors.length).to.be.greaterThan(0);
        expect(loadKernels(junk).errors.length).to.be.greaterThan(0);
      }
    });
    it('rejects impossible dates', () => {
      expect(isIsoDate('2026-02-30')).to.equal(false);
      expect(isIsoDate('2026-2-3')).to.equal(false);
      expect(isIsoDate('2026-02-28')).to.equal(true);
      const r = loadReleases({
        schemaVersion: 1,
        updated: '2026-11-23',
        sources: [{ name: 'x', url: 'https://x.org' }],
        releases: [{ minor: '1.30', endOfLife: '2025-13-01', dateKind: 'actual', source: 'https://x.org' }],
      });
      expect(r.releases).to.deep.equal([]);
    });
  });

  it('runtime advisories cover runc CVE-2024-21626 through containerd 1.7.12 but not 1.7.13', () => {
    const adv = DATASET.runtimeAdvisories.find((a) => a.id === 'CVE-2024-21626');
    expect(adv?.via).to.equal('runc');
    const hit = (s: string) => {
      const p = parseVersion(s);
      return p !== undefined && adv !== undefined && affectedBy(p, adv.affected);
    };
    expect(hit('1.7.12')).to.equal(true);
    expect(hit('1.7.13')).to.equal(false);
    expect(hit('1.6.27')).to.equal(true);
    expect(hit('1.6.28')).to.equal(false);
    const a = parseBound('1.7.12');
    const b = parseBound('1.7.13');
    expect(a && b && compareVersions(a, b)).to.be.lessThan(0);
  });
});
