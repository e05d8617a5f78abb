/**
 * Transport tests for KubeClient against a local HTTP server on 127.0.0.1:
 * auth headers from the kubeconfig, query strings, line-by-line watch
 * decoding across chunk boundaries, abrupt closes, error statuses and
 * Retry-After. (Semantics against a real kube-apiserver are the e2e suite's
 * job.) No sleeps: every wait is on an observable condition.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './api-error.ts';
import { KubeClient } from './k8s-client.ts';
import type { WatchEvent } from './list-watch.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Harness {
  client: KubeClient;
  requests: { url: string; method: string; headers: http.IncomingHttpHeaders; body: string }[];
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  let handler: Handler = (_req, res) => {
    res.writeHead(500).end();
  };
  const requests: Harness['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    client: new KubeClient(kc, { userAgent: 'vigil-test' }),
    requests,
    setHandler: (h) => (handler = h),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Opens a watch and resolves when onDone fires. */
function watchUntilDone(
  h: Harness,
  path = '/api/v1/pods',
): Promise<{ events: WatchEvent[]; err: Error | undefined }> {
  return new Promise((resolve) => {
    const events: WatchEvent[] = [];
    h.client.watch(
      path,
      { resourceVersion: '100', allowWatchBookmarks: true, timeoutSeconds: 321 },
      (e) => events.push(e),
      (err) => resolve({ events, err }),
    );
  });
}

describe('KubeClient (local HTTP server)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('sends the bearer token, JSON headers and query parameters', async () => {
    h.setHandler((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
    const out = await h.client.request<{ ok: boolean }>({
      method: 'POST',
      path: '/apis/x/v1/things',
      query: { dryRun: 'All', skip: undefined, limit: 5 },
      body: { a: 1 },
    });
    expect(out).to.deep.equal({ ok: true });
    const r = h.requests[0];
    expect(r?.method).to.equal('POST');
    expect(r?.url).to.equal('/apis/x/v1/things?dryRun=All&limit=5');
    expect(r?.headers.authorization).to.equal('Bearer secret-token');
    expect(r?.headers['user-agent']).to.equal('vigil-test');
    expect(r?.headers['content-type']).to.equal('application/json');
    expect(r?.body).to.equal('{"a":1}');
  });

  it('lists one page with resourceVersion and continue token', async () => {
    h.setHandler((_req, res) => {
      res
        .writeHead(200)
        .end(JSON.stringify({ metadata: { resourceVersion: '42', continue: 'tok' }, items: [{ a: 1 }] }));
    });
    const page = await h.client.list('/api/v1/pods', { limit: 500, labelSelector: 'app=web' });
    expect(page).to.deep.equal({ items: [{ a: 1 }], resourceVersion: '42', continue: 'tok' });
    expect(h.requests[0]?.url).to.equal('/api/v1/pods?labelSelector=app%3Dweb&limit=500');
  });

  it('turns error statuses into ApiError with reason and Retry-After', async () => {
    h.setHandler((_req, res) => {
      res
        .writeHead(429, { 'Retry-After': '3' })
        .end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' }));
    });
    const err = await h.client.request({ method: 'GET', path: '/api/v1/pods' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ code: 429, reason: 'TooManyRequests', retryAfterMs: 3000 });
    expect((err as ApiError).message).to.equal('429 TooManyRequests: slow down');
  });

  it('shortens long quoted values in error messages so the reason after them is kept', async () => {
    const name = `vigil-${'x'.repeat(300)}-workloads`;
    h.setHandler((_req, res) => {
      res.writeHead(422).end(
        JSON.stringify({
          kind: 'Status',
          code: 422,
          reason: 'Invalid',
          message: `thing "${name}" is invalid: metadata.name: Invalid value: "${name}": must be no more than 253 characters`,
        }),
      );
    });
    const err = (await h.client
      .request({ method: 'PATCH', path: '/x' })
      .catch((e: unknown) => e)) as ApiError;
    expect(err.message).to.match(/^422 Invalid: thing "vigil-x+…x+-workloads" is invalid: metadata\.name: /);
    expect(err.message).to.match(/must be no more than 253 characters$/);
    expect(err.message.length).to.be.below(300);
  });

  it('keeps only the code when the error body is not a Status', async () => {
    h.setHandler((_req, res) => {
      res.writeHead(502).end('<html>bad gateway</html>');
    });
    const err = (await h.client.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).to.equal(502);
    expect(err.message).to.not.include('html');
  });

  it('reports transport failures as code 0', async () => {
    h.setHandler((req) => {
      req.socket.destroy();
    });
    const err = (await h.client.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as ApiError;
    expect(err).to.be.instanceOf(ApiError);
    expect(err.code).to.equal(0);
  });

  it('rejects at once when the signal is aborted', async () => {
    h.setHandler(() => undefined); // never answers
    const ctl = new AbortController();
    const p = h.client.request({ method: 'GET', path: '/slow', signal: ctl.signal });
    ctl.abort();
    const err = (await p.catch((e: unknown) => e)) as ApiError;
    expect(err.reason).to.equal('Aborted');
  });

  describe('watch', () => {
    it('sends watch parameters and decodes events split across chunks', async () => {
      h.setHandler((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const a = JSON.stringify({
          type: 'ADDED',
          object: { metadata: { name: 'pödé', resourceVersion: '101' } },
        });
        const b = JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '102' } } });
        const all = Buffer.from(`${a}\n\n${b}\n`);
        // Split inside a multi-byte character and inside a line.
        const cut = all.indexOf(Buffer.from('ö')) + 1;
        res.write(all.subarray(0, cut));
        res.write(all.subarray(cut, cut + 30));
        res.end(all.subarray(cut + 30));
      });
      const { events, err } = await watchUntilDone(h);
      expect(err).to.equal(undefined);
      expect(events.map((e) => e.type)).to.deep.equal(['ADDED', 'BOOKMARK']);
      expect((events[0]?.object as { metadata: { name: string } }).metadata.name).to.equal('pödé');
      const url = new URL(`http://x${h.requests[0]?.url ?? ''}`);
      expect(Object.fromEntries(url.searchParams)).to.deep.equal({
        watch: 'true',
        resourceVersion: '100',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '321',
      });
    });

    it('parses a final line without a trailing newline', async () => {
      h.setHandler((_req, res) => {
        res.writeHead(200).end(JSON.stringify({ type: 'DELETED', object: {} }));
      });
      const { events, err } = await watchUntilDone(h);
      expect(err).to.equal(undefined);
      expect(events).to.have.length(1);
    });

    it('ends with an error on a line that is not JSON instead of skipping it', async () => {
      h.setHandler((_req, res) => {
        res.writeHead(200);
        res.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`);
        res.write('{"type":"MODIFIED","object":\n');
        res.end(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`);
      });
      const { events, err } = await watchUntilDone(h);
      expect(events).to.have.length(1);
      expect(err).to.be.instanceOf(ApiError);
      expect((err as ApiError).reason).to.equal('InvalidWatchEvent');
    });

    it('reports an abrupt close mid-stream as an error, once', async () => {
      let doneCalls = 0;
      h.setHandler((req, res) => {
        res.writeHead(200);
        res.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`, () => {
          req.socket.destroy();
        });
      });
      const result = await new Promise<{ events: number; err: Error | undefined }>((resolve) => {
        let n = 0;
        h.client.watch(
          '/api/v1/pods',
          { resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 300 },
          () => n++,
          (err) => {
            doneCalls++;
            resolve({ events: n, err });
          },
        );
      });
      expect(result.events).to.equal(1);
      expect(result.err).to.be.instanceOf(ApiError);
      expect((result.err as ApiError).code).to.equal(0);
      // Let any late socket events fire; onDone must not run again.
      await new Promise((r) => setImmediate(r));
      expect(doneCalls).to.equal(1);
    });

    it('reports HTTP 410 with its reason', async () => {
      h.setHandler((_req, res) => {
        res
          .writeHead(410)
          .end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }));
      });
      const { err } = await watchUntilDone(h);
      expect(err).to.include({ code: 410, reason: 'Expired' });
    });

    it('does not call onDone after abort', async () => {
      let onDoneCalled = false;
      let release: () => void = () => undefined;
      const gotRequest = new Promise<void>((r) => (release = r));
      h.setHandler((_req, res) => {
        res.writeHead(200);
        res.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`);
        release();
      });
      const events: WatchEvent[] = [];
      const firstEvent = new Promise<void>((resolve) => {
        const abort = h.client.watch(
          '/api/v1/pods',
          { resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 300 },
          (e) => {
            events.push(e);
            abort();
            abort(); // idempotent
            resolve();
          },
          () => (onDoneCalled = true),
        );
      });
      await gotRequest;
      await firstEvent;
      await new Promise((r) => setImmediate(r));
      expect(events).to.have.length(1);
      expect(onDoneCalled).to.equal(false);
    });
  });
});
