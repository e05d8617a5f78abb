import { expect } from 'chai';
import { FakeClock } from './testing/fake-clock.ts';
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucket,
  defaultControllerRateLimiter,
} from './rate-limiter.ts';

describe('ItemExponentialRateLimiter', () => {
  it('backs off exponentially per key and independently across keys', () => {
    const l = new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1000 });
    expect([l.when('a'), l.when('a'), l.when('a')]).to.deep.equal([5, 10, 20]);
    expect(l.when('b')).to.equal(5);
    expect(l.numRequeues('a')).to.equal(3);
    expect(l.numRequeues('b')).to.equal(1);
  });

  it('caps at maxMs', () => {
    const l = new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1000 });
    let last = 0;
    for (let i = 0; i < 20; i++) last = l.when('k');
    expect(last).to.equal(1000);
  });

  it('forget resets the backoff', () => {
    const l = new ItemExponentialRateLimiter();
    l.when('a');
    l.when('a');
    l.forget('a');
    expect(l.numRequeues('a')).to.equal(0);
    expect(l.when('a')).to.equal(5);
  });

  it('applies injected jitter', () => {
    const l = new ItemExponentialRateLimiter({ baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 });
    expect(l.when('a')).to.equal(50);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at qps', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 10, burst: 3, clock });
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).to.deep.equal([true, true, true, false]);
    await clock.advance(99);
    expect(b.tryTake()).to.equal(false);
    await clock.advance(1);
    expect(b.tryTake()).to.equal(true);
    await clock.advance(10_000);
    expect(b.available()).to.equal(3);
  });

  it('reserve goes into debt and reports the wait', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 10, burst: 2, clock });
    expect([b.reserve(), b.reserve(), b.reserve(), b.reserve()]).to.deep.equal([0, 0, 100, 200]);
  });

  it('rejects invalid parameters', () => {
    const clock = new FakeClock();
    expect(() => new TokenBucket({ qps: 0, burst: 1, clock })).to.throw(RangeError);
    expect(() => new TokenBucket({ qps: 1, burst: 0, clock })).to.throw(RangeError);
  });
});

describe('MaxOfRateLimiter / defaultControllerRateLimiter', () => {
  it('takes the slower of per-key and global limits', () => {
    const clock = new FakeClock();
    const l = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1000 }),
      new BucketRateLimiter({ qps: 1, burst: 1, clock }),
    );
    expect(l.when('a')).to.equal(5); // bucket has its one token
    expect(l.when('b')).to.equal(1000); // bucket in debt by one token at 1 qps
    expect(l.numRequeues('a')).to.equal(1);
    l.forget('a');
    expect(l.numRequeues('a')).to.equal(0);
  });

  it('defaults to client-go numbers: 5 ms per key and a 100-token burst at 10 qps', () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter({ clock });
    for (let i = 0; i < 100; i++) expect(l.when(`k${i}`)).to.equal(5);
    expect(l.when('k100')).to.equal(100);
    const one = defaultControllerRateLimiter({ clock });
    let d = 0;
    for (let i = 0; i < 40; i++) d = one.when('same');
    expect(d).to.equal(1_000_000);
  });
});
