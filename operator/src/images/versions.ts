/**
 * Version ordering of each package ecosystem Vigil matches advisories for. Each compare returns
 * <0, 0 or >0 like a sort comparator.
 *   dpkg    Debian policy §5.6.12: [epoch:]upstream[-revision], `~` before everything, even the end.
 *   apk     Alpine's apk-tools (version.c): digits, a letter, _alpha/_beta/_pre/_rc before the
 *           release and _cvs/_svn/_git/_hg/_p after it, -rN.
 *   semver  semver.org 2.0.0 §11 (npm, and Go modules with or without the leading v, so Go
 *           pseudo-versions order as the prereleases they are); build metadata is ignored.
 *   pep440  PEP 440: epochs, release, a/b/rc, post, dev and local versions.
 */

export type Ecosystem = 'dpkg' | 'apk' | 'semver' | 'pep440';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLetter = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);

// ---------------------------------------------------------------------------- dpkg

/** The weight of one character in dpkg's lexical part: ~ < end < letters < everything else. */
function dpkgOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (isLetter(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit and digit runs. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export function parseDpkg(v: string): DpkgVersion {
  const s = v.trim();
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  if (colon >= 0 && /^\d+$/.test(s.slice(0, colon))) {
    epoch = Number(s.slice(0, colon));
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0
    ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) }
    : { epoch, upstream: rest, revision: '' };
}

export function compareDpkg(a: string, b: string): number {
  const x = parseDpkg(a);
  const y = parseDpkg(b);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}

// ---------------------------------------------------------------------------- apk

// Token kinds in apk-tools' order: a later kind after equal prefixes decides the comparison.
const T_INVALID = -1;
const T_DIGIT_OR_ZERO = 0;
const T_DIGIT = 1;
const T_LETTER = 2;
const T_SUFFIX = 3;
const T_SUFFIX_NO = 4;
const T_REVISION_NO = 5;
const T_END = 6;

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

class ApkTokens {
  pos = 0;
  type = T_DIGIT;
  private readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  /** The value of a suffix token at pos (negative for the pre-release ones). */
  suffixValue(): number {
    const t = new ApkTokens(this.s.slice(this.pos));
    t.type = T_SUFFIX;
    return t.take();
  }

  private next(): void {
    const s = this.s;
    let n = T_INVALID;
    const c = s[this.pos];
    if (c === undefined) n = T_END;
    else if ((this.type === T_DIGIT || this.type === T_DIGIT_OR_ZERO) && c >= 'a' && c <= 'z') n = T_LETTER;
    else if (this.type === T_LETTER && isDigit(c)) n = T_DIGIT;
    else if (this.type === T_SUFFIX && isDigit(c)) n = T_SUFFIX_NO;
    else {
      if (c === '.') n = T_DIGIT_OR_ZERO;
      else if (c === '_') n = T_SUFFIX;
      else if (c === '-') {
        if (s[this.pos + 1] === 'r') {
          n = T_REVISION_NO;
          this.pos++;
        }
      }
      this.pos++;
    }
    if (
      n < this.type &&
      !(
        (n === T_DIGIT_OR_ZERO && this.type === T_DIGIT) ||
        (n === T_SUFFIX && this.type === T_SUFFIX_NO) ||
        (n === T_DIGIT && this.type === T_LETTER)
      )
    )
      n = T_INVALID;
    this.type = n;
  }

  /** The value of the token at pos (of kind this.type); moves to the next token. */
  take(): number {
    const s = this.s;
    if (this.pos >= s.length) {
      this.type = T_END;
      return 0;
    }
    let v = 0;
    let nt = T_INVALID;
    let i = this.pos;
    const digits = (): void => {
      while (isDigit(s[i])) v = v * 10 + (s.charCodeAt(i++) - 48);
    };
    switch (this.type) {
      case T_DIGIT_OR_ZERO:
        if (s[i] === '0') {
          // Leading zeros (1.01 < 1.1) count down, and what follows is read as a number, as in
          // apk-tools, so 1.0.1 < 1.06. Unlike apk-tools 2, a suffix, letter or revision right
          // after the zeros is read as such (not after an empty number): 1.0_alpha < 1.0.
          while (s[i] === '0') i++;
          if (isDigit(s[i]) || s[i] === '.') nt = T_DIGIT;
          v = -(i - this.pos);
        } else digits();
        break;
      case T_DIGIT:
      case T_SUFFIX_NO:
      case T_REVISION_NO:
        digits();
        break;
      case T_LETTER:
        v = s.charCodeAt(i++);
        break;
      case T_SUFFIX: {
        const rest = s.slice(i);
        const pre = PRE_SUFFIXES.findIndex((x) => rest.startsWith(x));
        if (pre >= 0) {
          v = pre - PRE_SUFFIXES.length;
          i += PRE_SUFFIXES[pre]?.length ?? 0;
          break;
        }
        const post = POST_SUFFIXES.findIndex((x) => rest.startsWith(x));
        if (post >= 0) {
          v = post;
          i += POST_SUFFIXES[post]?.length ?? 0;
          break;
        }
        this.type = T_INVALID;
        return -1;
      }
      default:
        this.type = T_INVALID;
        return -1;
    }
    this.pos = i;
    if (this.pos >= s.length) this.type = T_END;
    else if (nt !== T_INVALID) this.type = nt;
    else this.next();
    return v;
  }
}

export function compareApk(a: string, b: string): number {
  const x = new ApkTokens(a.trim());
  const y = new ApkTokens(b.trim());
  let av = 0;
  let bv = 0;
  while (x.type === y.type && x.type !== T_END && x.type !== T_INVALID && av === bv) {
    av = x.take();
    bv = y.take();
  }
  if (av !== bv) return av < bv ? -1 : 1;
  if (x.type === y.type) return 0;
  // Equal so far: the longer version is greater unless what it has more of is a pre-release suffix.
  if (x.type === T_SUFFIX && x.suffixValue() < 0) return -1;
  if (y.type === T_SUFFIX && y.suffixValue() < 0) return 1;
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}

// ---------------------------------------------------------------------------- semver

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
}

const SEMVER = /^[v=\s]*(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses a semver (a leading v or = is allowed: Go modules and npm); undefined when not one. */
export function parseSemver(v: string): Semver | undefined {
  const m = SEMVER.exec(v.trim());
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    const d = BigInt(a) - BigInt(b);
    return d === 0n ? 0 : d < 0n ? -1 : 1;
  }
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) {
    if (!x && !y) return a < b ? -1 : a > b ? 1 : 0;
    return x ? 1 : -1; // an unparsable version sorts first: it never looks fixed
  }
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  if (x.prerelease.length === 0 || y.prerelease.length === 0)
    return y.prerelease.length - x.prerelease.length;
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const c = compareIdentifiers(p, q);
    if (c !== 0) return c;
  }
  return 0;
}

// ---------------------------------------------------------------------------- PEP 440

export interface Pep440 {
  epoch: number;
  release: number[];
  pre?: [number, number];
  post?: number;
  dev?: number;
  local: (string | number)[];
}

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

export function parsePep440(v: string): Pep440 | undefined {
  const m = PEP440.exec(v.trim());
  if (!m) return undefined;
  const out: Pep440 = {
    epoch: m[1] === undefined ? 0 : Number(m[1]),
    release: (m[2] ?? '0').split('.').map(Number),
    local: [],
  };
  if (m[3] !== undefined) {
    const l = m[3].toLowerCase();
    const kind = l === 'a' || l === 'alpha' ? 0 : l === 'b' || l === 'beta' ? 1 : 2;
    out.pre = [kind, Number(m[4] ?? 0)];
  }
  if (m[5] !== undefined) out.post = Number(m[5]);
  else if (m[6] !== undefined) out.post = Number(m[7] ?? 0);
  if (m[8] !== undefined) out.dev = Number(m[9] ?? 0);
  if (m[10] !== undefined)
    out.local = m[10]
      .toLowerCase()
      .split(/[-_.]/)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return out;
}

const cmpNum = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/** The PEP 440 sort key parts as numbers, with ±Infinity where the spec puts absent parts. */
function pepKey(v: Pep440): { pre: number[]; post: number; dev: number } {
  // A dev release of a final version sorts before its pre-releases: 1.0.dev0 < 1.0a1.
  const pre = v.pre ?? (v.post === undefined && v.dev !== undefined ? [-Infinity] : [Infinity]);
  return { pre, post: v.post ?? -Infinity, dev: v.dev ?? Infinity };
}

export function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) {
    if (!x && !y) return a < b ? -1 : a > b ? 1 : 0;
    return x ? 1 : -1;
  }
  if (x.epoch !== y.epoch) return cmpNum(x.epoch, y.epoch);
  const n = Math.max(x.release.length, y.release.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(x.release[i] ?? 0, y.release[i] ?? 0);
    if (c !== 0) return c;
  }
  const kx = pepKey(x);
  const ky = pepKey(y);
  for (let i = 0; i < 2; i++) {
    const c = cmpNum(kx.pre[i] ?? -Infinity, ky.pre[i] ?? -Infinity);
    if (c !== 0) return c;
  }
  const c = cmpNum(kx.post, ky.post) || cmpNum(kx.dev, ky.dev);
  if (c !== 0) return c;
  // Local versions: none < any; segment by segment, numbers above strings; longer wins on a tie.
  for (let i = 0; i < Math.max(x.local.length, y.local.length); i++) {
    const p = x.local[i];
    const q = y.local[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (typeof p === 'number' && typeof q === 'number') {
      if (p !== q) return cmpNum(p, q);
    } else if (typeof p === 'number') return 1;
    else if (typeof q === 'number') return -1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

export const COMPARATORS: Record<Ecosystem, (a: string, b: string) => number> = {
  dpkg: compareDpkg,
  apk: compareApk,
  semver: compareSemver,
  pep440: comparePep440,
};
