/**
 * A streaming tar reader (POSIX ustar, pax extended headers, GNU long names): entries are handed
 * to `visit` one at a time and their contents streamed to the sink it returns, or skipped without
 * being held. Only a header (512 bytes) and a pax/long-name record (capped) are ever buffered, so
 * memory does not depend on the size of the archive or of its files.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Normalised: no leading "./" or "/", no trailing "/". */
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  linkname: string;
}

export interface FileSink {
  write(chunk: Buffer): void;
  end(): void;
}

/** Largest pax or GNU long-name record accepted. */
const MAX_META = 1 << 20;

export function normalisePath(p: string): string {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return parts.join('/');
}

function cstr(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function octal(b: Buffer, start: number, len: number): number {
  if ((b[start] ?? 0) & 0x80) {
    // base-256 (GNU) for sizes over 8 GiB
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + (b[i] ?? 0);
    return v;
  }
  const s = cstr(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number(data.toString('ascii', off, sp));
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'hardlink',
};

/** Collects up to `max` bytes (for pax and long-name records). */
class Collect implements FileSink {
  chunks: Buffer[] = [];
  n = 0;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  write(c: Buffer): void {
    if (this.n + c.length > this.max) throw new Error(`tar: metadata record over ${this.max} bytes`);
    this.chunks.push(c);
    this.n += c.length;
  }
  end(): void {}
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Reads a tar stream. `visit` sees every entry (after pax/long-name records are applied) and
 * returns a sink for its contents, or undefined to skip them. Resolves with the entry count.
 */
export async function readTar(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  visit: (e: TarEntry) => FileSink | undefined,
): Promise<number> {
  let header = Buffer.alloc(512);
  let headerFill = 0;
  let remaining = 0; // content bytes of the current entry still to come
  let padding = 0; // zero bytes after it
  let sink: FileSink | undefined;
  let meta: { kind: 'pax' | 'gpax' | 'longname' | 'longlink'; collect: Collect } | undefined;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let entries = 0;
  let ended = false;

  const finishEntry = (): void => {
    if (meta) {
      const data = meta.collect.data();
      if (meta.kind === 'pax') pax = parsePax(data);
      else if (meta.kind === 'gpax') globalPax = { ...globalPax, ...parsePax(data) };
      else if (meta.kind === 'longname') longName = cstr(data, 0, data.length);
      else longLink = cstr(data, 0, data.length);
      meta = undefined;
    } else sink?.end();
    sink = undefined;
  };

  const onHeader = (h: Buffer): void => {
    if (h.every((b) => b === 0)) {
      ended = true;
      return;
    }
    const flag = String.fromCharCode(h[156] ?? 0);
    const size = octal(h, 124, 12);
    remaining = size;
    padding = (512 - (size % 512)) % 512;
    const metaKind =
      flag === 'x'
        ? 'pax'
        : flag === 'g'
          ? 'gpax'
          : flag === 'L'
            ? 'longname'
            : flag === 'K'
              ? 'longlink'
              : undefined;
    if (metaKind) {
      meta = { kind: metaKind, collect: new Collect(MAX_META) };
      if (size === 0) finishEntry();
      return;
    }
    const magic = h.toString('ascii', 257, 262);
    const prefix = magic === 'ustar' ? cstr(h, 345, 155) : '';
    let name = cstr(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    const attrs = { ...globalPax, ...pax };
    name = longName ?? attrs['path'] ?? name;
    const linkname = longLink ?? attrs['linkpath'] ?? cstr(h, 157, 100);
    const realSize = attrs['size'] !== undefined ? Number(attrs['size']) : size;
    if (realSize !== size) {
      remaining = realSize;
      padding = (512 - (realSize % 512)) % 512;
    }
    pax = {};
    longName = undefined;
    longLink = undefined;
    entries++;
    const type = TYPES[flag] ?? 'other';
    sink = visit({ path: normalisePath(name), type, size: realSize, mode: octal(h, 100, 8), linkname });
    if (type !== 'file' && remaining === 0) finishEntry();
    else if (remaining === 0) finishEntry();
  };

  for await (const raw of source) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    while (chunk.length > 0 && !ended) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length);
        const part = chunk.subarray(0, n);
        if (meta) meta.collect.write(Buffer.from(part));
        else sink?.write(part);
        remaining -= n;
        chunk = chunk.subarray(n);
        if (remaining === 0) finishEntry();
        continue;
      }
      if (padding > 0) {
        const n = Math.min(padding, chunk.length);
        padding -= n;
        chunk = chunk.subarray(n);
        continue;
      }
      const n = Math.min(512 - headerFill, chunk.length);
      chunk.copy(header, headerFill, 0, n);
      headerFill += n;
      chunk = chunk.subarray(n);
      if (headerFill === 512) {
        headerFill = 0;
        onHeader(header);
        header = Buffer.alloc(512);
      }
    }
  }
  if (remaining > 0 || (headerFill > 0 && !ended)) throw new Error('tar: archive ends inside an entry');
  return entries;
}
