/**
 * A small Kubernetes HTTP client on node:http(s), authenticated by a KubeAuth:
 * adapters/kubeconfig.ts for plain certificates and tokens, else
 * @kubernetes/client-node's KubeConfig.
 *
 * Why not client-node's `Watch`: in 2.0.1 it has a fixed, private 30 s
 * inactivity timeout (quiet resources reconnect every 30 s), silently skips
 * lines that fail to parse (an event lost without a trace), and builds a new
 * undici Agent for every request. Here:
 *
 * - credentials, CA and client certificates come from
 *   `KubeConfig.applyToHTTPSOptions` on every request (so exec plugins and
 *   rotated service-account tokens are honoured); connections are kept alive
 *   and pooled by Node's global agent (client-node's proxy agent is used when
 *   the kubeconfig names a proxy);
 * - watch streams are decoded line by line (UTF-8 safe across chunks); a line
 *   that is not JSON ends the watch with an error instead of being dropped,
 *   so the reflector re-watches from the last resourceVersion and loses
 *   nothing;
 * - sockets use TCP keep-alive (30 s) so dead peers are noticed; the
 *   reflector adds its own inactivity timeout on top;
 * - `onDone` is called exactly once, and never after the caller aborted;
 * - errors are `ApiError`s (code 0 for transport failures) that carry
 *   `Retry-After`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeAuth } from './kubeconfig.ts';
import { ApiError, apiErrorFromResponse } from './api-error.ts';
import type {
  AbortWatch,
  ListOptions,
  ListPage,
  ListWatchClient,
  WatchEvent,
  WatchOptions,
} from './list-watch.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method: HttpMethod;
  /** Absolute API path, e.g. /apis/coordination.k8s.io/v1/namespaces/x/leases/y. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-serialized as the request body. */
  body?: unknown;
  /** Default application/json; use application/merge-patch+json or application/apply-patch+yaml for PATCH. */
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request timeout; default the client's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface KubeClientOptions {
  /** Default whole-request timeout for non-watch requests; 60 s. */
  requestTimeoutMs?: number;
  /** TCP keep-alive probe delay for every socket; 30 s (client-go's value). */
  keepAliveMs?: number;
  userAgent?: string;
  /** Largest response body accepted for non-watch requests; 256 MiB. */
  maxBodyBytes?: number;
}

type Headers = Record<string, string>;

interface Prepared {
  url: URL;
  options: https.RequestOptions;
  transport: typeof http | typeof https;
}

export class KubeClient implements ListWatchClient {
  private readonly kc: KubeAuth;
  private readonly requestTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly userAgent: string;
  private readonly maxBodyBytes: number;

  constructor(kc: KubeAuth, opts: KubeClientOptions = {}) {
    this.kc = kc;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.keepAliveMs = opts.keepAliveMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'vigil';
    this.maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  }

  /** Sends one request and parses the JSON response; rejects with ApiError on failure. */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    const text = await this.requestText(opts);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ApiError(
        0,
        'InvalidResponse',
        `${opts.method} ${opts.path}: response is not JSON`,
        undefined,
        err,
      );
    }
  }

  async list(path: string, opts: ListOptions): Promise<ListPage> {
    const req: RequestOptions = {
      method: 'GET',
      path,
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue || undefined,
        resourceVersion: opts.resourceVersion,
      },
    };
    if (opts.signal) req.signal = opts.signal;
    const body = await this.request<{
      items?: unknown;
      metadata?: { resourceVersion?: unknown; continue?: unknown };
    }>(req);
    const items = Array.isArray(body?.items) ? (body.items as unknown[]) : [];
    const rv = body?.metadata?.resourceVersion;
    const cont = body?.metadata?.continue;
    const page: ListPage = { items, resourceVersion: typeof rv === 'string' ? rv : '' };
    if (typeof cont === 'string' && cont !== '') page.continue = cont;
    return page;
  }

  watch(
    path: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: Error) => void,
  ): AbortWatch {
    let aborted = false;
    let finished = false;
    let req: http.ClientRequest | undefined;

    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      req?.destroy();
      if (!aborted) onDone(err);
    };

    const query: RequestOptions['query'] = {
      watch: 'true',
      resourceVersion: opts.resourceVersion || undefined,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    };

    this.prepare('GET', path, query, {})
      .then((p) => {
        if (aborted) return;
        req = p.transport.request(p.url, p.options);
        req.on('socket', (s) => {
          s.setKeepAlive(true, this.keepAliveMs);
        });
        req.on('error', (err) => {
          finish(transportError(err, path));
        });
        req.on('response', (res) => {
          if (res.statusCode !== 200) {
            readBody(res, 64 * 1024)
              .then((text) => {
                finish(
                  apiErrorFromResponse(res.statusCode ?? 0, text, header(res, 'retry-after'), Date.now()),
                );
              })
              .catch((err: unknown) => {
                finish(transportError(err, path));
              });
            return;
          }
          res.setEncoding('utf8');
          let buf = '';
          const handleLine = (line: string): boolean => {
            const trimmed = line.trim();
            if (trimmed === '') return true;
            let parsed: unknown;
            try {
              parsed = JSON.parse(trimmed);
            } catch {
              finish(new ApiError(0, 'InvalidWatchEvent', `watch ${path}: a line of the stream is not JSON`));
              return false;
            }
            const ev = parsed as { type?: unknown; object?: unknown };
            if (typeof ev.type !== 'string') {
              finish(new ApiError(0, 'InvalidWatchEvent', `watch ${path}: an event has no type`));
              return false;
            }
            try {
              onEvent({ type: ev.type, object: ev.object });
            } catch (err) {
              finish(err instanceof Error ? err : new Error(String(err)));
              return false;
            }
            return true;
          };
          res.on('data', (chunk: string) => {
            if (finished) return;
            buf += chunk;
            let nl = buf.indexOf('\n');
            while (nl >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!handleLine(line) || finished) return;
              nl = buf.indexOf('\n');
            }
          });
          res.on('end', () => {
            if (finished) return;
            if (buf.trim() !== '' && !handleLine(buf)) return;
            finish();
          });
          res.on('error', (err) => {
            finish(transportError(err, path));
          });
          res.on('close', () => {
            // 'close' without 'end': the connection dropped mid-stream.
            if (!res.complete)
              finish(new ApiError(0, 'StreamClosed', `watch ${path}: connection closed mid-stream`));
            else finish();
          });
        });
        req.end();
      })
      .catch((err: unknown) => {
        finish(transportError(err, path));
      });

    return () => {
      if (aborted) return;
      aborted = true;
      finished = true;
      req?.destroy();
    };
  }

  private async requestText(opts: RequestOptions): Promise<string> {
    const headers: Headers = {};
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const p = await this.prepare(opts.method, opts.path, opts.query ?? {}, headers);
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    const aborted = (): ApiError => new ApiError(0, 'Aborted', `${opts.method} ${opts.path}: aborted`);
    if (opts.signal?.aborted) throw aborted();
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, text?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(text ?? '');
      };
      const req = p.transport.request(p.url, p.options);
      // Registered first: destroy() after settling still emits 'error'.
      req.on('error', (err) => {
        settle(transportError(err, opts.path));
      });
      const timer = setTimeout(() => {
        settle(new ApiError(0, 'Timeout', `${opts.method} ${opts.path}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = (): void => {
        settle(aborted());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (s) => {
        s.setKeepAlive(true, this.keepAliveMs);
      });
      req.on('response', (res) => {
        readBody(res, this.maxBodyBytes)
          .then((text) => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) settle(undefined, text);
            else settle(apiErrorFromResponse(code, text, header(res, 'retry-after'), Date.now()));
          })
          .catch((err: unknown) => {
            settle(transportError(err, opts.path));
          });
      });
      req.end(payload);
    });
  }

  private async prepare(
    method: HttpMethod,
    path: string,
    query: NonNullable<RequestOptions['query']>,
    extraHeaders: Headers,
  ): Promise<Prepared> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new ApiError(0, 'NoCluster', 'kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const options: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    // client-node's cached agent is a plain https.Agent without keep-alive, so every request would
    // open a new TLS connection (a lease renewal every 2 s, for one). Without a proxy, use Node's
    // global agent instead: it keeps connections alive and pools them per TLS identity, from the
    // ca/cert/key/servername options that applyToHTTPSOptions also set on the request.
    if (!cluster.proxyUrl) delete options.agent;
    const authHeaders: Headers = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      if (typeof v === 'string') authHeaders[k] = v;
      else if (typeof v === 'number') authHeaders[k] = String(v);
    }
    options.method = method;
    options.headers = {
      ...authHeaders,
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      ...extraHeaders,
    };
    return { url, options, transport: url.protocol === 'http:' ? http : https };
  }
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(res: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy();
        reject(new ApiError(0, 'ResponseTooLarge', `response larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete)
        reject(new ApiError(0, 'StreamClosed', 'connection closed before the response ended'));
    });
  });
}

function transportError(err: unknown, path: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return new ApiError(
    0,
    typeof code === 'string' ? code : 'TransportError',
    `${path}: ${e.message}`,
    undefined,
    e,
  );
}
