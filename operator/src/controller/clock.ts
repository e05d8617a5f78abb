/**
 * Time as a port. Every time-dependent module (work queue, rate limiters,
 * reflector, leader election, event dedup) reads the time and schedules
 * callbacks through a `Clock`, so unit tests drive them with `FakeClock`
 * instead of sleeping.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or less: on the next turn). */
  setTimer(ms: number, fn: () => void): Timer;
}

/** The process clock: `Date.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};

/** Resolves after `ms` on `clock`; rejects early with `signal.reason` when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal));
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error('aborted');
}

/**
 * An AbortSignal that fires after `ms` on `clock` (or when `parent` aborts).
 * Call `dispose()` when done so the timer does not linger.
 */
export function timeoutSignal(
  clock: Clock,
  ms: number,
  parent?: AbortSignal,
): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const timer = clock.setTimer(ms, () => {
    ctl.abort(new TimeoutError(`timed out after ${ms} ms`));
  });
  const onParent = (): void => {
    ctl.abort(parent?.reason);
  };
  if (parent?.aborted) ctl.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctl.signal,
    dispose: () => {
      timer.cancel();
      parent?.removeEventListener('abort', onParent);
    },
  };
}

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}
