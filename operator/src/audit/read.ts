/**
 * Streams audit events out of the API server's log backend: one JSON Event (or EventList) per
 * line, or pretty-printed documents whose first line is "{" and last line is "}". Lines are
 * split as bytes arrive, so memory is bounded by the longest line, and a line longer than
 * maxLineBytes is skipped and reported without being held.
 */
import { eventsOf } from './event.ts';
import type { AuditEvent } from './types.ts';

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export type ReadItem = { line: number; event: AuditEvent } | { line: number; error: string };

async function* rawLines(
  source: AsyncIterable<Uint8Array | string>,
  maxLineBytes: number,
): AsyncGenerator<{ line: number; text: string } | { line: number; tooLong: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let parts: Uint8Array[] = [];
  let size = 0;
  let skipping = false;
  let line = 1;
  const finish = (): { line: number; text: string } | { line: number; tooLong: number } => {
    const out = skipping
      ? { line, tooLong: size }
      : { line, text: decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts)) };
    parts = [];
    size = 0;
    skipping = false;
    line++;
    return out;
  };
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl === -1 ? buf.length : nl;
      const piece = buf.subarray(start, end);
      size += piece.length;
      if (size > maxLineBytes) {
        skipping = true;
        parts = [];
      } else if (!skipping && piece.length > 0) parts.push(Uint8Array.from(piece));
      if (nl === -1) break;
      yield finish();
      start = nl + 1;
    }
  }
  if (size > 0 || skipping) yield finish();
}

/** Every event in the input, in order, and an error for each line or document that is not one. */
export async function* readAuditEvents(
  source: AsyncIterable<Uint8Array | string>,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<ReadItem> {
  // A pretty-printed document being collected: its first line and text so far.
  let doc: { line: number; text: string[]; size: number } | undefined;
  for await (const l of rawLines(source, maxLineBytes)) {
    if ('tooLong' in l) {
      if (doc) {
        yield {
          line: doc.line,
          error: `document skipped: line ${l.line} is longer than ${maxLineBytes} bytes`,
        };
        doc = undefined;
      } else yield { line: l.line, error: `line longer than ${maxLineBytes} bytes skipped` };
      continue;
    }
    const text = l.text.replace(/^\uFEFF/, '').trimEnd();
    if (doc) {
      doc.text.push(text);
      doc.size += text.length + 1;
      if (doc.size > maxLineBytes) {
        yield { line: doc.line, error: `document longer than ${maxLineBytes} bytes skipped` };
        doc = undefined;
      } else if (text === '}') {
        const started = doc.line;
        const joined = doc.text.join('\n');
        doc = undefined;
        yield* parsed(joined, started);
      }
      continue;
    }
    if (text.trim() === '') continue;
    if (text === '{') {
      doc = { line: l.line, text: [text], size: 2 };
      continue;
    }
    yield* parsed(text, l.line);
  }
  if (doc) yield { line: doc.line, error: 'document not closed: the input ended before its closing "}"' };
}

function* parsed(text: string, line: number): Generator<ReadItem> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    yield {
      line,
      error: `invalid JSON: ${err instanceof Error ? err.message.slice(0, 200) : 'parse error'}`,
    };
    return;
  }
  const { events, errors } = eventsOf(value);
  for (const e of errors) yield { line, error: e };
  for (const event of events) yield { line, event };
}
