/**
 * Typed errors from the Kubernetes API. This is the only module that reads
 * raw `Status` bodies; the rest of the code branches on `code`/`reason`.
 * Messages never include the raw response body.
 */
import { parseRetryAfter } from '../controller/backoff.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status code; 0 for transport failures (connection refused, reset, timeout). */
  readonly code: number;
  /** `Status.reason` (e.g. Expired, Conflict, NotFound, AlreadyExists, TooManyRequests) or ''. */
  readonly reason: string;
  /** Server-requested wait before retrying (Retry-After header or details.retryAfterSeconds). */
  readonly retryAfterMs: number | undefined;

  constructor(code: number, reason: string, message: string, retryAfterMs?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

interface StatusLike {
  kind?: unknown;
  code?: unknown;
  reason?: unknown;
  message?: unknown;
  details?: { retryAfterSeconds?: unknown };
}

function asStatus(v: unknown): StatusLike {
  return typeof v === 'object' && v !== null ? v : {};
}

/** Builds an ApiError from an HTTP error response. */
export function apiErrorFromResponse(
  code: number,
  body: string,
  retryAfterHeader: string | undefined,
  nowMs: number,
): ApiError {
  let status: StatusLike = {};
  try {
    status = asStatus(JSON.parse(body));
  } catch {
    // Not a Status (a proxy's HTML page, say): keep only the code.
  }
  return apiErrorFromStatus(status, code, retryAfterHeader, nowMs);
}

/** Builds an ApiError from a `Status` object (an HTTP error body or a watch ERROR event). */
export function apiErrorFromStatus(
  statusObj: unknown,
  fallbackCode: number,
  retryAfterHeader: string | undefined,
  nowMs: number,
): ApiError {
  const s = asStatus(statusObj);
  const code = typeof s.code === 'number' && s.code > 0 ? s.code : fallbackCode;
  const reason = typeof s.reason === 'string' ? s.reason : '';
  const msg = typeof s.message === 'string' && s.message !== '' ? s.message : `HTTP ${code}`;
  let retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  const ras = s.details?.retryAfterSeconds;
  if (retryAfterMs === undefined && typeof ras === 'number' && ras >= 0) retryAfterMs = ras * 1000;
  return new ApiError(
    code,
    reason,
    `${code} ${reason || 'Error'}: ${clipQuoted(msg).slice(0, 500)}`,
    retryAfterMs,
  );
}

/**
 * Long quoted values (an invalid name the server quotes twice, say) shortened to their ends, so
 * the reason after them survives the length limit.
 */
export function clipQuoted(msg: string): string {
  return msg.replace(/"([^"]{81,})"/g, (_m, v: string) => `"${v.slice(0, 40)}…${v.slice(-30)}"`);
}

function codeOf(err: unknown): number | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

/** 410 Gone: the resourceVersion (or continue token) is too old; relist. */
export function isGone(err: unknown): boolean {
  return codeOf(err) === 410;
}

export function isNotFound(err: unknown): boolean {
  return codeOf(err) === 404;
}

/** 409 with any reason (Conflict on update, AlreadyExists on create). */
export function isConflict(err: unknown): boolean {
  return codeOf(err) === 409;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

export function isTooManyRequests(err: unknown): boolean {
  return codeOf(err) === 429;
}

/** Worth retrying with backoff: transport failures, 409, 429, 5xx. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.code === 0 || err.code === 409 || err.code === 429 || err.code >= 500;
}
