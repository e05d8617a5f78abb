/**
 * Posts the Events planned by controller/events.ts. Fire-and-forget with a
 * bounded backlog: reconciles never wait on events, a slow or failing API
 * server cannot grow memory without bound, and failures are logged and
 * counted, never thrown. Events are best effort; the ScanReport is the record.
 */
import type { EventV1 } from '../controller/events.ts';
import type { Logger } from '../controller/logger.ts';
import { errorSummary, noopLogger } from '../controller/logger.ts';
import { ApiError, isAlreadyExists, isNotFound } from './api-error.ts';
import type { KubeClient } from './k8s-client.ts';

/** The Events API, as the sink needs it. */
export interface EventPoster {
  post(event: EventV1): Promise<void>;
}

/** Posts events.k8s.io/v1 Events. */
export class KubeEventPoster implements EventPoster {
  private readonly http: KubeClient;
  private readonly timeoutMs: number;

  constructor(http: KubeClient, timeoutMs = 10_000) {
    this.http = http;
    this.timeoutMs = timeoutMs;
  }

  async post(event: EventV1): Promise<void> {
    await this.http.request({
      method: 'POST',
      path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.metadata.namespace)}/events`,
      body: event,
      timeoutMs: this.timeoutMs,
    });
  }
}

export type PostOutcome = 'posted' | 'failed' | 'dropped';

export interface EventSinkOptions {
  poster: EventPoster;
  logger?: Logger;
  /** Events waiting to be posted before new ones are dropped; default 1000. */
  maxPending?: number;
  /** Parallel posts; default 2. */
  concurrency?: number;
  /** Metric hook, per event. */
  onOutcome?: (outcome: PostOutcome, reason: string) => void;
}

export class EventSink {
  private readonly poster: EventPoster;
  private readonly logger: Logger;
  private readonly maxPending: number;
  private readonly concurrency: number;
  private readonly onOutcome: EventSinkOptions['onOutcome'];
  private readonly backlog: EventV1[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: EventSinkOptions) {
    this.poster = opts.poster;
    this.logger = opts.logger ?? noopLogger;
    this.maxPending = opts.maxPending ?? 1000;
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.onOutcome = opts.onOutcome;
  }

  /** Queues events for posting; returns at once. */
  emit(events: readonly EventV1[]): void {
    for (const ev of events) {
      if (this.backlog.length >= this.maxPending) {
        this.outcome('dropped', ev.reason);
        this.logger.debug('Dropped event: backlog full', { reason: ev.reason, pending: this.backlog.length });
        continue;
      }
      this.backlog.push(ev);
      this.pump();
    }
  }

  /** Events queued or in flight. */
  pending(): number {
    return this.backlog.length + this.active;
  }

  /** Resolves once everything queued so far has been posted or has failed. */
  flush(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.backlog.length > 0) {
      const ev = this.backlog.shift();
      if (!ev) break;
      this.active++;
      void this.postOne(ev).finally(() => {
        this.active--;
        this.pump();
        if (this.pending() === 0) {
          const ws = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of ws) w();
        }
      });
    }
  }

  private async postOne(ev: EventV1): Promise<void> {
    try {
      await this.poster.post(ev);
      this.outcome('posted', ev.reason);
    } catch (err) {
      if (isAlreadyExists(err)) {
        this.outcome('posted', ev.reason);
        return;
      }
      this.outcome('failed', ev.reason);
      const fields = {
        reason: ev.reason,
        regarding: `${ev.regarding.kind}/${ev.regarding.namespace ?? ''}/${ev.regarding.name}`,
        code: err instanceof ApiError ? err.code : undefined,
        error: errorSummary(err),
      };
      // A namespace being deleted rejects new events; nothing to worry about.
      if (
        isNotFound(err) ||
        (err instanceof ApiError &&
          err.code === 403 &&
          err.reason === 'Forbidden' &&
          /terminat/i.test(err.message))
      ) {
        this.logger.debug('Could not post event', fields);
      } else {
        this.logger.warn('Could not post event', fields);
      }
    }
  }

  private outcome(o: PostOutcome, reason: string): void {
    try {
      this.onOutcome?.(o, reason);
    } catch {
      // Metrics must not break posting.
    }
  }
}
