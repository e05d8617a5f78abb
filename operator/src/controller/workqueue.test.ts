import { expect } from 'chai';
import { TerminalError } from './errors.ts';
import { recordingLogger } from './logger.ts';
import { ItemExponentialRateLimiter } from './rate-limiter.ts';
import { FakeClock, flush } from './testing/fake-clock.ts';
import type { ReconcileOutcome, WorkQueueMetrics } from './workqueue.ts';
import { WorkQueue } from './workqueue.ts';

function setup(): { clock: FakeClock; q: WorkQueue } {
  const clock = new FakeClock();
  const q = new WorkQueue({
    name: 'test',
    clock,
    rateLimiter: new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1000 }),
  });
  return { clock, q };
}

const PENDING = '<pending>';

/** Resolves with the key if get() settles within the current turn, else 'pending'. */
async function tryGet(q: WorkQueue): Promise<string | undefined> {
  let settled = false;
  let value: string | undefined;
  void q.get().then((k) => {
    settled = true;
    value = k;
  });
  await flush();
  return settled ? value : PENDING;
}

/** A promise with its resolve function, to hold a reconcile open. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  describe('add / get / done', () => {
    it('hands keys out in FIFO order', async () => {
      const { q } = setup();
      q.add('a');
      q.add('b');
      q.add('c');
      expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['a', 'b', 'c']);
    });

    it('dedups a key that is already queued', () => {
      const { q } = setup();
      for (let i = 0; i < 100; i++) q.add('a');
      q.add('b');
      expect(q.len()).to.equal(2);
    });

    it('never hands one key to two workers; an add while in flight reruns it once after done', async () => {
      const { q } = setup();
      q.add('a');
      expect(await q.get()).to.equal('a');
      q.add('a');
      q.add('a');
      expect(q.len()).to.equal(0);
      const second = q.get();
      let got: string | undefined = 'none';
      void second.then((k) => (got = k));
      await flush();
      expect(got).to.equal('none');
      q.done('a');
      await flush();
      expect(got).to.equal('a');
      q.done('a');
      expect(await tryGet(q)).to.equal(PENDING);
    });

    it('does not requeue a key finished without a new add', async () => {
      const { q } = setup();
      q.add('a');
      await q.get();
      q.done('a');
      expect(q.len()).to.equal(0);
      expect(q.processingLen()).to.equal(0);
    });

    it('a waiting worker receives a key added later', async () => {
      const { q } = setup();
      const p = q.get();
      q.add('x');
      expect(await p).to.equal('x');
      expect(q.processingLen()).to.equal(1);
    });

    it('ignores done for a key that is not in flight', () => {
      const { q } = setup();
      q.add('a');
      q.done('a');
      expect(q.len()).to.equal(1);
    });
  });

  describe('addAfter', () => {
    it('queues the key only once the delay has passed', async () => {
      const { clock, q } = setup();
      q.addAfter('a', 1000);
      expect(q.len()).to.equal(0);
      expect(q.delayedLen()).to.equal(1);
      await clock.advance(999);
      expect(q.len()).to.equal(0);
      await clock.advance(1);
      expect(q.len()).to.equal(1);
      expect(q.delayedLen()).to.equal(0);
    });

    it('keeps the earliest ready time for a key', async () => {
      const { clock, q } = setup();
      q.addAfter('a', 1000);
      q.addAfter('a', 5000); // later: ignored
      q.addAfter('a', 200); // earlier: wins
      await clock.advance(200);
      expect(q.len()).to.equal(1);
      await q.get();
      q.done('a');
      await clock.advance(10_000);
      expect(q.len()).to.equal(0);
    });

    it('fires many delayed keys in ready-time order', async () => {
      const { clock, q } = setup();
      q.addAfter('c', 300);
      q.addAfter('a', 100);
      q.addAfter('b', 200);
      q.addAfter('d', 300);
      await clock.advance(1000);
      expect([await q.get(), await q.get(), await q.get(), await q.get()]).to.deep.equal([
        'a',
        'b',
        'c',
        'd',
      ]);
    });

    it('adds at once for a zero or negative delay', () => {
      const { q } = setup();
      q.addAfter('a', 0);
      q.addAfter('b', -5);
      expect(q.len()).to.equal(2);
    });

    it('a delayed key that is also added directly is still deduped when it fires', async () => {
      const { clock, q } = setup();
      q.addAfter('a', 100);
      q.add('a');
      await clock.advance(100);
      expect(q.len()).to.equal(1);
    });
  });

  describe('addRateLimited / forget', () => {
    it('backs off exponentially per key and forget resets it', async () => {
      const { clock, q } = setup();
      q.addRateLimited('a'); // 5 ms
      q.addRateLimited('a'); // 10 ms, but the 5 ms entry is earlier and kept
      expect(q.numRequeues('a')).to.equal(2);
      await clock.advance(5);
      expect(q.len()).to.equal(1);
      await q.get();
      q.done('a');
      q.addRateLimited('a'); // third failure: 20 ms
      await clock.advance(19);
      expect(q.len()).to.equal(0);
      await clock.advance(1);
      expect(q.len()).to.equal(1);
      q.forget('a');
      expect(q.numRequeues('a')).to.equal(0);
    });
  });

  describe('shutdown', () => {
    it('releases blocked workers, ignores new adds and drops queued and delayed keys', async () => {
      const { clock, q } = setup();
      const waiting = q.get();
      q.shutDown();
      expect(await waiting).to.equal(undefined);
      q.add('a');
      q.addAfter('b', 10);
      q.addRateLimited('c');
      expect(q.len()).to.equal(0);
      expect(await q.get()).to.equal(undefined);
      expect(q.isShuttingDown()).to.equal(true);
      await clock.advance(1000);
      expect(clock.pendingTimers()).to.equal(0);
    });

    it('drops keys still queued at shutdown', async () => {
      const { q } = setup();
      q.add('a');
      q.add('b');
      q.shutDown();
      expect(q.len()).to.equal(0);
      expect(await q.get()).to.equal(undefined);
    });

    it('shutDownWithDrain resolves only after in-flight keys are done, without rerunning dirty ones', async () => {
      const { q } = setup();
      q.add('a');
      q.add('b');
      await q.get();
      await q.get();
      q.add('a'); // dirty while in flight
      let drained = false;
      void q.shutDownWithDrain().then(() => (drained = true));
      await flush();
      expect(drained).to.equal(false);
      q.done('a');
      await flush();
      expect(drained).to.equal(false);
      expect(q.len()).to.equal(0);
      q.done('b');
      await flush();
      expect(drained).to.equal(true);
    });

    it('shutDownWithDrain resolves at once when idle', async () => {
      const { q } = setup();
      await q.shutDownWithDrain();
      expect(q.isShuttingDown()).to.equal(true);
    });
  });

  describe('metrics hooks', () => {
    it('reports depth, adds, retries, queue latency, work duration and in-flight ages', async () => {
      const clock = new FakeClock();
      const seen = {
        depth: [] as number[],
        adds: 0,
        retries: 0,
        latency: [] as number[],
        work: [] as number[],
      };
      const metrics: WorkQueueMetrics = {
        depth: (d) => seen.depth.push(d),
        add: () => seen.adds++,
        retry: () => seen.retries++,
        queueLatency: (s) => seen.latency.push(s),
        workDuration: (s) => seen.work.push(s),
      };
      const q = new WorkQueue({ name: 'm', clock, metrics });
      q.add('a');
      q.add('a'); // deduped: not counted as an add
      q.add('b');
      expect(seen.adds).to.equal(2);
      expect(seen.depth).to.deep.equal([1, 2]);
      await clock.advance(1500);
      await q.get();
      await clock.advance(500);
      await q.get();
      expect(seen.latency).to.deep.equal([1.5, 2]);
      await clock.advance(1000);
      expect(q.unfinishedWorkSeconds()).to.equal(2.5);
      expect(q.longestRunningProcessorSeconds()).to.equal(1.5);
      q.done('a');
      expect(seen.work).to.deep.equal([1.5]);
      q.addRateLimited('a');
      expect(seen.retries).to.equal(1);
      q.done('b');
      expect(q.unfinishedWorkSeconds()).to.equal(0);
      expect(q.longestRunningProcessorSeconds()).to.equal(0);
    });
  });

  describe('runWorkers', () => {
    it('collapses a burst of adds into one reconcile', async () => {
      const { q } = setup();
      const calls: string[] = [];
      for (let i = 0; i < 50; i++) q.add('ns/web');
      const run = q.runWorkers(2, async (key) => {
        calls.push(key);
        await Promise.resolve();
      });
      await flush();
      expect(calls).to.deep.equal(['ns/web']);
      q.shutDown();
      await run;
    });

    it('collapses a burst of adds during a reconcile into exactly one rerun', async () => {
      const { q } = setup();
      const calls: string[] = [];
      const d = deferred();
      const run = q.runWorkers(2, async (key) => {
        calls.push(key);
        if (calls.length === 1) await d.promise;
      });
      q.add('ns/web'); // a waiting worker takes it at once
      await flush();
      for (let i = 0; i < 50; i++) q.add('ns/web');
      await flush();
      expect(calls).to.have.length(1);
      d.resolve();
      await flush();
      expect(calls).to.deep.equal(['ns/web', 'ns/web']);
      q.shutDown();
      await run;
    });

    it('runs distinct keys in parallel but never the same key twice at once', async () => {
      const { q } = setup();
      const holds = new Map<string, () => void>();
      let concurrent = 0;
      let maxConcurrent = 0;
      const active = new Set<string>();
      let overlapped = false;
      const calls: string[] = [];
      const run = q.runWorkers(3, async (key) => {
        if (active.has(key)) overlapped = true;
        active.add(key);
        calls.push(key);
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        const d = deferred();
        holds.set(key, d.resolve);
        await d.promise;
        concurrent--;
        active.delete(key);
      });
      q.add('a');
      q.add('b');
      await flush();
      expect(maxConcurrent).to.equal(2);
      q.add('a'); // in flight: marked dirty
      await flush();
      expect(calls).to.deep.equal(['a', 'b']);
      holds.get('a')?.();
      await flush();
      expect(calls).to.deep.equal(['a', 'b', 'a']);
      holds.get('a')?.();
      holds.get('b')?.();
      await flush();
      expect(overlapped).to.equal(false);
      q.shutDown();
      await run;
    });

    it('retries thrown errors with backoff, then forgets on success', async () => {
      const { clock, q } = setup();
      let attempts = 0;
      const outcomes: ReconcileOutcome[] = [];
      const errors: unknown[] = [];
      const run = q.runWorkers(
        1,
        () => {
          attempts++;
          if (attempts <= 3) return Promise.reject(new Error(`boom ${attempts}`));
          return Promise.resolve();
        },
        { onResult: (o) => outcomes.push(o), onError: (_k, e) => errors.push(e) },
      );
      q.add('k');
      await flush();
      expect(attempts).to.equal(1);
      await clock.advance(4);
      expect(attempts).to.equal(1);
      await clock.advance(1); // 5 ms
      expect(attempts).to.equal(2);
      await clock.advance(10); // 10 ms
      expect(attempts).to.equal(3);
      await clock.advance(19);
      expect(attempts).to.equal(3);
      await clock.advance(1); // 20 ms
      expect(attempts).to.equal(4);
      expect(outcomes).to.deep.equal(['error', 'error', 'error', 'success']);
      expect(errors).to.have.length(3);
      expect(q.numRequeues('k')).to.equal(0);
      q.shutDown();
      await run;
    });

    it('requeueAfter forgets the backoff and reruns after the delay', async () => {
      const { clock, q } = setup();
      let attempts = 0;
      const outcomes: ReconcileOutcome[] = [];
      const run = q.runWorkers(
        1,
        () => {
          attempts++;
          if (attempts === 1) return Promise.reject(new Error('first'));
          if (attempts === 2) return Promise.resolve({ requeueAfter: 60_000 });
          return Promise.resolve({});
        },
        { onResult: (o) => outcomes.push(o), onError: () => undefined },
      );
      q.add('k');
      await clock.advance(5);
      expect(attempts).to.equal(2);
      expect(q.numRequeues('k')).to.equal(0);
      await clock.advance(59_999);
      expect(attempts).to.equal(2);
      await clock.advance(1);
      expect(attempts).to.equal(3);
      expect(outcomes).to.deep.equal(['error', 'requeue_after', 'success']);
      q.shutDown();
      await run;
    });

    it('does not retry a TerminalError', async () => {
      const { clock, q } = setup();
      let attempts = 0;
      const outcomes: ReconcileOutcome[] = [];
      const run = q.runWorkers(
        1,
        () => {
          attempts++;
          return Promise.reject(new TerminalError('invalid spec'));
        },
        { onResult: (o) => outcomes.push(o), onError: () => undefined },
      );
      q.add('p');
      await clock.advance(10_000_000);
      expect(attempts).to.equal(1);
      expect(outcomes).to.deep.equal(['terminal_error']);
      expect(q.delayedLen()).to.equal(0);
      q.shutDown();
      await run;
    });

    it('logs errors when no onError hook is given and survives throwing hooks', async () => {
      const clock = new FakeClock();
      const logger = recordingLogger();
      const q = new WorkQueue({ name: 'log', clock, logger });
      const run = q.runWorkers(1, () => Promise.reject(new Error('kaput')), {
        onResult: () => {
          throw new Error('hook');
        },
      });
      q.add('a');
      await flush();
      expect(logger.records.map((r) => [r.message, r.meta['key'], r.meta['error']])).to.deep.equal([
        ['Reconciler error', 'a', 'Error: kaput'],
      ]);
      q.add('b');
      await flush();
      expect(logger.records).to.have.length(2);
      q.shutDown();
      await run;
    });

    it('reports active workers and exits every worker on shutdown', async () => {
      const { q } = setup();
      const active: number[] = [];
      const d = deferred();
      const run = q.runWorkers(3, () => d.promise, { onActiveWorkers: (n) => active.push(n) });
      q.add('a');
      q.add('b');
      await flush();
      expect(active).to.deep.equal([1, 2]);
      const drained = q.shutDownWithDrain();
      d.resolve();
      await drained;
      await run;
      expect(active.at(-1)).to.equal(0);
    });
  });
});
