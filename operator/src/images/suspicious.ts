/**
 * Suspicious content of an image (issue 18, point 6): few, precise signs of code or data that
 * should not be there, found while the layers stream (layers.ts calls `SuspectScanner`) and in
 * the image config. Nothing here keeps file contents: each small file is read, looked at and
 * dropped; only the findings stay.
 *
 * - miner: an executable named like a known cryptominer (xmrig, ccminer, cpuminer, t-rex, …); an
 *   executable holding a miner's tell-tale strings (a stratum URL and a mining algorithm or
 *   xmrig's donate-level option together); an xmrig-style JSON config (`"donate-level"` and
 *   `"pools"`).
 * - mining-pool: a stratum URL (stratum+tcp://, stratum+ssl://, stratum2+tcp://) or a well-known
 *   pool host in the entrypoint, command or environment of the image config, or in a small script
 *   (a file starting with #! or named *.sh). Other files are not searched for pool hosts: security
 *   tools ship block lists of them.
 * - setuid: a setuid or setgid regular file that no installed package lists (dpkg's
 *   /var/lib/dpkg/info/*.list, apk's installed database): added by the image, not by the
 *   distribution.
 * - private-key / secret: a PEM or OpenSSH private key, or a provider credential of a known
 *   format (AWS access key id, GitHub/GitLab/Slack/npm/… tokens), with the patterns of the secrets
 *   rules (rules/secrets/detectors.ts), in a small file or in the config's environment. Unlike the
 *   others, these stay reported when a later layer deletes or replaces the file: the earlier
 *   layer's blob still holds it and anyone who can pull the image can read it.
 *   Not searched: documentation and test-fixture directories (usr/share/doc, …/test(s)/,
 *   …/testdata/, …/fixtures/, …/examples/), where libraries ship the public keys their tests use
 *   (Python's test/keycert.pem, node-forge's and Go modules' testdata): keys a test suite needs are
 *   public by construction, and reporting them would bury real findings.
 */
import { severityRank, type Severity, type SuspiciousContent } from '../engine/types.ts';
import { detectKnown } from '../rules/secrets/detectors.ts';
import { clip } from '../rules/workload/_shared.ts';
import type { ImageConfig } from './registry.ts';
import type { FileSink, TarEntry } from './tar.ts';

/** Largest file whose content is looked at (scripts, keys, credential files are small). */
export const SMALL_FILE_BYTES = 64 << 10;
/** Most suspects kept for one image (the rest are counted, not listed). */
export const MAX_SUSPECTS = 1000;

/** Base names of well-known cryptominer executables. */
const MINER_NAMES = new Set([
  'xmrig',
  'xmrig-notls',
  'xmrig-cuda',
  'xmr-stak',
  'xmr-stak-cpu',
  'xmr-stak-rx',
  'ccminer',
  'cpuminer',
  'cpuminer-multi',
  'cpuminer-opt',
  'minerd',
  't-rex',
  'nbminer',
  'lolminer',
  'ethminer',
  'phoenixminer',
  'gminer',
  'nanominer',
  'teamredminer',
  'srbminer-multi',
  'bzminer',
]);

/** Pool hosts that serve mining only (a name in a script or entrypoint is an intent to mine). */
const POOL_HOSTS =
  /(?:^|[^a-z0-9.-])((?:[a-z0-9-]+\.)*(?:minexmr\.com|supportxmr\.com|xmrpool\.eu|moneroocean\.stream|nanopool\.org|2miners\.com|f2pool\.com|hashvault\.pro|c3pool\.com|herominers\.com|unmineable\.com|nicehash\.com|ethermine\.org|viabtc\.com|antpool\.com|minergate\.com|monerohash\.com|xmrfast\.com))(?![a-z0-9-])/i;
const STRATUM = /\bstratum2?\+(?:tcp|ssl|tls):\/\/[^\s"'`]*/i;

/** Strings that, together in one executable, mark a miner (needles are searched byte-wise). */
const BINARY_STRATUM = [Buffer.from('stratum+tcp://'), Buffer.from('stratum+ssl://')];
const BINARY_MINING = [
  Buffer.from('cryptonight'),
  Buffer.from('randomx'),
  Buffer.from('RandomX'),
  Buffer.from('donate-level'),
];
const LONGEST_NEEDLE = Math.max(...[...BINARY_STRATUM, ...BINARY_MINING].map((b) => b.length));

const NOT_SEARCHED =
  /(?:^|\/)(?:tests?|testdata|test_data|testing|fixtures?|examples?)\/|^usr\/share\/(?:doc|man|help)\//;

/** What a file of a layer showed; `layer` is the layer's index. */
export interface Suspect {
  kind: SuspiciousContent['kind'];
  path: string;
  detail: string;
  severity: Severity;
  layer: number;
  /** Index of the later layer that deleted or replaced the file (keys and secrets only). */
  hiddenIn?: number;
}

/** True for findings that a later layer's whiteout does not undo (the earlier blob still has them). */
export function survivesDeletion(kind: SuspiciousContent['kind']): boolean {
  return kind === 'private-key' || kind === 'secret';
}

export function isMinerName(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return MINER_NAMES.has(base) || MINER_NAMES.has(base.replace(/\.(?:exe|bin)$/, ''));
}

/** Mining pools named in free text (a script, an argument, an environment value). */
export function miningPools(text: string): string[] {
  const out: string[] = [];
  const s = STRATUM.exec(text);
  if (s) out.push(s[0]);
  const h = POOL_HOSTS.exec(text);
  if (h?.[1] && !out.some((o) => o.toLowerCase().includes((h[1] ?? '').toLowerCase()))) out.push(h[1]);
  return out;
}

/**
 * A whole key block, not just its first line: source code that names the header (a parser's
 * constant, e.g. cryptography's ssh.py) holds no key. Optional RFC 1421 headers (Proc-Type,
 * DEK-Info), then at least 64 base64 characters, then the matching END line.
 */
const KEY_BLOCK =
  /-----BEGIN ((?:[A-Z0-9]+ ){0,3}PRIVATE KEY)-----\r?\n(?:[A-Za-z-]+: [^\n]*\r?\n)*(?:\r?\n)?[A-Za-z0-9+/=\r\n]{64,}-----END \1-----/;

/** Secrets and keys in a text (a small file or an environment value), as suspect kinds. */
export function secretsIn(
  text: string,
): { kind: 'private-key' | 'secret'; detail: string; severity: Severity }[] {
  const out: { kind: 'private-key' | 'secret'; detail: string; severity: Severity }[] = [];
  for (const type of detectKnown(text)) {
    if (type === 'private key (PEM)') {
      if (!KEY_BLOCK.test(text)) continue;
      const ssh = text.includes('-----BEGIN OPENSSH PRIVATE KEY-----');
      const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
      out.push({
        kind: 'private-key',
        detail: `${ssh ? 'OpenSSH' : 'PEM'} private key${encrypted ? ' (encrypted)' : ''}`,
        severity: encrypted ? 'medium' : 'high',
      });
    } else out.push({ kind: 'secret', detail: type, severity: 'high' });
  }
  return out;
}

const isScript = (path: string, head: Buffer): boolean =>
  (head[0] === 0x23 && head[1] === 0x21) || /\.(?:sh|bash)$/.test(path);

/** Findings of one small file's content. */
export function smallFileFindings(path: string, data: Buffer): Omit<Suspect, 'layer'>[] {
  const out: Omit<Suspect, 'layer'>[] = [];
  // Binary content (a NUL in the first KiB) is not text: no key or script in it.
  if (data.subarray(0, 1024).includes(0)) return out;
  const text = data.toString('latin1');
  if (!NOT_SEARCHED.test(path)) for (const s of secretsIn(text)) out.push({ ...s, path: `/${path}` });
  if (isScript(path, data))
    for (const pool of miningPools(text))
      out.push({
        kind: 'mining-pool',
        path: `/${path}`,
        detail: `script names the mining pool ${clip(pool)}`,
        severity: 'critical',
      });
  if (/\.json$/.test(path) && text.includes('"donate-level"') && /"pools"\s*:/.test(text))
    out.push({
      kind: 'miner',
      path: `/${path}`,
      detail: 'xmrig-style miner configuration ("donate-level" and "pools")',
      severity: 'critical',
    });
  return out;
}

/**
 * Streams an executable looking for a miner's tell-tale strings, keeping only a needle-long tail
 * between chunks. A needle split between two chunks is found in the seam (the tail and the next
 * chunk's first bytes, a few dozen bytes copied); the chunk itself is searched in place, never
 * copied: executables are most of an image's bytes, and a copy of each chunk doubled the garbage
 * their analysis leaves for the collector.
 */
export class MinerStringScanner {
  private tail = Buffer.alloc(0);
  stratum = false;
  mining = false;

  write(chunk: Buffer): void {
    if (this.stratum && this.mining) return;
    const k = LONGEST_NEEDLE - 1;
    if (this.tail.length > 0) this.search(Buffer.concat([this.tail, chunk.subarray(0, k)]));
    this.search(chunk);
    this.tail =
      chunk.length >= k
        ? Buffer.from(chunk.subarray(chunk.length - k))
        : Buffer.from(Buffer.concat([this.tail, chunk]).subarray(-k));
  }

  private search(buf: Buffer): void {
    if (!this.stratum) this.stratum = BINARY_STRATUM.some((n) => buf.includes(n));
    if (!this.mining) this.mining = BINARY_MINING.some((n) => buf.includes(n));
  }

  get found(): boolean {
    return this.stratum && this.mining;
  }
}

/** One sink feeding several (undefined ones skipped). */
export function teeSink(...sinks: (FileSink | undefined)[]): FileSink | undefined {
  const all = sinks.filter((s): s is FileSink => s !== undefined);
  if (all.length <= 1) return all[0];
  return {
    write: (c) => {
      for (const s of all) s.write(c);
    },
    end: () => {
      for (const s of all) s.end();
    },
  };
}

/**
 * What one tar entry of a layer may hold, and a sink reading its content when that is needed.
 * `found` receives each suspect when the entry is complete.
 */
export function suspectSink(e: TarEntry, found: (s: Omit<Suspect, 'layer'>) => void): FileSink | undefined {
  if (e.type !== 'file') return undefined;
  const exec = (e.mode & 0o111) !== 0;
  if (exec && isMinerName(e.path))
    found({
      kind: 'miner',
      path: `/${e.path}`,
      detail: `executable named like the cryptominer ${e.path.slice(e.path.lastIndexOf('/') + 1)}`,
      severity: 'critical',
    });
  if ((e.mode & 0o6000) !== 0)
    found({
      kind: 'setuid',
      path: `/${e.path}`,
      detail: `${(e.mode & 0o4000) !== 0 ? 'setuid' : 'setgid'} file (mode ${(e.mode & 0o7777).toString(8).padStart(4, '0')})`,
      severity: 'medium',
    });
  if (e.size === 0) return undefined;
  if (e.size <= SMALL_FILE_BYTES) {
    const chunks: Buffer[] = [];
    return {
      write: (c) => chunks.push(Buffer.from(c)),
      end: () => {
        for (const s of smallFileFindings(e.path, Buffer.concat(chunks))) found(s);
      },
    };
  }
  if (!exec) return undefined;
  const scanner = new MinerStringScanner();
  return {
    write: (c) => scanner.write(c),
    end: () => {
      if (scanner.found)
        found({
          kind: 'miner',
          path: `/${e.path}`,
          detail:
            'executable holds a miner\'s strings (a stratum URL and a mining algorithm or "donate-level")',
          severity: 'critical',
        });
    },
  };
}

/** Mining pools and secrets in the image config's entrypoint, command and environment. */
export function configFindings(config: ImageConfig): SuspiciousContent[] {
  const out: SuspiciousContent[] = [];
  const c = config.config ?? {};
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])].filter((x) => typeof x === 'string');
  const line = argv.join(' ');
  for (const pool of miningPools(line))
    out.push({
      kind: 'mining-pool',
      path: 'entrypoint',
      detail: `the entrypoint/command names the mining pool ${clip(pool)}`,
      severity: 'critical',
    });
  if (argv.some((a) => isMinerName(a.split(/\s+/)[0] ?? '')))
    out.push({
      kind: 'miner',
      path: 'entrypoint',
      detail: `the entrypoint/command runs a known cryptominer (${clip(argv.find((a) => isMinerName(a.split(/\s+/)[0] ?? '')) ?? '')})`,
      severity: 'critical',
    });
  for (const kv of c.Env ?? []) {
    if (typeof kv !== 'string') continue;
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    for (const pool of miningPools(value))
      out.push({
        kind: 'mining-pool',
        path: 'env',
        detail: `environment variable ${clip(name)} names the mining pool ${clip(pool)}`,
        severity: 'critical',
      });
    for (const s of secretsIn(value))
      out.push({
        kind: s.kind,
        path: 'env',
        detail: `environment variable ${clip(name)} holds a ${s.detail}`,
        severity: s.severity,
      });
  }
  return out;
}

const MERGED_USR = /^\/(?:usr\/)?((?:s?bin|lib|lib32|lib64|libx32)\/.*)$/;

/**
 * Paths that installed packages list (dpkg *.list files, apk's installed database). With merged
 * /usr (Debian 12, Ubuntu, Fedora: /bin is a symlink to usr/bin) a package lists /bin/su while the
 * layer holds usr/bin/su: both spellings count as owned.
 */
export function ownedPaths(dpkgLists: Iterable<Buffer>, apkInstalled: Buffer | undefined): Set<string> {
  const owned = new Set<string>();
  const add = (p: string): void => {
    owned.add(p);
    const m = MERGED_USR.exec(p);
    if (m?.[1]) {
      owned.add(`/${m[1]}`);
      owned.add(`/usr/${m[1]}`);
    }
  };
  for (const l of dpkgLists)
    for (const line of l.toString('utf8').split('\n')) {
      const p = line.trim();
      if (p.startsWith('/') && p !== '/.') add(p);
    }
  if (apkInstalled) {
    let dir = '';
    for (const line of apkInstalled.toString('utf8').split('\n')) {
      if (line.startsWith('P:')) dir = '';
      else if (line.startsWith('F:')) dir = line.slice(2).trim();
      else if (line.startsWith('R:')) add(`/${dir ? `${dir}/` : ''}${line.slice(2).trim()}`);
    }
  }
  return owned;
}

/**
 * The image's findings from what the layers left (setuid files owned by a package dropped, keys
 * hidden by a later layer said so), plus the config's. Sorted by severity then path.
 */
export function suspiciousContent(
  suspects: Iterable<Suspect>,
  owned: ReadonlySet<string>,
  config: ImageConfig | undefined,
  layerCount: number,
): SuspiciousContent[] {
  const out: SuspiciousContent[] = [];
  for (const s of suspects) {
    if (s.kind === 'setuid') {
      if (owned.has(s.path)) continue;
      out.push({
        kind: s.kind,
        path: s.path,
        detail: `${s.detail} that no installed package lists (added in layer ${s.layer + 1} of ${layerCount})`,
        severity: s.severity,
      });
      continue;
    }
    const where =
      s.hiddenIn !== undefined
        ? ` in layer ${s.layer + 1} of ${layerCount}, deleted by layer ${s.hiddenIn + 1} but still in the earlier layer, which anyone who can pull the image can read`
        : ` (layer ${s.layer + 1} of ${layerCount})`;
    out.push({ kind: s.kind, path: s.path, detail: `${s.detail}${where}`, severity: s.severity });
  }
  if (config) out.push(...configFindings(config));
  return out.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.path.localeCompare(b.path) ||
      a.kind.localeCompare(b.kind),
  );
}
