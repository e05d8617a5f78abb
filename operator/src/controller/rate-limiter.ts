/**
 * Rate limiters with client-go semantics (util/workqueue/default_rate_limiters.go):
 * a per-key exponential limiter, a global token bucket, and their maximum.
 * `when(key)` returns how long to wait before the key may be processed again.
 */
import { backoffDelay } from './backoff.ts';
import type { Clock } from './clock.ts';

export interface RateLimiter {
  /** Delay in ms before `key` should be retried; records one more failure for it. */
  when(key: string): number;
  /** Clears the failure history of `key` (call after a success). */
  forget(key: string): void;
  /** How many times `key` has been retried since the last `forget`. */
  numRequeues(key: string): number;
}

export interface ItemExponentialOptions {
  /** First retry delay; client-go default 5 ms. */
  baseMs?: number;
  /** Largest retry delay; client-go default 1000 s. */
  maxMs?: number;
  /** Downward jitter fraction (see `backoffDelay`); default 0 like client-go. */
  jitter?: number;
  random?: () => number;
}

/** base × 2^failures per key, capped; failures reset by `forget`. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: ItemExponentialOptions = {}) {
    this.baseMs = opts.baseMs ?? 5;
    this.maxMs = opts.maxMs ?? 1_000_000;
    this.jitter = opts.jitter ?? 0;
    this.random = opts.random ?? Math.random;
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoffDelay(n, { baseMs: this.baseMs, capMs: this.maxMs, jitter: this.jitter }, this.random);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second. */
  qps: number;
  /** Bucket size (tokens available at start). */
  burst: number;
  clock: Clock;
}

/**
 * A token bucket refilled continuously at `qps` up to `burst`.
 * `tryTake()` drops when empty (event rate limiting); `reserve()` always
 * takes a token, possibly going into debt, and returns the wait until that
 * token is covered (golang.org/x/time/rate `Reserve().Delay()`, which
 * client-go's BucketRateLimiter uses).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.qps > 0) || !(opts.burst >= 1))
      throw new RangeError('token bucket needs qps > 0 and burst >= 1');
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.clock = opts.clock;
    this.tokens = opts.burst;
    this.last = opts.clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.qps);
    this.last = now;
  }

  /** Takes a token if one is available now. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Takes a token now or in the future; returns the wait in ms (0 if available). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Tokens available now (may be negative after reservations). */
  available(): number {
    this.refill();
    return this.tokens;
  }
}

/** Global limiter: every retry of every key draws from one bucket. */
export class BucketRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(opts: TokenBucketOptions) {
    this.bucket = new TokenBucket(opts);
  }

  when(_key: string): number {
    return this.bucket.reserve();
  }

  forget(_key: string): void {
    // The bucket is global: nothing per key to forget.
  }

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The slowest of several limiters wins; requeue count is the largest reported. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(key));
    return max;
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(key));
    return max;
  }
}

export interface ControllerRateLimiterOptions {
  clock: Clock;
  /** Per-key first retry; default 5 ms (client-go). */
  baseMs?: number;
  /** Per-key cap; default 1000 s (client-go). */
  maxMs?: number;
  /** Global retry rate; default 10 qps. */
  qps?: number;
  /** Global burst; default 100. */
  burst?: number;
  jitter?: number;
  random?: () => number;
}

/**
 * client-go's DefaultTypedControllerRateLimiter: max(per-key 5 ms → 1000 s,
 * global bucket 10 qps / burst 100). Every default can be overridden.
 */
export function defaultControllerRateLimiter(opts: ControllerRateLimiterOptions): RateLimiter {
  const item: ItemExponentialOptions = { baseMs: opts.baseMs ?? 5, maxMs: opts.maxMs ?? 1_000_000 };
  if (opts.jitter !== undefined) item.jitter = opts.jitter;
  if (opts.random !== undefined) item.random = opts.random;
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter(item),
    new BucketRateLimiter({ qps: opts.qps ?? 10, burst: opts.burst ?? 100, clock: opts.clock }),
  );
}
