/**
 * The audit webhook receiver over real HTTPS: authentication (client certificate, bearer token,
 * neither), the body limit, malformed and hostile bodies, the bounded queue, and the detections
 * of the recorded log sent as EventList batches being exactly those `vigil audit` reports.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordingLogger } from '../controller/logger.ts';
import type { AuditDropReason } from '../observability/metrics.ts';
import { AuditEvaluator } from './evaluate.ts';
import { toAuditEvent } from './event.ts';
import { AuditPipeline } from './pipeline.ts';
import { readAuditEvents } from './read.ts';
import { AUDIT_WEBHOOK_PATH, startAuditReceiver, type AuditReceiver } from './receiver.ts';
import { auditSettingsOf } from './settings.ts';
import { rawEvent } from './rules/_testkit.ts';
import type { AuditEvent, AuditSettings } from './types.ts';
import { parseYaml } from '../yaml.ts';
import { certFiles, issueCert, selfSignedCert } from '../testing/certs.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A CA, a serving certificate for 127.0.0.1 and a client certificate; and an unrelated CA's client. */
function makeCerts(dir: string): void {
  const ca = selfSignedCert(certFiles(dir, 'ca'), { subject: '/CN=ca' });
  const other = selfSignedCert(certFiles(dir, 'other-ca'), { subject: '/CN=other-ca' });
  const server = { sans: ['IP:127.0.0.1'], usage: 'serverAuth' } as const;
  issueCert(certFiles(dir, 'server'), ca, { subject: '/CN=server', ...server });
  issueCert(certFiles(dir, 'apiserver'), ca, { subject: '/CN=apiserver', usage: 'clientAuth' });
  issueCert(certFiles(dir, 'intruder'), other, { subject: '/CN=intruder', usage: 'clientAuth' });
  issueCert(certFiles(dir, 'server-renewed'), ca, { subject: '/CN=server-renewed', ...server });
}

/** The serial number of the certificate the server presents to a new connection. */
function servedSerial(port: number, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(join(dir, 'ca.crt')) }, () => {
      const serial = sock.getPeerCertificate().serialNumber;
      sock.destroy();
      resolve(serial);
    });
    sock.on('error', reject);
  });
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function post(
  port: number,
  dir: string,
  body: Buffer | string | Buffer[],
  opts: { client?: string; token?: string; path?: string; method?: string; noLength?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? AUDIT_WEBHOOK_PATH,
        method: opts.method ?? 'POST',
        ca: readFileSync(join(dir, 'ca.crt')),
        ...(opts.client
          ? {
              cert: readFileSync(join(dir, `${opts.client}.crt`)),
              key: readFileSync(join(dir, `${opts.client}.key`)),
            }
          : {}),
        headers,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (Array.isArray(body)) {
      // Chunked: no content-length, so the limit is enforced while reading.
      const write = (i: number): void => {
        if (i >= body.length) {
          req.end();
          return;
        }
        if (!req.write(body[i])) req.once('drain', () => write(i + 1));
        else setImmediate(() => write(i + 1));
      };
      write(0);
    } else {
      if (!opts.noLength) req.setHeader('content-length', Buffer.byteLength(body));
      req.end(body);
    }
  });
}

function eventList(items: unknown[]): string {
  return JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
}

describe('audit webhook receiver', function () {
  this.timeout(20_000);
  let dir: string;
  let receiver: AuditReceiver;
  let offered: AuditEvent[][];
  let accept: boolean;
  let dropped: Record<string, number>;
  let accepted: number;
  const log = recordingLogger();
  const TOKEN = 'a-long-random-token-0123456789';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-recv-'));
    makeCerts(dir);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    offered = [];
    accept = true;
    dropped = {};
    accepted = 0;
    log.records.length = 0;
    let t = 0;
    const r = await startAuditReceiver({
      bindAddress: '127.0.0.1:0',
      tlsCertFile: join(dir, 'server.crt'),
      tlsKeyFile: join(dir, 'server.key'),
      clientCaFile: join(dir, 'ca.crt'),
      tokenFile: join(dir, 'token'),
      maxBodyBytes: 64 * 1024,
      offer: (events) => {
        if (!accept) return false;
        offered.push([...events]);
        return true;
      },
      accepted: (n) => (accepted += n),
      dropped: (reason: AuditDropReason, n) => (dropped[reason] = (dropped[reason] ?? 0) + n),
      logger: log,
      // Each refusal 11 s after the last: every one is logged (the rate limit has its own test).
      now: () => (t += 11_000),
    });
    if (!r) throw new Error('receiver did not start');
    receiver = r;
  });
  afterEach(() => receiver.close());

  const two = eventList([rawEvent({ id: 'a1' }), rawEvent({ id: 'a2', verb: 'list' })]);

  it('accepts an EventList from a client certificate signed by the CA', async () => {
    const r = await post(receiver.port, dir, two, { client: 'apiserver' });
    expect(r.status).to.equal(200);
    expect(offered.map((b) => b.map((e) => e.auditID))).to.deep.equal([['a1', 'a2']]);
    expect(accepted).to.equal(2);
    expect(dropped).to.deep.equal({});
  });

  it('accepts an EventList with the bearer token', async () => {
    const r = await post(receiver.port, dir, two, { token: TOKEN });
    expect(r.status).to.equal(200);
    expect(offered).to.have.length(1);
  });

  it('refuses with 401, counts and logs a request without credentials, a wrong token or a foreign certificate', async () => {
    for (const opts of [{}, { token: 'wrong' }, { client: 'intruder' }]) {
      const r = await post(receiver.port, dir, two, opts);
      expect(r.status, JSON.stringify(opts)).to.equal(401);
    }
    expect(offered).to.deep.equal([]);
    expect(dropped).to.deep.equal({ unauthenticated: 3 });
    const lines = log.records.filter((l) => l.message === 'audit webhook request refused');
    expect(lines.map((l) => l.meta['reason'])).to.deep.equal([
      'unauthenticated',
      'unauthenticated',
      'unauthenticated',
    ]);
    expect(JSON.stringify(lines)).not.to.include('a1');
  });

  it('reads a changed token file (a rotated Secret) and keeps the last good token while the file is empty', async () => {
    writeFileSync(join(dir, 'token'), 'rotated-token-abcdef\n');
    try {
      // The injected clock moves 11 s per refusal, past the 5 s re-read interval.
      expect((await post(receiver.port, dir, two, { token: TOKEN })).status).to.equal(401);
      expect((await post(receiver.port, dir, two, { token: 'rotated-token-abcdef' })).status).to.equal(200);
      writeFileSync(join(dir, 'token'), '');
      await post(receiver.port, dir, two, { token: 'x' });
      expect((await post(receiver.port, dir, two, { token: 'rotated-token-abcdef' })).status).to.equal(200);
    } finally {
      writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    }
  });

  it('refuses a body over the limit with 413, declared or streamed, without holding it', async () => {
    const big = 'x'.repeat(70 * 1024);
    const declared = await post(receiver.port, dir, big, { token: TOKEN });
    expect(declared.status).to.equal(413);
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(4096, 0x20));
    const streamed = await post(receiver.port, dir, chunks, { token: TOKEN });
    expect(streamed.status).to.equal(413);
    expect(dropped).to.deep.equal({ too_large: 2 });
    expect(offered).to.deep.equal([]);
    // And the receiver still serves.
    expect((await post(receiver.port, dir, two, { token: TOKEN })).status).to.equal(200);
  });

  it('answers 400 to a body that is not JSON, or holds no audit event, and counts it', async () => {
    for (const body of ['{"kind": "EventList", "items": [', 'null', '[1,2,3]', '{"kind":"Pod"}', '']) {
      const r = await post(receiver.port, dir, body, { token: TOKEN });
      expect(r.status, body).to.equal(400);
    }
    expect(dropped['malformed']).to.equal(5);
    expect(offered).to.deep.equal([]);
    const lines = log.records.filter((l) => l.meta['reason'] === 'malformed');
    expect(lines).to.have.length(5);
  });

  it('accepts the good items of a list, counting the others as malformed', async () => {
    const body = eventList([rawEvent({ id: 'ok1' }), 42, { kind: 'Event' }, rawEvent({ id: 'ok2' })]);
    const r = await post(receiver.port, dir, body, { token: TOKEN });
    expect(r.status).to.equal(200);
    expect(offered.flat().map((e) => e.auditID)).to.deep.equal(['ok1', 'ok2']);
    expect(dropped).to.deep.equal({ malformed: 2 });
  });

  it('survives hostile JSON: deep nesting, prototype keys, odd types in every field', async () => {
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    const hostile = eventList([
      {
        ...rawEvent({ id: 'h1' }),
        constructor: { prototype: { polluted: true } },
        user: { username: ['not', 'a', 'string'], groups: 'x' },
        objectRef: { resource: { a: 1 }, name: 7 },
        responseStatus: { code: 'NaN' },
        sourceIPs: [null, 1, '10.0.0.1'],
      },
    ]).replace('{"kind":"Event",', '{"__proto__":{"polluted":true},"kind":"Event",');
    expect(hostile).to.include('"__proto__"');
    expect((await post(receiver.port, dir, deep, { token: TOKEN })).status).to.be.oneOf([400, 413]);
    expect((await post(receiver.port, dir, hostile, { token: TOKEN })).status).to.equal(200);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(offered.flat().map((e) => e.auditID)).to.deep.equal(['h1']);
    expect((await post(receiver.port, dir, two, { token: TOKEN })).status).to.equal(200);
  });

  it('answers 429 with Retry-After when the queue is full, counting the batch as queue_full', async () => {
    accept = false;
    const r = await post(receiver.port, dir, two, { token: TOKEN });
    expect(r.status).to.equal(429);
    expect(r.headers['retry-after']).to.equal('1');
    expect(dropped).to.deep.equal({ queue_full: 2 });
    expect(accepted).to.equal(0);
  });

  it('refuses other paths and methods, after authentication', async () => {
    expect((await post(receiver.port, dir, two, { token: TOKEN, path: '/other' })).status).to.equal(404);
    expect((await post(receiver.port, dir, '', { token: TOKEN, method: 'GET' })).status).to.equal(405);
    expect((await post(receiver.port, dir, '', { path: '/other' })).status).to.equal(401);
    expect(offered).to.deep.equal([]);
  });

  it('serves a renewed certificate once its files change, without a restart', async () => {
    await receiver.close();
    const live = mkdtempSync(join(tmpdir(), 'vigil-audit-tls-'));
    const copy = (from: string, to: string): void =>
      writeFileSync(join(live, to), readFileSync(join(dir, from)));
    copy('server.crt', 'tls.crt');
    copy('server.key', 'tls.key');
    const records = recordingLogger();
    const r = await startAuditReceiver({
      bindAddress: '127.0.0.1:0',
      tlsCertFile: join(live, 'tls.crt'),
      tlsKeyFile: join(live, 'tls.key'),
      tokenFile: join(dir, 'token'),
      tlsReloadIntervalMs: 50,
      offer: () => true,
      dropped: () => undefined,
      logger: records,
    });
    if (!r) throw new Error('receiver did not start');
    receiver = r;
    try {
      const before = await servedSerial(r.port, dir);
      copy('server-renewed.key', 'tls.key');
      copy('server-renewed.crt', 'tls.crt');
      const deadline = Date.now() + 5000;
      let after = before;
      while (after === before && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
        after = await servedSerial(r.port, dir);
      }
      expect(after).to.not.equal(before);
      expect(after).to.equal(
        execFileSync('openssl', ['x509', '-noout', '-serial', '-in', join(dir, 'server-renewed.crt')], {
          encoding: 'utf8',
        })
          .trim()
          .replace(/^serial=/, '')
          .toUpperCase(),
      );
      expect((await post(r.port, dir, two, { token: TOKEN })).status).to.equal(200);
      expect(records.records.some((l) => l.message === 'audit webhook TLS files reloaded')).to.equal(true);
    } finally {
      rmSync(live, { recursive: true, force: true });
    }
  });

  it('logs one line per reason per 10 s and says how many it folded', async () => {
    await receiver.close();
    let t = 0;
    const records = recordingLogger();
    const r = await startAuditReceiver({
      bindAddress: '127.0.0.1:0',
      tlsCertFile: join(dir, 'server.crt'),
      tlsKeyFile: join(dir, 'server.key'),
      tokenFile: join(dir, 'token'),
      offer: () => true,
      dropped: () => undefined,
      logger: records,
      now: () => t,
    });
    if (!r) throw new Error('receiver did not start');
    receiver = r;
    for (let i = 0; i < 5; i++) await post(r.port, dir, two);
    t = 10_001;
    await post(r.port, dir, two);
    const lines = records.records.filter((l) => l.message === 'audit webhook request refused');
    expect(lines).to.have.length(2);
    expect(lines[1]?.meta['alsoRefusedSinceLastLine']).to.equal(4);
  });
});

describe('audit webhook receiver → pipeline', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-pipe-'));
    makeCerts(dir);
    writeFileSync(join(dir, 'token'), 'pipeline-token-0123456789\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function recorded(): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    const { createReadStream } = await import('node:fs');
    for await (const item of readAuditEvents(createReadStream(join(HERE, 'testdata', 'recorded.jsonl'))))
      if ('event' in item) out.push(item.event);
    return out;
  }

  function fixtureSettings(): AuditSettings {
    const s = auditSettingsOf(parseYaml(readFileSync(join(HERE, 'testdata', 'policy.yaml'), 'utf8')));
    if (Array.isArray(s)) throw new Error(s.join('\n'));
    return s;
  }

  it('gives the recorded log, sent as EventList batches, exactly the detections vigil audit gives', async () => {
    const settings = fixtureSettings();
    const events = await recorded();
    const offline = new AuditEvaluator(settings);
    const expected = events.flatMap((e) => offline.judge(e)).map((d) => `${d.ruleId} ${d.auditID}`);
    expect(expected.length).to.be.greaterThan(20);

    const got: string[] = [];
    const pipeline = new AuditPipeline({
      queueSize: 1000,
      settings: () => settings,
      onDetection: (d) => got.push(`${d.ruleId} ${d.auditID}`),
      sliceSize: 7,
    });
    const receiver = await startAuditReceiver({
      bindAddress: '127.0.0.1:0',
      tlsCertFile: join(dir, 'server.crt'),
      tlsKeyFile: join(dir, 'server.key'),
      tokenFile: join(dir, 'token'),
      offer: (b) => pipeline.offer(b),
      dropped: () => undefined,
      logger: recordingLogger(),
    });
    if (!receiver) throw new Error('receiver did not start');
    try {
      const raw = readFileSync(join(HERE, 'testdata', 'recorded.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as unknown);
      for (let i = 0; i < raw.length; i += 13) {
        const r = await post(receiver.port, dir, eventList(raw.slice(i, i + 13)), {
          token: 'pipeline-token-0123456789',
        });
        expect(r.status).to.equal(200);
      }
      await pipeline.drained();
    } finally {
      await receiver.close();
    }
    expect(got).to.deep.equal(expected);
    expect(pipeline.stats.judged).to.equal(events.length);
  });

  it('refuses a batch that does not fit whole and takes it once there is room', async () => {
    const settings = fixtureSettings();
    const pipeline = new AuditPipeline({
      queueSize: 3,
      settings: () => settings,
      onDetection: () => undefined,
    });
    const ev = (id: string): AuditEvent => readEvent(rawEvent({ id }));
    expect(pipeline.offer([ev('1'), ev('2')])).to.equal(true);
    expect(pipeline.offer([ev('3'), ev('4')])).to.equal(false);
    expect(pipeline.length).to.equal(2);
    await pipeline.drained();
    expect(pipeline.offer([ev('3'), ev('4')])).to.equal(true);
    await pipeline.drained();
    expect(pipeline.stats).to.deep.include({ accepted: 4, refused: 2, judged: 4 });
  });

  it('follows changed settings without losing the denied-burst window', async () => {
    let settings = { ...fixtureSettings(), deniedBurst: { threshold: 3, windowSeconds: 60 } };
    const got: string[] = [];
    const pipeline = new AuditPipeline({
      queueSize: 100,
      settings: () => settings,
      onDetection: (d) => got.push(d.ruleId),
    });
    const denied = (i: number): AuditEvent =>
      readEvent(
        rawEvent({ id: `d${i}`, user: 'mallory', code: 403, time: `2026-12-01T10:00:0${i}.000000Z` }),
      );
    pipeline.offer([denied(1), denied(2)]);
    await pipeline.drained();
    settings = { ...settings, severities: { 'audit-denied-burst': 'critical' } };
    pipeline.offer([denied(3)]);
    await pipeline.drained();
    expect(got).to.include('audit-denied-burst');
  });
});

function readEvent(raw: unknown): AuditEvent {
  const ev = toAuditEvent(raw);
  if (typeof ev === 'string') throw new Error(ev);
  return ev;
}
