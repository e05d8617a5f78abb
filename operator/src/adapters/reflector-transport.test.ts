/**
 * Reflector over the real KubeClient transport, against a local HTTP server
 * that plays an API server badly: it drops the watch connection abruptly,
 * then answers 410 Gone. The reflector must recover through both without
 * losing state. Waits poll an observable condition; nothing sleeps a fixed time.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './k8s-client.ts';
import { Reflector } from './reflector.ts';
import type { RestartReason } from './reflector.ts';

async function eventually(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function pod(name: string, rv: string): unknown {
  return { metadata: { name, namespace: 'ns', resourceVersion: rv, uid: `uid-${name}` }, spec: {} };
}

describe('Reflector over KubeClient (local HTTP server)', () => {
  it('recovers from an abrupt watch close and from 410 Gone', async () => {
    const watchRequests: URLSearchParams[] = [];
    let lists = 0;
    const sockets = new Set<Socket>();
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('watch') !== 'true') {
        lists++;
        const body =
          lists === 1
            ? { metadata: { resourceVersion: '10' }, items: [pod('a', '5')] }
            : { metadata: { resourceVersion: '30' }, items: [pod('a', '5'), pod('c', '25')] };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      watchRequests.push(url.searchParams);
      const n = watchRequests.length;
      if (n === 1) {
        // One event, then the connection dies without a proper end.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(`${JSON.stringify({ type: 'ADDED', object: pod('b', '11') })}\n`, () => {
          req.socket.destroy();
        });
      } else if (n === 2) {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          }),
        );
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '31' } } })}\n`,
        );
        // Held open until the test stops the reflector.
      }
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
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });

    const restarts: RestartReason[] = [];
    const deleted: string[] = [];
    const r = new Reflector({
      resource: 'pods',
      path: '/api/v1/pods',
      apiVersion: 'v1',
      kind: 'Pod',
      client: new KubeClient(kc),
      backoff: { baseMs: 1, capMs: 5 },
      handlers: { onDelete: (k) => deleted.push(k) },
      hooks: { onRestart: (reason) => restarts.push(reason) },
    });
    try {
      r.start();
      await r.waitForSync();
      await eventually(() => watchRequests.length >= 3, 'third watch');
      expect(watchRequests[0]?.get('resourceVersion')).to.equal('10');
      expect(watchRequests[0]?.get('allowWatchBookmarks')).to.equal('true');
      expect(Number(watchRequests[0]?.get('timeoutSeconds'))).to.be.within(300, 600);
      // After the abrupt close it re-watched from the event's resourceVersion, not from scratch.
      expect(watchRequests[1]?.get('resourceVersion')).to.equal('11');
      // After 410 it relisted and watched from the new list.
      expect(lists).to.equal(2);
      expect(watchRequests[2]?.get('resourceVersion')).to.equal('30');
      expect(restarts).to.deep.equal(['error', 'expired']);
      expect(r.keys().sort()).to.deep.equal(['ns/a', 'ns/c']);
      expect(deleted).to.deep.equal(['ns/b']);
      await eventually(() => r.resourceVersion === '31', 'bookmark');
    } finally {
      await r.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    }
  });
});
