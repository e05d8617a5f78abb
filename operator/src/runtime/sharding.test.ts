import { expect } from 'chai';
import fc from 'fast-check';
import { FakeClock } from '../controller/testing/fake-clock.ts';
import type { LeaseObject } from '../adapters/leader.ts';
import { MemberTracker, ShardAssignment, memberLeaseName, ownerOf, shardKeyOf } from './sharding.ts';

const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `ns-${i}`);
const member = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);

describe('sharding: rendezvous assignment', () => {
  it('spreads 3,000 namespaces over 1..8 members within ±20% of the fair share', () => {
    for (const n of [1, 2, 3, 4, 8]) {
      const members = Array.from({ length: n }, (_, i) => `vigil-${i}-${1000 + i}`);
      const counts = new Map<string, number>();
      for (const k of keys(3000)) {
        const o = ownerOf(k, members) ?? '';
        counts.set(o, (counts.get(o) ?? 0) + 1);
      }
      expect(counts.size).to.equal(n);
      for (const c of counts.values()) expect(Math.abs(c - 3000 / n)).to.be.below((3000 / n) * 0.2);
    }
  });

  it('agrees whatever the order of the member list, and has no owner without members', () => {
    fc.assert(
      fc.property(fc.uniqueArray(member, { minLength: 1, maxLength: 6 }), fc.string(), (ms, key) => {
        const o = ownerOf(key, ms);
        expect(ms).to.include(o);
        expect(ownerOf(key, [...ms].reverse())).to.equal(o);
      }),
    );
    expect(ownerOf('x', [])).to.equal(undefined);
  });

  it('moves only the joiner’s keys when a member joins, and only the leaver’s when one leaves', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(member, { minLength: 2, maxLength: 6 }),
        fc.uniqueArray(fc.string(), { minLength: 50, maxLength: 200 }),
        (ms, ks) => {
          const [joiner, ...rest] = ms as [string, ...string[]];
          for (const k of ks) {
            const before = ownerOf(k, rest);
            const after = ownerOf(k, ms);
            // Join: a key either stays or goes to the joiner. Leave is the same move reversed.
            if (after !== before) expect(after).to.equal(joiner);
          }
        },
      ),
    );
  });

  it('a join takes about 1/(n+1) of the keys', () => {
    const ks = keys(4000);
    const three = ['a-1', 'b-2', 'c-3'];
    const moved = ks.filter((k) => ownerOf(k, three) !== ownerOf(k, [...three, 'd-4'])).length;
    expect(moved / ks.length).to.be.within(0.2, 0.3);
  });

  it('ShardAssignment: ownership follows the member set; the coordinator owns key ""', () => {
    const a = new ShardAssignment('a-1', ['a-1', 'b-2']);
    const b = new ShardAssignment('b-2', ['b-2', 'a-1']);
    expect(a.coordinator).to.not.equal(b.coordinator);
    for (const k of keys(100)) expect(a.owns(k)).to.not.equal(b.owns(k));
    expect(a.setMembers(['b-2', 'a-1'])).to.equal(false);
    expect(a.setMembers(['a-1'])).to.equal(true);
    for (const k of keys(100)) expect(a.owns(k)).to.equal(true);
  });

  it('shard keys: namespace; a Namespace its own name; cluster-scoped ""', () => {
    expect(shardKeyOf('Pod', 'team-a', 'web')).to.equal('team-a');
    expect(shardKeyOf('Namespace', '', 'team-a')).to.equal('team-a');
    expect(shardKeyOf('ClusterRole', '', 'admin')).to.equal('');
    expect(shardKeyOf('Node', undefined, 'n1')).to.equal('');
  });

  it('member lease names are valid names derived from the identity', () => {
    expect(memberLeaseName('vigil-leader', 'Vigil-7d9_x-1234')).to.equal(
      'vigil-leader-member-vigil-7d9-x-1234',
    );
    expect(memberLeaseName('l', 'a'.repeat(400))).to.have.length(253);
  });
});

describe('sharding: MemberTracker', () => {
  const lease = (name: string, holder: string, renew: number, seconds = 5): LeaseObject => ({
    metadata: { name, namespace: 'vigil-system' },
    spec: { holderIdentity: holder, renewTime: new Date(renew).toISOString(), leaseDurationSeconds: seconds },
  });

  it('keeps renewed leases, drops released and unrenewed ones after their duration', async () => {
    const clock = new FakeClock();
    const t = new MemberTracker(clock);
    const t0 = clock.now();
    expect(
      t.live([
        lease('m-a', 'a', t0),
        lease('m-b', 'b', t0),
        lease('m-c', '', t0),
        lease('m-old', 'old', t0 - 60_000),
      ]),
    ).to.deep.equal(['a', 'b']);
    await clock.advance(4_000);
    expect(t.live([lease('m-a', 'a', clock.now()), lease('m-b', 'b', t0)])).to.deep.equal(['a', 'b']);
    await clock.advance(2_000);
    // b has not renewed for 6 s > 5 s: gone; a renewed 2 s ago.
    expect(t.live([lease('m-a', 'a', clock.now() - 2000), lease('m-b', 'b', t0)])).to.deep.equal(['a']);
  });
});
