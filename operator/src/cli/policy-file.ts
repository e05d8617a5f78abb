/**
 * The SecurityPolicy manifest given with --policy, read one way for `vigil scan`, `vigil audit`
 * and `vigil admission render`: size-capped, decoded, parsed by the one YAML loader, exactly one
 * document of kind SecurityPolicy. Errors come back as the lines to print (the command exits 2).
 */
import { resolve } from 'node:path';
import type { Subject } from '../engine/types.ts';
import { printable } from './io.ts';
import { decodeText, parseManifests, readFileCapped, type InputError, type LoadOptions } from './load.ts';
import { locationLabel } from './output/result.ts';

/** `file:line: message`, as every command prints an input error. */
export function inputErrorLine(e: InputError): string {
  return `${printable(locationLabel({ file: e.file, line: e.line }))}: ${printable(e.message)}\n`;
}

/** The one SecurityPolicy document of `file` (relative to `cwd`), or the error lines to print. */
export function readPolicyDocument(
  file: string,
  cwd: string,
  load: Pick<LoadOptions, 'maxFileBytes' | 'maxAliasCount'>,
): Subject | string[] {
  const raw = readFileCapped(resolve(cwd, file), file, load.maxFileBytes);
  if (!Buffer.isBuffer(raw)) return [inputErrorLine(raw)];
  const text = decodeText(raw, file);
  if (typeof text !== 'string') return [inputErrorLine(text)];
  const docs: Subject[] = [];
  const errors: InputError[] = [];
  parseManifests(text, file, docs, errors, load);
  if (errors.length > 0) return errors.map(inputErrorLine);
  const doc = docs[0];
  if (!doc || docs.length !== 1)
    return [
      inputErrorLine({ file, message: `expected exactly one SecurityPolicy document, found ${docs.length}` }),
    ];
  if (doc.object.kind !== 'SecurityPolicy')
    return [
      inputErrorLine({
        file,
        message: `kind: expected SecurityPolicy, found ${JSON.stringify(doc.object.kind)}`,
      }),
    ];
  return doc;
}
