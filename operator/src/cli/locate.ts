/**
 * Where in its file a finding's offending field is. Rules name the field in their message as a
 * path from the object's root (`spec.template.spec.containers[0].securityContext.privileged`);
 * the locator follows the path through the parser events the loader kept for the object's
 * document (yaml-events.ts). A field that is absent (a missing securityContext) is located at
 * its nearest existing ancestor (the container).
 */
import type { KubeObject } from '../engine/types.ts';
import type { DocumentSource } from './load.ts';
import { DocumentNodes, nodeOffset } from './yaml-events.ts';

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

/**
 * Locates fields in the documents subjects were read from; the last document's node index is
 * kept, as a subject's findings come together.
 */
export class FieldLocator {
  private last: DocumentNodes | undefined;

  private nodes(src: DocumentSource): DocumentNodes {
    if (this.last?.events !== src.events) this.last = new DocumentNodes(src.events, src.source.text);
    return this.last;
  }

  /** Where `path` is in the subject's document; undefined when it is not a path or the document has no content. */
  locate(src: DocumentSource, path: string): FieldLocation | undefined {
    const segments = parseFieldPath(path);
    if (!segments) return undefined;
    const nodes = this.nodes(src);
    const root = nodes?.root;
    if (!nodes || root === undefined) return undefined;
    let node = root;
    let offset = nodeOffset(nodes.events, root);
    if (src.item !== undefined) {
      const items = nodes.step(node, 'items');
      const item = items && nodes.step(items.index, src.item);
      if (!item) return undefined;
      node = item.index;
      offset = item.offset;
    }
    let exact = true;
    for (const seg of segments) {
      const next = nodes.step(node, seg);
      if (!next || next.offset < 0) {
        exact = false;
        break;
      }
      node = next.index;
      offset = next.offset;
    }
    if (offset < 0) return undefined;
    const { line, col } = src.source.lines.linePos(offset);
    return { path, line, column: col, exact };
  }
}
