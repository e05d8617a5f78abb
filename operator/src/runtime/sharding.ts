/**
 * Sharding the work across replicas (`vigil operator --sharding`).
 *
 * - Every replica holds its own member Lease, `<lease-name>-member-<identity>`, renewed like the
 *   leader Lease (the same LeaderElector: nobody else campaigns for it, so holding it only proves
 *   the replica is alive). A replica that stops releases it at once; one that dies lets it expire.
 * - Every replica lists the member Leases every retry period and keeps the live ones: a lease is
 *   live while its holder is set and its record has changed within its duration, as observed by
 *   the local clock (the leader election's rule, so clock skew between nodes does not matter).
 * - Work is assigned by rendezvous (highest-random-weight) hashing of a shard key over the live
 *   members: every replica computes the same owner from the same member set, and a member joining
 *   or leaving moves only the keys it wins or held (1/n of them), none between the others.
 * - The shard key of a namespaced object is its namespace; a Namespace's own key is its name (its
 *   report is about its content); cluster-scoped subjects (ClusterRoles, ClusterRoleBindings,
 *   Nodes, the ClusterVersion, SecurityPolicies) have the key "", whose owner is the coordinator.
 */
import type { Clock } from '../controller/clock.ts';
import { realClock, sleep } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import { errorSummary } from '../controller/logger.ts';
import type { KubeClient } from '../adapters/k8s-client.ts';
import type { LeaseObject } from '../adapters/leader.ts';

/** 53-bit string hash (cyrb53): fast, well mixed, no dependency; stable across processes. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The member that owns `key` among `members` (rendezvous hashing); undefined when there is none. */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = hash53(`${m}\u0000${key}`);
    // Ties (astronomically rare) go to the smaller name, so every replica agrees.
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** The shard key of a subject or watched object: its namespace; a Namespace's name; "" otherwise. */
export function shardKeyOf(kind: string, namespace: string | undefined, name: string): string {
  if (kind === 'Namespace') return name;
  return namespace ?? '';
}

/** The member Lease name of an identity (lease names are DNS subdomains: lower-cased, cleaned). */
export function memberLeaseName(leaseName: string, identity: string): string {
  const id = identity
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${memberPrefix(leaseName)}${id}`.slice(0, 253);
}

export function memberPrefix(leaseName: string): string {
  return `${leaseName}-member-`;
}

/**
 * The assignment seen by one replica: the live members and who owns what. Ownership of a shard
 * key is cached per member set (namespaces are few next to the objects in them).
 */
export class ShardAssignment {
  readonly self: string;
  private members: string[] = [];
  private owners = new Map<string, string | undefined>();

  constructor(self: string, members: readonly string[] = [self]) {
    this.self = self;
    this.setMembers(members);
  }

  /** Replaces the member set; returns true when it changed. */
  setMembers(members: readonly string[]): boolean {
    const next = [...new Set(members)].sort();
    if (next.length === this.members.length && next.every((m, i) => m === this.members[i])) return false;
    this.members = next;
    this.owners = new Map();
    return true;
  }

  get live(): readonly string[] {
    return this.members;
  }

  ownerOf(shardKey: string): string | undefined {
    if (this.owners.has(shardKey)) return this.owners.get(shardKey);
    const o = ownerOf(shardKey, this.members);
    this.owners.set(shardKey, o);
    return o;
  }

  owns(shardKey: string): boolean {
    return this.ownerOf(shardKey) === this.self;
  }

  /** Owns the cluster-scoped work (key ""): coordinates what must be done once. */
  get coordinator(): boolean {
    return this.owns('');
  }
}

/** Lists the member leases of one lease name. */
export interface MemberLister {
  list(namespace: string, prefix: string, signal?: AbortSignal): Promise<LeaseObject[]>;
}

export class KubeMemberLister implements MemberLister {
  private readonly http: KubeClient;
  constructor(http: KubeClient) {
    this.http = http;
  }
  async list(namespace: string, prefix: string, signal?: AbortSignal): Promise<LeaseObject[]> {
    const res = await this.http.request<{ items?: LeaseObject[] }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
      ...(signal ? { signal } : {}),
    });
    return (res.items ?? []).filter((l) => l.metadata.name.startsWith(prefix));
  }
}

/**
 * Which member leases are live, judged by the local clock: a record that has not changed for its
 * lease duration is expired (as in leader election); one first seen is judged by its renewTime.
 */
export class MemberTracker {
  private readonly seen = new Map<string, { raw: string; at: number }>();
  private readonly clock: Clock;
  constructor(clock: Clock = realClock) {
    this.clock = clock;
  }

  live(leases: readonly LeaseObject[]): string[] {
    const now = this.clock.now();
    const out: string[] = [];
    const names = new Set<string>();
    for (const l of leases) {
      const name = l.metadata.name;
      names.add(name);
      const s = l.spec ?? {};
      const holder = s.holderIdentity ?? '';
      const raw = JSON.stringify([holder, s.renewTime ?? '', s.leaseDurationSeconds ?? 0]);
      const prev = this.seen.get(name);
      if (!prev || prev.raw !== raw) {
        // First sight: trust renewTime (a lease left by a killed replica is not taken for live
        // longer than its duration); a change afterwards is proof of life by itself.
        const renewed = s.renewTime ? Date.parse(s.renewTime) : NaN;
        const at = !prev && Number.isFinite(renewed) ? Math.min(now, renewed) : now;
        this.seen.set(name, { raw, at });
      }
      const rec = this.seen.get(name);
      const durationMs = (s.leaseDurationSeconds ?? 15) * 1000;
      if (holder !== '' && rec && rec.at + durationMs > now) out.push(holder);
    }
    for (const n of [...this.seen.keys()]) if (!names.has(n)) this.seen.delete(n);
    return out;
  }
}

export interface MembershipOptions {
  lister: MemberLister;
  namespace: string;
  leaseName: string;
  assignment: ShardAssignment;
  retryPeriodMs: number;
  clock?: Clock;
  logger: Logger;
  /** The live member set changed (after the assignment was updated). */
  onChange(members: readonly string[]): void;
  /** Sharding status annotation of the member leases (see peers()). */
  annotation?: string;
  /** The other live members' annotation values changed. */
  onPeersChanged?(): void;
}

/** Polls the member leases every retry period and keeps the assignment current. */
export class Membership {
  private readonly o: MembershipOptions;
  private readonly tracker: MemberTracker;
  private readonly stopCtl = new AbortController();
  private running: Promise<void> | undefined;
  private peerValues: (string | undefined)[] = [];

  constructor(o: MembershipOptions) {
    this.o = o;
    this.tracker = new MemberTracker(o.clock ?? realClock);
  }

  /** One poll; resolves with whether the member set changed. */
  async refresh(): Promise<boolean> {
    const leases = await this.o.lister.list(
      this.o.namespace,
      memberPrefix(this.o.leaseName),
      this.stopCtl.signal,
    );
    // A replica always counts itself: its own lease is renewed by its own elector.
    const alive = this.tracker.live(leases);
    const live = [...new Set([...alive, this.o.assignment.self])];
    if (this.o.annotation !== undefined) {
      const key = this.o.annotation;
      const values = leases
        .filter((l) => {
          const h = l.spec?.holderIdentity ?? '';
          return h !== this.o.assignment.self && alive.includes(h);
        })
        .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
        .map((l) => (l.metadata['annotations'] as Record<string, string> | undefined)?.[key]);
      const changed = JSON.stringify(values) !== JSON.stringify(this.peerValues);
      this.peerValues = values;
      if (changed) this.o.onPeersChanged?.();
    }
    if (!this.o.assignment.setMembers(live)) return false;
    this.o.logger.info('shard members changed', {
      members: this.o.assignment.live.join(','),
      coordinator: this.o.assignment.coordinator,
    });
    this.o.onChange(this.o.assignment.live);
    return true;
  }

  /** The other live members' values of the status annotation (undefined: not published yet). */
  peers(): readonly (string | undefined)[] {
    return this.peerValues;
  }

  start(): void {
    this.running ??= (async () => {
      const clock = this.o.clock ?? realClock;
      while (!this.stopCtl.signal.aborted) {
        try {
          await this.refresh();
        } catch (e) {
          if (this.stopCtl.signal.aborted) return;
          this.o.logger.warn('could not list the shard member leases', { error: errorSummary(e) });
        }
        try {
          await sleep(clock, this.o.retryPeriodMs, this.stopCtl.signal);
        } catch {
          return;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort(new Error('membership stopped'));
    await this.running;
  }
}
