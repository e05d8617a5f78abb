/**
 * A parser thread of `vigil scan` (parallel.ts): reads and parses the files it is sent with the
 * loader (load.ts), sends their subjects back, keeps their documents, and locates findings'
 * fields in them (locate.ts) when asked.
 */
import { parentPort } from 'node:worker_threads';
import type { Subject } from '../engine/types.ts';
import { documentSource, loadFile } from './load.ts';
import { FieldLocator, type FieldLocation } from './locate.ts';
import type { FromWorker, ToWorker, WireOutcome } from './parallel.ts';

const port = parentPort;
if (!port) throw new Error('load-worker.ts runs as a worker thread');

/** The subjects of every file parsed here, by input index. */
const files = new Map<number, Subject[]>();
const locator = new FieldLocator();

port.on('message', (m: ToWorker) => {
  if (m.op === 'load') {
    const outcome = loadFile(m.abs, m.display, {
      maxFileBytes: m.maxFileBytes,
      maxAliasCount: m.maxAliasCount,
    });
    let wire: WireOutcome;
    if ('unreadable' in outcome) wire = outcome;
    else {
      files.set(m.id, outcome.subjects);
      const nonObjects: number[] = [];
      outcome.errors.forEach((e, k) => {
        if (outcome.nonObjects.has(e)) nonObjects.push(k);
      });
      wire = { subjects: outcome.subjects, errors: outcome.errors, nonObjects };
    }
    const reply: FromWorker = { op: 'loaded', id: m.id, outcome: wire };
    port.postMessage(reply);
    return;
  }
  const results = m.requests.map(([file, index, path]): FieldLocation | null => {
    const subject = files.get(file)?.[index];
    const src = subject && documentSource(subject);
    return (src && locator.locate(src, path)) ?? null;
  });
  const reply: FromWorker = { op: 'located', seq: m.seq, results };
  port.postMessage(reply);
});
