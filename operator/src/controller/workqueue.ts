/**
 * A work queue of string keys with client-go semantics
 * (util/workqueue/queue.go, delaying_queue.go, rate_limiting_queue.go):
 *
 * - dedup: adding a key that is already queued is a no-op, so a burst of
 *   events for one object collapses into one reconcile;
 * - serialization: a key is never handed to two workers at once. Adding a key
 *   that is being processed marks it dirty; `done()` re-queues it once;
 * - `addAfter` keeps the earliest ready time per key;
 * - `addRateLimited` waits per the rate limiter (per-key exponential backoff
 *   and a global token bucket by default); `forget` resets a key's backoff;
 * - `shutDown` stops accepting keys and hands out no more;
 *   `shutDownWithDrain` also resolves once in-flight keys are done.
 *
 * One deliberate difference from client-go: after shut-down, keys still
 * waiting in the queue are dropped rather than handed out. Reconciles are
 * level-based and the next leader resyncs every object, so on SIGTERM there
 * is no point working through a backlog within the grace period.
 *
 * Time comes from an injected `Clock`; metrics are callbacks so this module
 * does not depend on prom-client.
 */
import type { Clock, Timer } from './clock.ts';
import { realClock } from './clock.ts';
import { TerminalError } from './errors.ts';
import type { Logger } from './logger.ts';
import { errorSummary, noopLogger } from './logger.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { defaultControllerRateLimiter } from './rate-limiter.ts';

/**
 * Push-style metric hooks, named after controller-runtime's `workqueue_*`
 * series. The two gauges that depend on "now" (`unfinished_work_seconds`,
 * `longest_running_processor_seconds`) are read on scrape through
 * `WorkQueue.unfinishedWorkSeconds()` / `longestRunningProcessorSeconds()`.
 */
export interface WorkQueueMetrics {
  /** workqueue_depth (set). */
  depth?(depth: number): void;
  /** workqueue_adds_total (inc). */
  add?(): void;
  /** workqueue_retries_total (inc). */
  retry?(): void;
  /** workqueue_queue_duration_seconds (observe): time from add to get. */
  queueLatency?(seconds: number): void;
  /** workqueue_work_duration_seconds (observe): time from get to done. */
  workDuration?(seconds: number): void;
}

export interface WorkQueueOptions {
  /** Queue name, for logs and metric labels. */
  name: string;
  clock?: Clock;
  /** Default: `defaultControllerRateLimiter` on the same clock. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
  logger?: Logger;
}

/** What a reconcile handler may return. */
export interface ReconcileResult {
  /** Reconcile again after this many ms (polling at a known time, not error retry). */
  requeueAfter?: number;
}

export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal_error';

export interface RunWorkersOptions {
  /**
   * Called after each reconcile with the outcome label
   * (controller_runtime_reconcile_total{result}) and its duration.
   */
  onResult?(outcome: ReconcileOutcome, seconds: number, key: string): void;
  /** Called with the number of busy workers whenever it changes. */
  onActiveWorkers?(active: number): void;
  /** Called for thrown errors (after the retry decision), for logging. */
  onError?(key: string, err: unknown, outcome: 'error' | 'terminal_error'): void;
}

/** A reconcile: resolve (optionally with `{ requeueAfter }`) or throw. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- an async handler that returns nothing resolves to void
export type ReconcileHandler = (key: string) => Promise<ReconcileResult | undefined | void>;

/** A small binary min-heap of (readyAt, seq, key) for the delayed set. */
interface DelayedEntry {
  readyAt: number;
  seq: number;
  key: string;
}

class MinHeap {
  private readonly items: DelayedEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): DelayedEntry | undefined {
    return this.items[0];
  }

  push(e: DelayedEntry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): DelayedEntry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }

  private less(i: number, j: number): boolean {
    const x = this.items[i];
    const y = this.items[j];
    if (!x || !y) return false;
    return x.readyAt < y.readyAt || (x.readyAt === y.readyAt && x.seq < y.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const t = a[i];
    const u = a[j];
    if (t === undefined || u === undefined) return;
    a[i] = u;
    a[j] = t;
  }
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;
  private readonly logger: Logger;

  /** FIFO of keys ready to be handed out (head index avoids O(n) shift). */
  private fifo: string[] = [];
  private head = 0;
  /** Keys that need processing: queued, or re-added while processing. */
  private readonly dirty = new Set<string>();
  /** Keys handed to a worker and not yet done, with the start time. */
  private readonly processing = new Map<string, number>();
  /** When each queued key entered the FIFO (queue latency). */
  private readonly enqueuedAt = new Map<string, number>();
  /** Workers blocked in get(). */
  private readonly waiters: ((key: string | undefined) => void)[] = [];

  /** Delayed keys: earliest ready time per key, plus a heap with lazy deletion. */
  private readonly delayed = new Map<string, number>();
  private readonly heap = new MinHeap();
  private heapSeq = 0;
  private timer: Timer | undefined;
  private timerDue = Infinity;

  private shuttingDown = false;
  private drainWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = opts.metrics ?? {};
    this.logger = opts.logger ?? noopLogger;
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight ones). */
  len(): number {
    return this.fifo.length - this.head;
  }

  /** Keys scheduled for later by addAfter / addRateLimited. */
  delayedLen(): number {
    return this.delayed.size;
  }

  /** Keys currently held by workers. */
  processingLen(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues `key` unless it is already queued; a key in flight runs once more after done(). */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.metrics.add?.();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues `key` after `ms`. A key already waiting keeps the earlier of the two times. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing <= readyAt) return;
    this.delayed.set(key, readyAt);
    this.heap.push({ readyAt, seq: this.heapSeq++, key });
    if (readyAt < this.timerDue) this.armTimer(readyAt);
  }

  /** Queues `key` after the rate limiter's delay for it (a retry). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retry?.();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets `key`'s retry backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * Waits for the next key and marks it in flight. Resolves `undefined` once
   * the queue is shut down. Every key obtained must be passed to `done()`.
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; re-queues it if it was added while in flight. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.metrics.workDuration?.((this.clock.now() - started) / 1000);
    if (this.dirty.has(key)) {
      if (this.shuttingDown) this.dirty.delete(key);
      else this.push(key);
    }
    if (this.processing.size === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Stops accepting keys and releases blocked workers; queued and delayed keys are dropped. */
  shutDown(): void {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      this.timer?.cancel();
      this.timer = undefined;
      this.timerDue = Infinity;
      this.delayed.clear();
      this.heap.clear();
      for (const k of this.fifo.slice(this.head)) {
        this.dirty.delete(k);
        this.enqueuedAt.delete(k);
      }
      this.fifo = [];
      this.head = 0;
      this.metrics.depth?.(0);
    }
    const ws = this.waiters.splice(0);
    for (const w of ws) w(undefined);
  }

  /** `shutDown()`, then resolves once every in-flight key is done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** workqueue_unfinished_work_seconds: summed age of every in-flight key. */
  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const started of this.processing.values()) total += now - started;
    return total / 1000;
  }

  /** workqueue_longest_running_processor_seconds: age of the oldest in-flight key. */
  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let oldest = 0;
    for (const started of this.processing.values()) oldest = Math.max(oldest, now - started);
    return oldest / 1000;
  }

  /**
   * Runs `n` workers until the queue shuts down, with controller-runtime's
   * outcome handling:
   * - returns nothing or `{}`: `forget` (success);
   * - returns `{ requeueAfter: ms > 0 }`: `forget`, then `addAfter`;
   * - throws `TerminalError`: `forget`, no retry;
   * - throws anything else: `addRateLimited`.
   * `done()` is always called. Resolves when every worker has exited.
   */
  async runWorkers(n: number, handler: ReconcileHandler, opts: RunWorkersOptions = {}): Promise<void> {
    let active = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        active++;
        opts.onActiveWorkers?.(active);
        const start = this.clock.now();
        let outcome: ReconcileOutcome;
        try {
          const result = await handler(key);
          const after = result?.requeueAfter;
          this.forget(key);
          if (after !== undefined && after > 0) {
            this.addAfter(key, after);
            outcome = 'requeue_after';
          } else {
            outcome = 'success';
          }
        } catch (err) {
          if (err instanceof TerminalError) {
            this.forget(key);
            outcome = 'terminal_error';
          } else {
            this.addRateLimited(key);
            outcome = 'error';
          }
          try {
            if (opts.onError) opts.onError(key, err, outcome);
            else
              this.logger.error('Reconciler error', {
                queue: this.name,
                key,
                error: errorSummary(err),
                terminal: outcome === 'terminal_error',
              });
          } catch {
            // A failing error hook must not stop the worker.
          }
        } finally {
          this.done(key);
          active--;
          opts.onActiveWorkers?.(active);
        }
        try {
          opts.onResult?.(outcome, (this.clock.now() - start) / 1000, key);
        } catch {
          // Metrics hooks must not stop the worker.
        }
      }
    };
    const count = Math.max(1, Math.floor(n));
    await Promise.all(Array.from({ length: count }, () => worker()));
  }

  private push(key: string): void {
    this.fifo.push(key);
    this.enqueuedAt.set(key, this.clock.now());
    this.metrics.depth?.(this.len());
    const w = this.waiters.shift();
    if (w) {
      const k = this.pop();
      // A waiter exists only when the FIFO was empty, so pop() returns `key`.
      w(k);
    }
  }

  private pop(): string | undefined {
    if (this.head >= this.fifo.length) return undefined;
    const key = this.fifo[this.head];
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
    if (key === undefined) return undefined;
    const now = this.clock.now();
    this.metrics.depth?.(this.len());
    const at = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    if (at !== undefined) this.metrics.queueLatency?.((now - at) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, now);
    return key;
  }

  private armTimer(due: number): void {
    this.timer?.cancel();
    this.timerDue = due;
    this.timer = this.clock.setTimer(due - this.clock.now(), () => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.fireDelayed();
    });
  }

  private fireDelayed(): void {
    if (this.shuttingDown) return;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.readyAt > now) break;
      this.heap.pop();
      // Lazy deletion: skip entries superseded by an earlier addAfter.
      if (this.delayed.get(top.key) !== top.readyAt) continue;
      this.delayed.delete(top.key);
      this.add(top.key);
    }
    // Drop stale heap heads so the timer targets a live entry.
    for (;;) {
      const top = this.heap.peek();
      if (!top || this.delayed.get(top.key) === top.readyAt) break;
      this.heap.pop();
    }
    const next = this.heap.peek();
    if (next) this.armTimer(next.readyAt);
    if (this.heap.size === 0 && this.delayed.size > 0) {
      this.logger.warn('Work queue delayed set out of sync', {
        queue: this.name,
        delayed: this.delayed.size,
      });
    }
  }
}
