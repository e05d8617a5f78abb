/**
 * Parsing the inputs of `vigil scan` on several threads. YAML parsing is most of a large scan's
 * CPU, and evaluation needs every object first, so parser threads (load-worker.ts) read and parse
 * whole files while this thread parses files too; the objects come back by structured clone. Each
 * parser thread keeps the documents it parsed, so locating a finding's field in them (locate.ts)
 * happens there, in one batch per thread after evaluation. Outcomes are assembled in input order,
 * so the scan's output is the same as parsing every input here, in order.
 *
 * Small inputs are parsed here alone: a parser thread costs tens of milliseconds to start. Unless
 * the number of threads is given, they are started only for CPUs found idle while the first
 * input is parsed here.
 */
import { statSync } from 'node:fs';
import { availableParallelism, cpus, type CpuInfo } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Subject } from '../engine/types.ts';
import type { FileOutcome, InputError, LoadInput, LoadOptions, RemoteDocuments } from './load.ts';
import type { FieldLocation } from './locate.ts';

/** Below this many bytes of files, everything is parsed on this thread. */
export const PARALLEL_MIN_BYTES = 2 * 1024 * 1024;
/** At most this many parser threads besides this one. */
export const MAX_PARSER_THREADS = 3;
/** Files handed to a parser thread ahead of the one it is parsing, so it never waits for this thread. */
const AHEAD = 2;
/**
 * The parser threads' stack, so that how deeply nested a document may be before it is refused
 * ("nested too deeply") is about what it is on the main thread (V8's default 984 KiB; Node keeps
 * 192 KiB of a thread's stack in reserve).
 */
const STACK_MB = (984 + 192) / 1024;

/** A file's outcome as a parser thread sends it: subjects as plain data, non-object errors by index. */
export type WireOutcome =
  { unreadable: InputError } | { subjects: Subject[]; errors: InputError[]; nonObjects: number[] };

export type ToWorker =
  | { op: 'load'; id: number; abs: string; display: string; maxFileBytes: number; maxAliasCount: number }
  | { op: 'locate'; seq: number; requests: [file: number, subject: number, path: string][] };

export type FromWorker =
  | { op: 'loaded'; id: number; outcome: WireOutcome }
  | { op: 'located'; seq: number; results: (FieldLocation | null)[] };

/** Parser threads to start for these inputs: 0 when they are small or there is one CPU. */
export function parserThreads(inputs: readonly LoadInput[], opts: LoadOptions): number {
  const files = inputs.filter((i) => i.abs !== undefined).length;
  const cap = Math.max(0, files - 1);
  if (opts.workers !== undefined) return Math.min(opts.workers, cap);
  let bytes = 0;
  for (const i of inputs) {
    if (i.abs === undefined) continue;
    try {
      bytes += statSync(i.abs).size;
    } catch {
      // Unreadable: reported when it is read.
    }
  }
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  return Math.min(availableParallelism() - 1, MAX_PARSER_THREADS, cap);
}

/** CPUs idle on average between two os.cpus() samples (0 when no time passed). */
export function idleCpus(before: readonly CpuInfo[], after: readonly CpuInfo[]): number {
  let idle = 0;
  let total = 0;
  after.forEach((c, k) => {
    const b = before[k];
    if (!b) return;
    const sum = (t: CpuInfo['times']): number => t.user + t.nice + t.sys + t.idle + t.irq;
    idle += c.times.idle - b.times.idle;
    total += sum(c.times) - sum(b.times);
  });
  return total > 0 ? (after.length * idle) / total : 0;
}

function workerUrl(): URL {
  // The TypeScript source in a clone, the compiled JavaScript in the package.
  return new URL(import.meta.url.endsWith('.ts') ? './load-worker.ts' : './load-worker.js', import.meta.url);
}

interface ParserThread {
  worker: Worker;
  inflight: number;
  failed?: Error;
  /** Pending locate batches by sequence number. */
  locating: Map<number, (results: (FieldLocation | null)[]) => void>;
}

/** Where a subject parsed on a parser thread came from: the thread, the file and its index there. */
interface RemoteRef {
  thread: ParserThread;
  file: number;
  index: number;
}

/**
 * Reads and parses the inputs, some on parser threads when they are large enough; outcomes in
 * input order. Stdin is read here.
 */
export async function loadInParallel(
  inputs: readonly LoadInput[],
  opts: LoadOptions,
  readLocal: (i: number) => Promise<FileOutcome>,
): Promise<{ outcomes: FileOutcome[]; remote?: RemoteDocuments }> {
  const outcomes: (FileOutcome | undefined)[] = new Array<FileOutcome | undefined>(inputs.length);
  let threadCount = parserThreads(inputs, opts);
  if (threadCount === 0) {
    for (let i = 0; i < inputs.length; i++) outcomes[i] = await readLocal(i);
    return { outcomes: outcomes as FileOutcome[] };
  }

  // Stdin first (here); files largest first, so the last file parsed is a small one.
  const size = (i: LoadInput): number => {
    try {
      return i.abs === undefined ? 0 : statSync(i.abs).size;
    } catch {
      return 0;
    }
  };
  const order = inputs
    .map((input, i) => ({ i, stdin: input.abs === undefined, bytes: size(input) }))
    .sort((a, b) => Number(b.stdin) - Number(a.stdin) || b.bytes - a.bytes || a.i - b.i)
    .map((x) => x.i);
  let cursor = 0;
  let remaining = inputs.length;
  if (opts.workers === undefined) {
    // Threads only help where CPUs are idle: on a machine busy with other work they cost CPU
    // (each compiles the parser again) and gain no wall time. So the first input is parsed here
    // while the CPUs' idle time is sampled, and threads are started for the idle CPUs seen.
    const before = cpus();
    const first = order[cursor++] as number;
    outcomes[first] = await readLocal(first);
    remaining--;
    threadCount = Math.min(threadCount, Math.round(idleCpus(before, cpus())));
    if (threadCount === 0) {
      while (cursor < order.length) {
        const i = order[cursor++] as number;
        outcomes[i] = await readLocal(i);
      }
      return { outcomes: outcomes as FileOutcome[] };
    }
  }
  const remoteRefs = new WeakMap<Subject, RemoteRef>();
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const progress = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const threads: ParserThread[] = [];
  const feed = (t: ParserThread): void => {
    while (!t.failed && t.inflight < AHEAD && cursor < order.length) {
      const i = order[cursor] as number;
      const input = inputs[i] as LoadInput;
      if (input.abs === undefined) return; // stdin: this thread reads it
      cursor++;
      t.inflight++;
      const msg: ToWorker = {
        op: 'load',
        id: i,
        abs: input.abs,
        display: input.display,
        maxFileBytes: opts.maxFileBytes,
        maxAliasCount: opts.maxAliasCount,
      };
      t.worker.postMessage(msg);
    }
  };
  for (let n = 0; n < threadCount; n++) {
    const t: ParserThread = {
      worker: new Worker(workerUrl(), { resourceLimits: { stackSizeMb: STACK_MB } }),
      inflight: 0,
      locating: new Map(),
    };
    t.worker.on('message', (m: FromWorker) => {
      if (m.op === 'loaded') {
        outcomes[m.id] = fromWire(m.outcome, t, m.id, remoteRefs);
        t.inflight--;
        remaining--;
        feed(t);
        progress();
      } else {
        const done = t.locating.get(m.seq);
        t.locating.delete(m.seq);
        done?.(m.results);
      }
    });
    const fail = (err: Error): void => {
      t.failed ??= err;
      failure ??= err;
      for (const done of t.locating.values()) done([]);
      t.locating.clear();
      progress();
    };
    t.worker.on('error', fail);
    t.worker.on('exit', (code) => {
      if (!t.failed) fail(new Error(`parser thread exited (code ${code})`));
    });
    threads.push(t);
    feed(t);
  }

  const closeAll = async (): Promise<void> => {
    for (const t of threads) t.failed ??= new Error('parser threads closed');
    await Promise.all(threads.map((t) => t.worker.terminate()));
  };
  try {
    // This thread parses too, taking the next input whenever it is free.
    while (cursor < order.length && !failure) {
      const i = order[cursor++] as number;
      outcomes[i] = await readLocal(i);
      remaining--;
      await new Promise<void>((r) => setImmediate(r)); // let finished threads take more files
      for (const t of threads) feed(t);
    }
    while (remaining > 0 && !failure) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
  } catch (err) {
    await closeAll();
    throw err;
  }
  for (const t of threads) t.worker.unref();

  let seq = 0;
  const remote: RemoteDocuments = {
    has: (s) => remoteRefs.has(s),
    async locate(requests) {
      const results = new Array<FieldLocation | undefined>(requests.length);
      const batches = new Map<ParserThread, { at: number[]; requests: [number, number, string][] }>();
      requests.forEach((r, k) => {
        const ref = remoteRefs.get(r.subject);
        if (!ref) return;
        let b = batches.get(ref.thread);
        if (!b) batches.set(ref.thread, (b = { at: [], requests: [] }));
        b.at.push(k);
        b.requests.push([ref.file, ref.index, r.path]);
      });
      await Promise.all(
        [...batches].map(async ([t, b]) => {
          if (t.failed) throw t.failed;
          const n = ++seq;
          t.worker.ref();
          try {
            const got = await new Promise<(FieldLocation | null)[]>((res) => {
              t.locating.set(n, res);
              const msg: ToWorker = { op: 'locate', seq: n, requests: b.requests };
              t.worker.postMessage(msg);
            });
            const failed = t.failed as Error | undefined; // set by the 'error' handler meanwhile
            if (failed) throw failed;
            b.at.forEach((k, j) => (results[k] = got[j] ?? undefined));
          } finally {
            t.worker.unref();
          }
        }),
      );
      return results;
    },
    close: closeAll,
  };
  return { outcomes: outcomes as FileOutcome[], remote };
}

function fromWire(
  w: WireOutcome,
  thread: ParserThread,
  file: number,
  refs: WeakMap<Subject, RemoteRef>,
): FileOutcome {
  if ('unreadable' in w) return w;
  w.subjects.forEach((s, index) => refs.set(s, { thread, file, index }));
  return {
    subjects: w.subjects,
    errors: w.errors,
    nonObjects: new Set(w.nonObjects.map((k) => w.errors[k] as InputError)),
  };
}
