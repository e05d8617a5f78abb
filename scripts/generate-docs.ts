/**
 * Reference documentation generated from the sources of truth, so it cannot drift:
 *
 *   docs/rules.md  from the rule registry (ALL_RULES: metadata, profiles, controls, params)
 *   docs/api.md    from the generated CRDs (crds/*.yaml: every field, printer columns, validation)
 *
 *   node scripts/generate-docs.ts          writes both
 *   node scripts/generate-docs.ts --check  exits 1, naming each stale file
 *
 * The render functions are pure and exported for the drift test (operator/src/docs.test.ts).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../operator/src/yaml.ts';
import { ALL_RULES } from '../operator/src/rules/index.ts';
import { WORKLOAD_KINDS } from '../operator/src/engine/podspec.ts';
import { CATEGORIES, PROFILES, SEVERITIES, type Category, type Rule } from '../operator/src/engine/types.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const CATEGORY_INTRO: Record<Category, string> = {
  'pod-security':
    'The Kubernetes Pod Security Standards, check for check: `pss-baseline` and `pss-restricted` agree exactly with the PodSecurity admission plugin.',
  workload: 'Workload hygiene beyond the Pod Security Standards: resources, probes, identity, availability.',
  'supply-chain': 'Where images come from and whether what runs is what was reviewed.',
  secrets: 'Credentials exposed where they should not be.',
  rbac: 'Who can do what: dangerous grants, escalation paths and over-broad bindings.',
  network: 'Exposure and isolation: Services, Ingresses and NetworkPolicies.',
  platform: 'The cluster itself: versions, known CVEs and node configuration.',
  'management-tools': 'Dashboards, agents and other management software that widen access to the cluster.',
  'change-management':
    'Governance of changes and accepted risks: exceptions, who changed what, and through which tool.',
  custom: "Your own rules (a SecurityPolicy's `spec.customRules`, docs/custom-rules.md); Vigil ships none.",
};

const PROFILE_INTRO: Record<(typeof PROFILES)[number], string> = {
  'pss-baseline': 'the Pod Security Standards baseline profile, exactly',
  'pss-restricted': 'the Pod Security Standards restricted profile, exactly',
  recommended: 'the default: restricted plus the other rules that matter, with few false positives',
  all: 'every rule, including noisy or opinionated ones',
};

const GENERATED = (what: string): string =>
  `<!-- GENERATED from ${what} by scripts/generate-docs.ts (make docs). Do not edit by hand. -->`;

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

function profilesOf(r: Rule): string[] {
  return [...PROFILES.filter((p) => p !== 'all' && r.profiles.includes(p)), 'all'];
}

function kindsOf(r: Rule): string {
  const kinds = [...r.kinds];
  const workloads = WORKLOAD_KINDS.every((k) => kinds.includes(k));
  const workloadKinds: readonly string[] = WORKLOAD_KINDS;
  const rest = workloads ? kinds.filter((k) => !workloadKinds.includes(k)) : kinds;
  return [...(workloads ? ['workloads (Pod and every pod template)'] : []), ...rest].join(', ');
}

function byId(a: Rule, b: Rule): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** docs/rules.md: every rule, grouped by category. */
export function renderRulesDoc(rules: readonly Rule[]): string {
  const out: string[] = [GENERATED('the rule registry (operator/src/rules)'), '', '# Vigil rules', ''];
  const used = CATEGORIES.filter((c) => rules.some((r) => r.category === c));
  out.push(
    `${rules.length} rules in ${used.length} categories. \`vigil rules\` prints the same list; a SecurityPolicy picks a profile and overrides rules (\`spec.rules\`: enabled, severity, params), see [api.md](api.md).`,
    '',
    '| Profile | Rules | Contents |',
    '| --- | --- | --- |',
  );
  for (const p of PROFILES) {
    const n = p === 'all' ? rules.length : rules.filter((r) => r.profiles.includes(p)).length;
    out.push(`| ${code(p)} | ${n} | ${cell(PROFILE_INTRO[p])} |`);
  }
  out.push('', 'Severities, highest first: ' + SEVERITIES.map(code).join(', ') + '.', '');
  out.push('## Contents', '');
  for (const c of used) {
    out.push(`- [${c}](#${c}) (${rules.filter((r) => r.category === c).length})`);
  }
  for (const c of used) {
    const inCat = rules.filter((r) => r.category === c).sort(byId);
    out.push(
      '',
      `## ${c}`,
      '',
      CATEGORY_INTRO[c],
      '',
      '| Rule | Severity | Profiles | Title |',
      '| --- | --- | --- | --- |',
    );
    for (const r of inCat) {
      out.push(`| [${r.id}](#${r.id}) | ${r.severity} | ${profilesOf(r).join(', ')} | ${cell(r.title)} |`);
    }
    for (const r of inCat) {
      out.push('', `### ${r.id}`, '', `**${cell(r.title)}**`, '');
      out.push('| | |', '| --- | --- |');
      out.push(`| Severity | ${r.severity} |`);
      out.push(`| Profiles | ${profilesOf(r).map(code).join(', ')} |`);
      out.push(`| Controls | ${r.controls.length > 0 ? r.controls.map((x) => cell(x)).join(', ') : '—'} |`);
      out.push(`| Kinds | ${cell(kindsOf(r))} |`);
      out.push('', r.rationale.trim(), '', `**Remediation:** ${r.remediation.trim()}`);
      const params = r.params ?? [];
      if (params.length > 0) {
        out.push('', '| Parameter | Type | Default | Description |', '| --- | --- | --- | --- |');
        for (const p of params) {
          out.push(
            `| ${code(p.name)} | ${code(p.type)} | ${code(JSON.stringify(p.default) ?? 'none')} | ${cell(p.description)} |`,
          );
        }
      }
    }
  }
  return out.join('\n') + '\n';
}

type Schema = Record<string, unknown>;

function isObj(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function typeName(s: Schema): string {
  const t = str(s['type']) ?? (s['x-kubernetes-int-or-string'] === true ? 'int-or-string' : 'any');
  if (t === 'array') return `[]${isObj(s['items']) ? typeName(s['items']) : 'any'}`;
  if (t === 'object') {
    if (isObj(s['additionalProperties'])) return `map[string]${typeName(s['additionalProperties'])}`;
    if (s['x-kubernetes-preserve-unknown-fields'] === true) return 'object (free-form)';
    return 'object';
  }
  const fmt = str(s['format']);
  return fmt ? `${t} (${fmt})` : t;
}

function constraints(s: Schema, required: boolean): string[] {
  const c: string[] = [];
  if (required) c.push('**required**');
  if (Array.isArray(s['enum']))
    c.push(`one of ${(s['enum'] as unknown[]).map((v) => code(String(v))).join(', ')}`);
  if (s['default'] !== undefined) c.push(`default ${code(JSON.stringify(s['default']))}`);
  const pattern = str(s['pattern']);
  if (pattern) c.push(`pattern ${code(pattern)}`);
  for (const [k, label] of [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
    ['minimum', 'minimum'],
    ['maximum', 'maximum'],
  ] as const) {
    if (typeof s[k] === 'number') c.push(`${label} ${s[k]}`);
  }
  const listType = str(s['x-kubernetes-list-type']);
  if (listType === 'map' && Array.isArray(s['x-kubernetes-list-map-keys']))
    c.push(
      `list keyed by ${(s['x-kubernetes-list-map-keys'] as unknown[]).map((k) => code(String(k))).join(', ')}`,
    );
  else if (listType) c.push(`list type ${listType}`);
  return c;
}

interface FieldRow {
  path: string;
  type: string;
  description: string;
}

interface ValidationRow {
  path: string;
  rule: string;
  message: string;
}

function walk(
  s: Schema,
  path: string,
  required: boolean,
  rows: FieldRow[],
  validations: ValidationRow[],
): void {
  if (path !== '') {
    const desc = [str(s['description']) ?? '', ...constraints(s, required).map((c) => c + '.')]
      .filter((x) => x !== '')
      .join(' ');
    rows.push({ path, type: typeName(s), description: desc });
  }
  if (Array.isArray(s['x-kubernetes-validations'])) {
    for (const v of s['x-kubernetes-validations'] as unknown[]) {
      if (!isObj(v)) continue;
      const field = str(v['fieldPath']);
      validations.push({
        path: (path || '.') + (field ? ` (reported at ${field})` : ''),
        rule: str(v['rule']) ?? '',
        message: str(v['message']) ?? '',
      });
    }
  }
  const props = isObj(s['properties']) ? s['properties'] : {};
  const req = new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);
  for (const [name, sub] of Object.entries(props)) {
    if (!isObj(sub)) continue;
    walk(sub, path ? `${path}.${name}` : name, req.has(name), rows, validations);
  }
  if (str(s['type']) === 'array' && isObj(s['items'])) {
    const items = s['items'];
    if (isObj(items['properties']) || Array.isArray(items['x-kubernetes-validations']))
      walkChildren(items, `${path}[]`, rows, validations);
  }
  if (isObj(s['additionalProperties']) && isObj(s['additionalProperties']['properties']))
    walkChildren(s['additionalProperties'], `${path}.<key>`, rows, validations);
}

/** Like walk, but without a row for the node itself (array items and map values have the parent's row). */
function walkChildren(s: Schema, path: string, rows: FieldRow[], validations: ValidationRow[]): void {
  const before = rows.length;
  walk(s, path, false, rows, validations);
  rows.splice(before, 1);
}

/** docs/api.md: every CRD, from the generated YAML (files in the order given). */
export function renderApiDoc(crds: readonly { file: string; text: string }[]): string {
  const out: string[] = [GENERATED('crds/*.yaml'), '', '# Vigil API reference', ''];
  const parsed = crds.map((c) => ({ file: c.file, crd: parseYaml(c.text) as Schema }));
  const group = str(isObj(parsed[0]?.crd['spec']) ? parsed[0].crd['spec']['group'] : undefined) ?? '';
  out.push(
    `Vigil's custom resources, in API group ${code(group)}. Field paths use ${code('[]')} for list items and ${code('<key>')} for map keys. The same schema is served by the API server (${code('kubectl explain')}).`,
    '',
  );
  const bodies: string[] = [];
  for (const { file, crd } of parsed) {
    const spec = isObj(crd['spec']) ? crd['spec'] : {};
    const names = isObj(spec['names']) ? spec['names'] : {};
    const kind = str(names['kind']) ?? '?';
    out.push(`- [${kind}](#${kind.toLowerCase()})`);
    const versions = Array.isArray(spec['versions']) ? (spec['versions'] as unknown[]).filter(isObj) : [];
    const body: string[] = [];
    for (const v of versions) {
      const schema =
        isObj(v['schema']) && isObj(v['schema']['openAPIV3Schema']) ? v['schema']['openAPIV3Schema'] : {};
      body.push('', `## ${kind}`, '');
      if (str(schema['description'])) body.push(str(schema['description']) ?? '', '');
      const list = (k: string): string =>
        Array.isArray(names[k]) ? (names[k] as unknown[]).map((x) => code(String(x))).join(', ') : '—';
      body.push('| | |', '| --- | --- |');
      body.push(`| API version | ${code(`${group}/${str(v['name']) ?? '?'}`)} |`);
      body.push(`| Scope | ${str(spec['scope']) ?? '?'} |`);
      body.push(
        `| Plural / singular | ${code(str(names['plural']) ?? '?')} / ${code(str(names['singular']) ?? '?')} |`,
      );
      body.push(`| Short names | ${list('shortNames')} |`);
      body.push(`| Categories | ${list('categories')} |`);
      const sub = isObj(v['subresources']) ? Object.keys(v['subresources']) : [];
      body.push(`| Subresources | ${sub.length > 0 ? sub.map(code).join(', ') : '—'} |`);
      body.push(`| Source | ${code(file)} |`);
      const cols = Array.isArray(v['additionalPrinterColumns'])
        ? (v['additionalPrinterColumns'] as unknown[]).filter(isObj)
        : [];
      if (cols.length > 0) {
        body.push(
          '',
          `### ${kind} printer columns`,
          '',
          `Shown by ${code(`kubectl get ${str(names['plural']) ?? ''}`)}.`,
          '',
        );
        body.push('| Column | Type | JSONPath |', '| --- | --- | --- |');
        for (const c of cols)
          body.push(
            `| ${cell(str(c['name']) ?? '')} | ${str(c['type']) ?? ''} | ${code(str(c['jsonPath']) ?? '')} |`,
          );
      }
      const rows: FieldRow[] = [];
      const validations: ValidationRow[] = [];
      walk(schema, '', false, rows, validations);
      body.push('', `### ${kind} fields`, '', '| Field | Type | Description |', '| --- | --- | --- |');
      for (const r of rows)
        body.push(`| ${code(r.path)} | ${cell(r.type)} | ${cell(r.description) || '—'} |`);
      if (validations.length > 0) {
        body.push(
          '',
          `### ${kind} validation rules`,
          '',
          'CEL rules the API server enforces on create and update, beyond the types above.',
          '',
          '| Applies to | Rule | Message |',
          '| --- | --- | --- |',
        );
        for (const r of validations) body.push(`| ${code(r.path)} | ${code(r.rule)} | ${cell(r.message)} |`);
      }
    }
    bodies.push(...body);
  }
  return [...out, ...bodies].join('\n') + '\n';
}

/** Every generated doc with its content, from the files in the repository. */
export function generateDocs(root: string = REPO_ROOT): Map<string, string> {
  const crdDir = join(root, 'crds');
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: `crds/${f}`, text: readFileSync(join(crdDir, f), 'utf8') }));
  return new Map([
    [join(root, 'docs', 'rules.md'), renderRulesDoc(ALL_RULES)],
    [join(root, 'docs', 'api.md'), renderApiDoc(crds)],
  ]);
}

/** Files (relative to root) whose content differs from what generateDocs renders. */
export function staleDocs(root: string = REPO_ROOT): string[] {
  const stale: string[] = [];
  for (const [path, content] of generateDocs(root)) {
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current !== content) stale.push(relative(root, path));
  }
  return stale;
}

if (import.meta.main) {
  if (process.argv.includes('--check')) {
    const stale = staleDocs();
    for (const f of stale) console.error(`${f} is out of date with the rules and CRDs: run make docs`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  for (const [path, content] of generateDocs()) {
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === content) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.log(`wrote ${relative(REPO_ROOT, path)}`);
  }
}
