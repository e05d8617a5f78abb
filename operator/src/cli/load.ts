/**
 * Reading manifests for `vigil scan`: path discovery, bounded reads, and YAML/JSON
 * parsing with the file and 1-based line of every object. Input is untrusted: every
 * failure becomes an InputError (one line, naming the file and line), never a throw,
 * and YAML bombs, huge files and binary files are refused with a clear message.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { isObj } from '../engine/podspec.ts';
import type { KubeObject, Subject } from '../engine/types.ts';
import { constructDocument, EVENT_ID, type Event, MAX_DEPTH, parseEvents, YAMLException } from '../yaml.ts';
import type { FieldLocation } from './locate.ts';
import { loadInParallel } from './parallel.ts';
import { checkDocument, DocumentNodes, nodeOffset } from './yaml-events.ts';

/** Display name of standard input in locations and messages. */
export const STDIN_NAME = '<stdin>';
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Aliases a document may expand (yaml's own default); billion-laughs documents exceed it at once. */
export const DEFAULT_MAX_ALIAS_COUNT = 100;
/** Extensions picked up when walking a directory. Files named explicitly are read whatever their name. */
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];

export interface InputError {
  /** The file as the user typed or as found in a directory; `<stdin>` for `-`. */
  file: string;
  line?: number;
  message: string;
}

/**
 * Something skipped on purpose, not an error: a Helm chart (its templates are not YAML until
 * rendered) or a file found in a directory that holds no Kubernetes object (values.yaml,
 * docker-compose.yml, CI config …). Printed on stderr; the exit code stays the findings'.
 */
export interface InputNote {
  file: string;
  message: string;
}

export interface LoadOptions {
  maxFileBytes: number;
  maxAliasCount: number;
  /**
   * Parser threads: 0 parses every input on this thread; undefined lets the parallel loader decide
   * from the input size and the CPUs (see parallel.ts).
   */
  workers?: number;
}

export interface LoadResult {
  subjects: Subject[];
  errors: InputError[];
  /** Files read, in scan order (display names). */
  files: string[];
  /** Inputs skipped on purpose (Helm charts, non-Kubernetes YAML found in a directory). */
  notes: InputNote[];
  /** Documents parsed on other threads, where their fields are located; close() it when done. */
  remote?: RemoteDocuments;
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = {
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
  maxAliasCount: DEFAULT_MAX_ALIAS_COUNT,
};

function errnoMessage(err: unknown): string {
  const code = isObj(err) ? err['code'] : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENAMETOOLONG':
      return 'file name too long';
    default:
      return err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
  }
}

function sizeText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function tooLarge(file: string, max: number): InputError {
  return {
    file,
    message: `file is larger than the ${sizeText(max)} limit (--max-file-size); refusing to read it`,
  };
}

function hasManifestExtension(name: string): boolean {
  return MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** Hidden entries (.git, .github …) and node_modules are not walked: they are not manifests. */
function skippedInWalk(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

/** Helm's chart marker: a directory holding it is a chart, whose templates need rendering. */
const CHART_FILE = 'Chart.yaml';

function helmHint(chart: string): string {
  return `a Helm chart (${CHART_FILE}): its templates are not Kubernetes YAML until rendered, so it is skipped; scan the rendered chart with: helm template ${shellWord(chart)} | vigil scan -`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The chart directory `abs` is in: itself or one of its three nearest ancestors holding
 * Chart.yaml (`chart/templates/sub` is inside `chart`), if any.
 */
function enclosingChart(abs: string): string | undefined {
  let d = abs;
  for (let up = 0; up <= 3; up++) {
    if (existsSync(join(d, CHART_FILE))) return d;
    const parent = dirname(d);
    if (parent === d) return undefined;
    d = parent;
  }
  return undefined;
}

/** What discoverFiles found besides the files: notes, and which files came from walking a directory. */
export interface Discovery {
  notes: InputNote[];
  /** Files found by walking a directory (not named on the command line). */
  walked: Set<string>;
}

/**
 * Expands the command-line paths into files: `-` stays `-`, a directory becomes every
 * *.yaml, *.yml and *.json below it (sorted by path, symlink loops cut), a file is
 * itself. Paths keep the spelling the user typed; files reached twice are read once.
 * Helm charts (directories with Chart.yaml, and directories inside one) are not walked:
 * a note says so and how to scan the rendered chart.
 */
export function discoverFiles(
  paths: readonly string[],
  cwd: string,
  errors: InputError[],
  discovery: Discovery = { notes: [], walked: new Set() },
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (display: string, real: string): void => {
    if (seen.has(real)) return;
    seen.add(real);
    out.push(display);
  };
  for (const p of paths) {
    if (p === '-') {
      add('-', '-');
      continue;
    }
    const abs = resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      errors.push({ file: p, message: errnoMessage(err) });
      continue;
    }
    if (st.isDirectory()) {
      const chart = enclosingChart(abs);
      if (chart !== undefined) {
        const shown = chart === abs ? p : relative(cwd, chart) || '.';
        const inside = chart === abs ? 'is' : `is inside the chart ${shellWord(shown)}, which is`;
        discovery.notes.push({ file: p, message: `${inside} ${helmHint(shown)}` });
        continue;
      }
      const found: { display: string; real: string }[] = [];
      walk(p, abs, new Set<string>(), found, errors, discovery.notes);
      found.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
      for (const f of found) {
        add(f.display, f.real);
        discovery.walked.add(f.display);
      }
    } else {
      add(p, realpathOr(abs));
    }
  }
  return out;
}

function realpathOr(abs: string): string {
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

function walk(
  display: string,
  abs: string,
  ancestors: Set<string>,
  found: { display: string; real: string }[],
  errors: InputError[],
  notes: InputNote[],
): void {
  const real = realpathOr(abs);
  if (ancestors.has(real)) return; // a symlink back up the tree
  if (existsSync(join(abs, CHART_FILE))) {
    notes.push({ file: display, message: `is ${helmHint(display)}` });
    return;
  }
  ancestors.add(real);
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    errors.push({ file: display, message: errnoMessage(err) });
    ancestors.delete(real);
    return;
  }
  for (const e of entries) {
    if (skippedInWalk(e.name)) continue;
    const childDisplay = join(display, e.name);
    const childAbs = join(abs, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = statSync(childAbs);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch (err) {
        if (hasManifestExtension(e.name)) errors.push({ file: childDisplay, message: errnoMessage(err) });
        continue;
      }
    }
    if (isDir) walk(childDisplay, childAbs, ancestors, found, errors, notes);
    else if (isFile && hasManifestExtension(e.name))
      found.push({ display: childDisplay, real: realpathOr(childAbs) });
  }
  ancestors.delete(real);
}

/** Reads a file (or a FIFO such as `<(kustomize build)`) but never more than `max` bytes. */
export function readFileCapped(abs: string, display: string, max: number): Buffer | InputError {
  let fd;
  try {
    fd = openSync(abs, 'r');
  } catch (err) {
    return { file: display, message: errnoMessage(err) };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { file: display, message: 'is a directory' };
    if (st.isFile() && st.size > max) return tooLarge(display, max);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunkSize = st.isFile() ? Math.max(1, Math.min(st.size + 1, max + 1)) : 1 << 16;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const n = readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) break;
      total += n;
      if (total > max) return tooLarge(display, max);
      chunks.push(n === chunkSize ? buf : buf.subarray(0, n));
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  } catch (err) {
    return { file: display, message: errnoMessage(err) };
  } finally {
    closeSync(fd);
  }
}

/** Reads standard input up to `max` bytes. */
export async function readStreamCapped(
  stream: AsyncIterable<Uint8Array | string>,
  display: string,
  max: number,
): Promise<Buffer | InputError> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b =
        typeof chunk === 'string'
          ? Buffer.from(chunk, 'utf8')
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      total += b.length;
      if (total > max) return tooLarge(display, max);
      chunks.push(b);
    }
  } catch (err) {
    return { file: display, message: errnoMessage(err) };
  }
  return Buffer.concat(chunks, total);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes to text: UTF-8 (or UTF-16 with a byte-order mark, as Windows PowerShell writes); binary refused. */
export function decodeText(buf: Buffer, display: string): string | InputError {
  let text: string;
  try {
    if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe)
      text = new TextDecoder('utf-16le', { fatal: true }).decode(buf);
    else if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff)
      text = new TextDecoder('utf-16be', { fatal: true }).decode(buf);
    else {
      if (buf.includes(0))
        return { file: display, message: 'binary file (contains NUL bytes); expected YAML or JSON text' };
      text = utf8.decode(buf);
    }
  } catch {
    return { file: display, message: 'not valid UTF-8 text; expected YAML or JSON' };
  }
  if (text.includes('\u0000'))
    return { file: display, message: 'binary file (contains NUL bytes); expected YAML or JSON text' };
  return text;
}

function oneLine(s: string): string {
  const first = s.split('\n')[0] ?? s;
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
}

/** Line starts of a text: offsets to 1-based lines and columns, computed on first use. */
export class LineIndex {
  private starts: number[] | undefined;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** 1-based line and column of `offset`. */
  linePos(offset: number): { line: number; col: number } {
    if (!this.starts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
  }
}

/** The 1-based line of `offset`; undefined for an absent offset. */
function lineAt(lines: LineIndex, offset: number | undefined): number | undefined {
  if (offset === undefined || offset < 0) return undefined;
  return lines.linePos(offset).line;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

/** Checks that a value looks like a Kubernetes object; returns the problem or undefined. */
function notAnObject(value: unknown): string | undefined {
  if (!isObj(value))
    return `document is ${describe(value)}, not a Kubernetes object (a mapping with apiVersion and kind)`;
  const apiVersion = value['apiVersion'];
  const kind = value['kind'];
  const missing: string[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') missing.push('apiVersion');
  if (typeof kind !== 'string' || kind === '') missing.push('kind');
  if (missing.length > 0) return `not a Kubernetes object: ${missing.join(' and ')} missing or not a string`;
  return undefined;
}

/** `kind: List` and typed lists such as `PodList` (whose items may omit kind, as the API server returns them). */
function isListKind(obj: Record<string, unknown>): boolean {
  const kind = obj['kind'];
  if (kind === 'List') return true;
  return typeof kind === 'string' && kind.endsWith('List') && Array.isArray(obj['items']);
}

/** The text of one input and its line starts, shared by the sources of every subject read from it. */
export interface SourceText {
  text: string;
  lines: LineIndex;
}

/**
 * The document a subject was read from: its events (DOCUMENT, content, POP; offsets in
 * `source.text`), kept so the field locator can follow a path to where the field is written;
 * and for an item of a `kind: List`, the item's index.
 */
export interface DocumentSource {
  source: SourceText;
  events: Event[];
  item?: number;
}

const sources = new WeakMap<Subject, DocumentSource>();

/** The document a subject was parsed from (undefined for subjects not made by parseManifests). */
export function documentSource(subject: Subject): DocumentSource | undefined {
  return sources.get(subject);
}

/** The key written at `offset` (`name:`, `"name":`), for messages. */
const KEY_AT = /(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\n]|'')*)'|([^\s:#,[\]{}][^:\n]*?))[ \t]*:/y;
function keyAt(text: string, offset: number): string | undefined {
  KEY_AT.lastIndex = offset;
  const m = KEY_AT.exec(text);
  const key = m?.[1] ?? m?.[2] ?? m?.[3];
  return key === undefined ? undefined : key.slice(0, 100);
}

/** A parser or constructor failure as one line, with the offset it names when there is one. */
function yamlProblem(err: unknown, text: string): { offset?: number; message: string } {
  if (err instanceof YAMLException) {
    const reason = err.reason || err.message;
    let message = /maxDepth/.test(reason) ? 'nested too deeply' : oneLine(reason);
    if (reason === 'duplicated mapping key') {
      const key = err.mark && keyAt(text, err.mark.position);
      message = `duplicate key${key === undefined ? '' : ` ${JSON.stringify(key)}`}: keys must be unique (the API server rejects an object that repeats one)`;
    }
    return err.mark ? { offset: err.mark.position, message } : { message };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { message: /call stack/i.test(msg) ? 'nested too deeply' : `cannot parse: ${oneLine(msg)}` };
}

/** A line that starts or ends a document (`---`, `...`): YAML forbids them inside one. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;

/**
 * The event streams of a text's documents. The whole text is parsed at once; if that fails, it is
 * cut at its document markers and each piece is parsed alone (offsets shifted back into the
 * whole text), so one broken document is one error and the others are still read.
 */
function documentEvents(text: string, lines: LineIndex, file: string, errors: InputError[]): Event[][] {
  try {
    return splitDocuments(parseEvents(text, { maxDepth: MAX_DEPTH }));
  } catch (err) {
    if (!(err instanceof YAMLException) && !(err instanceof RangeError)) throw err;
  }
  const cuts = [0];
  for (const m of text.matchAll(DOCUMENT_MARKER)) if (m.index > 0 && m[0] === '---') cuts.push(m.index);
  cuts.push(text.length);
  const out: Event[][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const start = cuts[k] as number;
    const piece = text.slice(start, cuts[k + 1]);
    try {
      for (const doc of splitDocuments(parseEvents(piece, { maxDepth: MAX_DEPTH })))
        out.push(shift(doc, start));
    } catch (err) {
      const p = yamlProblem(err, piece);
      errors.push({
        file,
        line: lineAt(lines, p.offset === undefined ? start : start + p.offset),
        message: p.message,
      });
    }
  }
  return out;
}

/** A stream's events cut into documents (each DOCUMENT … POP). */
function splitDocuments(events: Event[]): Event[][] {
  const docs: Event[][] = [];
  let depth = 0;
  let from = 0;
  events.forEach((e, i) => {
    if (e.type === EVENT_ID.POP) {
      if (--depth === 0) docs.push(events.slice(from, i + 1));
    } else if (e.type !== EVENT_ID.SCALAR && e.type !== EVENT_ID.ALIAS) {
      if (depth++ === 0) from = i;
    }
  });
  return docs;
}

const OFFSET_FIELDS = [
  'start',
  'valueStart',
  'valueEnd',
  'anchorStart',
  'anchorEnd',
  'tagStart',
  'tagEnd',
] as const;

/** Events parsed from a piece of the text that starts at `by`, moved to offsets in the whole text. */
function shift(events: Event[], by: number): Event[] {
  if (by === 0) return events;
  for (const e of events) {
    const r = e as unknown as Record<string, number>;
    for (const f of OFFSET_FIELDS) if (typeof r[f] === 'number' && r[f] >= 0) r[f] = r[f] + by;
  }
  return events;
}

/**
 * Parses a YAML stream (or JSON, which is YAML) into subjects with file and line.
 * Empty documents are skipped; every other problem is one InputError and the rest of
 * the stream is still read.
 */
export function parseManifests(
  text: string,
  file: string,
  out: Subject[],
  errors: InputError[],
  opts: Pick<LoadOptions, 'maxAliasCount'> = DEFAULT_LOAD_OPTIONS,
  nonObjects?: Set<InputError>,
): void {
  const source: SourceText = { text, lines: new LineIndex(text) };
  for (const events of documentEvents(text, source.lines, file, errors)) {
    const before = out.length;
    addDocument(events, source, file, out, errors, opts, nonObjects);
    for (let i = before; i < out.length; i++) {
      const s = out[i] as Subject;
      const item = listItems.get(s);
      sources.set(s, item === undefined ? { source, events } : { source, events, item });
    }
  }
}

function addDocument(
  events: Event[],
  source: SourceText,
  file: string,
  out: Subject[],
  errors: InputError[],
  opts: Pick<LoadOptions, 'maxAliasCount'>,
  nonObjects?: Set<InputError>,
): void {
  const nodes = new DocumentNodes(events, source.text);
  const root = nodes.root;
  if (root === undefined) return; // empty document (`---` alone, or comments only)
  const line = lineAt(source.lines, nodeOffset(events, root));
  const problem = checkDocument(events, source.text, opts.maxAliasCount);
  if (problem) {
    errors.push({ file, line: lineAt(source.lines, problem.offset) ?? line, message: problem.message });
    return;
  }
  let value: unknown;
  try {
    value = constructDocument(events, source.text);
  } catch (err) {
    const p = yamlProblem(err, source.text);
    errors.push({ file, line: lineAt(source.lines, p.offset) ?? line, message: p.message });
    return;
  }
  if (value === null || value === undefined) return; // `~` or `null`: an empty document too
  if (isObj(value) && isListKind(value)) {
    addList(value, nodes, root, file, line, source.lines, out, errors);
    return;
  }
  const notObject = notAnObject(value);
  if (notObject) {
    const e: InputError = { file, line, message: notObject };
    errors.push(e);
    nonObjects?.add(e);
    return;
  }
  out.push({ object: value as KubeObject, location: line === undefined ? { file } : { file, line } });
}

/** The item index of subjects that are items of a `kind: List`. */
const listItems = new WeakMap<Subject, number>();

function addList(
  list: Record<string, unknown>,
  nodes: DocumentNodes,
  root: number,
  file: string,
  listLine: number | undefined,
  lines: LineIndex,
  out: Subject[],
  errors: InputError[],
): void {
  const items = list['items'];
  if (items === null || items === undefined) return;
  if (!Array.isArray(items)) {
    errors.push({ file, line: listLine, message: `${String(list['kind'])}.items must be a list` });
    return;
  }
  const itemsNode = nodes.step(root, 'items');
  const itemNodes = itemsNode ? nodes.items(itemsNode.index) : undefined;
  // Typed lists (PodList …) from the API server omit each item's kind and apiVersion.
  const listKind = String(list['kind']);
  const itemKind = listKind !== 'List' ? listKind.slice(0, -'List'.length) : undefined;
  const listApiVersion = typeof list['apiVersion'] === 'string' ? list['apiVersion'] : undefined;
  items.forEach((item: unknown, i) => {
    const at = itemNodes?.[i];
    const line = (at === undefined ? undefined : lineAt(lines, nodeOffset(nodes.events, at))) ?? listLine;
    if (item === null || item === undefined) return;
    if (itemKind && isObj(item)) {
      if (item['kind'] === undefined) item['kind'] = itemKind;
      if (item['apiVersion'] === undefined && listApiVersion) item['apiVersion'] = listApiVersion;
    }
    const problem = notAnObject(item);
    if (problem) {
      errors.push({ file, line, message: `items[${i}]: ${problem.replace(/^document is/, 'item is')}` });
      return;
    }
    const subject: Subject = {
      object: item as KubeObject,
      location: line === undefined ? { file } : { file, line },
    };
    listItems.set(subject, i);
    out.push(subject);
  });
}

/** One input, read and parsed: the error that stopped it being read, or what it held. */
export type FileOutcome =
  | { unreadable: InputError }
  | {
      subjects: Subject[];
      errors: InputError[];
      /** Errors in `errors` that are documents which are not Kubernetes objects. */
      nonObjects: Set<InputError>;
    };

/** Parses an input's bytes (a file's or stdin's) the way loadInputs does. */
export function parseInput(raw: Buffer | InputError, display: string, opts: LoadOptions): FileOutcome {
  if (!Buffer.isBuffer(raw)) return { unreadable: raw };
  const text = decodeText(raw, display);
  if (typeof text !== 'string') return { unreadable: text };
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  const nonObjects = new Set<InputError>();
  parseManifests(text, display, subjects, errors, opts, nonObjects);
  return { subjects, errors, nonObjects };
}

/** Reads and parses one file named or found (not stdin). */
export function loadFile(abs: string, display: string, opts: LoadOptions): FileOutcome {
  return parseInput(readFileCapped(abs, display, opts.maxFileBytes), display, opts);
}

/**
 * Where the parsing of some inputs happened off this thread (parallel.ts): their subjects'
 * documents stay there, and so does locating fields in them.
 */
export interface RemoteDocuments {
  /** Is this subject's document held by a parser thread? */
  has(subject: Subject): boolean;
  /** Locates one path per request in the subjects' documents; undefined where locate() would give undefined. */
  locate(requests: readonly { subject: Subject; path: string }[]): Promise<(FieldLocation | undefined)[]>;
  /** Ends the parser threads. */
  close(): Promise<void>;
}

/** Reads and parses every path (files, directories, `-` for stdin) into one set of subjects. */
export async function loadInputs(
  paths: readonly string[],
  stdin: AsyncIterable<Uint8Array | string>,
  cwd: string,
  opts: LoadOptions = DEFAULT_LOAD_OPTIONS,
): Promise<LoadResult> {
  const errors: InputError[] = [];
  const discovery: Discovery = { notes: [], walked: new Set() };
  const found = discoverFiles(paths, cwd, errors, discovery);
  const inputs = found.map((f) =>
    f === '-' ? { file: f, display: STDIN_NAME } : { file: f, display: f, abs: resolve(cwd, f) },
  );
  const readLocal = async (i: number): Promise<FileOutcome> => {
    const input = inputs[i] as (typeof inputs)[number];
    return input.abs === undefined
      ? parseInput(await readStreamCapped(stdin, input.display, opts.maxFileBytes), input.display, opts)
      : loadFile(input.abs, input.display, opts);
  };
  const loaded = await loadInParallel(inputs, opts, readLocal);
  const result: LoadResult = { subjects: [], errors, files: [], notes: discovery.notes };
  if (loaded.remote) result.remote = loaded.remote;
  inputs.forEach((input, i) => {
    addOutcome(loaded.outcomes[i] as FileOutcome, input.file, input.display, discovery, result);
  });
  return result;
}

/** Adds one input's outcome to the result, in input order. */
function addOutcome(
  outcome: FileOutcome,
  f: string,
  display: string,
  discovery: Discovery,
  result: LoadResult,
): void {
  if ('unreadable' in outcome) {
    result.errors.push(outcome.unreadable);
    return;
  }
  const { subjects, errors: fileErrors, nonObjects } = outcome;
  // A file found in a directory whose documents are all well-formed YAML but none a
  // Kubernetes object (values.yaml, docker-compose.yml …) is not a manifest: skip it.
  // Named on the command line, or mixed with objects, it stays an error.
  if (
    discovery.walked.has(f) &&
    subjects.length === 0 &&
    fileErrors.length > 0 &&
    fileErrors.every((e) => nonObjects.has(e))
  ) {
    discovery.notes.push({
      file: display,
      message: 'skipped: not a Kubernetes manifest (no document has apiVersion and kind)',
    });
    return;
  }
  result.files.push(display);
  for (const s of subjects) result.subjects.push(s);
  for (const e of fileErrors) result.errors.push(e);
}

/** The inputs of loadInputs, in order: `abs` is undefined for stdin. */
export interface LoadInput {
  file: string;
  display: string;
  abs?: string;
}
