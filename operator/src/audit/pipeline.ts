/**
 * The operator's audit pipeline: a bounded queue between the webhook receiver and the same
 * AuditEvaluator `vigil audit` runs. `offer()` never waits: a batch that does not fit is refused
 * whole (the receiver answers 429 and the API server's batch backend retries it), so the API
 * server is never held up by judging. Judging runs in slices on the event loop, so the receiver
 * keeps answering while a backlog is worked off.
 */
import { AuditEvaluator, type RuleFailure } from './evaluate.ts';
import type { AuditEvent, AuditSettings, Detection } from './types.ts';

export interface AuditPipelineOptions {
  /** Events held at most (received, not yet judged). */
  queueSize: number;
  /** The settings to judge with; read before each slice, and the evaluator follows changes. */
  settings: () => AuditSettings;
  /** Each detection, with the event that triggered it. Must not throw. */
  onDetection: (d: Detection, ev: AuditEvent) => void;
  /** A rule that threw on an event (the rule is skipped for it; everything else goes on). */
  onRuleFailure?: (f: RuleFailure) => void;
  /** Events judged per slice before yielding to the event loop; default 500. */
  sliceSize?: number;
}

export class AuditPipeline {
  private readonly opts: AuditPipelineOptions;
  private readonly evaluator: AuditEvaluator;
  private settingsKey: string;
  /** The queue: events[head..] wait; compacted when the head passes half. */
  private events: AuditEvent[] = [];
  private head = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  /** Events accepted, refused (queue full) and judged, for tests and benchmarks. */
  readonly stats = { accepted: 0, refused: 0, judged: 0, detections: 0 };

  constructor(opts: AuditPipelineOptions) {
    this.opts = opts;
    const s = opts.settings();
    this.settingsKey = JSON.stringify(s);
    this.evaluator = new AuditEvaluator(s);
  }

  /** Events waiting. */
  get length(): number {
    return this.events.length - this.head;
  }

  get capacity(): number {
    return this.opts.queueSize;
  }

  /** Queues a batch, or refuses it whole (false) when it does not fit. */
  offer(batch: readonly AuditEvent[]): boolean {
    if (batch.length === 0) return true;
    if (this.length + batch.length > this.opts.queueSize) {
      this.stats.refused += batch.length;
      return false;
    }
    for (const ev of batch) this.events.push(ev);
    this.stats.accepted += batch.length;
    this.schedule();
    return true;
  }

  /** Resolves when every queued event has been judged. */
  drained(): Promise<void> {
    if (this.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  private slice(): void {
    const next = this.opts.settings();
    const key = JSON.stringify(next);
    if (key !== this.settingsKey) {
      this.settingsKey = key;
      this.evaluator.reconfigure(next);
    }
    const failures: RuleFailure[] = [];
    const end = Math.min(this.events.length, this.head + (this.opts.sliceSize ?? 500));
    for (; this.head < end; this.head++) {
      const ev = this.events[this.head] as AuditEvent;
      this.stats.judged++;
      for (const d of this.evaluator.judge(ev, failures)) {
        this.stats.detections++;
        this.opts.onDetection(d, ev);
      }
    }
    for (const f of failures) this.opts.onRuleFailure?.(f);
    if (this.head >= this.events.length) {
      this.events = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    if (this.length > 0) {
      setImmediate(() => this.slice());
      return;
    }
    this.scheduled = false;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }
}
