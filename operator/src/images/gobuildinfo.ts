/**
 * Go binaries' embedded build information (the .go.buildinfo section, as `go version -m` reads
 * it): the Go version, the main module and the dependencies with their versions. Found by
 * scanning the file as it streams for the 16-byte-aligned "\xff Go buildinf:" header, so a binary
 * is never held whole. Go 1.18+ binaries inline the two strings after the 32-byte header; older
 * ones point into the data segment, which a stream cannot follow: they are reported as Go
 * binaries whose modules were not read.
 */
import type { FileSink } from './tar.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** Bytes kept after the header: the version and module strings (generous for many deps). */
const MAX_INFO = 1 << 20;

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: { path: string; version: string };
}

export interface GoBuildInfo {
  goVersion: string;
  path: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

/**
 * A sink that looks for the build info in a streaming ELF file. `result()` is the raw header and
 * strings once found (undefined when the file is not an ELF Go binary).
 */
export class BuildInfoScanner implements FileSink {
  /** Bytes not yet searched past (a possible start of the magic), and their file offset. */
  private tail = Buffer.alloc(0);
  private tailAt = 0;
  private state: 'start' | 'search' | 'collect' | 'done' = 'start';
  private collected: Buffer[] = [];
  private collectedLen = 0;
  private collectAt = 0;
  /** Header and what follows, once the magic was found. */
  found?: Buffer;
  /** True when the file is a Go binary whose build info is not inline (before Go 1.18). */
  legacy = false;

  write(chunk: Buffer): void {
    if (this.state === 'done') return;
    if (this.state === 'start') {
      const head = Buffer.concat([this.tail, chunk]);
      if (head.length < 4) {
        this.tail = head;
        return;
      }
      this.tail = Buffer.alloc(0);
      if (!head.subarray(0, 4).equals(ELF)) {
        this.state = 'done';
        return;
      }
      this.state = 'search';
      chunk = head;
    }
    if (this.state === 'collect') {
      this.take(chunk);
      return;
    }
    // The magic may straddle the previous chunk and this one: search the seam (a few bytes,
    // copied), then the chunk in place. No copy of the chunk itself, so no garbage per chunk.
    const k = MAGIC.length - 1;
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, k)]);
      if (this.search(seam, this.tailAt, this.tail.length))
        return this.take(Buffer.concat([seam.subarray(this.hit), chunk.subarray(k)]));
    }
    const chunkAt = this.tailAt + this.tail.length;
    if (this.search(chunk, chunkAt, chunk.length)) return this.take(chunk.subarray(this.hit));
    const keep = Math.min(chunk.length, k);
    if (chunk.length >= k) {
      this.tailAt = chunkAt + chunk.length - keep;
      this.tail = Buffer.from(chunk.subarray(chunk.length - keep));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      const drop = Math.max(0, joined.length - k);
      this.tailAt += drop;
      this.tail = Buffer.from(joined.subarray(drop));
    }
  }

  /** Index of the last search hit in its buffer. */
  private hit = 0;

  /**
   * Looks for an aligned magic starting in buf[0, limit) (buf starts at file offset `at`); on a
   * hit, switches to collecting and sets `hit`.
   */
  private search(buf: Buffer, at: number, limit: number): boolean {
    let from = 0;
    for (;;) {
      const i = buf.indexOf(MAGIC, from);
      if (i < 0 || i >= limit) return false;
      if ((at + i) % 16 === 0) {
        this.state = 'collect';
        this.collected = [];
        this.collectedLen = 0;
        this.collectAt = at + i;
        this.hit = i;
        return true;
      }
      from = i + 1;
    }
  }

  private take(c: Buffer): void {
    const room = 32 + MAX_INFO - this.collectedLen;
    const part = c.subarray(0, room);
    this.collected.push(Buffer.from(part));
    this.collectedLen += part.length;
    if (this.collectedLen < 32) return;
    const all = Buffer.concat(this.collected);
    this.collected = [all];
    const ptrSize = all[14] ?? 0;
    const flags = all[15] ?? 0;
    if (ptrSize !== 4 && ptrSize !== 8) {
      // Not the real header (a string constant that happens to match): search on after it.
      this.state = 'search';
      this.collected = [];
      this.collectedLen = 0;
      this.tail = Buffer.alloc(0);
      this.tailAt = this.collectAt + 1;
      this.write(all.subarray(1));
      return;
    }
    if ((flags & 2) === 0) {
      this.legacy = true;
      this.state = 'done';
      this.collected = [];
      return;
    }
    const strings = readInline(all.subarray(32));
    if (strings || this.collectedLen >= 32 + MAX_INFO) {
      this.found = all.subarray(0, 32 + (strings?.consumed ?? 0));
      this.state = 'done';
      this.collected = [];
    }
  }

  end(): void {}
}

function uvarint(b: Buffer, off: number): [number, number] | undefined {
  let v = 0;
  let shift = 0;
  for (let i = off; i < b.length && i < off + 10; i++) {
    const byte = b[i] ?? 0;
    v += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [v, i + 1];
    shift += 7;
  }
  return undefined;
}

/** The two length-prefixed strings after the header, when all their bytes are there. */
function readInline(b: Buffer): { version: string; modinfo: string; consumed: number } | undefined {
  const a = uvarint(b, 0);
  if (!a) return undefined;
  const [vlen, voff] = a;
  if (voff + vlen > b.length) return undefined;
  const m = uvarint(b, voff + vlen);
  if (!m) return undefined;
  const [mlen, moff] = m;
  if (moff + mlen > b.length) return undefined;
  return {
    version: b.toString('utf8', voff, voff + vlen),
    modinfo: b.toString('utf8', moff, moff + mlen),
    consumed: moff + mlen,
  };
}

/** Parses the build info bytes a BuildInfoScanner found (header included). */
export function parseBuildInfo(raw: Buffer): GoBuildInfo | undefined {
  if (raw.length < 32 || !raw.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const s = readInline(raw.subarray(32));
  if (!s) return undefined;
  let mod = s.modinfo;
  // The module info is wrapped in 16-byte sentinels.
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, mod.length - 16);
  const info: GoBuildInfo = { goVersion: s.version, path: '', deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of mod.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'path':
        info.path = f[1] ?? '';
        break;
      case 'mod':
        last = { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
        info.main = last;
        break;
      case 'dep':
        last = { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
        info.deps.push(last);
        break;
      case '=>':
        if (last) last.replace = { path: f[1] ?? '', version: f[2] ?? '' };
        break;
      case 'build': {
        const kv = f[1] ?? '';
        const eq = kv.indexOf('=');
        if (eq > 0) info.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      default:
        break;
    }
  }
  return info;
}
