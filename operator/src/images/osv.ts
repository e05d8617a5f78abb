/**
 * OSV advisories (https://ossf.github.io/osv-schema/): loading them from a directory, a zip (the
 * per-ecosystem all.zip of osv.dev) or a JSON file (one record or an array), and matching a
 * package version against `affected[]`: `versions` lists and ECOSYSTEM/SEMVER ranges with
 * introduced, fixed and last_affected events, compared with the ecosystem's own version order.
 */
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { COMPARATORS, parsePep440, parseSemver, type Ecosystem } from './versions.ts';
import { zipEntries } from './zip.ts';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: string;
  events: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
}

export interface OsvRecord {
  id: string;
  modified?: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  affected?: OsvAffected[];
  severity?: { type: string; score: string }[];
  database_specific?: Record<string, unknown>;
}

/** The OSV ecosystem (before any ":release" suffix) to the version order it uses. */
export function versionOrder(ecosystem: string): Ecosystem | undefined {
  const base = ecosystem.split(':')[0] ?? '';
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return 'dpkg';
    case 'Alpine':
      return 'apk';
    case 'npm':
    case 'Go':
      return 'semver';
    case 'PyPI':
      return 'pep440';
    default:
      return undefined;
  }
}

/** Package names as each ecosystem compares them (PyPI: PEP 503 normalisation). */
export function normaliseName(ecosystem: string, name: string): string {
  return ecosystem.split(':')[0] === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

function isRecord(v: unknown): v is OsvRecord {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
}

function recordsOf(text: string, where: string): OsvRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  const list = Array.isArray(doc)
    ? doc
    : typeof doc === 'object' && doc !== null && Array.isArray((doc as { records?: unknown }).records)
      ? (doc as { records: unknown[] }).records
      : [doc];
  const out = list.filter(isRecord);
  if (out.length !== list.length)
    throw new Error(`${where}: ${list.length - out.length} entries are not OSV records`);
  return out;
}

/** OSV records from a directory (every *.json below it), a .zip, or a JSON file. */
export function loadAdvisories(path: string): OsvRecord[] {
  const st = statSync(path);
  if (st.isDirectory()) {
    const out: OsvRecord[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.json')) out.push(...recordsOf(readFileSync(p, 'utf8'), p));
      }
    };
    walk(path);
    return out;
  }
  const buf = readFileSync(path);
  if (buf.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])))
    return zipEntries(buf)
      .filter((e) => e.name.endsWith('.json'))
      .flatMap((e) => recordsOf(e.data().toString('utf8'), `${path}:${e.name}`));
  return recordsOf(buf.toString('utf8'), path);
}

export interface Match {
  id: string;
  aliases: string[];
  summary: string;
  /** The lowest fixed version above the installed one, when a range names one. */
  fixed?: string;
  /** How the version matched: "range" or "versions". */
  by: 'range' | 'versions';
  /** The record's severity (its own rating, or its CVSS v3 base score rated), when it has one (severityOf). */
  severity?: 'low' | 'medium' | 'high' | 'critical';
}

/**
 * A record's severity: its own rating (GHSA's LOW/MODERATE/HIGH/CRITICAL in
 * database_specific.severity) or, without one, the base score of its CVSS v3 vector (the
 * `severity` list), rated as NVD does: 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10
 * critical. Undefined when neither says (CVSS v4 vectors are not scored).
 */
export function severityOf(r: OsvRecord): Match['severity'] {
  const s = r.database_specific?.['severity'];
  if (typeof s === 'string') {
    const v = s.toUpperCase();
    if (v === 'LOW') return 'low';
    if (v === 'MODERATE' || v === 'MEDIUM') return 'medium';
    if (v === 'HIGH') return 'high';
    if (v === 'CRITICAL') return 'critical';
  }
  for (const sev of r.severity ?? []) {
    if (sev.type !== 'CVSS_V3') continue;
    const score = cvss3BaseScore(sev.score);
    if (score === undefined || score === 0) continue;
    return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low';
  }
  return undefined;
}

const CVSS3_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

/** CVSS v3.1's Roundup: the smallest one-decimal number at or above x, free of float error. */
function roundUp(x: number): number {
  const i = Math.round(x * 100_000);
  return i % 10_000 === 0 ? i / 100_000 : (Math.floor(i / 10_000) + 1) / 10;
}

/**
 * The base score of a CVSS v3.0/v3.1 vector (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`),
 * by the specification's formula; undefined when the vector is not one (a base metric missing
 * or unknown).
 */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(':');
    if (k && v) m.set(k, v);
  }
  const scope = m.get('S');
  if (scope !== 'U' && scope !== 'C') return undefined;
  const changed = scope === 'C';
  const w = (k: string): number | undefined => CVSS3_WEIGHTS[k]?.[m.get(k) ?? ''];
  const pr = { N: 0.85, L: changed ? 0.68 : 0.62, H: changed ? 0.5 : 0.27 }[m.get('PR') ?? ''];
  const [av, ac, ui, c, i, a] = ['AV', 'AC', 'UI', 'C', 'I', 'A'].map(w);
  if (av === undefined || ac === undefined || ui === undefined || pr === undefined) return undefined;
  if (c === undefined || i === undefined || a === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  if (impact <= 0) return 0;
  const exploitability = 8.22 * av * ac * pr * ui;
  return roundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
}

/** Whether `version` is inside one range (events are sorted, the last one at or below decides). */
function inRange(
  range: OsvRange,
  version: string,
  cmp: (a: string, b: string) => number,
): { hit: boolean; fixed?: string } {
  const at = (e: OsvEvent): string => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '0';
  const events = [...range.events].sort((a, b) => {
    const av = at(a);
    const bv = at(b);
    if (av === '0' || bv === '0') return av === bv ? 0 : av === '0' ? -1 : 1;
    return cmp(av, bv);
  });
  let hit = false;
  for (const e of events) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || cmp(version, e.introduced) >= 0) hit = true;
    } else if (e.fixed !== undefined) {
      if (cmp(version, e.fixed) >= 0) hit = false;
    } else if (e.last_affected !== undefined) {
      if (cmp(version, e.last_affected) > 0) hit = false;
    } else if (e.limit !== undefined) {
      if (e.limit !== '*' && cmp(version, e.limit) >= 0) hit = false;
    }
  }
  if (!hit) return { hit };
  const fixed = events
    .map((e) => e.fixed)
    .filter((f): f is string => f !== undefined && cmp(f, version) > 0)
    .sort(cmp)[0];
  return fixed === undefined ? { hit } : { hit, fixed };
}

/** Whether `version` parses in the order (dpkg and apk order any string). */
function comparable(order: Ecosystem, version: string): boolean {
  if (order === 'semver') return parseSemver(version) !== undefined;
  if (order === 'pep440') return parsePep440(version) !== undefined;
  return true;
}

/** An index of advisories by (ecosystem base, normalised name). */
export class AdvisoryIndex {
  private readonly byPackage = new Map<string, OsvRecord[]>();
  readonly size: number;

  constructor(records: OsvRecord[]) {
    let n = 0;
    for (const r of records) {
      if (r.withdrawn) continue;
      n++;
      const keys = new Set<string>();
      for (const a of r.affected ?? []) {
        if (!a.package) continue;
        const eco = a.package.ecosystem.split(':')[0] ?? '';
        keys.add(`${eco}\u0000${normaliseName(eco, a.package.name)}`);
      }
      for (const k of keys) this.byPackage.set(k, [...(this.byPackage.get(k) ?? []), r]);
    }
    this.size = n;
  }

  /** The advisories affecting `name@version` of `ecosystem` (OSV spelling: npm, PyPI, Go, Debian…). */
  match(ecosystem: string, name: string, version: string): Match[] {
    const eco = ecosystem.split(':')[0] ?? '';
    const order = versionOrder(eco);
    if (!order) return [];
    const cmp = COMPARATORS[order];
    const wanted = normaliseName(eco, name);
    const out: Match[] = [];
    for (const r of this.byPackage.get(`${eco}\u0000${wanted}`) ?? []) {
      let best: Match | undefined;
      for (const a of r.affected ?? []) {
        if (!a.package || (a.package.ecosystem.split(':')[0] ?? '') !== eco) continue;
        if (normaliseName(eco, a.package.name) !== wanted) continue;
        const severity = severityOf(r);
        const base = {
          id: r.id,
          aliases: r.aliases ?? [],
          summary: r.summary ?? '',
          ...(severity ? { severity } : {}),
        };
        if ((a.versions ?? []).some((v) => cmp(v, version) === 0) && !best)
          best = { ...base, by: 'versions' };
        for (const range of a.ranges ?? []) {
          const rangeCmp =
            range.type === 'SEMVER' ? COMPARATORS.semver : range.type === 'ECOSYSTEM' ? cmp : undefined;
          if (!rangeCmp) continue; // GIT ranges name commits, not versions
          // A version the order cannot parse has no place in a range: only exact lists match it.
          if (!comparable(range.type === 'SEMVER' ? 'semver' : order, version)) continue;
          const res = inRange(range, version, rangeCmp);
          if (!res.hit) continue;
          if (
            !best ||
            best.fixed === undefined ||
            (res.fixed !== undefined && rangeCmp(res.fixed, best.fixed) < 0)
          )
            best =
              res.fixed === undefined ? { ...base, by: 'range' } : { ...base, by: 'range', fixed: res.fixed };
        }
      }
      if (best) out.push(best);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }
}

/**
 * OSV records from a path, or from an http(s) URL (osv.dev's per-ecosystem all.zip, a mirror of
 * it, any of the shapes loadAdvisories reads): the download is streamed to a temporary file,
 * loaded, and removed. Fails with the URL and status when the download does not succeed.
 */
export async function loadAdvisoriesFrom(source: string, cwd: string = process.cwd()): Promise<OsvRecord[]> {
  if (!/^https?:\/\//.test(source)) return loadAdvisories(resolve(cwd, source));
  const res = await fetch(source, { signal: AbortSignal.timeout(300_000) });
  if (!res.ok || !res.body) throw new Error(`${source}: HTTP ${res.status}`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-osv-'));
  try {
    const name = new URL(source).pathname.split('/').pop() || 'advisories';
    const file = join(dir, /\.(zip|json)$/.test(name) ? name : `${name}.zip`);
    await pipeline(Readable.fromWeb(res.body), createWriteStream(file));
    return loadAdvisories(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
