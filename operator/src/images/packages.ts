/**
 * Packages from the files an image keeps (see layers.ts): Debian/Ubuntu dpkg status (and the
 * status.d files of distroless images), Alpine's installed database, npm package.json files and
 * lock files, Python METADATA, Go build info; the OS from os-release. Each package carries its
 * OSV ecosystem, a purl and where it was found.
 */
import { parseBuildInfo } from './gobuildinfo.ts';
import type { ImageFiles } from './layers.ts';

export type PackageType = 'deb' | 'apk' | 'npm' | 'pypi' | 'golang';

export interface Package {
  type: PackageType;
  name: string;
  version: string;
  /** OSV ecosystem: Debian:12, Alpine:v3.19, npm, PyPI, Go. */
  ecosystem: string;
  purl: string;
  /** Files the package was found in (image paths, absolute). */
  locations: string[];
  arch?: string;
  /** The source package (dpkg Source, apk origin) when it differs: advisories often name it. */
  source?: string;
  sourceVersion?: string;
}

export interface OsRelease {
  id: string;
  versionId: string;
  prettyName: string;
  versionCodename?: string;
}

export function parseOsRelease(text: string): OsRelease {
  const kv: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2] ?? '';
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    kv[m[1] ?? ''] = v;
  }
  const out: OsRelease = {
    id: kv['ID'] ?? '',
    versionId: kv['VERSION_ID'] ?? '',
    prettyName: kv['PRETTY_NAME'] ?? '',
  };
  if (kv['VERSION_CODENAME']) out.versionCodename = kv['VERSION_CODENAME'];
  return out;
}

/** RFC 822-style stanzas (dpkg status, apk installed uses one letter keys with the same shape). */
export function stanzas(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(cur).length > 0) out.push(cur);
      cur = {};
      last = '';
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      cur[last] = `${cur[last] ?? ''}\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    cur[last] = line.slice(colon + 1).trim();
  }
  if (Object.keys(cur).length > 0) out.push(cur);
  return out;
}

const enc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function purlOf(p: {
  type: PackageType;
  name: string;
  version: string;
  namespace?: string;
  qualifiers?: Record<string, string>;
}): string {
  let name: string;
  if (p.type === 'npm' && p.name.startsWith('@')) {
    const [scope, n] = p.name.split('/');
    name = `${enc(scope ?? '')}/${enc(n ?? '')}`;
  } else if (p.type === 'golang') name = p.name.split('/').map(enc).join('/');
  else if (p.type === 'pypi') name = enc(p.name.toLowerCase().replace(/[-_.]+/g, '-'));
  else name = enc(p.name);
  const ns = p.namespace ? `${enc(p.namespace)}/` : '';
  const q = Object.entries(p.qualifiers ?? {})
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${enc(v)}`)
    .join('&');
  return `pkg:${p.type}/${ns}${name}@${enc(p.version)}${q ? `?${q}` : ''}`;
}

/** The OSV ecosystem of the OS packages: Debian:12, Ubuntu:22.04, Alpine:v3.19. */
export function osEcosystem(os: OsRelease | undefined): string | undefined {
  if (!os) return undefined;
  switch (os.id) {
    case 'debian':
      return `Debian${os.versionId ? `:${os.versionId}` : ''}`;
    case 'ubuntu':
      return `Ubuntu${os.versionId ? `:${os.versionId}` : ''}`;
    case 'alpine': {
      const mm = /^(\d+)\.(\d+)/.exec(os.versionId);
      return `Alpine${mm ? `:v${mm[1]}.${mm[2]}` : ''}`;
    }
    default:
      return undefined;
  }
}

export interface Inventory {
  os?: OsRelease;
  packages: Package[];
  /** Go binaries built before Go 1.18, whose modules a stream cannot read. */
  legacyGoBinaries: string[];
  /** Files that could not be parsed, with why (the rest is still reported). */
  problems: string[];
}

/** Everything installed, from the kept files of an image. */
export function inventory(files: ImageFiles): Inventory {
  const problems: string[] = [];
  const byKey = new Map<string, Package>();
  const add = (p: Omit<Package, 'locations' | 'purl'> & { purl: string }, location: string): void => {
    const key = `${p.type}\u0000${p.name}\u0000${p.version}`;
    const seen = byKey.get(key);
    if (seen) {
      if (!seen.locations.includes(location)) seen.locations.push(location);
      return;
    }
    byKey.set(key, { ...p, locations: [location] });
  };
  let os: OsRelease | undefined;
  const osFile = files.files.get('etc/os-release') ?? files.files.get('usr/lib/os-release');
  if (osFile) os = parseOsRelease(osFile.data.toString('utf8'));
  const osEco = osEcosystem(os);
  const distro = os?.id ? `${os.id}-${os.versionId}` : '';

  const installedNpmRoots = new Set<string>();
  for (const [path, f] of files.files)
    if (f.kind === 'npm-package') {
      const i = path.indexOf('node_modules/');
      installedNpmRoots.add(path.slice(0, i));
    }
  for (const [path, f] of [...files.files].sort(([a], [b]) => a.localeCompare(b))) {
    const where = `/${path}`;
    const text = (): string => f.data.toString('utf8');
    switch (f.kind) {
      case 'dpkg-status':
        for (const s of stanzas(text())) {
          const name = s['Package'];
          const version = s['Version'];
          if (!name || !version) continue;
          // status lists removed packages too; status.d files (distroless) have no Status.
          if (s['Status'] !== undefined && !/\binstalled$/.test(s['Status'])) continue;
          const arch = s['Architecture'] ?? '';
          const srcField = s['Source'] ?? '';
          const sm = /^(\S+)(?:\s+\((.+)\))?$/.exec(srcField);
          const ns = os?.id === 'ubuntu' ? 'ubuntu' : 'debian';
          const pkg: Omit<Package, 'locations'> = {
            type: 'deb',
            name,
            version,
            ecosystem: osEco ?? 'Debian',
            arch,
            purl: purlOf({ type: 'deb', namespace: ns, name, version, qualifiers: { arch, distro } }),
          };
          if (sm?.[1]) {
            pkg.source = sm[1];
            pkg.sourceVersion = sm[2] ?? version;
          }
          add(pkg, where);
        }
        break;
      case 'apk-installed':
        for (const s of stanzas(text())) {
          const name = s['P'];
          const version = s['V'];
          if (!name || !version) continue;
          const arch = s['A'] ?? '';
          const pkg: Omit<Package, 'locations'> = {
            type: 'apk',
            name,
            version,
            ecosystem: osEco ?? 'Alpine',
            arch,
            purl: purlOf({ type: 'apk', namespace: 'alpine', name, version, qualifiers: { arch, distro } }),
          };
          if (s['o'] && s['o'] !== name) {
            pkg.source = s['o'];
            pkg.sourceVersion = version;
          }
          add(pkg, where);
        }
        break;
      case 'npm-package': {
        const doc = JSON.parse(text()) as { name?: string; version?: string };
        if (doc.name && doc.version)
          add(
            {
              type: 'npm',
              name: doc.name,
              version: doc.version,
              ecosystem: 'npm',
              purl: purlOf({ type: 'npm', name: doc.name, version: doc.version }),
            },
            where,
          );
        break;
      }
      case 'npm-lock':
        // An installed tree next to the lock file is what runs: the lock may list packages a
        // later layer removed. The lock counts only where nothing was installed beside it.
        if (installedNpmRoots.has(path.slice(0, -'package-lock.json'.length))) break;
        try {
          for (const [name, version] of lockPackages(JSON.parse(text())))
            add(
              { type: 'npm', name, version, ecosystem: 'npm', purl: purlOf({ type: 'npm', name, version }) },
              where,
            );
        } catch (err) {
          problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
        }
        break;
      case 'python-metadata': {
        const h = stanzas(text())[0] ?? {};
        const name = h['Name'];
        const version = h['Version'];
        if (name && version)
          add(
            { type: 'pypi', name, version, ecosystem: 'PyPI', purl: purlOf({ type: 'pypi', name, version }) },
            where,
          );
        else problems.push(`${where}: no Name and Version headers`);
        break;
      }
      case 'go-buildinfo': {
        const info = parseBuildInfo(f.data);
        if (!info) {
          problems.push(`${where}: Go build info that does not parse`);
          break;
        }
        const goVersion = goToolchainSemver(info.goVersion);
        if (goVersion)
          add(
            {
              type: 'golang',
              name: 'stdlib',
              version: goVersion,
              ecosystem: 'Go',
              purl: purlOf({ type: 'golang', name: 'stdlib', version: goVersion }),
            },
            where,
          );
        const mods = [...(info.main && info.main.version !== '(devel)' ? [info.main] : []), ...info.deps];
        for (const m of mods) {
          const eff =
            m.replace && m.replace.version ? { path: m.replace.path, version: m.replace.version } : m;
          if (!eff.version) continue;
          add(
            {
              type: 'golang',
              name: eff.path,
              version: eff.version,
              ecosystem: 'Go',
              purl: purlOf({ type: 'golang', name: eff.path, version: eff.version }),
            },
            where,
          );
        }
        break;
      }
      default:
        break;
    }
  }
  const out: Inventory = {
    packages: [...byKey.values()].sort(
      (a, b) =>
        a.type.localeCompare(b.type) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
    ),
    legacyGoBinaries: [...files.legacyGo].map((p) => `/${p}`).sort(),
    problems,
  };
  if (os) out.os = os;
  return out;
}

/** name, version pairs of a package-lock.json (lockfileVersion 1, 2 or 3). */
export function lockPackages(lock: unknown): [string, string][] {
  const out: [string, string][] = [];
  const doc = lock as {
    packages?: Record<string, { version?: string; name?: string; link?: boolean }>;
    dependencies?: Record<string, { version?: string; dependencies?: unknown }>;
  };
  if (doc.packages) {
    for (const [key, meta] of Object.entries(doc.packages)) {
      if (key === '' || meta.link || !meta.version) continue;
      const i = key.lastIndexOf('node_modules/');
      if (i < 0) continue;
      out.push([meta.name ?? key.slice(i + 'node_modules/'.length), meta.version]);
    }
    return out;
  }
  const walk = (deps: Record<string, { version?: string; dependencies?: unknown }> | undefined): void => {
    for (const [name, meta] of Object.entries(deps ?? {})) {
      if (meta.version && !/^(file|link|git|github|http)/.test(meta.version)) out.push([name, meta.version]);
      walk(meta.dependencies as Record<string, { version?: string; dependencies?: unknown }> | undefined);
    }
  };
  walk(doc.dependencies);
  return out;
}

/**
 * A Go toolchain version as the Go vulnerability database writes stdlib versions (semver):
 * go1.20 → 1.20.0, go1.21.3 → 1.21.3, go1.22rc1 → 1.22.0-rc.1, go1.19beta2 → 1.19.0-beta.2;
 * "go1.20.4 X:boringcrypto" keeps the version. Undefined for a development toolchain (devel …).
 */
export function goToolchainSemver(v: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?(?:\s|$|-)/.exec(v.trim());
  if (!m) return undefined;
  const base = `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
  return m[4] ? `${base}-${m[4]}.${m[5]}` : base;
}
