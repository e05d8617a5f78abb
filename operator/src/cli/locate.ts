/**
 * Where in its file a finding's offending field is. Rules name the field in their message as a
 * path from the object's root (`spec.template.spec.containers[0].securityContext.privileged`);
 * the locator parses the object's document again, alone, with the loader's one YAML parser
 * (composeDocuments) and follows the path through the node ranges. A field that is absent (a
 * missing securityContext) is located at its nearest existing ancestor (the container).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { KubeObject } from '../engine/types.ts';
import { composeDocuments, type DocumentSource } from './load.ts';

export type PathSegment = string | number;

/** The offending field of a finding and where it, or its nearest existing ancestor, is. */
export interface FieldLocation {
  /** The field path the finding names, e.g. `spec.containers[0].securityContext.privileged`. */
  path: string;
  /** 1-based line and column of the field's key (or list item), or of its nearest existing ancestor. */
  line: number;
  column: number;
  /** False when the field itself is absent and the position is its nearest existing ancestor's. */
  exact: boolean;
}

const SEGMENT = String.raw`(?:\.[A-Za-z_$][\w$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])`;
/**
 * A path in a message: an identifier followed by at least one `.key`, `[index]` or `["key"]`,
 * not glued to a preceding word, dot, quote or slash (so `"kernel.spec"` or `a/b.c` inside
 * quoted values are not paths).
 */
const PATH_IN_TEXT = new RegExp(String.raw`(?<![\w.\]"'/$-])([A-Za-z_][\w-]*)(${SEGMENT}+)`, 'g');
const ONE_SEGMENT = new RegExp(SEGMENT, 'y');

/** `a.b[0]["c.d"]` → ['a', 'b', 0, 'c.d']; undefined when it is not such a path. */
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const head = /^[A-Za-z_][\w-]*/.exec(path);
  if (!head) return undefined;
  const out: PathSegment[] = [head[0]];
  ONE_SEGMENT.lastIndex = head[0].length;
  while (ONE_SEGMENT.lastIndex < path.length) {
    const m = ONE_SEGMENT.exec(path);
    if (!m) return undefined;
    const seg = m[0];
    if (seg.startsWith('.')) out.push(seg.slice(1));
    else if (seg.startsWith('["')) out.push(JSON.parse(seg.slice(1, -1)) as string);
    else out.push(Number(seg.slice(1, -1)));
  }
  return out;
}

/**
 * The first field path in a finding's message that starts at a top-level field of the object
 * (so prose such as `kernel.org` is not taken for one); undefined when the message names none.
 */
export function fieldPathIn(message: string, object: KubeObject): string | undefined {
  for (const m of message.matchAll(PATH_IN_TEXT)) {
    const root = m[1] as string;
    if (!Object.hasOwn(object, root)) continue;
    const path = `${root}${m[2] ?? ''}`;
    if (parseFieldPath(path)) return path;
  }
  return undefined;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || key.value === '<<');
}

/** Follows an alias to the node it names (anchors are in the same document). */
function deref(node: unknown, doc: Document.Parsed): unknown {
  let n = node;
  for (let hops = 0; isAlias(n) && hops < 100; hops++) n = n.resolve(doc);
  return n;
}

interface Step {
  node: unknown;
  /** Offset of the key (maps) or the item (lists). */
  offset: number;
}

function stepInto(node: unknown, seg: PathSegment, doc: Document.Parsed, depth = 0): Step | undefined {
  const n = deref(node, doc);
  if (isSeq(n) && typeof seg === 'number') {
    const item = n.items[seg] as Node | null | undefined;
    const offset = (deref(item, doc) as Node | undefined)?.range?.[0] ?? item?.range?.[0];
    return item === undefined || offset === undefined ? undefined : { node: item, offset };
  }
  if (!isMap(n)) return undefined;
  const key = String(seg);
  const merged: unknown[] = [];
  for (const pair of n.items) {
    if (isMergeKey(pair.key)) {
      merged.push(pair.value);
      continue;
    }
    if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range)
      return { node: pair.value, offset: pair.key.range[0] };
  }
  // `<<: *base` or `<<: [*a, *b]`: keys of the merged maps, the first one winning as in the loader.
  if (depth > 20) return undefined;
  for (const m of merged) {
    const v = deref(m, doc);
    const sources = isSeq(v) ? v.items : [v];
    for (const src of sources) {
      const found = stepInto(src, seg, doc, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** The document of `src`, parsed again on its own from its slice of the text. */
function documentOf(src: DocumentSource): Document.Parsed | undefined {
  const slice = src.source.text.slice(src.start, src.end);
  for (const doc of composeDocuments(slice, new LineCounter())) {
    if (doc.errors.length > 0) return undefined;
    if (doc.contents !== null) return doc;
  }
  return undefined;
}

/**
 * Locates fields in the documents subjects were read from. Each document is parsed again alone,
 * with the loader's parser; the last one is kept, as a subject's findings come together.
 */
export class FieldLocator {
  private last: { src: DocumentSource; doc: Document.Parsed | undefined } | undefined;

  private document(src: DocumentSource): Document.Parsed | undefined {
    if (src.doc) return src.doc;
    const last = this.last;
    if (last && last.src.source === src.source && last.src.start === src.start) return last.doc;
    const doc = documentOf(src);
    this.last = { src, doc };
    return doc;
  }

  /** Where `path` is in the subject's document; undefined when it is not a path or the document cannot be read back. */
  locate(src: DocumentSource, path: string): FieldLocation | undefined {
    const segments = parseFieldPath(path);
    if (!segments) return undefined;
    const doc = this.document(src);
    if (!doc?.contents) return undefined;
    let node: unknown = doc.contents;
    let offset = doc.contents.range[0];
    if (src.item !== undefined) {
      const items = stepInto(node, 'items', doc);
      const item = items && stepInto(items.node, src.item, doc);
      if (!item) return undefined;
      node = item.node;
      offset = item.offset;
    }
    let exact = true;
    for (const seg of segments) {
      const next = stepInto(node, seg, doc);
      if (!next) {
        exact = false;
        break;
      }
      node = next.node;
      offset = next.offset;
    }
    // A kept document's ranges are offsets in the whole text; a re-parsed slice's, in the slice.
    const { line, col } = src.source.lines.linePos(src.doc ? offset : src.start + offset);
    return { path, line, column: col, exact };
  }
}
