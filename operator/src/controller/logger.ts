/**
 * Logging as a port. Controller and adapter modules log through this
 * interface; the runtime passes a winston logger (structurally compatible)
 * and tests pass `recordingLogger()`.
 */
export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  child(meta: LogMeta): Logger;
}

export const noopLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => noopLogger,
};

export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: LogMeta;
}

/** A logger that keeps every record (children share the list), for tests. */
export function recordingLogger(
  base: LogMeta = {},
  records: LogRecord[] = [],
): Logger & { records: LogRecord[] } {
  const log =
    (level: LogRecord['level']) =>
    (message: string, meta: LogMeta = {}): void => {
      records.push({ level, message, meta: { ...base, ...meta } });
    };
  return {
    records,
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: (meta) => recordingLogger({ ...base, ...meta }, records),
  };
}

/** A short, safe description of an error for log fields (never a response body). */
export function errorSummary(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 500);
  return String(err).slice(0, 500);
}
