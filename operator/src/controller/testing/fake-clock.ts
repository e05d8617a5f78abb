/**
 * A manual clock for unit tests: time moves only when the test calls
 * `advance()`. Due timers run in time order (ties in scheduling order), and
 * the clock reads the timer's due time while its callback runs.
 */
import type { Clock, Timer } from '../clock.ts';

interface Pending {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const p: Pending = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }

  /** Number of timers still scheduled. */
  pendingTimers(): number {
    this.pending = this.pending.filter((p) => !p.cancelled);
    return this.pending.length;
  }

  /** Due time of the earliest scheduled timer, if any. */
  nextDue(): number | undefined {
    let best: number | undefined;
    for (const p of this.pending) if (!p.cancelled && (best === undefined || p.due < best)) best = p.due;
    return best;
  }

  /**
   * Moves time forward by `ms`, running every timer that becomes due (also
   * those scheduled by callbacks within the window). Between timers it lets
   * pending promise continuations run, so async code reacts as it would in
   * real time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flush();
    for (;;) {
      const next = this.takeNext(target);
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      next.fn();
      await flush();
    }
    this.current = target;
    await flush();
  }

  private takeNext(limit: number): Pending | undefined {
    let idx = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (!p || p.cancelled || p.due > limit) continue;
      const best = idx >= 0 ? this.pending[idx] : undefined;
      if (!best || p.due < best.due || (p.due === best.due && p.seq < best.seq)) idx = i;
    }
    if (idx < 0) return undefined;
    const [p] = this.pending.splice(idx, 1);
    return p;
  }
}

/** Lets every queued promise continuation run (one macrotask turn, not a sleep). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
