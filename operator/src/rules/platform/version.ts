/**
 * Version strings as reported by clusters and nodes, parsed defensively.
 *
 * Kubernetes `gitVersion` strings carry vendor builds after the semver core
 * (`v1.28.3-eks-8ccc7ba`, `v1.27.4-gke.900`, `v1.30.0+k3s1`, `v1.29.4-rke2r1`).
 * Only `-alpha.N`, `-beta.N` and `-rc.N` are treated as pre-releases; any other
 * suffix is a vendor build: it compares like the upstream release it is based
 * on, but the vendor may have backported fixes, so messages say so.
 */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`['rc', 1]`), empty for a release. */
  pre: (string | number)[];
  /** Vendor build suffix without its separator (`eks-8ccc7ba`, `k3s1`), when present. */
  vendor?: string;
  /** The string as given. */
  raw: string;
}

const CORE = /^v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?(.*)$/;
const PRE = /^-((?:alpha|beta|rc)(?:\.?\d+)?(?:\.[0-9A-Za-z-]+)*)(.*)$/;

function ids(s: string): (string | number)[] {
  return s
    .split('.')
    .filter((x) => x !== '')
    .flatMap((x) => {
      const m = /^([A-Za-z-]+)(\d+)$/.exec(x);
      if (m?.[1] !== undefined && m[2] !== undefined) return [m[1], Number(m[2])];
      return [/^\d+$/.test(x) ? Number(x) : x];
    });
}

/**
 * Parses `v1.28.3`, `1.28`, `v1.28.3-eks-8ccc7ba`, `1.7.12+k3s1`, `2.0.0-rc.1`.
 * Returns undefined for anything that does not start with a numeric major.minor.
 */
export function parseVersion(input: unknown): Version | undefined {
  if (typeof input !== 'string') return undefined;
  const raw = input.trim();
  if (raw.length === 0 || raw.length > 200) return undefined;
  const m = CORE.exec(raw);
  if (!m?.[1] || !m[2]) return undefined;
  const v: Version = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), pre: [], raw };
  let rest = m[4] ?? '';
  const p = PRE.exec(rest);
  if (p?.[1] !== undefined) {
    v.pre = ids(p[1]);
    rest = p[2] ?? '';
  }
  if (rest.length > 0) {
    if (!/^[-+.~_]/.test(rest)) return undefined;
    const vendor = rest.replace(/^[-+.~_]+/, '');
    if (vendor.length > 0) v.vendor = vendor;
  }
  return v;
}

/** Parses a range bound from the dataset: `"0"` is the lowest version. */
export function parseBound(s: string): Version | undefined {
  if (s === '0') return { major: 0, minor: 0, patch: 0, pre: [], raw: '0' };
  const v = parseVersion(s);
  return v && v.vendor === undefined ? v : undefined;
}

function comparePre(a: (string | number)[], b: (string | number)[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Semver order on major.minor.patch and pre-release; vendor suffixes are ignored. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

/** `1.28`: the minor line of a version. */
export function minorOf(v: Version): string {
  return `${v.major}.${v.minor}`;
}

/** `1.28.3` (or `1.28.3-rc.1`): the upstream version without `v` or vendor suffix. */
export function coreOf(v: Version): string {
  const base = `${v.major}.${v.minor}.${v.patch}`;
  return v.pre.length > 0 ? `${base}-${v.pre.join('.')}` : base;
}

/** An affected interval from the dataset. */
export interface VersionRange {
  introduced: string;
  fixed?: string;
  lastAffected?: string;
}

/** True when `v` lies in the range (introduced <= v < fixed, or <= lastAffected, or open-ended). */
export function inRange(v: Version, r: VersionRange): boolean {
  const lo = parseBound(r.introduced);
  if (!lo || compareVersions(v, lo) < 0) return false;
  if (r.fixed !== undefined) {
    const hi = parseBound(r.fixed);
    return hi !== undefined && compareVersions(v, hi) < 0;
  }
  if (r.lastAffected !== undefined) {
    const hi = parseBound(r.lastAffected);
    return hi !== undefined && compareVersions(v, hi) <= 0;
  }
  return true;
}

/** True when `v` lies in any of the ranges. */
export function affectedBy(v: Version, ranges: readonly VersionRange[]): boolean {
  return ranges.some((r) => inRange(v, r));
}

/**
 * The fixed release to recommend for `v`: the lowest fixed version of its own
 * minor line that is newer than `v`, else the lowest fixed version newer than `v`.
 */
export function suggestedFix(v: Version, fixedIn: readonly string[]): string | undefined {
  const newer = fixedIn
    .map((f) => ({ f, p: parseBound(f) }))
    .filter((x): x is { f: string; p: Version } => x.p !== undefined && compareVersions(x.p, v) > 0)
    .sort((a, b) => compareVersions(a.p, b.p));
  const sameMinor = newer.find((x) => x.p.major === v.major && x.p.minor === v.minor);
  return (sameMinor ?? newer[0])?.f;
}
