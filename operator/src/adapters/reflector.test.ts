import { expect } from 'chai';
import { recordingLogger } from '../controller/logger.ts';
import { FakeClock, flush } from '../controller/testing/fake-clock.ts';
import type { KubeObject } from '../engine/types.ts';
import { ApiError } from './api-error.ts';
import type { ReflectorOptions, RestartReason } from './reflector.ts';
import { Reflector, keyOf } from './reflector.ts';
import { FakeListWatch, obj, page } from './testing/fake-list-watch.ts';

interface Setup {
  clock: FakeClock;
  fake: FakeListWatch;
  r: Reflector;
  calls: string[];
  restarts: RestartReason[];
  logger: ReturnType<typeof recordingLogger>;
}

function setup(over: Partial<ReflectorOptions> = {}): Setup {
  const clock = new FakeClock();
  const fake = new FakeListWatch();
  const calls: string[] = [];
  const restarts: RestartReason[] = [];
  const logger = recordingLogger();
  const r = new Reflector({
    resource: 'pods',
    path: '/api/v1/pods',
    apiVersion: 'v1',
    kind: 'Pod',
    client: fake,
    clock,
    logger,
    random: () => 0, // no jitter; watch timeout = min
    freeze: true,
    handlers: {
      onAdd: (k) => calls.push(`add ${k}`),
      onUpdate: (k, o, old) => calls.push(`update ${k} ${rvOf(old)}->${rvOf(o)}`),
      onDelete: (k, last) => calls.push(`delete ${k} ${rvOf(last)}`),
    },
    hooks: { onRestart: (reason) => restarts.push(reason) },
    ...over,
  });
  return { clock, fake, r, calls, restarts, logger };
}

function rvOf(o: KubeObject): string {
  return String(o.metadata?.resourceVersion);
}

async function started(s: Setup): Promise<void> {
  s.r.start();
  await flush();
}

describe('Reflector', () => {
  it('lists in pages, fills in type metadata, trims, syncs, then watches from the list resourceVersion', async () => {
    const s = setup({ pageSize: 2 });
    s.fake.queueList(
      page('10', [obj('a', '1'), obj('b', '2')], 'next'),
      page('10', [
        obj('c', '3', 'ns', {
          metadata: {
            name: 'c',
            namespace: 'ns',
            resourceVersion: '3',
            annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
          },
        }),
      ]),
    );
    let synced = false;
    void s.r.waitForSync().then(() => (synced = true));
    await started(s);
    expect(s.fake.listCalls.map((c) => [c.opts.limit, c.opts.continue])).to.deep.equal([
      [2, undefined],
      [2, 'next'],
    ]);
    expect(synced).to.equal(true);
    expect(s.r.synced).to.equal(true);
    expect(s.r.keys()).to.deep.equal(['ns/a', 'ns/b', 'ns/c']);
    expect(s.r.get('ns/a')).to.deep.include({ apiVersion: 'v1', kind: 'Pod' });
    expect(s.r.get('ns/c')?.metadata?.annotations).to.deep.equal({});
    expect(Object.isFrozen(s.r.get('ns/a'))).to.equal(true);
    expect(s.calls).to.deep.equal(['add ns/a', 'add ns/b', 'add ns/c']);
    expect(s.fake.watches).to.have.length(1);
    expect(s.fake.current.opts).to.deep.equal({
      resourceVersion: '10',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
    expect(s.r.resourceVersion).to.equal('10');
    await s.r.stop();
  });

  it('keeps only what `keep` accepts; resync() relists so a changed filter adds and deletes', async () => {
    let share = new Set(['a-ns']);
    const s = setup({ keep: (o) => share.has(o.metadata?.namespace ?? '') });
    s.fake.queueList(page('10', [obj('p', '1', 'a-ns'), obj('q', '2', 'b-ns')]));
    await started(s);
    expect(s.r.keys()).to.deep.equal(['a-ns/p']);
    const w = s.fake.current;
    w.emit('ADDED', obj('r', '11', 'b-ns'));
    w.emit('BOOKMARK', { metadata: { resourceVersion: '12' } });
    expect(s.r.keys()).to.deep.equal(['a-ns/p']);
    expect(s.r.resourceVersion).to.equal('12');
    // The filter changes: one relist adds the newly kept objects and deletes the dropped ones.
    share = new Set(['b-ns']);
    s.fake.queueList(page('13', [obj('p', '1', 'a-ns'), obj('q', '2', 'b-ns'), obj('r', '11', 'b-ns')]));
    let relisted = false;
    void s.r.resync().then(() => (relisted = true));
    await flush();
    expect(relisted).to.equal(true);
    expect(s.r.keys().sort()).to.deep.equal(['b-ns/q', 'b-ns/r']);
    expect(s.calls).to.deep.equal(['add a-ns/p', 'add b-ns/q', 'add b-ns/r', 'delete a-ns/p 1']);
    // A kept object that a watch event shows outside the filter is deleted.
    share = new Set(['b-ns']);
    s.fake.current.emit('MODIFIED', obj('q', '14', 'b-ns'));
    share = new Set();
    s.fake.current.emit('MODIFIED', obj('r', '15', 'b-ns'));
    expect(s.r.keys()).to.deep.equal(['b-ns/q']);
    await s.r.stop();
  });

  it('randomizes the server-side watch timeout between 5 and 10 minutes', async () => {
    const s = setup({ random: () => 0.999 });
    s.fake.queueList(page('1', []));
    await started(s);
    expect(s.fake.current.opts.timeoutSeconds).to.equal(600);
    await s.r.stop();
  });

  it('applies watch events to the store and handlers, tracking the resourceVersion of every event', async () => {
    const s = setup();
    s.fake.queueList(page('10', [obj('a', '1')]));
    await started(s);
    const w = s.fake.current;
    w.emit('ADDED', { apiVersion: 'v1', kind: 'Pod', ...(obj('b', '11') as object) });
    w.emit('MODIFIED', obj('a', '12'));
    w.emit('DELETED', obj('b', '13'));
    w.emit('BOOKMARK', { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '20' } });
    w.emit('WEIRD', obj('z', '21'));
    expect(s.calls).to.deep.equal(['add ns/a', 'add ns/b', 'update ns/a 1->12', 'delete ns/b 13']);
    expect(s.r.keys()).to.deep.equal(['ns/a']);
    expect(s.r.resourceVersion).to.equal('21');
    w.end(); // server timeout: clean close
    await flush();
    expect(s.fake.watches).to.have.length(2);
    expect(s.fake.current.opts.resourceVersion).to.equal('21');
    expect(s.restarts).to.deep.equal(['closed']);
    expect(s.fake.listCalls).to.have.length(1);
    await s.r.stop();
  });

  it('aborts a watch that delivers nothing for the inactivity timeout and re-watches from the same resourceVersion', async () => {
    const s = setup({ inactivityTimeoutMs: 90_000 });
    s.fake.queueList(page('10', []));
    await started(s);
    const first = s.fake.current;
    await s.clock.advance(60_000);
    first.emit('BOOKMARK', { metadata: { resourceVersion: '15' } }); // keeps it alive
    await s.clock.advance(89_999);
    expect(first.aborted).to.equal(false);
    await s.clock.advance(1);
    expect(first.aborted).to.equal(true);
    expect(s.restarts).to.deep.equal(['stalled']);
    expect(s.fake.watches).to.have.length(2);
    expect(s.fake.current.opts.resourceVersion).to.equal('15');
    expect(s.r.restarts().stalled).to.equal(1);
    expect(
      s.logger.records.some((l) => l.level === 'warn' && l.message === 'Watch stalled; re-watching'),
    ).to.equal(true);
    // Late events from the abandoned stream are ignored.
    first.emit('ADDED', obj('ghost', '99'));
    expect(s.r.keys()).to.deep.equal([]);
    await s.r.stop();
  });

  it('relists on HTTP 410 and diffs the new list against the cache', async () => {
    const s = setup();
    s.fake.queueList(
      page('10', [obj('a', '1'), obj('b', '2'), obj('c', '3')]),
      page('50', [obj('a', '1'), obj('b', '40'), obj('d', '41')]),
    );
    await started(s);
    s.calls.length = 0;
    s.fake.current.emit('MODIFIED', obj('a', '11')); // cache has rv 11, relist says 1: counts as a change
    s.calls.length = 0;
    s.fake.current.end(new ApiError(410, 'Expired', 'too old'));
    await flush();
    expect(s.restarts).to.deep.equal(['expired']);
    expect(s.fake.listCalls).to.have.length(2);
    expect(s.calls).to.deep.equal(['update ns/a 11->1', 'update ns/b 2->40', 'add ns/d', 'delete ns/c 3']);
    expect(s.r.keys().sort()).to.deep.equal(['ns/a', 'ns/b', 'ns/d']);
    expect(s.fake.current.opts.resourceVersion).to.equal('50');
    await s.r.stop();
  });

  it('relists on an in-stream ERROR event with code 410', async () => {
    const s = setup();
    s.fake.queueList(page('10', [obj('a', '1')]), page('60', [obj('a', '1')]));
    await started(s);
    s.fake.current.emit('ADDED', obj('x', '11'));
    s.fake.current.emit('ERROR', {
      kind: 'Status',
      code: 410,
      reason: 'Expired',
      message: 'too old resource version',
    });
    expect(s.fake.watches[0]?.aborted).to.equal(true);
    await flush();
    expect(s.restarts).to.deep.equal(['expired']);
    expect(s.fake.listCalls).to.have.length(2);
    expect(s.calls.at(-1)).to.equal('delete ns/x 11');
    await s.r.stop();
  });

  it('backs off exponentially on errors, keeps the resourceVersion, never gives up, and resets after progress', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    await started(s);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = s.fake.watches.length;
      s.fake.current.end(new ApiError(0, 'ECONNRESET', 'reset'));
      await flush();
      let waited = 0;
      while (s.fake.watches.length === before) {
        await s.clock.advance(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).to.deep.equal([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    expect(s.fake.current.opts.resourceVersion).to.equal('10');
    expect(s.fake.listCalls).to.have.length(1);
    expect(s.r.restarts().error).to.equal(8);
    // A stream that delivers something resets the backoff.
    s.fake.current.emit('ADDED', obj('a', '11'));
    s.fake.current.end(new ApiError(500, 'InternalError', 'x'));
    await flush();
    const before = s.fake.watches.length;
    await s.clock.advance(799);
    expect(s.fake.watches.length).to.equal(before);
    await s.clock.advance(1);
    expect(s.fake.watches.length).to.equal(before + 1);
    await s.r.stop();
  });

  it('jitters the backoff downward', async () => {
    const s = setup({ random: () => 0.999999 });
    s.fake.queueList(page('10', []));
    await started(s);
    s.fake.current.end(new ApiError(503, 'ServiceUnavailable', 'x'));
    await flush();
    await s.clock.advance(399);
    expect(s.fake.watches).to.have.length(1);
    await s.clock.advance(2);
    expect(s.fake.watches).to.have.length(2);
    await s.r.stop();
  });

  it('honours Retry-After on 429', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    await started(s);
    s.fake.current.end(new ApiError(429, 'TooManyRequests', 'slow down', 7000));
    await flush();
    await s.clock.advance(6999);
    expect(s.fake.watches).to.have.length(1);
    await s.clock.advance(1);
    expect(s.fake.watches).to.have.length(2);
    expect(s.restarts).to.deep.equal(['throttled']);
    await s.r.stop();
  });

  it('caps an excessive Retry-After', async () => {
    const s = setup({ maxRetryAfterMs: 10_000 });
    s.fake.queueList(page('10', []));
    await started(s);
    s.fake.current.end(new ApiError(429, 'TooManyRequests', 'x', 3_600_000));
    await flush();
    await s.clock.advance(10_000);
    expect(s.fake.watches).to.have.length(2);
    await s.r.stop();
  });

  it('retries a failing list with backoff until it succeeds, and only then reports synced', async () => {
    const s = setup();
    s.fake.queueList(
      new ApiError(0, 'ECONNREFUSED', 'refused'),
      new ApiError(429, 'TooManyRequests', 'x', 5000),
      new ApiError(500, 'InternalError', 'x'),
      page('10', [obj('a', '1')]),
    );
    await started(s);
    expect(s.r.synced).to.equal(false);
    await s.clock.advance(800);
    expect(s.fake.listCalls).to.have.length(2);
    await s.clock.advance(4999);
    expect(s.fake.listCalls).to.have.length(2);
    await s.clock.advance(1);
    expect(s.fake.listCalls).to.have.length(3);
    await s.clock.advance(3200); // third failure: 800 × 2²
    expect(s.fake.listCalls).to.have.length(4);
    expect(s.r.synced).to.equal(true);
    expect(s.restarts).to.deep.equal(['error', 'throttled', 'error']);
    expect(s.fake.watches).to.have.length(1);
    await s.r.stop();
  });

  it('restarts the list without pagination when the continue token expires', async () => {
    const s = setup({ pageSize: 1 });
    s.fake.queueList(
      page('10', [obj('a', '1')], 'tok'),
      new ApiError(410, 'Expired', 'continue token expired'),
      page('20', [obj('a', '1'), obj('b', '2')]),
    );
    await started(s);
    expect(s.fake.listCalls.map((c) => [c.opts.limit, c.opts.continue])).to.deep.equal([
      [1, undefined],
      [1, 'tok'],
      [undefined, undefined],
    ]);
    expect(s.r.keys()).to.deep.equal(['ns/a', 'ns/b']);
    expect(s.fake.current.opts.resourceVersion).to.equal('20');
    await s.r.stop();
  });

  it('times out a hanging list and retries', async () => {
    const s = setup({ listTimeoutMs: 30_000 });
    s.fake.holdLists = true;
    s.fake.fallback = page('10', []);
    await started(s);
    await s.clock.advance(30_000);
    expect(s.r.restarts().error).to.equal(1);
    await s.clock.advance(800);
    expect(s.fake.listCalls).to.have.length(2);
    s.fake.releaseLists();
    await flush();
    expect(s.r.synced).to.equal(true);
    await s.r.stop();
  });

  it('backs off when a watch ends at once without events, instead of looping hot', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    await started(s);
    s.fake.current.end();
    await flush();
    expect(s.fake.watches).to.have.length(1);
    await s.clock.advance(800);
    expect(s.fake.watches).to.have.length(2);
    // A watch that lasted (here 2 s, without events) is re-opened at once.
    await s.clock.advance(2000);
    s.fake.current.end();
    await flush();
    expect(s.fake.watches).to.have.length(3);
    await s.r.stop();
  });

  it('treats a watch() that throws synchronously as an error', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    const orig = s.fake.watch.bind(s.fake);
    let n = 0;
    s.fake.watch = (...args) => {
      n++;
      if (n === 1) throw new Error('no cluster');
      return orig(...args);
    };
    await started(s);
    expect(s.r.restarts().error).to.equal(1);
    await s.clock.advance(800);
    expect(s.fake.watches).to.have.length(1);
    await s.r.stop();
  });

  it('ignores a duplicate onDone and keeps one stream at a time', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    const orig = s.fake.watch.bind(s.fake);
    s.fake.watch = (path, opts, onEvent, onDone) =>
      orig(path, opts, onEvent, (err) => {
        onDone(err);
        onDone(err); // a buggy transport calling done twice (client-node #552)
      });
    await started(s);
    s.fake.current.emit('ADDED', obj('a', '11'));
    s.fake.current.end();
    await flush();
    expect(s.fake.watches).to.have.length(2);
    expect(s.fake.watches.filter((w) => !w.aborted && !w.ended)).to.have.length(1);
    await s.r.stop();
  });

  it('logs and survives handler exceptions', async () => {
    const s = setup({
      handlers: {
        onAdd: () => {
          throw new Error('handler bug');
        },
      },
    });
    s.fake.queueList(page('10', [obj('a', '1')]));
    await started(s);
    s.fake.current.emit('ADDED', obj('b', '11'));
    expect(s.r.keys()).to.deep.equal(['ns/a', 'ns/b']);
    expect(s.logger.records.filter((l) => l.message === 'Reflector handler failed')).to.have.length(2);
    await s.r.stop();
  });

  it('skips objects without a name or that are not objects', async () => {
    const s = setup();
    s.fake.queueList(page('10', [{ metadata: {} }, 'junk', null, obj('a', '1')]));
    await started(s);
    s.fake.current.emit('ADDED', 42);
    s.fake.current.emit('ADDED', { metadata: { resourceVersion: '12' } });
    expect(s.r.keys()).to.deep.equal(['ns/a']);
    expect(s.r.resourceVersion).to.equal('12');
    await s.r.stop();
  });

  it('reports time since the last event', async () => {
    const s = setup();
    expect(s.r.secondsSinceLastEvent()).to.equal(Infinity);
    s.fake.queueList(page('10', []));
    await started(s);
    expect(s.r.secondsSinceLastEvent()).to.equal(0);
    await s.clock.advance(30_000);
    expect(s.r.secondsSinceLastEvent()).to.equal(30);
    s.fake.current.emit('BOOKMARK', { metadata: { resourceVersion: '11' } });
    expect(s.r.secondsSinceLastEvent()).to.equal(0);
    expect(s.r.lastEventTime()).to.equal(s.clock.now());
    await s.r.stop();
  });

  it('stops cleanly: aborts the watch, cancels waits, calls no handler afterwards', async () => {
    const s = setup();
    s.fake.queueList(page('10', []));
    await started(s);
    const w = s.fake.current;
    await s.r.stop();
    expect(w.aborted).to.equal(true);
    w.emit('ADDED', obj('late', '11'));
    expect(s.calls).to.deep.equal([]);
    await s.clock.advance(1_000_000);
    expect(s.fake.watches).to.have.length(1);
    expect(s.clock.pendingTimers()).to.equal(0);
  });

  it('stops during a backoff wait and during a list', async () => {
    const s = setup();
    s.fake.queueList(new ApiError(500, 'InternalError', 'x'));
    await started(s);
    await s.r.stop();
    expect(s.fake.listCalls).to.have.length(1);
    expect(s.clock.pendingTimers()).to.equal(0);

    const t = setup();
    t.fake.holdLists = true;
    t.fake.fallback = page('10', []);
    await started(t);
    await t.r.stop();
    expect(t.r.synced).to.equal(false);
    expect(t.fake.watches).to.have.length(0);
  });

  it('passes selectors to list and watch', async () => {
    const s = setup({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' });
    s.fake.queueList(page('10', []));
    await started(s);
    expect(s.fake.listCalls[0]?.opts).to.include({
      labelSelector: 'app=web',
      fieldSelector: 'spec.nodeName=n1',
    });
    expect(s.fake.current.opts).to.include({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' });
    await s.r.stop();
  });
});

describe('keyOf', () => {
  it('is namespace/name or name', () => {
    expect(keyOf({ metadata: { name: 'a', namespace: 'n' } })).to.equal('n/a');
    expect(keyOf({ metadata: { name: 'cr' } })).to.equal('cr');
    expect(keyOf({ metadata: { name: '' } })).to.equal(undefined);
    expect(keyOf({})).to.equal(undefined);
  });
});
