import { expect } from 'chai';
import { backoffDelay, parseRetryAfter } from './backoff.ts';

describe('backoffDelay', () => {
  const opts = { baseMs: 5, capMs: 1_000_000 };

  it('doubles from the base per attempt', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts))).to.deep.equal([5, 10, 20, 40, 5120]);
  });

  it('caps the delay', () => {
    expect(backoffDelay(30, opts)).to.equal(1_000_000);
    expect(backoffDelay(1e9, opts)).to.equal(1_000_000);
    expect(backoffDelay(5000, { baseMs: 1, capMs: 30_000 })).to.equal(30_000);
  });

  it('honours a custom factor and treats negative attempts as 0', () => {
    expect(backoffDelay(2, { baseMs: 100, capMs: 10_000, factor: 3 })).to.equal(900);
    expect(backoffDelay(-4, opts)).to.equal(5);
  });

  it('jitters downward within [d(1-j), d] and never above the cap', () => {
    const j = { baseMs: 800, capMs: 30_000, jitter: 0.5 };
    expect(backoffDelay(0, j, () => 0)).to.equal(800);
    expect(backoffDelay(0, j, () => 0.999999)).to.be.closeTo(400, 0.01);
    expect(backoffDelay(10, j, () => 0.5)).to.equal(22_500);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(20, j);
      expect(d).to.be.at.least(15_000).and.at.most(30_000);
    }
  });

  it('clamps out-of-range jitter and random values', () => {
    expect(backoffDelay(0, { baseMs: 100, capMs: 1000, jitter: 5 }, () => 2)).to.equal(0);
    expect(backoffDelay(0, { baseMs: 100, capMs: 1000, jitter: -1 }, () => 0.5)).to.equal(100);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2030, 0, 1, 0, 0, 0);

  it('parses delta-seconds', () => {
    expect(parseRetryAfter('1', now)).to.equal(1000);
    expect(parseRetryAfter(' 120 ', now)).to.equal(120_000);
    expect(parseRetryAfter('0', now)).to.equal(0);
  });

  it('parses an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).to.equal(0);
  });

  it('returns undefined for absent or malformed values', () => {
    for (const v of [undefined, null, '', '   ', '-1', '1.5', 'soon', '99999999999999999999']) {
      expect(parseRetryAfter(v, now), String(v)).to.equal(undefined);
    }
  });
});
