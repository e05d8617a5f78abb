/**
 * Writes operator/src/images/testdata/advisories.json: real OSV records for the package versions
 * the test image holds (scripts/image/test-image.ts), with where each came from and when.
 *
 * Sources, each tried and its outcome recorded in the file:
 *   go     the Go module proxy's golang.org/x/vuln@v1.1.4 zip, whose govulncheck test data holds
 *          real records of the Go vulnerability database (vulndb-v1/ID/*.json), kept as they are;
 *   npm    the npm registry's bulk advisory endpoint (POST /-/npm/v1/security/advisories/bulk),
 *          converted to OSV (GHSA id from the advisory URL, vulnerable_versions to range events);
 *   pypi   PyPI's JSON API per version (/pypi/NAME/VERSION/json, its `vulnerabilities` list);
 *   ghsa   --ghsa DIR: records copied from github/advisory-database (already OSV), for when the
 *          two endpoints above are not reachable (on the machine that made the committed fixture
 *          the npm endpoint answered 405 to POST and PyPI 404 to per-version URLs).
 *
 *   node scripts/advisories-fixture.ts [--ghsa DIR] [--out FILE]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { OsvRange, OsvRecord } from '../operator/src/images/osv.ts';
import { zipEntries } from '../operator/src/images/zip.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the test image installs (scripts/image/test-image.ts reads the same list). */
export const FIXTURE_PACKAGES = {
  npm: { lodash: '4.17.15', minimist: '1.2.0' },
  pypi: { urllib3: '1.24.1' },
  go: { 'golang.org/x/text': 'v0.3.6', 'gopkg.in/yaml.v2': 'v2.2.2' },
} as const;

const GO_VULN = {
  module: 'golang.org/x/vuln',
  version: 'v1.1.4',
  dir: 'cmd/govulncheck/testdata/common/vulndb-v1/ID/',
};

interface SourceNote {
  source: string;
  url: string;
  outcome: string;
  records: number;
}

function log(msg: string): void {
  process.stderr.write(`advisories-fixture: ${msg}\n`);
}

async function goRecords(notes: SourceNote[]): Promise<OsvRecord[]> {
  const url = `https://proxy.golang.org/${GO_VULN.module}/@v/${GO_VULN.version}.zip`;
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) {
    notes.push({ source: 'go', url, outcome: `HTTP ${res.status}`, records: 0 });
    return [];
  }
  const zip = Buffer.from(await res.arrayBuffer());
  const prefix = `${GO_VULN.module}@${GO_VULN.version}/${GO_VULN.dir}`;
  const out = zipEntries(zip)
    .filter((e) => e.name.startsWith(prefix) && e.name.endsWith('.json'))
    .map((e) => {
      const r = JSON.parse(e.data().toString('utf8')) as OsvRecord;
      r.database_specific = {
        ...r.database_specific,
        vigil_source: `${url}#${e.name.slice(prefix.length - GO_VULN.dir.length)}`,
      };
      return r;
    });
  notes.push({ source: 'go', url, outcome: `HTTP 200, ${zip.length} bytes`, records: out.length });
  return out;
}

/** An npm range ("<4.17.21", ">=1.0.0 <1.2.6", "<=2.0.0 || >=3.0.0 <3.1.0") as OSV ranges. */
export function npmRangeToOsv(range: string): OsvRange[] | undefined {
  const out: OsvRange[] = [];
  for (const alt of range.split('||').map((s) => s.trim())) {
    let introduced = '0';
    const events: OsvRange['events'] = [];
    let end: OsvRange['events'][number] | undefined;
    for (const c of alt.split(/\s+/).filter(Boolean)) {
      const m = /^(>=|<=|<|>|=)?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(c);
      if (!m) return undefined;
      const [, op, v] = m;
      if (op === '>=') introduced = v ?? '0';
      else if (op === '<') end = { fixed: v ?? '' };
      else if (op === '<=') end = { last_affected: v ?? '' };
      else return undefined; // > and = have no exact OSV event
    }
    events.push({ introduced }, ...(end ? [end] : []));
    out.push({ type: 'SEMVER', events });
  }
  return out;
}

async function npmRecords(notes: SourceNote[]): Promise<OsvRecord[]> {
  const url = 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk';
  const body = Object.fromEntries(Object.entries(FIXTURE_PACKAGES.npm).map(([n, v]) => [n, [v]]));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    notes.push({ source: 'npm', url, outcome: err instanceof Error ? err.message : String(err), records: 0 });
    return [];
  }
  if (!res.ok) {
    notes.push({ source: 'npm', url, outcome: `HTTP ${res.status}`, records: 0 });
    return [];
  }
  const doc = (await res.json()) as Record<
    string,
    { url: string; title: string; severity: string; vulnerable_versions: string }[]
  >;
  const out: OsvRecord[] = [];
  for (const [name, advisories] of Object.entries(doc))
    for (const a of advisories) {
      const id = /GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}/.exec(a.url)?.[0];
      const ranges = npmRangeToOsv(a.vulnerable_versions);
      if (!id || !ranges) {
        log(`npm: skipped ${a.url} (${a.vulnerable_versions})`);
        continue;
      }
      out.push({
        id,
        summary: a.title,
        affected: [{ package: { ecosystem: 'npm', name }, ranges }],
        database_specific: {
          severity: a.severity.toUpperCase(),
          vigil_source: url,
          vulnerable_versions: a.vulnerable_versions,
        },
      });
    }
  notes.push({ source: 'npm', url, outcome: `HTTP 200`, records: out.length });
  return out;
}

async function pypiRecords(notes: SourceNote[]): Promise<OsvRecord[]> {
  const out: OsvRecord[] = [];
  for (const [name, version] of Object.entries(FIXTURE_PACKAGES.pypi)) {
    const url = `https://pypi.org/pypi/${name}/${version}/json`;
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch(
      (err: unknown) => err as Error,
    );
    if (res instanceof Error || !res.ok) {
      notes.push({
        source: 'pypi',
        url,
        outcome: res instanceof Error ? res.message : `HTTP ${res.status}`,
        records: 0,
      });
      continue;
    }
    const doc = (await res.json()) as {
      vulnerabilities?: {
        id: string;
        aliases?: string[];
        summary?: string;
        fixed_in?: string[];
        withdrawn?: string | null;
      }[];
    };
    let n = 0;
    for (const v of doc.vulnerabilities ?? []) {
      if (v.withdrawn) continue;
      // PyPI names the affected version (the one asked about) and the fixes, not where it began.
      out.push({
        id: v.id,
        aliases: v.aliases ?? [],
        summary: v.summary ?? '',
        affected: [{ package: { ecosystem: 'PyPI', name }, versions: [version] }],
        database_specific: { fixed_in: v.fixed_in ?? [], vigil_source: url },
      });
      n++;
    }
    notes.push({ source: 'pypi', url, outcome: 'HTTP 200', records: n });
  }
  return out;
}

function ghsaRecords(dir: string, notes: SourceNote[]): OsvRecord[] {
  const out = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as OsvRecord);
  notes.push({
    source: 'ghsa',
    url: `file:${dir} (github/advisory-database records)`,
    outcome: 'read',
    records: out.length,
  });
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ghsa: { type: 'string' }, out: { type: 'string' } },
  });
  const notes: SourceNote[] = [];
  const records = [...(await goRecords(notes)), ...(await npmRecords(notes)), ...(await pypiRecords(notes))];
  if (values.ghsa) {
    const have = new Set(records.map((r) => r.id));
    for (const r of ghsaRecords(values.ghsa, notes)) if (!have.has(r.id)) records.push(r);
  }
  for (const n of notes) log(`${n.source}: ${n.url}: ${n.outcome}, ${n.records} records`);
  if (records.length === 0) throw new Error('no advisory records from any source');
  const out = values.out ?? join(ROOT, 'operator/src/images/testdata/advisories.json');
  const doc = {
    generatedBy: 'scripts/advisories-fixture.ts',
    fetched: new Date().toISOString().slice(0, 10),
    packages: FIXTURE_PACKAGES,
    sources: notes,
    records: records.sort((a, b) => a.id.localeCompare(b.id)),
  };
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  // In the repository's JSON style, so `prettier --check .` passes on the committed file.
  execFileSync(join(ROOT, 'node_modules/.bin/prettier'), ['--write', out], { stdio: 'ignore' });
  log(`${records.length} records written to ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((err: unknown) => {
    process.stderr.write(`advisories-fixture: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
