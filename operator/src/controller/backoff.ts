/**
 * Pure retry-timing helpers: exponential backoff with jitter, and the
 * `Retry-After` header of 429/503 responses.
 */

export interface BackoffOptions {
  /** Delay of the first retry (attempt 0). */
  baseMs: number;
  /** Upper bound of any delay. */
  capMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /**
   * Fraction in [0, 1] of the delay that is randomized: the result lies in
   * [d × (1 − jitter), d] where d is the capped exponential delay. Jitter
   * shortens rather than lengthens so the cap holds and clients that all hit
   * the cap still spread out. Default 0 (deterministic).
   */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (0-based): min(cap, base × factor^attempt),
 * then jittered downward. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const factor = opts.factor ?? 2;
  const n = Math.max(0, Math.floor(attempt));
  // Cap the exponent so huge attempt counts cannot overflow to Infinity/NaN.
  const raw = opts.baseMs * Math.pow(factor, Math.min(n, 1000));
  const capped = Number.isFinite(raw) ? Math.min(opts.capMs, raw) : opts.capMs;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0));
  if (jitter === 0) return capped;
  const r = Math.min(1, Math.max(0, random()));
  return capped * (1 - jitter * r);
}

/**
 * Parses an HTTP `Retry-After` value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"). Returns milliseconds to wait from
 * `nowMs` (never negative), or undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // An HTTP-date always names a weekday or month; reject bare numbers like "1.5" or "-1".
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
