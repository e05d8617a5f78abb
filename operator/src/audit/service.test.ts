/**
 * The operator's audit outputs for one stream of events: which SecurityPolicy's spec.audit
 * applies, the Event on the object (deduplicated, rate-limited), the metrics, and one structured
 * log line per detection.
 */
import { expect } from 'chai';
import { EventSink } from '../adapters/event-sink.ts';
import type { EventV1 } from '../controller/events.ts';
import { recordingLogger } from '../controller/logger.ts';
import { FakeClock } from '../controller/testing/fake-clock.ts';
import { parseExposition } from '../observability/exposition.ts';
import { createMetrics } from '../observability/metrics.ts';
import { AuditEventPlanner, kindOf, regardingOf } from './events.ts';
import { toAuditEvent } from './event.ts';
import { rawEvent, type EventSpec } from './rules/_testkit.ts';
import { AuditService } from './service.ts';
import { chooseAuditSettings } from './settings.ts';
import type { AuditEvent, Detection } from './types.ts';

function ev(spec: EventSpec, extra: Record<string, unknown> = {}): AuditEvent {
  const e = toAuditEvent({ ...rawEvent(spec), ...extra });
  if (typeof e === 'string') throw new Error(e);
  return e;
}

function policy(name: string, audit?: unknown): unknown {
  return {
    apiVersion: 'security.vigil.dev/v1alpha1',
    kind: 'SecurityPolicy',
    metadata: { name },
    spec: audit === undefined ? {} : { audit },
  };
}

describe('audit settings in the operator (chooseAuditSettings)', () => {
  it('uses defaults when no SecurityPolicy has spec.audit', () => {
    const c = chooseAuditSettings([policy('a'), policy('b')]);
    expect(c.policy).to.equal(undefined);
    expect(c.settings.deniedBurst).to.deep.equal({ threshold: 20, windowSeconds: 60 });
    expect(c.ignored).to.deep.equal([]);
  });

  it('takes the first valid spec.audit by name and reports the others', () => {
    const c = chooseAuditSettings([
      policy('zeta', { deniedBurst: { threshold: 9 } }),
      policy('alpha', { deniedBurst: { threshold: 'many' } }),
      policy('beta', { expectedSecretReaders: ['ci-bot'] }),
    ]);
    expect(c.policy).to.equal('beta');
    expect(c.settings.expectedSecretReaders).to.deep.equal(['ci-bot']);
    expect(c.ignored).to.have.length(2);
    expect(c.ignored[0]).to.match(/^alpha: spec\.audit\.deniedBurst\.threshold/);
    expect(c.ignored[1]).to.match(/^zeta: policy beta comes first/);
  });
});

describe('audit Events (regardingOf, AuditEventPlanner)', () => {
  it('names the object of the request, with its uid when cached', () => {
    const e = ev({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db' });
    expect(
      regardingOf(e, (k, ns, n) => (k === 'Secret' && ns === 'shop' && n === 'db' ? 'u-1' : undefined)),
    ).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Secret',
      name: 'db',
      namespace: 'shop',
      uid: 'u-1',
    });
    const exec = ev({
      verb: 'create',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'kube-system',
      name: 'etcd-0',
    });
    expect(regardingOf(exec)).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'etcd-0',
      namespace: 'kube-system',
    });
    const crb = ev(
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
      {
        objectRef: {
          resource: 'clusterrolebindings',
          apiGroup: 'rbac.authorization.k8s.io',
          apiVersion: 'v1',
          uid: 'u-9',
        },
      },
    );
    expect(regardingOf(crb)).to.equal(undefined);
    const named = ev({
      verb: 'create',
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      requestObject: { metadata: { name: 'pwn' } },
    });
    expect(regardingOf(named)).to.deep.equal({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      name: 'pwn',
    });
  });

  it('falls back to the Namespace for a request naming no object, and to nothing cluster-wide', () => {
    expect(regardingOf(ev({ verb: 'list', resource: 'secrets', namespace: 'shop' }))).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: 'shop',
    });
    expect(regardingOf(ev({ verb: 'list', resource: 'secrets' }))).to.equal(undefined);
    expect(regardingOf(ev({ resource: '' }))).to.equal(undefined);
  });

  it('derives kinds of resources it does not list', () => {
    expect(kindOf('widgets')).to.equal('Widget');
    expect(kindOf('policies')).to.equal('Policy');
    expect(kindOf('ingressclasses')).to.equal('Ingressclass');
  });

  it('posts one Event per object, rule and identity while remembered, then again', async () => {
    const clock = new FakeClock();
    const suppressed: string[] = [];
    const p = new AuditEventPlanner({
      clock,
      reportingInstance: 'vigil-0',
      onSuppressed: (c) => suppressed.push(c),
    });
    const d: Detection = {
      ruleId: 'audit-secret-read',
      title: 'Secret read by an unexpected identity',
      severity: 'high',
      category: 'api-abuse',
      auditID: 'x1',
      time: '',
      user: 'mallory',
      verb: 'get',
      resource: { group: '', resource: 'secrets', subresource: '', namespace: 'shop', name: 'db' },
      sourceIPs: [],
      message: 'mallory read Secret shop/db',
      remediation: '',
    };
    const ref = { apiVersion: 'v1', kind: 'Secret', name: 'db', namespace: 'shop' };
    const first = p.plan(d, ref);
    expect(first?.reason).to.equal('AuditDetection');
    expect(first?.type).to.equal('Warning');
    expect(first?.action).to.equal('Audit');
    expect(first?.metadata.namespace).to.equal('shop');
    expect(first?.note).to.match(/^\[high\] audit-secret-read .*user mallory, verb get, auditID x1$/);
    expect(p.plan({ ...d, auditID: 'x2' }, ref)).to.equal(undefined);
    expect(p.plan({ ...d, user: 'eve' }, ref)?.reason).to.equal('AuditDetection');
    await clock.advance(10 * 60_000);
    expect(p.plan({ ...d, auditID: 'x3' }, ref)?.note).to.include('x3');
    expect(suppressed).to.deep.equal(['duplicate']);
    const cluster = p.plan(d, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      name: 'pwn',
    });
    expect(cluster?.metadata.namespace).to.equal('default');
  });
});

describe('AuditService outputs', () => {
  it('turns a detection into a log line, metrics and one deduplicated Event on the object', async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T10:00:02.500Z'));
    const logger = recordingLogger();
    const metrics = createMetrics({ ruleLabel: false, defaultMetrics: false });
    const posted: EventV1[] = [];
    const sink = new EventSink({ poster: { post: (e) => Promise.resolve(void posted.push(e)) } });
    const svc = new AuditService({
      receiver: { bindAddress: '0', tlsCertFile: '', tlsKeyFile: '', tokenFile: '' },
      queueSize: 10,
      clock,
      logger,
      metrics,
      events: sink,
      policies: () => [policy('audit', { expectedSecretReaders: ['ci-bot'] })],
      uidOf: () => 'uid-db',
      reportingInstance: 'vigil-0',
      eventQps: 10,
      eventBurst: 50,
    });
    const read = (id: string, user: string): AuditEvent =>
      ev({
        id,
        user,
        verb: 'get',
        resource: 'secrets',
        namespace: 'shop',
        name: 'db',
        time: '2026-12-01T10:00:00.000000Z',
      });
    expect(svc.pipeline.offer([read('r1', 'mallory'), read('r2', 'mallory'), read('r3', 'ci-bot')])).to.equal(
      true,
    );
    await svc.pipeline.drained();
    await sink.flush();

    const lines = logger.records.filter((r) => r.message === 'audit detection');
    expect(lines.map((l) => [l.meta['ruleId'], l.meta['auditID'], l.meta['user']])).to.deep.equal([
      ['audit-secret-read-unexpected', 'r1', 'mallory'],
      ['audit-secret-read-unexpected', 'r2', 'mallory'],
    ]);
    expect(lines[0]?.meta).to.deep.include({ severity: 'high', policy: 'audit', lagSeconds: 2.5 });
    expect(lines[0]?.meta['detail']).to.match(/mallory .*shop\/db/);
    expect(lines[0]?.meta).not.to.have.property('message');
    expect(
      logger.records.some((r) => r.message === 'audit settings' && r.meta['policy'] === 'audit'),
    ).to.equal(true);

    expect(posted).to.have.length(1);
    expect(posted[0]?.regarding).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Secret',
      name: 'db',
      namespace: 'shop',
      uid: 'uid-db',
    });

    const samples = parseExposition(await metrics.registry.metrics()).samples;
    const v = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, x]) => s.labels[k] === x))
        ?.value;
    expect(
      v('vigil_audit_detections_total', { rule: 'audit-secret-read-unexpected', severity: 'high' }),
    ).to.equal(2);
    expect(v('vigil_audit_detections_total', { rule: 'audit-pod-exec' })).to.equal(0);
    expect(v('vigil_audit_detection_lag_seconds_count')).to.equal(2);
    expect(v('vigil_audit_detection_lag_seconds_bucket', { le: '5' })).to.equal(2);
    expect(v('vigil_audit_detection_lag_seconds_bucket', { le: '2' })).to.equal(0);
    for (const reason of ['queue_full', 'unauthenticated', 'malformed', 'too_large'])
      expect(v('vigil_audit_dropped_total', { reason }), reason).to.equal(0);
    expect(v('vigil_audit_queue_length')).to.equal(0);
    expect(await svc.start()).to.equal(undefined);
  });
});
