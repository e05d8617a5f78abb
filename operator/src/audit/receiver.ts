/**
 * The audit webhook receiver: an HTTPS endpoint for the API server's webhook audit backend
 * (--audit-webhook-config-file, batch mode), which POSTs audit.k8s.io/v1 EventList documents.
 *
 * - The sender is authenticated before its body is read: a client certificate that verifies
 *   against --audit-webhook-client-ca-file, or `Authorization: Bearer` with the token in
 *   --audit-webhook-token-file (re-read when the file changes, as a mounted Secret does).
 *   Anything else gets 401 and is counted (reason unauthenticated).
 * - A body over maxBodyBytes gets 413 without being held (too_large); a body that is not JSON,
 *   or not an Event or EventList, gets 400 (malformed); items of a list that are not Events are
 *   counted (malformed) and the rest of the list is judged.
 * - The pipeline's queue is bounded: a batch that does not fit gets 429 with Retry-After (its
 *   events counted as queue_full) and the API server's batch backend sends it again. A batch
 *   that fits is answered 200 at once: judging never holds the API server's request.
 * - The serving certificate, its key and the client CA are re-read when their files change
 *   (checked every 30 s): a renewed certificate is served without a restart.
 * - Every refusal is one log line (at most one per reason every 10 s, with how many were
 *   folded into it), naming the reason and the peer, never the payload.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import { createServer, type Server } from 'node:https';
import type { Logger } from '../controller/logger.ts';
import { listenOn, parseBindAddress } from '../observability/metrics.ts';
import type { AuditDropReason } from '../observability/metrics.ts';
import { eventsOf } from './event.ts';
import type { AuditEvent } from './types.ts';

export const DEFAULT_AUDIT_QUEUE_SIZE = 20_000;
export const DEFAULT_AUDIT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** The path the webhook kubeconfig's server URL ends with. */
export const AUDIT_WEBHOOK_PATH = '/audit';

export interface AuditReceiverOptions {
  bindAddress: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** Verify client certificates against this CA bundle. */
  clientCaFile?: string;
  /** Accept `Authorization: Bearer <token>` with the token in this file. */
  tokenFile?: string;
  maxBodyBytes?: number;
  /** Where accepted events go: false when the batch does not fit (the receiver answers 429). */
  offer: (events: readonly AuditEvent[]) => boolean;
  accepted?: (n: number) => void;
  dropped: (reason: AuditDropReason, n: number) => void;
  logger: Logger;
  /** How often the TLS files are checked for a change (rotation); default 30 s. */
  tlsReloadIntervalMs?: number;
  /** Milliseconds now (log rate limiting); default Date.now. */
  now?: () => number;
}

/** Reads the bearer token lazily, again whenever the file's mtime or size changes (checked every 5 s). */
class TokenFile {
  private readonly path: string;
  private digest: Buffer | undefined;
  private stamp = '';
  private checkedAt = -Infinity;
  private readonly now: () => number;

  constructor(path: string, now: () => number) {
    this.path = path;
    this.now = now;
    this.reload(true);
  }

  private reload(initial: boolean): void {
    this.checkedAt = this.now();
    try {
      const st = statSync(this.path);
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === this.stamp) return;
      const token = readFileSync(this.path, 'utf8').trim();
      if (token === '') throw new Error('the token file is empty');
      this.digest = sha256(token);
      this.stamp = stamp;
    } catch (err) {
      if (initial) throw err;
      // Keep the last good token while a Secret update is being swapped in.
    }
  }

  matches(header: string | undefined): boolean {
    if (this.now() - this.checkedAt > 5000) this.reload(false);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m || !this.digest) return false;
    return timingSafeEqual(sha256(m[1] ?? ''), this.digest);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export interface AuditReceiver {
  server: Server;
  /** The port listened on. */
  port: number;
  close(): Promise<void>;
}

/** Starts the receiver; undefined when bindAddress is "0" (disabled). Throws on unreadable files. */
export async function startAuditReceiver(opts: AuditReceiverOptions): Promise<AuditReceiver | undefined> {
  if (parseBindAddress(opts.bindAddress) === undefined) return undefined;
  if (!opts.clientCaFile && !opts.tokenFile)
    throw new Error(
      'the audit webhook needs a client CA file or a token file to authenticate the API server',
    );
  const now = opts.now ?? Date.now;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_AUDIT_MAX_BODY_BYTES;
  const token = opts.tokenFile ? new TokenFile(opts.tokenFile, now) : undefined;
  const logged = new Map<string, { at: number; folded: number }>();
  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: AuditDropReason | 'method' | 'path',
    detail: string,
    close = false,
  ): void => {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (status === 429) headers['retry-after'] = '1';
    if (close) headers['connection'] = 'close';
    res.writeHead(status, headers).end(`${detail}\n`);
    if (close) res.once('finish', () => req.destroy());
    const t = now();
    const prev = logged.get(reason);
    if (prev && t - prev.at < 10_000) {
      prev.folded++;
      return;
    }
    logged.set(reason, { at: t, folded: 0 });
    opts.logger.warn('audit webhook request refused', {
      reason,
      status,
      detail,
      peer: req.socket.remoteAddress,
      ...(prev && prev.folded > 0 ? { alsoRefusedSinceLastLine: prev.folded } : {}),
    });
  };

  const authenticated = (req: IncomingMessage): boolean => {
    if (opts.clientCaFile && (req.socket as { authorized?: boolean }).authorized === true) return true;
    return token?.matches(req.headers.authorization) ?? false;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!authenticated(req)) {
      opts.dropped('unauthenticated', 1);
      refuse(
        req,
        res,
        401,
        'unauthenticated',
        'unauthenticated: present a client certificate or the bearer token',
        true,
      );
      return;
    }
    if (path !== AUDIT_WEBHOOK_PATH) {
      refuse(req, res, 404, 'path', `not found: POST audit events to ${AUDIT_WEBHOOK_PATH}`, true);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      refuse(req, res, 405, 'method', 'method not allowed: POST an audit.k8s.io/v1 EventList', true);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBody) {
      opts.dropped('too_large', 1);
      refuse(req, res, 413, 'too_large', `body of ${declared} bytes is over the limit of ${maxBody}`, true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        chunks.length = 0;
        opts.dropped('too_large', 1);
        refuse(req, res, 413, 'too_large', `body is over the limit of ${maxBody} bytes`, true);
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (over) return;
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch (err) {
        opts.dropped('malformed', 1);
        const msg = err instanceof Error ? err.message.slice(0, 120) : 'parse error';
        refuse(req, res, 400, 'malformed', `body of ${size} bytes is not JSON: ${msg}`);
        return;
      }
      const { events, errors } = eventsOf(doc);
      if (events.length === 0 && errors.length > 0) {
        opts.dropped('malformed', errors.length);
        refuse(req, res, 400, 'malformed', `no audit events: ${errors[0]?.slice(0, 160) ?? ''}`);
        return;
      }
      if (!opts.offer(events)) {
        opts.dropped('queue_full', events.length);
        refuse(req, res, 429, 'queue_full', `queue full: ${events.length} events refused, send them again`);
        return;
      }
      opts.accepted?.(events.length);
      if (errors.length > 0) {
        opts.dropped('malformed', errors.length);
        refuse(
          req,
          res,
          200,
          'malformed',
          `${errors.length} items of ${errors.length + events.length} are not audit events (first: ${errors[0]?.slice(0, 160) ?? ''}); the others were accepted`,
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  };

  const tlsFiles = [opts.tlsCertFile, opts.tlsKeyFile, ...(opts.clientCaFile ? [opts.clientCaFile] : [])];
  const secureContext = (): SecureContextOptions => ({
    cert: readFileSync(opts.tlsCertFile),
    key: readFileSync(opts.tlsKeyFile),
    ...(opts.clientCaFile ? { ca: readFileSync(opts.clientCaFile) } : {}),
    minVersion: 'TLSv1.2',
  });
  const stamp = (): string =>
    tlsFiles
      .map((f) => {
        try {
          const st = statSync(f);
          return `${st.mtimeMs}:${st.size}:${st.ino}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  let tlsStamp = stamp();
  const server = createServer(
    {
      ...secureContext(),
      ...(opts.clientCaFile ? { requestCert: true, rejectUnauthorized: false } : {}),
    },
    handle,
  );
  // Rotated certificates (cert-manager renews the mounted Secret): new connections use the new
  // files once they have all been read; a half-written set keeps the old context.
  const reload = setInterval(() => {
    const now = stamp();
    if (now === tlsStamp) return;
    try {
      server.setSecureContext(secureContext());
      tlsStamp = now;
      opts.logger.info('audit webhook TLS files reloaded');
    } catch (err) {
      opts.logger.warn('audit webhook TLS files changed but could not be loaded; keeping the old ones', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }, opts.tlsReloadIntervalMs ?? 30_000);
  reload.unref();
  server.once('close', () => clearInterval(reload));
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 64;
  server.on('tlsClientError', () => undefined);
  const listening = await listenOn(server, opts.bindAddress).catch((err: unknown) => {
    clearInterval(reload);
    throw err;
  });
  if (!listening) {
    clearInterval(reload);
    return undefined;
  }
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
