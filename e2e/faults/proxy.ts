/**
 * A loopback TCP proxy between the operator and the API server, for network
 * faults. TLS passes through untouched (the serving certificate has a
 * 127.0.0.1 SAN, so a kubeconfig pointing at the proxy verifies as usual).
 *
 * - `stall()`: every connection, open or new, stays open but no byte is
 *   forwarded in either direction (bytes are held, not dropped, so TLS
 *   survives); `resume()` delivers what was held and forwards again.
 * - `block()`: every open connection is cut and new ones are closed at once,
 *   like an unreachable server; `unblock()` lets them through again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';

interface Pair {
  client: Socket;
  upstream: Socket;
  held: { to: Socket; data: Buffer }[];
}

export class TcpProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private stalled = false;
  private blocked = false;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => holder.proxy?.accept(client, targetHost, targetPort));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    holder.proxy = new TcpProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return holder.proxy;
  }

  private accept(client: Socket, host: string, port: number): void {
    this.accepted++;
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (data: Buffer) => {
        if (this.stalled) pair.held.push({ to, data });
        else to.write(data);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
      s.on('end', close);
    }
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    for (const p of this.pairs) {
      for (const h of p.held) if (!h.to.destroyed) h.to.write(h.data);
      p.held = [];
    }
  }

  block(): void {
    this.blocked = true;
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  unblock(): void {
    this.blocked = false;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** A copy of a kubeconfig whose server is this proxy. */
  kubeconfig(original: string, out: string): string {
    const text = readFileSync(original, 'utf8').replace(
      /server: https:\/\/127\.0\.0\.1:\d+/,
      `server: https://127.0.0.1:${this.port}`,
    );
    writeFileSync(out, text);
    return out;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
