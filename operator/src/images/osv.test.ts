import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdvisoryIndex,
  cvss3BaseScore,
  loadAdvisories,
  loadAdvisoriesFrom,
  severityOf,
  type OsvRecord,
} from './osv.ts';

const FIXTURE = new URL('./testdata/advisories.json', import.meta.url).pathname;

const rec = (
  id: string,
  ecosystem: string,
  name: string,
  affected: Partial<NonNullable<OsvRecord['affected']>[number]>,
): OsvRecord => ({
  id,
  affected: [{ package: { ecosystem, name }, ...affected }],
});

describe('images/osv', () => {
  describe('matching', () => {
    const index = new AdvisoryIndex([
      rec('R-FIXED', 'npm', 'a', {
        ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.2.6' }] }],
      }),
      rec('R-LAST', 'PyPI', 'Foo_Bar', {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.0rc1' }] }],
      }),
      rec('R-TWO', 'Debian:12', 'openssl', {
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: [
              { introduced: '0' },
              { fixed: '1.1.1n-0+deb11u1' },
              { introduced: '3.0.0-1' },
              { fixed: '3.0.11-1~deb12u2' },
            ],
          },
        ],
      }),
      rec('R-LIST', 'Alpine:v3.19', 'busybox', { versions: ['1.36.1-r15', '1.36.1-r16'] }),
      rec('R-ZERO', 'npm', 'z', {
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }],
      }),
      rec('R-GIT', 'Go', 'example.com/m', {
        ranges: [{ type: 'GIT', events: [{ introduced: '0' }, { fixed: 'abc' }] }],
      }),
      {
        ...rec('R-WITHDRAWN', 'npm', 'a', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }),
        withdrawn: '2024-01-01T00:00:00Z',
      },
    ]);
    it('introduced ≤ v < fixed, and reports the fixed version', () => {
      expect(index.match('npm', 'a', '1.2.5')).to.deep.equal([
        { id: 'R-FIXED', aliases: [], summary: '', by: 'range', fixed: '1.2.6' },
      ]);
      expect(index.match('npm', 'a', '1.0.0').map((m) => m.id)).to.deep.equal(['R-FIXED']);
      expect(index.match('npm', 'a', '1.2.6')).to.deep.equal([]);
      expect(index.match('npm', 'a', '0.9.9')).to.deep.equal([]);
      expect(index.match('npm', 'a', '1.2.6-rc.1').map((m) => m.id)).to.deep.equal(['R-FIXED']);
    });
    it('last_affected includes its version; PyPI names are PEP 503 normalised', () => {
      expect(index.match('PyPI', 'foo-bar', '2.0rc1').map((m) => m.id)).to.deep.equal(['R-LAST']);
      expect(index.match('PyPI', 'FOO.bar', '2.0b9').map((m) => m.id)).to.deep.equal(['R-LAST']);
      expect(index.match('PyPI', 'foo_bar', '2.0')).to.deep.equal([]);
    });
    it('several introduced/fixed pairs in one range, compared with dpkg order; the release suffix is ignored', () => {
      expect(index.match('Debian:12', 'openssl', '1.1.1k-1').map((m) => m.fixed)).to.deep.equal([
        '1.1.1n-0+deb11u1',
      ]);
      expect(index.match('Debian:12', 'openssl', '1.1.1n-0+deb11u1')).to.deep.equal([]);
      expect(index.match('Debian', 'openssl', '3.0.11-1~deb12u1').map((m) => m.fixed)).to.deep.equal([
        '3.0.11-1~deb12u2',
      ]);
      expect(index.match('Debian:12', 'openssl', '3.0.11-1')).to.deep.equal([]);
    });
    it('versions lists match exactly (apk order: 1.36.1-r16 is not -r17)', () => {
      expect(index.match('Alpine:v3.19', 'busybox', '1.36.1-r16')).to.deep.equal([
        { id: 'R-LIST', aliases: [], summary: '', by: 'versions' },
      ]);
      expect(index.match('Alpine:v3.19', 'busybox', '1.36.1-r17')).to.deep.equal([]);
    });
    it('a version its ecosystem cannot parse is in no range (no false positive), only in exact lists', () => {
      expect(index.match('npm', 'z', '1.0.0').map((m) => m.id)).to.deep.equal(['R-ZERO']);
      expect(index.match('npm', 'z', 'latest')).to.deep.equal([]);
      expect(index.match('npm', 'z', '1.2')).to.deep.equal([]);
      expect(index.match('PyPI', 'foo-bar', 'not-a-version')).to.deep.equal([]);
    });
    it('ignores GIT ranges, withdrawn records and other ecosystems', () => {
      expect(index.match('Go', 'example.com/m', 'v0.1.0')).to.deep.equal([]);
      expect(index.match('PyPI', 'a', '1.2.5')).to.deep.equal([]);
      expect(index.size).to.equal(6);
    });
  });

  describe('loading', () => {
    it('reads the fixture (a JSON file with records) with its real ids and ranges', () => {
      const records = loadAdvisories(FIXTURE);
      expect(records.length).to.equal(14);
      const index = new AdvisoryIndex(records);
      expect(index.match('npm', 'lodash', '4.17.15').map((m) => [m.id, m.fixed])).to.deep.equal([
        ['GHSA-35jh-r3h4-6jhm', '4.17.21'],
        ['GHSA-p6mc-m468-83gw', '4.17.20'],
      ]);
      expect(index.match('npm', 'lodash', '4.17.11').map((m) => m.id)).to.include('GHSA-jf85-cpcp-j695');
      expect(index.match('npm', 'minimist', '1.2.0').map((m) => [m.id, m.severity])).to.deep.equal([
        ['GHSA-vh95-rmgr-6w4m', 'medium'],
        ['GHSA-xvch-5gv4-984h', 'critical'],
      ]);
      expect(
        index.match('Go', 'golang.org/x/text', 'v0.3.6').map((m) => [m.id, m.fixed, m.aliases]),
      ).to.deep.equal([['GO-2021-0113', '0.3.7', ['CVE-2021-38561', 'GHSA-ppp9-7jff-5vj2']]]);
      expect(
        index.match('Go', 'golang.org/x/net', 'v0.0.0-20220906165146-f3363e06e74b').map((m) => m.id),
      ).to.deep.equal(['GO-2022-0969']);
      expect(index.match('Go', 'golang.org/x/net', 'v0.0.0-20220906165146-f3363e06e74c')).to.deep.equal([]);
    });
    it('reads a directory of records and a zip of them (the osv.dev all.zip shape)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-osv-'));
      try {
        const records = loadAdvisories(FIXTURE);
        mkdirSync(join(dir, 'recs', 'sub'), { recursive: true });
        for (const [i, r] of records.entries())
          writeFileSync(join(dir, 'recs', i % 2 ? 'sub' : '', `${r.id}.json`), JSON.stringify(r));
        const fromDir = loadAdvisories(join(dir, 'recs'));
        expect(fromDir.map((r) => r.id).sort()).to.deep.equal(records.map((r) => r.id).sort());
        try {
          execFileSync('zip', ['-q', '-r', join(dir, 'all.zip'), '.'], { cwd: join(dir, 'recs') });
        } catch (err) {
          throw new Error(`this test needs the zip command (apt-get install zip): ${String(err)}`, {
            cause: err,
          });
        }
        const fromZip = loadAdvisories(join(dir, 'all.zip'));
        expect(fromZip.map((r) => r.id).sort()).to.deep.equal(records.map((r) => r.id).sort());
        expect(fromZip.find((r) => r.id === 'GO-2021-0113')).to.deep.equal(
          records.find((r) => r.id === 'GO-2021-0113'),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it('downloads from a URL (an all.zip served over HTTP) and names a failed download', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-osv-'));
      const records = loadAdvisories(FIXTURE);
      mkdirSync(join(dir, 'recs'));
      for (const r of records) writeFileSync(join(dir, 'recs', `${r.id}.json`), JSON.stringify(r));
      execFileSync('zip', ['-q', '-r', join(dir, 'all.zip'), '.'], { cwd: join(dir, 'recs') });
      const server = http.createServer((req, res) => {
        if (req.url === '/npm/all.zip') res.writeHead(200).end(readFileSync(join(dir, 'all.zip')));
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const got = await loadAdvisoriesFrom(`${base}/npm/all.zip`);
        expect(got.map((r) => r.id).sort()).to.deep.equal(records.map((r) => r.id).sort());
        let err: unknown;
        await loadAdvisoriesFrom(`${base}/missing.zip`).catch((e: unknown) => (err = e));
        expect(String(err)).to.equal(`Error: ${base}/missing.zip: HTTP 404`);
        expect(
          (await loadAdvisoriesFrom('testdata/advisories.json', join(FIXTURE, '..', '..'))).length,
        ).to.equal(14);
      } finally {
        await new Promise((r) => server.close(r));
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it('names the file that is not OSV', () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-osv-'));
      try {
        writeFileSync(join(dir, 'x.json'), '[{"nope":1}]');
        expect(() => loadAdvisories(join(dir, 'x.json'))).to.throw(/x\.json: 1 entries are not OSV records/);
        writeFileSync(join(dir, 'y.json'), '{');
        expect(() => loadAdvisories(join(dir, 'y.json'))).to.throw(/y\.json: not JSON/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('images/osv severities', () => {
  it('CVSS v3 base scores by the specification (values as NVD publishes them)', () => {
    const cases: [string, number][] = [
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
      ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 8.8],
      ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
      ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 5.5],
      ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
    ];
    for (const [vector, score] of cases) expect(cvss3BaseScore(vector), vector).to.equal(score);
    // Temporal and environmental metrics after the base ones are ignored.
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O')).to.equal(9.8);
    for (const bad of [
      'AV:N/AC:L',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H',
      'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:4.0/AV:N',
    ])
      expect(cvss3BaseScore(bad), bad).to.equal(undefined);
  });

  it("a record's own rating wins; without one its CVSS v3 vector rates it; neither: unrated", () => {
    const rec = (extra: Partial<OsvRecord>): OsvRecord => ({ id: 'X-1', ...extra });
    const v3 = (score: string) => ({ severity: [{ type: 'CVSS_V3', score }] });
    expect(
      severityOf(
        rec({
          database_specific: { severity: 'MODERATE' },
          ...v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'),
        }),
      ),
    ).to.equal('medium');
    expect(severityOf(rec(v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')))).to.equal('critical');
    expect(severityOf(rec(v3('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H')))).to.equal('high');
    expect(severityOf(rec(v3('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N')))).to.equal('medium');
    expect(severityOf(rec(v3('CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N')))).to.equal('low');
    expect(severityOf(rec(v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')))).to.equal(undefined);
    expect(
      severityOf(
        rec({
          severity: [
            { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
          ],
        }),
      ),
    ).to.equal(undefined);
    expect(severityOf(rec({}))).to.equal(undefined);
  });
});
