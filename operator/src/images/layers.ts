/**
 * The files of an image that say what is installed, gathered from its layers as they stream:
 * package databases, os-release, npm and Python metadata, Go build info. Whiteouts (.wh.NAME)
 * and opaque directories (.wh..wh..opq) remove what lower layers had, as the OCI layer spec says;
 * a file in an upper layer replaces the lower one. Only what matters is kept (a package.json is
 * reduced to its name and version, a METADATA file to its headers, a binary to its build info),
 * within a budget: memory does not grow with the size of the image.
 */
import { createGunzip } from 'node:zlib';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildInfoScanner } from './gobuildinfo.ts';
import { MAX_SUSPECTS, suspectSink, survivesDeletion, teeSink, type Suspect } from './suspicious.ts';
import { readTar, type FileSink, type TarEntry } from './tar.ts';

export type Kind =
  | 'os-release'
  | 'dpkg-status'
  | 'dpkg-list'
  | 'apk-installed'
  | 'npm-lock'
  | 'npm-package'
  | 'python-metadata'
  | 'go-buildinfo';

export interface KeptFile {
  kind: Kind;
  data: Buffer;
  /** Index of the layer it came from. */
  layer: number;
}

export interface Limits {
  /** Largest file kept whole (package databases, lock files). */
  maxFileBytes: number;
  /** Total bytes kept for one image. */
  maxTotalBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxFileBytes: 32 << 20, maxTotalBytes: 64 << 20 };

const NPM_PACKAGE = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;

/** Which kind of file a path holds, if it is one Vigil reads. */
export function kindOf(e: TarEntry): Kind | undefined {
  if (e.type !== 'file') return undefined;
  const p = e.path;
  if (p === 'etc/os-release' || p === 'usr/lib/os-release') return 'os-release';
  if (p === 'var/lib/dpkg/status') return 'dpkg-status';
  if (p.startsWith('var/lib/dpkg/status.d/') && !p.endsWith('.md5sums') && !p.slice(22).includes('/'))
    return 'dpkg-status';
  // Which files each Debian package installed (to tell a package's setuid files from the image's).
  if (p.startsWith('var/lib/dpkg/info/') && p.endsWith('.list') && !p.slice(18).includes('/'))
    return 'dpkg-list';
  if (p === 'lib/apk/db/installed') return 'apk-installed';
  if (NPM_PACKAGE.test(p)) return 'npm-package';
  if ((p === 'package-lock.json' || p.endsWith('/package-lock.json')) && !p.includes('node_modules/'))
    return 'npm-lock';
  if (/\.dist-info\/METADATA$/.test(p) || /\.egg-info\/PKG-INFO$/.test(p)) return 'python-metadata';
  if ((e.mode & 0o111) !== 0 && e.size >= 4096) return 'go-buildinfo';
  return undefined;
}

export interface LayerStats {
  entries: number;
  kept: number;
  whiteouts: number;
}

/** The merged view of the kept files, layer by layer. */
export class ImageFiles {
  readonly files = new Map<string, KeptFile>();
  private readonly limits: Limits;
  private total = 0;
  /** Go binaries whose build info predates Go 1.18 (not readable from a stream). */
  readonly legacyGo = new Set<string>();
  readonly layers: LayerStats[] = [];
  /**
   * Suspicious content (suspicious.ts) by kind and path. Deleting or replacing a file drops its
   * suspect, except keys and secrets, which stay marked with the layer that hid them.
   */
  readonly suspects = new Map<string, Suspect>();
  /** Suspects not kept because the image had more than MAX_SUSPECTS. */
  suspectsDropped = 0;

  constructor(limits: Limits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  get keptBytes(): number {
    return this.total;
  }

  private remove(pred: (path: string) => boolean): void {
    for (const [p, f] of this.files)
      if (pred(p)) {
        this.files.delete(p);
        this.total -= f.data.length;
      }
    for (const p of this.legacyGo) if (pred(p)) this.legacyGo.delete(p);
  }

  private hideSuspects(pred: (path: string) => boolean, layer: number): void {
    for (const [k, s] of this.suspects) {
      if (!pred(s.path.slice(1))) continue;
      if (!survivesDeletion(s.kind)) this.suspects.delete(k);
      else if (s.hiddenIn === undefined) s.hiddenIn = layer;
    }
  }

  /** Applies one layer (an uncompressed tar stream) on top of the ones before. */
  async addLayer(tar: AsyncIterable<Buffer | Uint8Array | string>): Promise<LayerStats> {
    const index = this.layers.length;
    const added = new Map<string, KeptFile>();
    const legacy = new Set<string>();
    const deleted: string[] = [];
    const opaque: string[] = [];
    const replaced: string[] = [];
    const suspects: Suspect[] = [];
    const replacedAny: string[] = [];
    const suspectPaths = new Set([...this.suspects.values()].map((s) => s.path.slice(1)));
    const stats: LayerStats = { entries: 0, kept: 0, whiteouts: 0 };
    let layerBytes = 0;
    const budget = (n: number, path: string): void => {
      if (this.total + layerBytes + n > this.limits.maxTotalBytes)
        throw new Error(
          `${path}: the files kept for this image pass the ${this.limits.maxTotalBytes}-byte budget`,
        );
      layerBytes += n;
    };
    /** The sink keeping a file Vigil reads (kindOf), if it is one. */
    const keep = (e: TarEntry): FileSink | undefined => {
      const kind = kindOf(e);
      if (!kind) {
        if (this.files.has(e.path) || this.legacyGo.has(e.path)) replaced.push(e.path);
        return undefined;
      }
      if (kind === 'go-buildinfo') {
        const scanner = new BuildInfoScanner();
        return {
          write: (c) => scanner.write(c),
          end: () => {
            if (scanner.found) {
              const data = ownCopy(scanner.found);
              budget(data.length, e.path);
              added.set(e.path, { kind, data, layer: index });
              stats.kept++;
            } else {
              if (scanner.legacy) legacy.add(e.path);
              if (this.files.has(e.path)) replaced.push(e.path);
            }
          },
        };
      }
      if (e.size > this.limits.maxFileBytes && kind !== 'python-metadata')
        throw new Error(
          `${e.path}: ${e.size} bytes, more than the ${this.limits.maxFileBytes} read for one file`,
        );
      const chunks: Buffer[] = [];
      let n = 0;
      // METADATA: only the headers, which end at the first empty line.
      const headerOnly = kind === 'python-metadata';
      let done = false;
      return {
        write: (c) => {
          if (done) return;
          chunks.push(Buffer.from(c));
          n += c.length;
          if (headerOnly && (n > 256 << 10 || c.includes('\n\n'))) done = true;
        },
        end: () => {
          let data: Buffer = Buffer.concat(chunks);
          if (headerOnly) {
            const cut = data.indexOf('\n\n');
            data = data.subarray(0, cut < 0 ? Math.min(data.length, 256 << 10) : cut + 1);
          }
          if (kind === 'npm-package') data = reducePackageJson(data);
          data = ownCopy(data);
          budget(data.length, e.path);
          added.set(e.path, { kind, data, layer: index });
          stats.kept++;
        },
      };
    };
    stats.entries = await readTar(tar, (e): FileSink | undefined => {
      const slash = e.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : e.path.slice(0, slash);
      const base = e.path.slice(slash + 1);
      if (base.startsWith('.wh.')) {
        stats.whiteouts++;
        if (base === '.wh..wh..opq') opaque.push(dir);
        else deleted.push((dir ? `${dir}/` : '') + base.slice(4));
        return undefined;
      }
      if (suspectPaths.has(e.path)) replacedAny.push(e.path);
      const suspect = suspectSink(e, (s) => suspects.push({ ...s, layer: index }));
      return teeSink(keep(e), suspect);
    });
    // Whiteouts and replacements hide what lower layers had, never what this layer adds.
    for (const d of deleted) this.remove((p) => p === d || p.startsWith(`${d}/`));
    for (const d of opaque) this.remove((p) => d === '' || p.startsWith(`${d}/`));
    for (const r of replaced) this.remove((p) => p === r);
    for (const d of deleted) this.hideSuspects((p) => p === d || p.startsWith(`${d}/`), index);
    for (const d of opaque) this.hideSuspects((p) => d === '' || p.startsWith(`${d}/`), index);
    for (const r of replacedAny) this.hideSuspects((p) => p === r, index);
    for (const s of suspects) {
      const key = `${s.kind}\u0000${s.path}`;
      if (!this.suspects.has(key) && this.suspects.size >= MAX_SUSPECTS) this.suspectsDropped++;
      else this.suspects.set(key, s);
    }
    for (const [p, f] of added) {
      const old = this.files.get(p);
      if (old) this.total -= old.data.length;
      this.files.set(p, f);
      this.total += f.data.length;
      this.legacyGo.delete(p);
    }
    for (const p of legacy) {
      this.legacyGo.add(p);
      const old = this.files.get(p);
      if (old) {
        this.files.delete(p);
        this.total -= old.data.length;
      }
    }
    this.layers.push(stats);
    return stats;
  }
}

/**
 * `data` in an allocation of its own, exactly its length. What a kept file would otherwise hold
 * on to for as long as the image is analysed: a subarray (METADATA headers, Go build info) keeps
 * the whole buffer it was cut from, and a small buffer (a reduced package.json is ~40 bytes)
 * comes from Node's shared 8 KiB pool, whose slab stays alive, with the garbage allocated around
 * it, as long as any buffer in it does: 5,000 reduced package.json files held 18 MiB that way.
 */
export function ownCopy(data: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(data.length);
  data.copy(out);
  return out;
}

/** A package.json reduced to what identifies the package (so thousands of them stay small). */
function reducePackageJson(data: Buffer): Buffer {
  try {
    const doc = JSON.parse(data.toString('utf8')) as { name?: unknown; version?: unknown };
    const out: Record<string, string> = {};
    if (typeof doc.name === 'string') out['name'] = doc.name;
    if (typeof doc.version === 'string') out['version'] = doc.version;
    return Buffer.from(JSON.stringify(out));
  } catch {
    return Buffer.from('{}');
  }
}

/** Layer media types and how to decompress them. */
export function decompressorFor(mediaType: string): (() => NodeJS.ReadWriteStream) | null | undefined {
  if (/tar\+gzip$|tar\.gzip$|rootfs\.diff\.tar\.gzip$/.test(mediaType)) return () => createGunzip();
  if (/tar\+zstd$/.test(mediaType)) {
    const z = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream })
      .createZstdDecompress;
    return z ? () => z() : undefined;
  }
  if (/\.tar$|rootfs\.diff\.tar$/.test(mediaType)) return null;
  return undefined;
}

/** Applies a compressed layer: the blob stream through the decompressor into the tar reader. */
export async function addCompressedLayer(
  files: ImageFiles,
  blob: AsyncIterable<Buffer>,
  mediaType: string,
): Promise<LayerStats> {
  const make = decompressorFor(mediaType);
  if (make === undefined) throw new Error(`layer media type ${mediaType} is not supported`);
  if (make === null) return files.addLayer(blob);
  const unzip = make();
  const feeding = pipeline(Readable.from(blob), unzip);
  const reading = files.addLayer(unzip);
  // Either side failing fails the layer (a digest mismatch surfaces from the feeding side).
  const [, stats] = await Promise.all([
    feeding,
    reading.catch((err: unknown) => {
      (unzip as unknown as { destroy(e?: unknown): void }).destroy(err);
      throw err;
    }),
  ]);
  return stats;
}
