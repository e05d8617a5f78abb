/**
 * The bundled platform dataset (data/platform/*.json), validated once at load.
 *
 * The JSON files are data in the repository with their sources and compile
 * date; this module checks every entry against the schema, keeps the valid
 * ones and records what it dropped in `DATASET_ERRORS` (the test asserts that
 * list is empty, so a bad edit fails CI instead of silently losing a CVE).
 * Nothing here throws: rules stay pure and total even on a broken file.
 *
 * The relative paths hold from operator/src/rules/platform/ in a clone and from
 * dist/src/rules/platform/ in the npm package, which ships data/platform/*.json beside dist/
 * (tsconfig.build.json keeps the depth; the package test scans from an install).
 */
import cvesJson from '../../../../data/platform/kubernetes-cves.json' with { type: 'json' };
import releasesJson from '../../../../data/platform/kubernetes-releases.json' with { type: 'json' };
import runtimesJson from '../../../../data/platform/container-runtimes.json' with { type: 'json' };
import osJson from '../../../../data/platform/os-images.json' with { type: 'json' };
import kernelsJson from '../../../../data/platform/kernels.json' with { type: 'json' };
import { SEVERITIES, severityRank, type RaisedSeverity, type Severity } from '../../engine/types.ts';
import { isObj, type Obj } from '../../engine/podspec.ts';
import { parseBound, compareVersions, type VersionRange } from './version.ts';

export const K8S_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kubelet', 'kube-proxy'] as const;
export type K8sComponent = (typeof K8S_COMPONENTS)[number];

export interface Cvss {
  score: number;
  vector?: string;
}

interface AdvisoryBase {
  id: string;
  title: string;
  severity: Severity;
  cvss?: Cvss;
  affected: VersionRange[];
  fixedIn: string[];
  url: string;
  sources: string[];
  verification: string;
  summary: string;
}

export interface KubernetesCve extends AdvisoryBase {
  components: K8sComponent[];
  /** Node operating systems the CVE applies to (`windows`); absent means all. */
  platforms?: string[];
  /** Present when no release fixes it; the reason says why. */
  unfixed?: { reason: string };
  /** When exposure depends on configuration the version cannot show. */
  conditions?: string;
  mitigation?: string;
}

export interface RuntimeAdvisory extends AdvisoryBase {
  runtime: 'containerd' | 'cri-o';
  /** `runc`: a runc CVE matched through the runtime releases that bundled it. */
  via?: 'runc';
}

export interface KubernetesRelease {
  minor: string;
  endOfLife: string;
  dateKind: 'actual' | 'scheduled';
  finalPatch?: string;
  source: string;
}

export interface OsImage {
  distro: string;
  version: string;
  name: string;
  standardSupportEnd: string;
  extendedSupportEnd?: string;
  extendedSupportName?: string;
  sources: string[];
}

export interface KernelLine {
  line: string;
  endOfLife: string;
  source: string;
}

export interface KernelData {
  longterm: KernelLine[];
  olderLines: { below: string; endOfLifeBy: string; reason: string };
  nonLongterm: { below: string; reason: string };
}

export interface DatasetHeader {
  file: string;
  schemaVersion: number;
  updated: string;
  sources: { name: string; url: string }[];
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** The instant a dated support period has ended: the start of the day after `date` (UTC). */
export function endOfDay(date: string): number {
  const m = DATE.exec(date);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
}

/** Severity band of a CVSS v3 base score. */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const isUrl = (v: unknown): v is string => isStr(v) && /^https:\/\/\S+$/.test(v);
function strArr(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== 'string') return undefined;
    out.push(x);
  }
  return out;
}

class Checker {
  readonly errors: string[] = [];
  readonly where: string;
  constructor(where: string) {
    this.where = where;
  }
  fail(msg: string): false {
    this.errors.push(`${this.where}: ${msg}`);
    return false;
  }
}

function header(file: string, raw: unknown, c: Checker): DatasetHeader {
  const o = isObj(raw) ? raw : {};
  if (o['schemaVersion'] !== 1) c.fail('schemaVersion must be 1');
  if (!isIsoDate(o['updated'])) c.fail('updated must be a YYYY-MM-DD date');
  const sources: { name: string; url: string }[] = [];
  if (!Array.isArray(o['sources']) || o['sources'].length === 0)
    c.fail('sources must list where the data comes from');
  for (const s of Array.isArray(o['sources']) ? o['sources'] : []) {
    if (isObj(s) && isStr(s['name']) && isUrl(s['url'])) sources.push({ name: s['name'], url: s['url'] });
    else c.fail('every source needs a name and an https url');
  }
  return { file, schemaVersion: 1, updated: typeof o['updated'] === 'string' ? o['updated'] : '', sources };
}

function ranges(v: unknown, c: Checker, id: string, openAllowed: boolean): VersionRange[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    c.fail(`${id}: affected must be a non-empty list of ranges`);
    return undefined;
  }
  const out: VersionRange[] = [];
  for (const r of v) {
    if (!isObj(r) || typeof r['introduced'] !== 'string' || !parseBound(r['introduced'])) {
      c.fail(`${id}: every range needs a valid "introduced" version`);
      return undefined;
    }
    const range: VersionRange = { introduced: r['introduced'] };
    const fixed = r['fixed'];
    const last = r['lastAffected'];
    if (fixed !== undefined && last !== undefined) {
      c.fail(`${id}: a range has either "fixed" or "lastAffected", not both`);
      return undefined;
    }
    const upper = fixed ?? last;
    if (upper !== undefined) {
      const lo = parseBound(range.introduced);
      const hi = typeof upper === 'string' ? parseBound(upper) : undefined;
      if (
        !hi ||
        !lo ||
        compareVersions(lo, hi) > 0 ||
        (fixed !== undefined && compareVersions(lo, hi) === 0)
      ) {
        c.fail(`${id}: range ${range.introduced}..${JSON.stringify(upper)} is not a valid interval`);
        return undefined;
      }
      if (fixed !== undefined) range.fixed = fixed as string;
      else range.lastAffected = last as string;
    } else if (!openAllowed) {
      c.fail(`${id}: open-ended range from ${range.introduced} needs an "unfixed" reason`);
      return undefined;
    }
    out.push(range);
  }
  return out;
}

function advisoryBase(e: Obj, c: Checker, openAllowed: boolean): AdvisoryBase | undefined {
  const id = typeof e['id'] === 'string' ? e['id'] : '(no id)';
  if (!CVE_ID.test(id)) return c.fail(`${id}: id must be a CVE id`) || undefined;
  if (!isStr(e['title'])) return c.fail(`${id}: title missing`) || undefined;
  const severity = e['severity'];
  if (
    typeof severity !== 'string' ||
    !(SEVERITIES as readonly string[]).includes(severity) ||
    severity === 'info'
  ) {
    return c.fail(`${id}: severity must be critical, high, medium or low`) || undefined;
  }
  let cvss: Cvss | undefined;
  if (e['cvss'] !== undefined) {
    const cv = e['cvss'];
    const score = isObj(cv) ? cv['score'] : undefined;
    if (typeof score !== 'number' || score < 0 || score > 10)
      return c.fail(`${id}: cvss.score must be 0-10`) || undefined;
    cvss = { score };
    if (isObj(cv) && cv['vector'] !== undefined) {
      if (typeof cv['vector'] !== 'string' || !/^CVSS:3\.[01]\//.test(cv['vector'])) {
        return c.fail(`${id}: cvss.vector must be a CVSS 3.x vector`) || undefined;
      }
      cvss.vector = cv['vector'];
    }
    if (severityOfScore(score) !== severity) {
      return (
        c.fail(`${id}: severity ${severity} does not match CVSS ${score} (${severityOfScore(score)})`) ||
        undefined
      );
    }
  }
  const affected = ranges(e['affected'], c, id, openAllowed);
  if (!affected) return undefined;
  const fixedIn = strArr(e['fixedIn']);
  if (!fixedIn || fixedIn.some((f) => !parseBound(f)))
    return c.fail(`${id}: fixedIn must list versions`) || undefined;
  if (!isUrl(e['url'])) return c.fail(`${id}: url must be the https advisory`) || undefined;
  const sources = strArr(e['sources']);
  if (!sources || sources.length === 0 || !sources.every(isUrl))
    return c.fail(`${id}: sources must list https urls`) || undefined;
  if (!isStr(e['verification']))
    return c.fail(`${id}: verification must say how the ranges were checked`) || undefined;
  if (!isStr(e['summary'])) return c.fail(`${id}: summary missing`) || undefined;
  const base: AdvisoryBase = {
    id,
    title: e['title'],
    severity: severity as Severity,
    affected,
    fixedIn,
    url: e['url'],
    sources,
    verification: e['verification'],
    summary: e['summary'],
  };
  if (cvss) base.cvss = cvss;
  return base;
}

/** Validates kubernetes-cves.json. */
export function loadKubernetesCves(raw: unknown): {
  header: DatasetHeader;
  entries: KubernetesCve[];
  errors: string[];
} {
  const c = new Checker('kubernetes-cves.json');
  const h = header('kubernetes-cves.json', raw, c);
  const entries: KubernetesCve[] = [];
  const seen = new Set<string>();
  const list = isObj(raw) && Array.isArray(raw['entries']) ? raw['entries'] : [];
  if (list.length === 0) c.fail('entries must be a non-empty list');
  for (const e of list) {
    if (!isObj(e)) {
      c.fail('entry is not an object');
      continue;
    }
    const unfixedRaw = e['unfixed'];
    const unfixed =
      isObj(unfixedRaw) && isStr(unfixedRaw['reason']) ? { reason: unfixedRaw['reason'] } : undefined;
    if (unfixedRaw !== undefined && !unfixed) {
      c.fail(`${String(e['id'])}: unfixed needs a reason`);
      continue;
    }
    const base = advisoryBase(e, c, unfixed !== undefined);
    if (!base) continue;
    if (unfixed && base.fixedIn.length > 0) {
      c.fail(`${base.id}: an unfixed CVE cannot list fixed versions`);
      continue;
    }
    if (!unfixed && base.fixedIn.length === 0) {
      c.fail(`${base.id}: fixedIn is empty; mark the entry "unfixed" with a reason`);
      continue;
    }
    const comps = strArr(e['components']);
    if (
      !comps ||
      comps.length === 0 ||
      !comps.every((x) => (K8S_COMPONENTS as readonly string[]).includes(x))
    ) {
      c.fail(`${base.id}: components must be among ${K8S_COMPONENTS.join(', ')}`);
      continue;
    }
    if (seen.has(base.id)) {
      c.fail(`${base.id}: duplicate entry`);
      continue;
    }
    seen.add(base.id);
    const cve: KubernetesCve = { ...base, components: comps as K8sComponent[] };
    const platforms = e['platforms'] === undefined ? undefined : strArr(e['platforms']);
    if (
      e['platforms'] !== undefined &&
      (!platforms || !platforms.every((p) => p === 'windows' || p === 'linux'))
    ) {
      c.fail(`${base.id}: platforms must be windows or linux`);
      continue;
    }
    if (platforms) cve.platforms = platforms;
    if (unfixed) cve.unfixed = unfixed;
    if (isStr(e['conditions'])) cve.conditions = e['conditions'];
    if (isStr(e['mitigation'])) cve.mitigation = e['mitigation'];
    entries.push(cve);
  }
  return { header: h, entries, errors: c.errors };
}

/** Validates container-runtimes.json. */
export function loadRuntimeAdvisories(raw: unknown): {
  header: DatasetHeader;
  entries: RuntimeAdvisory[];
  errors: string[];
} {
  const c = new Checker('container-runtimes.json');
  const h = header('container-runtimes.json', raw, c);
  const entries: RuntimeAdvisory[] = [];
  const list = isObj(raw) && Array.isArray(raw['entries']) ? raw['entries'] : [];
  if (list.length === 0) c.fail('entries must be a non-empty list');
  for (const e of list) {
    if (!isObj(e)) {
      c.fail('entry is not an object');
      continue;
    }
    const base = advisoryBase(e, c, false);
    if (!base) continue;
    if (base.fixedIn.length === 0) {
      c.fail(`${base.id}: fixedIn must not be empty`);
      continue;
    }
    const runtime = e['runtime'];
    if (runtime !== 'containerd' && runtime !== 'cri-o') {
      c.fail(`${base.id}: runtime must be containerd or cri-o`);
      continue;
    }
    if (e['via'] !== undefined && e['via'] !== 'runc') {
      c.fail(`${base.id}: via must be runc`);
      continue;
    }
    const adv: RuntimeAdvisory = { ...base, runtime };
    if (e['via'] === 'runc') adv.via = 'runc';
    entries.push(adv);
  }
  return { header: h, entries, errors: c.errors };
}

/** Validates kubernetes-releases.json. */
export function loadReleases(raw: unknown): {
  header: DatasetHeader;
  releases: KubernetesRelease[];
  errors: string[];
} {
  const c = new Checker('kubernetes-releases.json');
  const h = header('kubernetes-releases.json', raw, c);
  const releases: KubernetesRelease[] = [];
  const list = isObj(raw) && Array.isArray(raw['releases']) ? raw['releases'] : [];
  if (list.length === 0) c.fail('releases must be a non-empty list');
  for (const r of list) {
    if (!isObj(r) || typeof r['minor'] !== 'string' || !/^1\.\d+$/.test(r['minor'])) {
      c.fail('every release needs a minor like "1.30"');
      continue;
    }
    const minor = r['minor'];
    if (!isIsoDate(r['endOfLife'])) {
      c.fail(`${minor}: endOfLife must be a YYYY-MM-DD date`);
      continue;
    }
    if (r['dateKind'] !== 'actual' && r['dateKind'] !== 'scheduled') {
      c.fail(`${minor}: dateKind must be actual or scheduled`);
      continue;
    }
    if (!isUrl(r['source'])) {
      c.fail(`${minor}: source must be an https url`);
      continue;
    }
    const rel: KubernetesRelease = {
      minor,
      endOfLife: r['endOfLife'],
      dateKind: r['dateKind'],
      source: r['source'],
    };
    if (typeof r['finalPatch'] === 'string') rel.finalPatch = r['finalPatch'];
    releases.push(rel);
  }
  return { header: h, releases, errors: c.errors };
}

/** Validates os-images.json. */
export function loadOsImages(raw: unknown): { header: DatasetHeader; entries: OsImage[]; errors: string[] } {
  const c = new Checker('os-images.json');
  const h = header('os-images.json', raw, c);
  const entries: OsImage[] = [];
  const list = isObj(raw) && Array.isArray(raw['entries']) ? raw['entries'] : [];
  if (list.length === 0) c.fail('entries must be a non-empty list');
  for (const e of list) {
    if (!isObj(e) || !isStr(e['distro']) || !isStr(e['version']) || !isStr(e['name'])) {
      c.fail('every OS entry needs distro, version and name');
      continue;
    }
    const key = `${e['distro']} ${e['version']}`;
    if (!isIsoDate(e['standardSupportEnd'])) {
      c.fail(`${key}: standardSupportEnd must be a YYYY-MM-DD date`);
      continue;
    }
    const sources = strArr(e['sources']);
    if (!sources || sources.length === 0 || !sources.every(isUrl)) {
      c.fail(`${key}: sources must list https urls`);
      continue;
    }
    const os: OsImage = {
      distro: e['distro'],
      version: e['version'],
      name: e['name'],
      standardSupportEnd: e['standardSupportEnd'],
      sources,
    };
    if (e['extendedSupportEnd'] !== undefined) {
      if (!isIsoDate(e['extendedSupportEnd']) || !isStr(e['extendedSupportName'])) {
        c.fail(`${key}: extendedSupportEnd needs a date and extendedSupportName`);
        continue;
      }
      os.extendedSupportEnd = e['extendedSupportEnd'];
      os.extendedSupportName = e['extendedSupportName'];
    }
    entries.push(os);
  }
  return { header: h, entries, errors: c.errors };
}

/** Validates kernels.json. */
export function loadKernels(raw: unknown): { header: DatasetHeader; data: KernelData; errors: string[] } {
  const c = new Checker('kernels.json');
  const h = header('kernels.json', raw, c);
  const o = isObj(raw) ? raw : {};
  const longterm: KernelLine[] = [];
  for (const l of Array.isArray(o['longterm']) ? o['longterm'] : []) {
    if (
      isObj(l) &&
      typeof l['line'] === 'string' &&
      /^\d+\.\d+$/.test(l['line']) &&
      isIsoDate(l['endOfLife']) &&
      isUrl(l['source'])
    ) {
      longterm.push({ line: l['line'], endOfLife: l['endOfLife'], source: l['source'] });
    } else c.fail('every longterm line needs line, endOfLife and an https source');
  }
  if (longterm.length === 0) c.fail('longterm must list kernel.org longterm lines');
  const older = isObj(o['olderLines']) ? o['olderLines'] : {};
  const nonLt = isObj(o['nonLongterm']) ? o['nonLongterm'] : {};
  const olderOk =
    typeof older['below'] === 'string' && isIsoDate(older['endOfLifeBy']) && isStr(older['reason']);
  const nonLtOk = typeof nonLt['below'] === 'string' && isStr(nonLt['reason']);
  if (!olderOk) c.fail('olderLines needs below, endOfLifeBy and reason');
  if (!nonLtOk) c.fail('nonLongterm needs below and reason');
  const data: KernelData = {
    longterm,
    olderLines: olderOk
      ? {
          below: older['below'] as string,
          endOfLifeBy: older['endOfLifeBy'] as string,
          reason: older['reason'] as string,
        }
      : { below: '0.0', endOfLifeBy: '1970-01-01', reason: '' },
    nonLongterm: nonLtOk
      ? { below: nonLt['below'] as string, reason: nonLt['reason'] as string }
      : { below: '0.0', reason: '' },
  };
  return { header: h, data, errors: c.errors };
}

const cves = loadKubernetesCves(cvesJson);
const runtimes = loadRuntimeAdvisories(runtimesJson);
const releases = loadReleases(releasesJson);
const osImages = loadOsImages(osJson);
const kernels = loadKernels(kernelsJson);

/** The validated, bundled dataset. */
/**
 * The severities above `listed` that a rule reporting entries at their own severity raises
 * findings to (RuleMeta.raisedTo), read from the dataset itself, highest first.
 */
export function raisedByEntries(
  listed: Severity,
  entries: readonly { severity: Severity }[],
  what: string,
): RaisedSeverity[] {
  const above = new Set(entries.map((e) => e.severity).filter((s) => severityRank(s) > severityRank(listed)));
  return SEVERITIES.filter((s) => above.has(s)).map((severity) => ({
    severity,
    when: `${what} the bundled dataset rates ${severity}`,
  }));
}

export const DATASET = {
  kubernetesCves: cves.entries,
  runtimeAdvisories: runtimes.entries,
  releases: releases.releases,
  osImages: osImages.entries,
  kernels: kernels.data,
  headers: [cves.header, runtimes.header, releases.header, osImages.header, kernels.header],
} as const;

/** Every schema problem found while loading; empty for a healthy dataset. */
export const DATASET_ERRORS: readonly string[] = [
  ...cves.errors,
  ...runtimes.errors,
  ...releases.errors,
  ...osImages.errors,
  ...kernels.errors,
];
