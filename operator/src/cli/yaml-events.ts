/**
 * Walking one YAML document as the parser's flat event stream (yaml.ts: parseEvents), whose
 * events point into the source text by offset. The loader (load.ts) checks documents with it
 * before they are constructed, and the field locator (locate.ts) follows a field path through it
 * to the line and column where the field is written.
 *
 * A document's events are its DOCUMENT event, its content node and a closing POP. A collection
 * (SEQUENCE, MAPPING) is followed by its children and a POP; a mapping's children alternate key
 * and value. SCALAR and ALIAS events are single nodes.
 */
import { EVENT_ID, getScalarValue, SCALAR_STYLE, type Event } from '../yaml.ts';

/** Index of the event after the node that starts at `i`. */
export function skipNode(events: readonly Event[], i: number): number {
  const type = events[i]?.type;
  if (type !== EVENT_ID.SEQUENCE && type !== EVENT_ID.MAPPING) return i + 1;
  let depth = 0;
  for (let j = i; j < events.length; j++) {
    const t = (events[j] as Event).type;
    if (t === EVENT_ID.SEQUENCE || t === EVENT_ID.MAPPING) depth++;
    else if (t === EVENT_ID.POP && --depth === 0) return j + 1;
  }
  return events.length;
}

/**
 * Where the node starting at event `i` is written: a collection's first character (a block
 * sequence's `-`, a mapping's first key), a scalar's (its opening quote when quoted), an alias's
 * `*`. -1 for an empty scalar (`key:` with no value), which is written nowhere.
 */
export function nodeOffset(events: readonly Event[], i: number): number {
  const e = events[i];
  if (!e) return -1;
  switch (e.type) {
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      return e.start;
    case EVENT_ID.SCALAR:
      if (e.valueStart < 0) return -1;
      return e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED
        ? e.valueStart - 1
        : e.valueStart;
    case EVENT_ID.ALIAS:
      return e.anchorStart - 1;
    default:
      return -1;
  }
}

/** The anchor a node defines (`&name`), or undefined. */
function anchorOf(e: Event, text: string): string | undefined {
  if (e.type === EVENT_ID.DOCUMENT || e.type === EVENT_ID.POP || e.type === EVENT_ID.ALIAS) return undefined;
  return e.anchorStart < 0 ? undefined : text.slice(e.anchorStart, e.anchorEnd);
}

/** A problem found in a document before it is constructed, at an offset in the text. */
export interface DocumentProblem {
  offset: number;
  message: string;
}

export const COLLECTION_KEY_MESSAGE =
  'a mapping key is itself a list or a map; Kubernetes objects have string keys';

interface Frame {
  mapping: boolean;
  /** In a mapping: the next child is a key. */
  expectKey: boolean;
  anchor: string | undefined;
  /** Alias nodes in this collection's expansion so far. */
  aliases: number;
}

/**
 * Checks the document whose events are `events` (DOCUMENT … POP) for what a JavaScript object
 * cannot hold or what would exhaust memory once expanded:
 * - a key that is a list or a map (`? [a, b]`, `{x: 1}: y`);
 * - aliases that expand to more than `maxAliases` alias nodes in all. The parser shares an
 *   anchored node between its aliases, but everything that walks the object afterwards (rules,
 *   output) sees each alias expanded, so a billion-laughs document of 90 aliases is a billion
 *   nodes. An alias counts once plus the aliases inside the node it names, recursively.
 */
export function checkDocument(
  events: readonly Event[],
  text: string,
  maxAliases: number,
): DocumentProblem | undefined {
  /** Alias nodes in the expansion of each anchored node, by anchor name (the latest definition). */
  const weights = new Map<string, number>();
  /** Anchors still open: an alias to one of them is a cycle. */
  const open = new Set<string>();
  const stack: Frame[] = [{ mapping: false, expectKey: false, anchor: undefined, aliases: 0 }];
  const top = (): Frame => stack[stack.length - 1] as Frame;
  /** A child node is complete: in a mapping, a key is followed by a value and a value by a key. */
  const completed = (): void => {
    const f = top();
    if (f.mapping) f.expectKey = !f.expectKey;
  };
  for (let i = 1; i < events.length - 1; i++) {
    const e = events[i] as Event;
    switch (e.type) {
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        if (top().mapping && top().expectKey) return { offset: e.start, message: COLLECTION_KEY_MESSAGE };
        const anchor = anchorOf(e, text);
        if (anchor !== undefined) open.add(anchor);
        stack.push({ mapping: e.type === EVENT_ID.MAPPING, expectKey: true, anchor, aliases: 0 });
        break;
      }
      case EVENT_ID.POP: {
        const done = stack.pop() as Frame;
        if (done.anchor !== undefined) {
          open.delete(done.anchor);
          weights.set(done.anchor, done.aliases);
        }
        top().aliases += done.aliases;
        completed();
        break;
      }
      case EVENT_ID.SCALAR: {
        const anchor = anchorOf(e, text);
        if (anchor !== undefined) weights.set(anchor, 0);
        completed();
        break;
      }
      case EVENT_ID.ALIAS: {
        const name = text.slice(e.anchorStart, e.anchorEnd);
        if (open.has(name))
          return { offset: e.anchorStart - 1, message: `alias *${name} refers to the node that contains it` };
        // An unknown alias is reported by the constructor ("unidentified alias").
        top().aliases += 1 + (weights.get(name) ?? 0);
        if (stack.reduce((n, f) => n + f.aliases, 0) > maxAliases)
          return {
            offset: e.anchorStart - 1,
            message: `too many aliases: expanded, this document repeats more than ${maxAliases} aliased nodes (a resource exhaustion attack?)`,
          };
        completed();
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/** The node a path segment leads to from the node at `i`, and where its key (or item) is written. */
export interface Step {
  index: number;
  offset: number;
}

/**
 * Follows field paths through one document's events (DOCUMENT … POP): aliases are followed to
 * their anchored node, and `<<` merge keys to the maps they merge (the first one holding the key
 * wins, after the mapping's own keys, as the constructor merges them).
 */
export class DocumentNodes {
  private anchors: Map<string, number[]> | undefined;
  readonly events: readonly Event[];
  private readonly text: string;

  constructor(events: readonly Event[], text: string) {
    this.events = events;
    this.text = text;
  }

  /** The content node's index; undefined for an empty document. */
  get root(): number | undefined {
    return this.events.length > 2 && this.events[1]?.type !== EVENT_ID.POP ? 1 : undefined;
  }

  /** The anchored node an alias at `i` names (the latest definition before it); `i` when not an alias. */
  private deref(i: number): number | undefined {
    let at = i;
    for (let hops = 0; hops < 100; hops++) {
      const e = this.events[at];
      if (e?.type !== EVENT_ID.ALIAS) return at;
      const name = this.text.slice(e.anchorStart, e.anchorEnd);
      const defs = this.anchorIndex().get(name) ?? [];
      let found: number | undefined;
      for (const d of defs) if (d < at) found = d;
      if (found === undefined) return undefined;
      at = found;
    }
    return undefined;
  }

  private anchorIndex(): Map<string, number[]> {
    if (this.anchors) return this.anchors;
    const m = new Map<string, number[]>();
    this.events.forEach((e, i) => {
      const name = anchorOf(e, this.text);
      if (name === undefined) return;
      const list = m.get(name);
      if (list) list.push(i);
      else m.set(name, [i]);
    });
    this.anchors = m;
    return m;
  }

  /** The items of the sequence at `i` (after following an alias), as event indexes. */
  items(i: number): number[] | undefined {
    const at = this.deref(i);
    if (at === undefined || this.events[at]?.type !== EVENT_ID.SEQUENCE) return undefined;
    const out: number[] = [];
    for (
      let j = at + 1;
      j < this.events.length && this.events[j]?.type !== EVENT_ID.POP;
      j = skipNode(this.events, j)
    )
      out.push(j);
    return out;
  }

  /** One step of a field path from the node at `i`. */
  step(i: number, seg: string | number, depth = 0): Step | undefined {
    const at = this.deref(i);
    if (at === undefined) return undefined;
    const e = this.events[at];
    if (e?.type === EVENT_ID.SEQUENCE) {
      if (typeof seg !== 'number') return undefined;
      const item = this.items(at)?.[seg];
      return item === undefined ? undefined : { index: item, offset: nodeOffset(this.events, item) };
    }
    if (e?.type !== EVENT_ID.MAPPING) return undefined;
    const key = String(seg);
    const merged: number[] = [];
    for (let j = at + 1; j < this.events.length && this.events[j]?.type !== EVENT_ID.POP;) {
      const k = this.events[j] as Event;
      const value = skipNode(this.events, j);
      if (k.type === EVENT_ID.SCALAR) {
        const name = getScalarValue(this.text, k);
        if (name === '<<' && k.style === SCALAR_STYLE.PLAIN) merged.push(value);
        else if (name === key) return { index: value, offset: nodeOffset(this.events, j) };
      }
      j = skipNode(this.events, value);
    }
    if (depth > 20) return undefined;
    for (const m of merged) {
      const sources = this.items(m) ?? [m];
      for (const src of sources) {
        const found = this.step(src, seg, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }
}
