/**
 * A small Kubernetes REST adapter over @kubernetes/client-node's KubeConfig
 * (auth, TLS, proxies) and undici's fetch. Reads go through the reflector; this
 * is for writes (server-side apply, deletes, events) and one-off GETs.
 */
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { parseRetryAfter } from '../controller/backoff.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  /** From a 429/503 Retry-After header, when present. */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, reason: string, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Abort the request after this many ms (default 30 s). */
  timeoutMs?: number;
}

/** Counts every request by verb, for the API-load benchmark and metrics. */
export type RequestObserver = (method: string, status: number, seconds: number) => void;

export class KubeApi {
  readonly kc: KubeConfig;
  private readonly server: string;
  private observer: RequestObserver | undefined;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  onRequest(observer: RequestObserver): void {
    this.observer = observer;
  }

  async request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const started = performance.now();
    const res = await fetch(url, {
      method,
      headers,
      body,
      dispatcher: ctx.getDispatcher(),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    this.observer?.(method, res.status, (performance.now() - started) / 1000);
    if (res.status >= 400) {
      let reason = res.statusText;
      let message = text.slice(0, 2000);
      try {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? reason;
        message = status.message ?? message;
      } catch {
        // not a Status object
      }
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      throw new ApiError(
        res.status,
        reason,
        `${method} ${path}: ${res.status} ${reason}: ${message}`,
        retryAfter,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Server-side apply (force) of a whole object or a status subresource. */
  apply<T = unknown>(path: string, obj: unknown, fieldManager: string): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: true },
    });
  }

  async deleteIfExists(path: string, preconditionUid?: string): Promise<boolean> {
    try {
      await this.request(
        'DELETE',
        path,
        preconditionUid ? { body: { preconditions: { uid: preconditionUid } } } : {},
      );
      return true;
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.status === 409)) return false;
      throw e;
    }
  }
}
