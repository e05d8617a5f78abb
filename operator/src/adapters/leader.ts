/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's
 * leaderelection package (and controller-runtime's defaults: lease 15 s,
 * renew deadline 10 s, retry period 2 s):
 *
 * - acquire: try every retry period (jittered ×(1 + 1.2·rand)); a lease held
 *   by someone else is taken over only once it has not changed for a full
 *   lease duration *as observed locally* (clock skew between nodes does not
 *   matter);
 * - renew: after each success wait one retry period, then try every retry
 *   period until the renew deadline; failing that, or seeing another holder,
 *   leadership is lost and `onLeadershipLost` runs (the process should exit:
 *   controllers must not keep running without the lease);
 * - every write is an optimistic update carrying the last resourceVersion;
 *   a 409 means someone else wrote first;
 * - `stop()` releases the lease (empty holder, 1 s duration) so a successor
 *   takes over at once instead of waiting for expiry.
 *
 * Time comes from the injected Clock; the Lease API from a `LeaseClient`
 * (`KubeLeaseClient` in production, a fake in tests).
 */
import type { Clock } from '../controller/clock.ts';
import { realClock, sleep, timeoutSignal } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import { errorSummary, noopLogger } from '../controller/logger.ts';
import { formatMicroTime } from '../controller/names.ts';
import { isNotFound } from './api-error.ts';
import type { KubeClient } from './k8s-client.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [key: string]: unknown };
  spec?: LeaseSpec;
}

/** The Lease API, as leader election needs it. */
export interface LeaseClient {
  /** The lease, or undefined when it does not exist (404). */
  get(namespace: string, name: string, signal: AbortSignal): Promise<LeaseObject | undefined>;
  /** Creates the lease; rejects (409) if it already exists. */
  create(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject>;
  /** Replaces the lease; rejects with 409 when `metadata.resourceVersion` is stale. */
  update(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject>;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  namespace: string;
  /** Lease name (stable, e.g. "vigil-leader"). */
  name: string;
  /** This replica's identity (pod name plus a random suffix). */
  identity: string;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Acquire retries wait retryPeriod × (1 + jitterFactor·rand); default 1.2. */
  jitterFactor?: number;
  /**
   * Annotations written on the Lease with every acquire and renewal (sharding publishes a
   * member's figures this way, without writes of its own).
   */
  annotations?(): Record<string, string>;
  onStartedLeading?(): void;
  /** Leadership was lost (not by stop()): stop work and exit the process. */
  onLeadershipLost(): void;
  /** Another (or this) identity became the observed holder. */
  onNewLeader?(identity: string): void;
  /** leader_election_master_status gauge: 1 while leading. */
  onStatus?(leading: boolean): void;
}

export type ElectionResult = 'lost' | 'stopped';

export class LeaderElector {
  private readonly o: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly jitterFactor: number;

  private observed: LeaseSpec | undefined;
  private observedRaw = '';
  private observedTime = 0;
  /** The last lease object read or written (its resourceVersion makes updates optimistic). */
  private lease: LeaseObject | undefined;
  private leading = false;
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private running: Promise<ElectionResult> | undefined;
  private lastReportedLeader: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.o = opts;
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? noopLogger).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: opts.identity,
    });
    this.random = opts.random ?? Math.random;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.jitterFactor = opts.jitterFactor ?? 1.2;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new RangeError('leaseDuration must be greater than renewDeadline');
    }
    if (!(this.renewDeadlineMs > this.jitterFactor * this.retryPeriodMs)) {
      throw new RangeError('renewDeadline must be greater than jitterFactor × retryPeriod');
    }
    if (!(this.retryPeriodMs > 0) || opts.identity === '')
      throw new RangeError('retryPeriod > 0 and an identity are required');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns for the lease, then keeps renewing it. Resolves 'lost' when
   * leadership is lost (after calling onLeadershipLost) or 'stopped' after
   * stop(). Calling run() again returns the same promise.
   */
  run(): Promise<ElectionResult> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or renewing; releases the lease if held. Resolves when done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort(new Error('leader election stopped'));
    if (this.running) await this.running;
  }

  private async campaign(): Promise<ElectionResult> {
    this.logger.info('Attempting to acquire leader lease');
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew(this.renewDeadlineMs)) break;
      await this.pause(this.retryPeriodMs * (1 + this.jitterFactor * this.random()));
    }
    if (this.stopped) return 'stopped';
    this.setLeading(true);
    this.logger.info('Acquired leader lease');
    try {
      this.o.onStartedLeading?.();
    } catch (err) {
      this.logger.error('onStartedLeading failed', { error: errorSummary(err) });
    }

    while (!this.stopped) {
      await this.pause(this.retryPeriodMs);
      if (this.stopped) break;
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      for (;;) {
        const remaining = deadline - this.clock.now();
        if (remaining <= 0 || this.stopped) break;
        renewed = await this.tryAcquireOrRenew(remaining);
        if (renewed || this.stopped || this.heldByOther()) break;
        await this.pause(Math.min(this.retryPeriodMs, deadline - this.clock.now()));
      }
      if (this.stopped) break;
      if (!renewed) {
        this.setLeading(false);
        this.logger.warn('Lost leader lease', {
          holder: this.observed?.holderIdentity ?? '',
          renewDeadlineMs: this.renewDeadlineMs,
        });
        try {
          this.o.onLeadershipLost();
        } catch (err) {
          this.logger.error('onLeadershipLost failed', { error: errorSummary(err) });
        }
        return 'lost';
      }
    }
    await this.release();
    this.setLeading(false);
    return 'stopped';
  }

  /** One attempt (client-go tryAcquireOrRenew). */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const t = timeoutSignal(this.clock, timeoutMs, this.stopCtl.signal);
    try {
      const now = this.clock.now();
      const desired: LeaseSpec = {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
        acquireTime: formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: 0,
      };

      // Fast path: the leader updates optimistically from the last record it wrote.
      if (this.leading && this.lease && this.leaseValid(now)) {
        desired.acquireTime = this.observed?.acquireTime ?? desired.acquireTime;
        desired.leaseTransitions = this.observed?.leaseTransitions ?? 0;
        try {
          this.record(
            await this.o.client.update(this.annotate({ ...this.lease, spec: desired }), t.signal),
            desired,
          );
          return true;
        } catch (err) {
          this.logger.debug('Optimistic lease renewal failed; re-reading', { error: errorSummary(err) });
          if (t.signal.aborted) return false;
        }
      }

      let current: LeaseObject | undefined;
      try {
        current = await this.o.client.get(this.o.namespace, this.o.name, t.signal);
      } catch (err) {
        if (!isNotFound(err)) {
          this.logger.debug('Could not read leader lease', { error: errorSummary(err) });
          return false;
        }
      }
      if (!current) {
        const lease: LeaseObject = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: desired,
        };
        try {
          this.record(await this.o.client.create(this.annotate(lease), t.signal), desired);
          return true;
        } catch (err) {
          this.logger.debug('Could not create leader lease', { error: errorSummary(err) });
          return false;
        }
      }

      this.lease = current;
      const spec = current.spec ?? {};
      const raw = JSON.stringify([
        spec.holderIdentity ?? '',
        spec.leaseDurationSeconds ?? 0,
        spec.acquireTime ?? '',
        spec.renewTime ?? '',
        spec.leaseTransitions ?? 0,
      ]);
      if (raw !== this.observedRaw) {
        this.observed = { ...spec };
        this.observedRaw = raw;
        this.observedTime = now;
        this.reportLeader();
      }
      const holder = spec.holderIdentity ?? '';
      const iAmHolder = holder === this.o.identity;
      if (holder !== '' && !iAmHolder && this.leaseValid(now)) return false;

      if (iAmHolder) {
        desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
        desired.leaseTransitions = spec.leaseTransitions ?? 0;
      } else {
        desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
      }
      try {
        this.record(
          await this.o.client.update(this.annotate({ ...current, spec: desired }), t.signal),
          desired,
        );
        return true;
      } catch (err) {
        this.logger.debug('Could not update leader lease', { error: errorSummary(err) });
        return false;
      }
    } finally {
      t.dispose();
    }
  }

  private annotate(lease: LeaseObject): LeaseObject {
    const extra = this.o.annotations?.();
    if (!extra) return lease;
    const own = (lease.metadata['annotations'] ?? {}) as Record<string, string>;
    return { ...lease, metadata: { ...lease.metadata, annotations: { ...own, ...extra } } };
  }

  /** Releases the lease if this replica holds it (client-go release()). */
  private async release(): Promise<void> {
    if (!this.leading || !this.lease) return;
    const now = this.clock.now();
    const spec: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: this.observed?.leaseTransitions ?? 0,
    };
    const t = timeoutSignal(this.clock, this.renewDeadlineMs);
    try {
      this.record(await this.o.client.update({ ...this.lease, spec }, t.signal), spec);
      this.logger.info('Released leader lease');
    } catch (err) {
      this.logger.warn('Could not release leader lease; it will expire', { error: errorSummary(err) });
    } finally {
      t.dispose();
    }
  }

  private record(written: LeaseObject, spec: LeaseSpec): void {
    this.lease = written;
    this.observed = { ...spec };
    this.observedRaw = JSON.stringify([
      spec.holderIdentity ?? '',
      spec.leaseDurationSeconds ?? 0,
      spec.acquireTime ?? '',
      spec.renewTime ?? '',
      spec.leaseTransitions ?? 0,
    ]);
    this.observedTime = this.clock.now();
    this.reportLeader();
  }

  /** The observed record has not expired by the local clock. */
  private leaseValid(now: number): boolean {
    const seconds = this.observed?.leaseDurationSeconds ?? Math.round(this.leaseDurationMs / 1000);
    return this.observedTime + seconds * 1000 > now;
  }

  private heldByOther(): boolean {
    const h = this.observed?.holderIdentity ?? '';
    return h !== '' && h !== this.o.identity && this.leaseValid(this.clock.now());
  }

  private reportLeader(): void {
    const h = this.observed?.holderIdentity ?? '';
    if (h === '' || h === this.lastReportedLeader) return;
    this.lastReportedLeader = h;
    if (h !== this.o.identity) this.logger.info('Observed new leader', { holder: h });
    try {
      this.o.onNewLeader?.(h);
    } catch {
      // Callbacks must not break the election.
    }
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    try {
      this.o.onStatus?.(v);
    } catch {
      // Metrics must not break the election.
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(this.clock, ms, this.stopCtl.signal);
    } catch {
      // Stopped while waiting.
    }
  }
}

const LEASES = (ns: string): string =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases`;

/** LeaseClient over the Kubernetes API. */
export class KubeLeaseClient implements LeaseClient {
  private readonly http: KubeClient;

  constructor(http: KubeClient) {
    this.http = http;
  }

  async get(namespace: string, name: string, signal: AbortSignal): Promise<LeaseObject | undefined> {
    try {
      return await this.http.request<LeaseObject>({
        method: 'GET',
        path: `${LEASES(namespace)}/${encodeURIComponent(name)}`,
        signal,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject> {
    return this.http.request<LeaseObject>({
      method: 'POST',
      path: LEASES(lease.metadata.namespace),
      body: lease,
      signal,
    });
  }

  update(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject> {
    return this.http.request<LeaseObject>({
      method: 'PUT',
      path: `${LEASES(lease.metadata.namespace)}/${encodeURIComponent(lease.metadata.name)}`,
      body: lease,
      signal,
    });
  }
}
