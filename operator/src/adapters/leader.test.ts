import { expect } from 'chai';
import { FakeClock, flush } from '../controller/testing/fake-clock.ts';
import { ApiError } from './api-error.ts';
import type { ElectionResult, LeaderElectorOptions, LeaseClient, LeaseObject } from './leader.ts';
import { LeaderElector } from './leader.ts';

/** An in-memory Lease API with optimistic concurrency and fault injection. */
class FakeLeases implements LeaseClient {
  lease: LeaseObject | undefined;
  private rv = 0;
  calls: string[] = [];
  /** When set, every call fails with this error. */
  failWith: Error | undefined;
  /** When true, calls hang until their signal aborts. */
  hang = false;

  private async gate(op: string, signal: AbortSignal): Promise<void> {
    this.calls.push(op);
    if (signal.aborted) throw new ApiError(0, 'Aborted', 'aborted');
    if (this.hang) {
      await new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new ApiError(0, 'Aborted', 'aborted'));
        });
      });
    }
    if (this.failWith) throw this.failWith;
  }

  async get(_ns: string, _name: string, signal: AbortSignal): Promise<LeaseObject | undefined> {
    await this.gate('get', signal);
    return this.lease ? structuredClone(this.lease) : undefined;
  }

  async create(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject> {
    await this.gate('create', signal);
    if (this.lease) throw new ApiError(409, 'AlreadyExists', 'exists');
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease);
  }

  async update(lease: LeaseObject, signal: AbortSignal): Promise<LeaseObject> {
    await this.gate('update', signal);
    if (!this.lease) throw new ApiError(404, 'NotFound', 'gone');
    if (lease.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', 'stale');
    }
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease);
  }

  /** Another replica writes the lease directly. */
  setHolder(holder: string, renewTime = '2030-01-01T00:00:00.000000Z', transitions = 0): void {
    this.lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'vigil-leader', namespace: 'vigil-system', resourceVersion: String(++this.rv) },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: 15,
        renewTime,
        acquireTime: renewTime,
        leaseTransitions: transitions,
      },
    };
  }
}

interface Setup {
  clock: FakeClock;
  leases: FakeLeases;
  e: LeaderElector;
  events: string[];
  result: { value: ElectionResult | undefined };
}

function setup(
  over: Partial<LeaderElectorOptions> = {},
  shared?: { clock: FakeClock; leases: FakeLeases },
): Setup {
  const clock = shared?.clock ?? new FakeClock();
  const leases = shared?.leases ?? new FakeLeases();
  const events: string[] = [];
  const e = new LeaderElector({
    client: leases,
    namespace: 'vigil-system',
    name: 'vigil-leader',
    identity: 'pod-a',
    clock,
    random: () => 0,
    onStartedLeading: () => events.push('started'),
    onLeadershipLost: () => events.push('lost'),
    onNewLeader: (id) => events.push(`leader ${id}`),
    onStatus: (l) => events.push(`status ${l}`),
    ...over,
  });
  const result: Setup['result'] = { value: undefined };
  return { clock, leases, e, events, result };
}

function start(s: Setup): void {
  void s.e.run().then((r) => (s.result.value = r));
}

describe('LeaderElector', () => {
  it('validates its timing', () => {
    const leases = new FakeLeases();
    const base = {
      client: leases,
      namespace: 'n',
      name: 'l',
      identity: 'i',
      onLeadershipLost: () => undefined,
    };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).to.throw(
      RangeError,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 })).to.throw(
      RangeError,
    );
    expect(() => new LeaderElector({ ...base, identity: '' })).to.throw(RangeError);
    expect(() => new LeaderElector(base)).to.not.throw();
  });

  it('creates a missing lease and leads', async () => {
    const s = setup();
    start(s);
    await flush();
    expect(s.e.isLeader()).to.equal(true);
    expect(s.events).to.deep.equal(['leader pod-a', 'status true', 'started']);
    expect(s.leases.lease?.spec).to.deep.equal({
      holderIdentity: 'pod-a',
      leaseDurationSeconds: 15,
      acquireTime: '2030-01-01T00:00:00.000000Z',
      renewTime: '2030-01-01T00:00:00.000000Z',
      leaseTransitions: 0,
    });
    await s.e.stop();
  });

  it('writes the annotations it is given with the create and every renewal', async () => {
    let n = 0;
    const s = setup({ annotations: () => ({ 'security.vigil.dev/share-status': String(++n) }) });
    start(s);
    await flush();
    expect(s.leases.lease?.metadata['annotations']).to.deep.equal({ 'security.vigil.dev/share-status': '1' });
    s.leases.calls = [];
    await s.clock.advance(2000);
    expect(s.leases.calls).to.deep.equal(['update']);
    expect(s.leases.lease?.metadata['annotations']).to.deep.equal({ 'security.vigil.dev/share-status': '2' });
    await s.e.stop();
  });

  it('renews every retry period with one optimistic update, keeping acquireTime', async () => {
    const s = setup();
    start(s);
    await flush();
    s.leases.calls = [];
    await s.clock.advance(2000);
    expect(s.leases.calls).to.deep.equal(['update']);
    expect(s.leases.lease?.spec?.renewTime).to.equal('2030-01-01T00:00:02.000000Z');
    expect(s.leases.lease?.spec?.acquireTime).to.equal('2030-01-01T00:00:00.000000Z');
    await s.clock.advance(2000);
    expect(s.leases.calls).to.deep.equal(['update', 'update']);
    await s.e.stop();
  });

  it('waits for a lease held by another replica to go unrenewed for a full lease duration, by the local clock', async () => {
    const s = setup();
    // The holder's renewTime is far in the past (clock skew): irrelevant, only local observation counts.
    s.leases.setHolder('pod-b', '2000-01-01T00:00:00.000000Z', 3);
    start(s);
    await flush();
    expect(s.e.isLeader()).to.equal(false);
    expect(s.events).to.deep.equal(['leader pod-b']);
    await s.clock.advance(14_000);
    expect(s.e.isLeader()).to.equal(false);
    await s.clock.advance(2000);
    expect(s.e.isLeader()).to.equal(true);
    expect(s.leases.lease?.spec?.holderIdentity).to.equal('pod-a');
    expect(s.leases.lease?.spec?.leaseTransitions).to.equal(4);
    await s.e.stop();
  });

  it('never takes a lease the other replica keeps renewing', async () => {
    const s = setup();
    s.leases.setHolder('pod-b');
    start(s);
    for (let i = 1; i <= 30; i++) {
      await s.clock.advance(2000);
      s.leases.setHolder('pod-b', `2030-01-01T00:00:${String((i * 2) % 60).padStart(2, '0')}.000000Z`);
    }
    expect(s.e.isLeader()).to.equal(false);
    await s.e.stop();
    expect(s.result.value).to.equal('stopped');
  });

  it('takes a released lease at once', async () => {
    const s = setup();
    s.leases.setHolder('');
    start(s);
    await flush();
    expect(s.e.isLeader()).to.equal(true);
    expect(s.leases.lease?.spec?.leaseTransitions).to.equal(1);
    await s.e.stop();
  });

  it('retries acquisition with jitter', async () => {
    const s = setup({ random: () => 1 });
    s.leases.failWith = new ApiError(503, 'ServiceUnavailable', 'x');
    start(s);
    await flush();
    expect(s.leases.calls).to.deep.equal(['get']);
    await s.clock.advance(4399); // 2 s × (1 + 1.2)
    expect(s.leases.calls).to.have.length(1);
    await s.clock.advance(1);
    expect(s.leases.calls).to.have.length(2);
    s.leases.failWith = undefined;
    await s.clock.advance(4400);
    expect(s.e.isLeader()).to.equal(true);
    await s.e.stop();
  });

  it('loses leadership when renewals fail until the renew deadline, and reports it once', async () => {
    const s = setup();
    start(s);
    await flush();
    s.leases.failWith = new ApiError(0, 'ECONNREFUSED', 'down');
    await s.clock.advance(2000); // first renewal attempt fails
    expect(s.e.isLeader()).to.equal(true);
    await s.clock.advance(9999); // attempts at +2, +4, +6, +8 s of the renew window
    expect(s.e.isLeader()).to.equal(true);
    await s.clock.advance(1);
    expect(s.e.isLeader()).to.equal(false);
    expect(s.events.filter((e) => e === 'lost')).to.have.length(1);
    expect(s.events.slice(-2)).to.deep.equal(['status false', 'lost']);
    expect(s.result.value).to.equal('lost');
    s.leases.failWith = undefined;
    await s.clock.advance(60_000);
    expect(s.leases.lease?.spec?.holderIdentity).to.equal('pod-a'); // no further writes after loss
    expect(s.events.filter((e) => e === 'started')).to.have.length(1);
  });

  it('survives transient renewal failures within the deadline', async () => {
    const s = setup();
    start(s);
    await flush();
    s.leases.failWith = new ApiError(500, 'InternalError', 'x');
    await s.clock.advance(6000);
    s.leases.failWith = undefined;
    await s.clock.advance(2000);
    expect(s.e.isLeader()).to.equal(true);
    await s.clock.advance(30_000);
    expect(s.e.isLeader()).to.equal(true);
    expect(s.events).to.not.include('lost');
    await s.e.stop();
  });

  it('times out a hanging renewal at the renew deadline', async () => {
    const s = setup();
    start(s);
    await flush();
    s.leases.hang = true;
    await s.clock.advance(2000 + 9999);
    expect(s.e.isLeader()).to.equal(true);
    await s.clock.advance(1);
    expect(s.result.value).to.equal('lost');
  });

  it('gives up at once when it sees another holder', async () => {
    const s = setup();
    start(s);
    await flush();
    s.leases.setHolder('pod-b'); // someone overwrote the lease
    await s.clock.advance(2000);
    expect(s.e.isLeader()).to.equal(false);
    expect(s.result.value).to.equal('lost');
    expect(s.events).to.include('leader pod-b');
  });

  it('lets exactly one of two replicas lead, and hands over on release', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = setup({ identity: 'pod-a' }, { clock, leases });
    const b = setup({ identity: 'pod-b' }, { clock, leases });
    start(a);
    start(b);
    await clock.advance(10_000);
    expect([a.e.isLeader(), b.e.isLeader()]).to.deep.equal([true, false]);
    await a.e.stop();
    expect(a.result.value).to.equal('stopped');
    expect(a.events).to.not.include('lost');
    expect(leases.lease?.spec).to.include({ holderIdentity: '', leaseDurationSeconds: 1 });
    await clock.advance(2000);
    expect(b.e.isLeader()).to.equal(true);
    expect(leases.lease?.spec?.leaseTransitions).to.equal(1);
    await b.e.stop();
  });

  it('stops while campaigning without writing', async () => {
    const s = setup();
    s.leases.setHolder('pod-b');
    start(s);
    await flush();
    s.leases.calls = [];
    await s.e.stop();
    expect(s.result.value).to.equal('stopped');
    expect(s.leases.calls).to.deep.equal([]);
    expect(s.clock.pendingTimers()).to.equal(0);
  });
});
