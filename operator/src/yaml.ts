/**
 * Vigil's one YAML parser and writer: js-yaml, the parser @kubernetes/client-node already brings
 * into the production tree (so the tree holds one YAML implementation, not two). Everything that
 * reads or writes YAML — `vigil scan`'s loader and field locator, kubeconfig, alert rules, the
 * rendered admission policies, the scripts and the tests — goes through this module.
 *
 * YAML is read the way Kubernetes reads it. kubectl converts YAML with go-yaml v2, which follows
 * YAML 1.1: `yes`/`on`/`y` are booleans and `0644` is octal, so `privileged: yes` is privileged.
 * Timestamps and base-60 numbers stay strings, as in go-yaml. Unknown tags (`!foo`) are read as
 * the plain value they tag. Duplicate keys are an error: the API server's strict decoding rejects
 * them, and a scanner that read the first of two `privileged:` keys while the cluster used the
 * last would be fooled.
 */
import {
  boolYaml11Tag,
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  defineSequenceTag,
  dump,
  type Event,
  floatYaml11Tag,
  getScalarValue,
  intYaml11Tag,
  mapTag,
  mergeTag,
  NOT_RESOLVED,
  nullYaml11Tag,
  parseEvents,
  Schema,
  seqTag,
  strTag,
  type TagDefinition,
  YAMLException,
} from 'js-yaml';

export { EVENT_ID, SCALAR_STYLE, type Event } from 'js-yaml';
export { getScalarValue, parseEvents, YAMLException };

/**
 * Collections nested deeper than this are refused ("nested too deeply") by the parser itself,
 * before anything recursive sees them. Real manifests nest a few dozen levels (a CRD's schema
 * is the deepest); constructing stays well inside the stack at this depth, also on a parser
 * thread.
 */
export const MAX_DEPTH = 1000;

/** go-yaml v2 reads `190:20:30` as a string; YAML 1.1's base-60 numbers are not kept. */
const SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

function withoutBase60<T>(
  tag: { tagName: string } & Parameters<typeof defineScalarTag<T>>[1],
): TagDefinition {
  return defineScalarTag(tag.tagName, {
    ...tag,
    resolve: (source, isExplicit, tagName) =>
      SEXAGESIMAL.test(source) ? NOT_RESOLVED : tag.resolve(source, isExplicit, tagName),
  });
}

/** Any other tag (`!foo`, `!<tag:example.com,2026:x>`): the value as if untagged. */
const anyScalar = defineScalarTag('', {
  matchByTagPrefix: true,
  resolve: (source) => source,
  identify: () => false,
});
const anySequence = defineSequenceTag('', {
  matchByTagPrefix: true,
  create: seqTag.create,
  addItem: seqTag.addItem,
  finalize: seqTag.finalize,
  identify: () => false,
});
const anyMapping = defineMappingTag('', {
  matchByTagPrefix: true,
  create: mapTag.create,
  addPair: mapTag.addPair,
  has: mapTag.has,
  keys: mapTag.keys,
  get: mapTag.get,
  finalize: mapTag.finalize,
  identify: () => false,
});

/** YAML as Kubernetes reads it (see the module comment). */
export const KUBE_SCHEMA = new Schema([
  strTag,
  seqTag,
  mapTag,
  nullYaml11Tag,
  boolYaml11Tag,
  withoutBase60(intYaml11Tag),
  withoutBase60(floatYaml11Tag),
  mergeTag,
  anyScalar,
  anySequence,
  anyMapping,
]);

/**
 * The documents of a YAML stream as JavaScript values (an empty stream has none). Throws
 * YAMLException, with the line, on the first problem; `vigil scan`'s loader (cli/load.ts) reads
 * untrusted input document by document instead, so one bad document spares the others.
 */
export function parseYamlAll(text: string): unknown[] {
  return constructFromEvents(parseEvents(text, { maxDepth: MAX_DEPTH }), {
    source: text,
    schema: KUBE_SCHEMA,
  });
}

/** One YAML document (or JSON) as a JavaScript value; null for an empty text. Throws on more than one document. */
export function parseYaml(text: string): unknown {
  const docs = parseYamlAll(text);
  if (docs.length > 1) throw new YAMLException('expected one YAML document, found several');
  return docs[0] ?? null;
}

/** Constructs one document from its events (a DOCUMENT event, the content, its POP). */
export function constructDocument(events: Event[], source: string): unknown {
  return constructFromEvents(events, { source, schema: KUBE_SCHEMA })[0];
}

/**
 * A value as YAML: block style, keys in insertion order, long strings never folded, shared
 * objects written out again rather than as anchors and aliases (Kubernetes manifests carry none).
 */
export function toYaml(value: unknown): string {
  return dump(value, { lineWidth: -1, noRefs: true });
}
