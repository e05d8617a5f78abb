/**
 * One source of truth for Vigil's API: the CRD templates in crds/src/.
 *
 *   node scripts/generate-api.ts          writes crds/*.yaml and operator/src/api/types.generated.ts
 *   node scripts/generate-api.ts --check  exits 1 (naming the file) when either is out of date
 *
 * Templates may use `$ref: '#/definitions/Name'` (fragments in crds/src/definitions.yaml),
 * which the API server would reject; the generated CRDs have them expanded.
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parseYaml, toYaml } from '../operator/src/yaml.ts';

type Schema = Record<string, unknown>;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'crds', 'src');

function isObj(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const definitions = parseYaml(readFileSync(join(srcDir, 'definitions.yaml'), 'utf8')) as Record<
  string,
  Schema
>;

/** Expands $refs; returns the schema plus, for each expanded node, the definition name (for TS naming). */
const refNames = new WeakMap<object, string>();
function expand(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(expand);
  if (!isObj(node)) return node;
  const ref = node['$ref'];
  if (typeof ref === 'string') {
    const name = ref.replace('#/definitions/', '');
    const def = definitions[name];
    if (!def) throw new Error(`unknown $ref ${ref}`);
    const { $ref: _ignored, ...rest } = node;
    const out = expand({ ...def, ...rest }) as Schema;
    refNames.set(out, name);
    return out;
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) out[k] = expand(v);
  return out;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const singular = (s: string): string =>
  s.endsWith('ies') ? s.slice(0, -3) + 'y' : s.endsWith('s') ? s.slice(0, -1) : s;

class TsEmitter {
  private readonly decls = new Map<string, string>();

  typeOf(schema: Schema, nameHint: string): string {
    const refName = refNames.get(schema);
    if (Array.isArray(schema['enum']))
      return (schema['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
    switch (schema['type']) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const items = isObj(schema['items']) ? schema['items'] : {};
        const t = this.typeOf(items, refNames.get(items) ?? singular(refName ?? nameHint));
        return t.includes('|') ? `(${t})[]` : `${t}[]`;
      }
      case 'object': {
        if (schema['x-kubernetes-preserve-unknown-fields'] === true) return 'Record<string, unknown>';
        if (isObj(schema['additionalProperties'])) {
          return `Record<string, ${this.typeOf(schema['additionalProperties'], nameHint + 'Value')}>`;
        }
        const props = isObj(schema['properties']) ? schema['properties'] : undefined;
        if (!props) return 'Record<string, unknown>';
        const name = refName ?? nameHint;
        this.emitInterface(name, schema, props);
        return name;
      }
      default:
        return 'unknown';
    }
  }

  private emitInterface(name: string, schema: Schema, props: Schema): void {
    if (this.decls.has(name)) return;
    this.decls.set(name, ''); // reserve (recursion guard)
    const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
    const lines: string[] = [];
    const own = definitions[name]?.['description'] ?? schema['description'];
    if (typeof own === 'string') lines.push(doc(own, ''));
    lines.push(`export interface ${name} {`);
    for (const [prop, sub] of Object.entries(props)) {
      if (!isObj(sub)) continue;
      const t =
        prop === 'metadata' && name.match(/^(SecurityPolicy|ScanReport)$/)
          ? 'V1ObjectMeta'
          : this.typeOf(sub, name + pascal(prop));
      if (typeof sub['description'] === 'string') lines.push(doc(sub['description'], '  '));
      lines.push(`  ${prop}${required.has(prop) ? '' : '?'}: ${t};`);
    }
    lines.push('}');
    this.decls.set(name, lines.join('\n'));
  }

  render(): string {
    return [...this.decls.values()].join('\n\n');
  }
}

function doc(text: string, indent: string): string {
  const words = text.replace(/\s+/g, ' ').trim().replace(/\*\//g, '*\\/');
  return `${indent}/** ${words} */`;
}

const header = (src: string): string =>
  `# GENERATED from ${src} by scripts/generate-api.ts (make generate). Do not edit by hand.\n`;

const outputs = new Map<string, string>();
const ts = new TsEmitter();
const kinds: { kind: string; plural: string; group: string; version: string; scope: string }[] = [];
for (const file of readdirSync(srcDir)
  .filter((f) => f.endsWith('.yaml') && f !== 'definitions.yaml')
  .sort()) {
  const crd = expand(parseYaml(readFileSync(join(srcDir, file), 'utf8'))) as Schema;
  outputs.set(join(root, 'crds', file), header(`crds/src/${file}`) + toYaml(crd));
  const spec = crd['spec'] as Schema;
  const names = spec['names'] as Schema;
  const version = (spec['versions'] as Schema[])[0] as Schema;
  const schema = (version['schema'] as Schema)['openAPIV3Schema'] as Schema;
  const kind = names['kind'] as string;
  kinds.push({
    kind,
    plural: names['plural'] as string,
    group: spec['group'] as string,
    version: version['name'] as string,
    scope: spec['scope'] as string,
  });
  ts.typeOf(schema, kind);
}
const api = kinds[0];
const tsOut = [
  '// GENERATED from crds/src/*.yaml by scripts/generate-api.ts (make generate). Do not edit by hand.',
  "import type { V1ObjectMeta } from '@kubernetes/client-node';",
  '',
  `export const API_GROUP = ${JSON.stringify(api?.group)};`,
  `export const API_VERSION = ${JSON.stringify(api?.version)};`,
  `export const API_GROUP_VERSION = ${JSON.stringify(`${api?.group}/${api?.version}`)};`,
  '',
  `/** Kinds this API defines, with their REST names. */`,
  `export const KINDS = ${JSON.stringify(Object.fromEntries(kinds.map((k) => [k.kind, { plural: k.plural, namespaced: k.scope === 'Namespaced' }])), null, 2)} as const;`,
  '',
  ts.render(),
  '',
].join('\n');
const tsPath = join(root, 'operator', 'src', 'api', 'types.generated.ts');
outputs.set(tsPath, await format(tsOut, { ...(await resolveConfig(tsPath)), parser: 'typescript' }));

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, content] of outputs) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    console.error(`${relative(root, path)} is out of date with crds/src: run make generate`);
    stale++;
  } else {
    writeFileSync(path, content);
    console.log(`wrote ${relative(root, path)}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
