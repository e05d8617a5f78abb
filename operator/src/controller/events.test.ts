import { expect } from 'chai';
import type { EventFinding, RegardingRef } from './events.ts';
import {
  FindingEventPlanner,
  NOTE_MAX_BYTES,
  buildFindingEvent,
  eventNote,
  findingTransitions,
  truncateUtf8,
} from './events.ts';
import { FakeClock } from './testing/fake-clock.ts';

const POD: RegardingRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'uid-1' };
const CR: RegardingRef = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  name: 'system:evil',
  uid: 'uid-2',
};

function f(
  ruleId: string,
  severity: EventFinding['severity'],
  over: Partial<EventFinding> = {},
): EventFinding {
  return { ruleId, severity, message: `${ruleId} message`, ...over };
}

describe('findingTransitions', () => {
  it('reports rules that appear and disappear, at or above minSeverity', () => {
    const prev = [f('a', 'high'), f('b', 'critical'), f('low-rule', 'low')];
    const cur = [f('b', 'critical'), f('c', 'medium'), f('d', 'info'), f('other-low', 'low')];
    expect(
      findingTransitions(prev, cur, 'medium').map((t) => [t.reason, t.ruleId, t.severity]),
    ).to.deep.equal([
      ['FindingDetected', 'c', 'medium'],
      ['FindingResolved', 'a', 'high'],
    ]);
  });

  it('makes one transition per rule however many findings it has', () => {
    const cur = [
      f('priv', 'high', { container: 'a' }),
      f('priv', 'critical', { container: 'b' }),
      f('priv', 'high'),
    ];
    const ts = findingTransitions([], cur, 'info');
    expect(ts).to.have.length(1);
    expect(ts[0]?.severity).to.equal('critical');
    expect(ts[0]?.findings).to.have.length(3);
  });

  it('treats a rule that dropped below minSeverity as resolved', () => {
    const ts = findingTransitions([f('x', 'high')], [f('x', 'low')], 'medium');
    expect(ts.map((t) => t.reason)).to.deep.equal(['FindingResolved']);
  });

  it('emits nothing when the set of rules is unchanged, even if messages change', () => {
    expect(
      findingTransitions([f('x', 'high')], [f('x', 'high', { message: 'new text' })], 'info'),
    ).to.deep.equal([]);
  });

  it('ignores findings with an unknown severity', () => {
    const bogus = { ruleId: 'z', severity: 'urgent', message: 'm' } as unknown as EventFinding;
    expect(findingTransitions([], [bogus], 'info')).to.deep.equal([]);
  });
});

describe('buildFindingEvent', () => {
  const now = Date.UTC(2030, 0, 1, 0, 0, 0, 123);

  it('builds a valid events.k8s.io/v1 Warning for a detection', () => {
    const [t] = findingTransitions(
      [],
      [f('pss-privileged', 'critical', { title: 'Privileged', policy: 'base' })],
      'info',
    );
    if (!t) throw new Error('no transition');
    const ev = buildFindingEvent(t, POD, {
      reportingInstance: 'vigil-7d9f-abc',
      nowMs: now,
      related: {
        apiVersion: 'security.vigil.dev/v1alpha1',
        kind: 'ScanReport',
        name: 'pod-web-1',
        namespace: 'shop',
      },
    });
    expect(ev).to.deep.include({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      eventTime: '2030-01-01T00:00:00.123000Z',
      reportingController: 'vigil',
      reportingInstance: 'vigil-7d9f-abc',
      action: 'Scan',
      reason: 'FindingDetected',
      type: 'Warning',
      regarding: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'uid-1' },
      note: '[critical] pss-privileged (Privileged): pss-privileged message; policy base',
    });
    expect(ev.related?.kind).to.equal('ScanReport');
    expect(ev.metadata.namespace).to.equal('shop');
    expect(ev.metadata.name).to.match(/^web-1\.[0-9a-f]+$/);
  });

  it('builds a Normal FindingResolved in the default namespace for cluster-scoped objects', () => {
    const [t] = findingTransitions([f('rbac-wildcard', 'high')], [], 'info');
    if (!t) throw new Error('no transition');
    const ev = buildFindingEvent(t, CR, { reportingInstance: 'i', nowMs: now });
    expect(ev.type).to.equal('Normal');
    expect(ev.reason).to.equal('FindingResolved');
    expect(ev.metadata.namespace).to.equal('default');
    expect(ev.regarding).to.not.have.property('namespace');
    expect(ev.metadata.name).to.match(/^system-evil\.[0-9a-f]+$/);
    expect(ev.note).to.equal('rbac-wildcard no longer reports findings');
  });

  it('gives distinct names to events at the same instant', () => {
    const ts = findingTransitions([], [f('a', 'high'), f('b', 'high')], 'info');
    const names = ts.map(
      (t) => buildFindingEvent(t, POD, { reportingInstance: 'i', nowMs: now }).metadata.name,
    );
    expect(new Set(names).size).to.equal(2);
  });

  it('keeps names within 253 chars and instances within 128', () => {
    const long: RegardingRef = { ...POD, name: 'x'.repeat(253) };
    const [t] = findingTransitions([], [f('a', 'high')], 'info');
    if (!t) throw new Error('no transition');
    const ev = buildFindingEvent(t, long, { reportingInstance: 'i'.repeat(300), nowMs: now });
    expect(ev.metadata.name.length).to.be.at.most(253);
    expect(ev.reportingInstance.length).to.equal(128);
  });
});

describe('eventNote / truncateUtf8', () => {
  it('summarizes several findings and stays within 1 KiB of UTF-8', () => {
    const many = Array.from({ length: 5 }, (_, i) => f('r', 'high', { message: `é${'ü'.repeat(600)}${i}` }));
    const [t] = findingTransitions([], many, 'info');
    if (!t) throw new Error('no transition');
    const note = eventNote(t);
    expect(Buffer.byteLength(note, 'utf8')).to.be.at.most(NOTE_MAX_BYTES);
    expect(note.startsWith('[high] r: é')).to.equal(true);
    expect(note.endsWith('…')).to.equal(true);
  });

  it('mentions how many more findings there are', () => {
    const [t] = findingTransitions([], [f('r', 'low'), f('r', 'high', { message: 'worst' })], 'info');
    if (!t) throw new Error('no transition');
    expect(eventNote(t)).to.equal('[high] r: worst (and 1 more)');
  });

  it('never splits a multi-byte character', () => {
    expect(truncateUtf8('ab', 10)).to.equal('ab');
    const cut = truncateUtf8('😀😀😀', 9);
    expect(cut).to.equal('😀…');
    expect(Buffer.byteLength(cut)).to.be.at.most(9);
  });
});

describe('FindingEventPlanner', () => {
  function planner(over: Partial<ConstructorParameters<typeof FindingEventPlanner>[0]> = {}) {
    const clock = new FakeClock();
    const hooks = { emitted: [] as string[], suppressed: [] as string[] };
    const p = new FindingEventPlanner({
      clock,
      reportingInstance: 'vigil-0',
      onEmitted: (r) => hooks.emitted.push(r),
      onSuppressed: (r, c) => hooks.suppressed.push(`${r}:${c}`),
      ...over,
    });
    return { clock, p, hooks };
  }

  it('emits each transition once and suppresses repeats within the TTL', async () => {
    const { clock, p, hooks } = planner({ dedupTtlMs: 60_000 });
    const input = { regarding: POD, previous: [], current: [f('a', 'high')], minSeverity: 'info' as const };
    expect(p.plan(input)).to.have.length(1);
    expect(p.plan(input)).to.have.length(0); // e.g. the report write failed and the reconcile is retried
    await clock.advance(59_999);
    expect(p.plan(input)).to.have.length(0);
    await clock.advance(1);
    expect(p.plan(input)).to.have.length(1);
    expect(p.stats()).to.deep.equal({ emitted: 2, duplicates: 2, dropped: 0 });
    expect(hooks.emitted).to.deep.equal(['FindingDetected', 'FindingDetected']);
    expect(hooks.suppressed).to.deep.equal(['FindingDetected:duplicate', 'FindingDetected:duplicate']);
  });

  it('dedups per object uid and per reason', () => {
    const { p } = planner();
    const cur = [f('a', 'high')];
    expect(p.plan({ regarding: POD, previous: [], current: cur, minSeverity: 'info' })).to.have.length(1);
    expect(
      p.plan({ regarding: { ...POD, uid: 'other' }, previous: [], current: cur, minSeverity: 'info' }),
    ).to.have.length(1);
    expect(p.plan({ regarding: POD, previous: cur, current: [], minSeverity: 'info' })).to.have.length(1);
  });

  it('rate-limits globally and counts drops', async () => {
    const { clock, p, hooks } = planner({ qps: 10, burst: 5 });
    let emitted = 0;
    for (let i = 0; i < 8; i++) {
      emitted += p.plan({
        regarding: { ...POD, uid: `u${i}` },
        previous: [],
        current: [f('a', 'high')],
        minSeverity: 'info',
      }).length;
    }
    expect(emitted).to.equal(5);
    expect(p.stats().dropped).to.equal(3);
    expect(hooks.suppressed.filter((s) => s.endsWith('rate_limited'))).to.have.length(3);
    await clock.advance(100); // one token back at 10/s
    expect(
      p.plan({
        regarding: { ...POD, uid: 'u5' },
        previous: [],
        current: [f('a', 'high')],
        minSeverity: 'info',
      }),
    ).to.have.length(1);
  });

  it('does not spend rate tokens on duplicates', () => {
    const { p } = planner({ qps: 1, burst: 1 });
    const input = { regarding: POD, previous: [], current: [f('a', 'high')], minSeverity: 'info' as const };
    p.plan(input);
    p.plan(input);
    expect(p.stats()).to.deep.equal({ emitted: 1, duplicates: 1, dropped: 0 });
  });

  it('bounds the dedup cache and expires old entries', async () => {
    const { clock, p } = planner({ maxCacheEntries: 3, dedupTtlMs: 1000, qps: 1000, burst: 1000 });
    for (let i = 0; i < 10; i++) {
      p.plan({
        regarding: { ...POD, uid: `u${i}` },
        previous: [],
        current: [f('a', 'high')],
        minSeverity: 'info',
      });
    }
    expect(p.cacheSize()).to.equal(3);
    await clock.advance(5000);
    p.plan({
      regarding: { ...POD, uid: 'new' },
      previous: [],
      current: [f('a', 'high')],
      minSeverity: 'info',
    });
    expect(p.cacheSize()).to.equal(1);
  });

  it('passes related and a custom reporting controller through', () => {
    const { p } = planner({ reportingController: 'security.vigil.dev/vigil' });
    const [ev] = p.plan({
      regarding: POD,
      previous: [],
      current: [f('a', 'high')],
      minSeverity: 'info',
      related: {
        apiVersion: 'security.vigil.dev/v1alpha1',
        kind: 'ScanReport',
        name: 'pod-web-1',
        namespace: 'shop',
      },
    });
    expect(ev?.reportingController).to.equal('security.vigil.dev/vigil');
    expect(ev?.related?.name).to.equal('pod-web-1');
  });
});
