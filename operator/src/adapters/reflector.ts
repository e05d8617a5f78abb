/**
 * A reflector: keeps an in-memory store of one resource in sync with the API
 * server (list, then watch from the list's resourceVersion) and tells
 * handlers which keys changed. It never gives up and never silently stalls:
 *
 * - list in pages (`limit`), then watch with `allowWatchBookmarks=true` and a
 *   randomized server-side `timeoutSeconds` (5–10 min, like client-go), so
 *   watches end cleanly and spread out;
 * - a client-side inactivity timeout (90 s by default; the API server sends a
 *   bookmark about every minute) aborts a watch that delivers nothing and
 *   re-watches from the last resourceVersion: restart reason `stalled`;
 * - 410 Gone (HTTP status or in-stream ERROR event) relists: `expired`;
 *   a clean end re-watches at once: `closed`;
 * - 429 waits for Retry-After (capped): `throttled`; any other failure backs
 *   off exponentially with jitter (0.8 s → 30 s): `error`. A stream that ends
 *   within a second without delivering anything also backs off, so a
 *   misbehaving proxy cannot cause a hot loop;
 * - the resourceVersion is taken from every event, bookmarks included, and
 *   compared for equality only (it is opaque);
 * - exactly one stream is active at a time, and events or completions from a
 *   stream the reflector has given up on are ignored.
 *
 * Objects are normalized on the way in (apiVersion/kind filled in for list
 * items), trimmed (`trim`, default `trimFor(kind)`) and their repeated string
 * values shared through a bounded pool (`stringPool`). Handlers must only
 * map the change to work-queue keys; exceptions they throw are logged and
 * swallowed. `onDelete` receives the last known state of the object.
 */
import type { BackoffOptions } from '../controller/backoff.ts';
import { backoffDelay } from '../controller/backoff.ts';
import type { Clock, Timer } from '../controller/clock.ts';
import { realClock, sleep, timeoutSignal } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import { errorSummary, noopLogger } from '../controller/logger.ts';
import type { KubeObject } from '../engine/types.ts';
import { ApiError, apiErrorFromStatus, isGone, isTooManyRequests } from './api-error.ts';
import type { ListWatchClient, WatchEvent } from './list-watch.ts';
import type { StringPool, TrimFn } from './trim.ts';
import { deepFreeze, internStrings, sharedStringPool, trimFor, withTypeMeta } from './trim.ts';

export const RESTART_REASONS = ['closed', 'stalled', 'expired', 'error', 'throttled'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

export interface ReflectorHandlers {
  onAdd?(key: string, obj: KubeObject): void;
  onUpdate?(key: string, obj: KubeObject, old: KubeObject): void;
  /** `lastKnown` is the object's final state (from the DELETED event, or the cache after a relist). */
  onDelete?(key: string, lastKnown: KubeObject): void;
}

/** Metric hooks (vigil_watch_restarts_total, vigil_informer_synced, vigil_watch_last_progress_timestamp_seconds). */
export interface ReflectorHooks {
  onRestart?(reason: RestartReason): void;
  onSynced?(): void;
  /** Called with the clock time of every list completion and watch event (bookmarks included). */
  onProgress?(atMs: number): void;
}

export interface ReflectorOptions {
  /** Resource name for logs and metric labels (e.g. "pods", "deployments.apps"). */
  resource: string;
  /** Collection path, e.g. /api/v1/pods or /apis/apps/v1/namespaces/x/deployments. */
  path: string;
  /** Filled into list items, which the API server sends without type metadata. */
  apiVersion: string;
  kind: string;
  client: ListWatchClient;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** Default `trimFor(kind)`. */
  trim?: TrimFn;
  /**
   * Objects to cache (default all): the rest are dropped before trimming, as if absent (an
   * object that stops being kept is deleted). For filters the API cannot apply, e.g. a shard's
   * share of the namespaces; call `resync()` after the filter changes.
   */
  keep?: (obj: KubeObject) => boolean;
  /** Deep-freeze cached objects so accidental mutation throws (tests, development). */
  freeze?: boolean;
  /**
   * Share repeated string values of cached objects through this pool (default: one
   * pool for every reflector); `null` keeps the strings JSON.parse made.
   */
  stringPool?: StringPool | null;
  handlers?: ReflectorHandlers;
  hooks?: ReflectorHooks;
  labelSelector?: string;
  fieldSelector?: string;
  /** List page size; default 500. */
  pageSize?: number;
  /** Server-side watch timeout range in seconds; default 300–600. */
  minWatchTimeoutSeconds?: number;
  maxWatchTimeoutSeconds?: number;
  /** Abort a watch that delivers nothing (no event, no bookmark) for this long; default 90 s. */
  inactivityTimeoutMs?: number;
  /** Timeout of one list page request; default 60 s. */
  listTimeoutMs?: number;
  /** Retry backoff; default 800 ms → 30 s, factor 2, jitter 0.5. */
  backoff?: BackoffOptions;
  /** Longest Retry-After honoured; default 5 min. */
  maxRetryAfterMs?: number;
}

type Outcome =
  | { kind: 'stopped' }
  | { kind: 'closed' | 'stalled'; events: number; durationMs: number }
  | { kind: 'expired' | 'error' | 'throttled'; err: Error; events: number; durationMs: number };

const QUICK_END_MS = 1000;

export class Reflector {
  readonly resource: string;
  private readonly opts: ReflectorOptions;
  private readonly client: ListWatchClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly trim: TrimFn;
  private readonly pool: StringPool | null;
  private readonly handlers: ReflectorHandlers;
  private readonly hooks: ReflectorHooks;
  private readonly backoffOpts: BackoffOptions;

  private items = new Map<string, KubeObject>();
  private rv = '';
  private isSynced = false;
  private syncWaiters: (() => void)[] = [];
  /** resync() callers, told when the next list has been applied. */
  private relistWaiters: (() => void)[] = [];
  private failures = 0;
  private lastEventMs: number | undefined;
  private readonly restartCounts: Record<RestartReason, number> = {
    closed: 0,
    stalled: 0,
    expired: 0,
    error: 0,
    throttled: 0,
  };

  private stopped = false;
  private started = false;
  private readonly stopCtl = new AbortController();
  private running: Promise<void> | undefined;
  /** Ends the active watch session (set while one is open). */
  private endSession: ((o: Outcome) => void) | undefined;

  constructor(opts: ReflectorOptions) {
    this.opts = opts;
    this.resource = opts.resource;
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? noopLogger).child({ resource: opts.resource });
    this.random = opts.random ?? Math.random;
    this.trim = opts.trim ?? trimFor(opts.kind);
    this.pool = opts.stringPool === undefined ? sharedStringPool : opts.stringPool;
    this.handlers = opts.handlers ?? {};
    this.hooks = opts.hooks ?? {};
    this.backoffOpts = opts.backoff ?? { baseMs: 800, capMs: 30_000, factor: 2, jitter: 0.5 };
  }

  /** Starts the list/watch loop in the background. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.running = this.loop().catch((err: unknown) => {
      // The loop handles every error itself; reaching here is a bug. Log it loudly.
      this.logger.error('Reflector loop crashed', { error: errorSummary(err) });
    });
  }

  /** Stops watching, cancels any wait, and resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort(new Error('reflector stopped'));
    this.endSession?.({ kind: 'stopped' });
    await this.running;
    for (const w of this.relistWaiters.splice(0)) w();
  }

  /**
   * Lists again now (ending the current watch), so a changed `keep` filter takes effect:
   * objects newly kept are added, objects no longer kept are deleted, through the handlers.
   */
  resync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.relistWaiters.push(resolve));
    this.rv = '';
    this.endSession?.({ kind: 'closed', events: 1, durationMs: QUICK_END_MS });
    return done;
  }

  /** True once the first list has completed (stays true across relists). */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Resolves when the first list has completed (or at once if it has). */
  waitForSync(): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cache: key (`namespace/name` or `name`) → trimmed object. Do not mutate the objects. */
  get store(): ReadonlyMap<string, KubeObject> {
    return this.items;
  }

  get(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  list(): KubeObject[] {
    return [...this.items.values()];
  }

  /** The last resourceVersion seen ('' before the first list or after a 410). */
  get resourceVersion(): string {
    return this.rv;
  }

  /** Clock time (ms) of the last list completion or watch event, bookmarks included. */
  lastEventTime(): number | undefined {
    return this.lastEventMs;
  }

  /** Seconds since the last list completion or watch event; Infinity before the first. */
  secondsSinceLastEvent(): number {
    return this.lastEventMs === undefined ? Infinity : (this.clock.now() - this.lastEventMs) / 1000;
  }

  /** Restart counts by reason since start. */
  restarts(): Readonly<Record<RestartReason, number>> {
    return { ...this.restartCounts };
  }

  // -------------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.rv === '') {
        try {
          await this.relist();
        } catch (err) {
          if (this.stopped) return;
          const reason: RestartReason = isTooManyRequests(err) ? 'throttled' : 'error';
          this.countRestart(reason);
          this.failures++;
          const wait = this.retryDelay(err);
          this.logger.warn('List failed; retrying', {
            error: errorSummary(err),
            reason,
            retryInMs: Math.round(wait),
          });
          await this.pause(wait);
          continue;
        }
        if (this.stopped) return;
      }
      const outcome = await this.watchOnce();
      if (outcome.kind === 'stopped' || this.stopped) return;
      if (outcome.events > 0) this.failures = 0;
      const quick = outcome.events === 0 && outcome.durationMs < QUICK_END_MS;
      this.countRestart(outcome.kind);
      switch (outcome.kind) {
        case 'closed':
          this.logger.debug('Watch closed; re-watching', {
            resourceVersion: this.rv,
            events: outcome.events,
          });
          if (quick) await this.backOff('Watch ended at once; backing off');
          break;
        case 'stalled':
          this.logger.warn('Watch stalled; re-watching', {
            resourceVersion: this.rv,
            inactivityTimeoutMs: this.inactivityTimeoutMs(),
          });
          break;
        case 'expired':
          this.logger.info('Watch resourceVersion expired; relisting', { resourceVersion: this.rv });
          this.rv = '';
          if (quick) await this.backOff('Watch expired at once; backing off');
          break;
        case 'throttled':
        case 'error': {
          this.failures++;
          const wait = this.retryDelay(outcome.err);
          this.logger.warn('Watch failed; retrying', {
            error: errorSummary(outcome.err),
            reason: outcome.kind,
            retryInMs: Math.round(wait),
          });
          await this.pause(wait);
          break;
        }
      }
    }
  }

  private inactivityTimeoutMs(): number {
    return this.opts.inactivityTimeoutMs ?? 90_000;
  }

  private async backOff(message: string): Promise<void> {
    this.failures++;
    const wait = backoffDelay(this.failures - 1, this.backoffOpts, this.random);
    this.logger.warn(message, { retryInMs: Math.round(wait) });
    await this.pause(wait);
  }

  /** Retry-After (capped) for 429s that carry one, else exponential backoff with jitter. */
  private retryDelay(err: unknown): number {
    const cap = this.opts.maxRetryAfterMs ?? 300_000;
    if (err instanceof ApiError && err.retryAfterMs !== undefined && (err.code === 429 || err.code === 503)) {
      return Math.min(cap, Math.max(0, err.retryAfterMs));
    }
    return backoffDelay(this.failures - 1, this.backoffOpts, this.random);
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(this.clock, ms, this.stopCtl.signal);
    } catch {
      // Stopped while waiting.
    }
  }

  private countRestart(reason: RestartReason): void {
    this.restartCounts[reason]++;
    try {
      this.hooks.onRestart?.(reason);
    } catch {
      // Metrics must not break the loop.
    }
  }

  private progress(): void {
    const now = this.clock.now();
    this.lastEventMs = now;
    try {
      this.hooks.onProgress?.(now);
    } catch {
      // Metrics must not break the loop.
    }
  }

  /** Lists every page, then swaps the store and notifies handlers of the differences. */
  private async relist(): Promise<void> {
    // Each page is trimmed and interned as it arrives: holding every raw page until the last one
    // kept a whole kind's untrimmed JSON (managedFields, every report's private strings) alive at
    // once — at 10,000 pods and 4,275 reports the largest part of a restart's memory peak.
    const listed: KubeObject[] = [];
    let cont: string | undefined;
    let limit: number | undefined = this.opts.pageSize ?? 500;
    let rv: string;
    for (;;) {
      const t = timeoutSignal(this.clock, this.opts.listTimeoutMs ?? 60_000, this.stopCtl.signal);
      let page;
      try {
        const listOpts: Parameters<ListWatchClient['list']>[1] = { signal: t.signal };
        if (limit !== undefined) listOpts.limit = limit;
        if (cont !== undefined) listOpts.continue = cont;
        if (this.opts.labelSelector !== undefined) listOpts.labelSelector = this.opts.labelSelector;
        if (this.opts.fieldSelector !== undefined) listOpts.fieldSelector = this.opts.fieldSelector;
        page = await this.client.list(this.opts.path, listOpts);
      } catch (err) {
        if (isGone(err) && cont !== undefined) {
          // The continue token expired between pages: start over in one request (client-go does the same).
          this.logger.info('List continue token expired; listing without pagination');
          listed.length = 0;
          cont = undefined;
          limit = undefined;
          continue;
        }
        throw err;
      } finally {
        t.dispose();
      }
      if (this.stopped) return;
      for (const item of page.items) {
        const obj = this.normalize(item);
        if (obj) listed.push(obj);
      }
      rv = page.resourceVersion;
      if (!page.continue) break;
      cont = page.continue;
    }
    if (rv === '') throw new ApiError(0, 'InvalidList', 'list response has no resourceVersion');
    this.replace(listed, rv);
  }

  /** Swaps in the listed (normalized) objects. */
  private replace(listed: readonly KubeObject[], rv: string): void {
    const next = new Map<string, KubeObject>();
    for (const obj of listed) {
      const key = keyOf(obj);
      if (key === undefined) continue;
      next.set(key, obj);
    }
    const prev = this.items;
    this.items = next;
    this.rv = rv;
    this.progress();
    for (const [key, obj] of next) {
      const old = prev.get(key);
      if (!old) this.call('onAdd', () => this.handlers.onAdd?.(key, obj));
      else if (resourceVersionOf(old) !== resourceVersionOf(obj)) {
        this.call('onUpdate', () => this.handlers.onUpdate?.(key, obj, old));
      }
    }
    for (const [key, old] of prev) {
      if (!next.has(key)) this.call('onDelete', () => this.handlers.onDelete?.(key, old));
    }
    this.logger.debug('Listed', { objects: next.size, resourceVersion: rv });
    const relisted = this.relistWaiters;
    this.relistWaiters = [];
    for (const w of relisted) w();
    if (!this.isSynced) {
      this.isSynced = true;
      this.logger.info('Cache synced', { objects: next.size });
      try {
        this.hooks.onSynced?.();
      } catch {
        // Metrics must not break the loop.
      }
      const ws = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Runs one watch stream to its end. */
  private watchOnce(): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const start = this.clock.now();
      let lastActivity = start;
      let events = 0;
      let done = false;
      let timer: Timer | undefined;
      let abort: (() => void) | undefined;

      const end = (o: Outcome): void => {
        if (done) return;
        done = true;
        this.endSession = undefined;
        timer?.cancel();
        abort?.();
        resolve(o);
      };
      const elapsed = (): number => this.clock.now() - start;
      const fromError = (err: Error): Outcome => {
        const kind = isGone(err) ? 'expired' : isTooManyRequests(err) ? 'throttled' : 'error';
        return { kind, err, events, durationMs: elapsed() };
      };
      this.endSession = end;

      const inactivity = this.inactivityTimeoutMs();
      const check = (): void => {
        if (done) return;
        const idle = this.clock.now() - lastActivity;
        if (idle >= inactivity) end({ kind: 'stalled', events, durationMs: elapsed() });
        else timer = this.clock.setTimer(inactivity - idle, check);
      };
      timer = this.clock.setTimer(inactivity, check);

      const onEvent = (ev: WatchEvent): void => {
        if (done) return; // a late event from a stream already given up on
        lastActivity = this.clock.now();
        events++;
        if (ev.type === 'ERROR') {
          end(fromError(apiErrorFromStatus(ev.object, 0, undefined, this.clock.now())));
          return;
        }
        this.progress();
        this.apply(ev);
      };
      const onDone = (err?: Error): void => {
        if (done) return;
        if (err === undefined) end({ kind: 'closed', events, durationMs: elapsed() });
        else end(fromError(err));
      };

      const minT = this.opts.minWatchTimeoutSeconds ?? 300;
      const maxT = Math.max(minT, this.opts.maxWatchTimeoutSeconds ?? 600);
      const timeoutSeconds =
        minT + Math.floor(Math.min(0.999999, Math.max(0, this.random())) * (maxT - minT + 1));
      const watchOpts: Parameters<ListWatchClient['watch']>[1] = {
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      if (this.opts.labelSelector !== undefined) watchOpts.labelSelector = this.opts.labelSelector;
      if (this.opts.fieldSelector !== undefined) watchOpts.fieldSelector = this.opts.fieldSelector;
      try {
        abort = this.client.watch(this.opts.path, watchOpts, onEvent, onDone);
      } catch (err) {
        end(fromError(err instanceof Error ? err : new Error(String(err))));
        return;
      }
      // onDone may have run synchronously inside watch(); abort the stream now that we can.
      if (done) abort();
    });
  }

  private apply(ev: WatchEvent): void {
    const obj = this.normalize(ev.object);
    const raw = typeof ev.object === 'object' && ev.object !== null ? (ev.object as KubeObject) : undefined;
    const rv = obj ? resourceVersionOf(obj) : raw && resourceVersionOf(raw);
    if (rv !== undefined && rv !== '') this.rv = rv;
    if (!obj) {
      // Not kept (another shard's): forget a copy kept before.
      const key = raw && ev.type !== 'BOOKMARK' ? keyOf(raw) : undefined;
      const old = key === undefined ? undefined : this.items.get(key);
      if (key !== undefined && old) {
        this.items.delete(key);
        this.call('onDelete', () => this.handlers.onDelete?.(key, old));
      }
      return;
    }
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = keyOf(obj);
        if (key === undefined) return;
        const old = this.items.get(key);
        this.items.set(key, obj);
        if (old) this.call('onUpdate', () => this.handlers.onUpdate?.(key, obj, old));
        else this.call('onAdd', () => this.handlers.onAdd?.(key, obj));
        return;
      }
      case 'DELETED': {
        const key = keyOf(obj);
        if (key === undefined) return;
        this.items.delete(key);
        this.call('onDelete', () => this.handlers.onDelete?.(key, obj));
        return;
      }
      case 'BOOKMARK':
        return;
      default:
        this.logger.debug('Ignored watch event of unknown type', { type: ev.type });
    }
  }

  private normalize(raw: unknown): KubeObject | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
    if (this.opts.keep && !this.opts.keep(raw as KubeObject)) return undefined;
    try {
      const trimmed = this.trim(withTypeMeta(raw as KubeObject, this.opts.apiVersion, this.opts.kind));
      const obj = this.pool ? internStrings(trimmed, this.pool) : trimmed;
      return this.opts.freeze ? deepFreeze(obj) : obj;
    } catch (err) {
      this.logger.error('Could not normalize object', { error: errorSummary(err) });
      return undefined;
    }
  }

  private call(handler: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('Reflector handler failed', { handler, error: errorSummary(err) });
    }
  }
}

/** Cache key: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string | undefined {
  const m = obj.metadata;
  if (typeof m !== 'object' || m === null) return undefined;
  const name = typeof m.name === 'string' ? m.name : '';
  if (name === '') return undefined;
  return typeof m.namespace === 'string' && m.namespace !== '' ? `${m.namespace}/${name}` : name;
}

function resourceVersionOf(obj: KubeObject): string | undefined {
  const rv = obj.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}
