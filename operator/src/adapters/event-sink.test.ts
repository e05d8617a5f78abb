import { expect } from 'chai';
import type { EventV1 } from '../controller/events.ts';
import { recordingLogger } from '../controller/logger.ts';
import { ApiError } from './api-error.ts';
import type { EventPoster, PostOutcome } from './event-sink.ts';
import { EventSink } from './event-sink.ts';

function ev(name: string, reason: EventV1['reason'] = 'FindingDetected'): EventV1 {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: 'ns' },
    eventTime: '2030-01-01T00:00:00.000000Z',
    reportingController: 'vigil',
    reportingInstance: 'vigil-0',
    action: 'Scan',
    reason,
    type: reason === 'FindingDetected' ? 'Warning' : 'Normal',
    regarding: { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u' },
    note: 'n',
  };
}

/** A poster whose calls the test completes one by one. */
class ManualPoster implements EventPoster {
  posted: string[] = [];
  inFlight: { name: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  post(e: EventV1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inFlight.push({
        name: e.metadata.name,
        resolve: () => {
          this.posted.push(e.metadata.name);
          resolve();
        },
        reject,
      });
    });
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('EventSink', () => {
  it('posts in order with bounded concurrency and flushes', async () => {
    const poster = new ManualPoster();
    const outcomes: PostOutcome[] = [];
    const sink = new EventSink({ poster, concurrency: 2, onOutcome: (o) => outcomes.push(o) });
    sink.emit([ev('a'), ev('b'), ev('c')]);
    expect(poster.inFlight.map((c) => c.name)).to.deep.equal(['a', 'b']);
    expect(sink.pending()).to.equal(3);
    let flushed = false;
    void sink.flush().then(() => (flushed = true));
    poster.inFlight.shift()?.resolve();
    await tick();
    expect(poster.inFlight.map((c) => c.name)).to.deep.equal(['b', 'c']);
    poster.inFlight.shift()?.resolve();
    poster.inFlight.shift()?.resolve();
    await tick();
    expect(flushed).to.equal(true);
    expect(poster.posted).to.deep.equal(['a', 'b', 'c']);
    expect(outcomes).to.deep.equal(['posted', 'posted', 'posted']);
  });

  it('drops events beyond the backlog bound and counts them', () => {
    const poster = new ManualPoster();
    const outcomes: string[] = [];
    const sink = new EventSink({
      poster,
      concurrency: 1,
      maxPending: 2,
      onOutcome: (o, r) => outcomes.push(`${o}:${r}`),
    });
    sink.emit([ev('a'), ev('b'), ev('c'), ev('d', 'FindingResolved')]);
    // 'a' is in flight, 'b' and 'c' wait, 'd' is dropped.
    expect(sink.pending()).to.equal(3);
    expect(outcomes).to.deep.equal(['dropped:FindingResolved']);
  });

  it('logs and counts failures without throwing, treating AlreadyExists as posted', async () => {
    const logger = recordingLogger();
    const outcomes: PostOutcome[] = [];
    const errors = [
      new ApiError(409, 'AlreadyExists', 'x'),
      new ApiError(500, 'InternalError', 'boom'),
      new ApiError(404, 'NotFound', 'ns gone'),
    ];
    const poster: EventPoster = { post: () => Promise.reject(errors.shift() ?? new Error('none')) };
    const sink = new EventSink({ poster, logger, concurrency: 1, onOutcome: (o) => outcomes.push(o) });
    sink.emit([ev('a'), ev('b'), ev('c')]);
    await sink.flush();
    expect(outcomes).to.deep.equal(['posted', 'failed', 'failed']);
    expect(logger.records.map((r) => [r.level, r.message, r.meta['code']])).to.deep.equal([
      ['warn', 'Could not post event', 500],
      ['debug', 'Could not post event', 404],
    ]);
  });

  it('flush resolves at once when idle', async () => {
    const sink = new EventSink({ poster: { post: () => Promise.resolve() } });
    await sink.flush();
    expect(sink.pending()).to.equal(0);
  });
});
