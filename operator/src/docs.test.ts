/**
 * docs/rules.md and docs/api.md are generated (scripts/generate-docs.ts): they must be
 * current, and they must actually document every rule and every CRD field.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from './yaml.ts';
import {
  REPO_ROOT,
  generateDocs,
  renderApiDoc,
  renderRulesDoc,
  staleDocs,
} from '../../scripts/generate-docs.ts';
import { ALL_RULES } from './rules/index.ts';
import type { Rule } from './engine/types.ts';

function crdFiles(): { file: string; text: string }[] {
  return readdirSync(join(REPO_ROOT, 'crds'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: `crds/${f}`, text: readFileSync(join(REPO_ROOT, 'crds', f), 'utf8') }));
}

/** Every property path of a schema, as generate-docs writes them. */
function paths(s: unknown, prefix: string, out: string[]): string[] {
  if (typeof s !== 'object' || s === null) return out;
  const node = s as Record<string, unknown>;
  const props = (node['properties'] ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(props)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    paths(v, p, out);
  }
  if (node['type'] === 'array') paths(node['items'], `${prefix}[]`, out);
  return out;
}

describe('generated docs', () => {
  it('docs/rules.md and docs/api.md are up to date (run make docs)', () => {
    expect(staleDocs()).to.deep.equal([]);
  });

  it('renders to the repository docs/ directory', () => {
    expect([...generateDocs().keys()].map((p) => p.slice(REPO_ROOT.length + 1)).sort()).to.deep.equal([
      'docs/api.md',
      'docs/rules.md',
    ]);
  });

  it('rules.md documents every rule with its metadata, under its category', () => {
    const md = renderRulesDoc(ALL_RULES);
    for (const r of ALL_RULES) {
      const section = md.split(`\n### ${r.id}\n`)[1]?.split('\n### ')[0]?.split('\n## ')[0];
      expect(section, `section for ${r.id}`).to.be.a('string');
      expect(section).to.contain(`| Severity | ${r.severity} |`);
      expect(section).to.contain(r.remediation.trim());
      for (const c of r.controls) expect(section).to.contain(c);
      for (const p of r.params ?? []) expect(section).to.contain('`' + p.name + '`');
      const catStart = md.indexOf(`\n## ${r.category}\n`);
      expect(catStart, `category ${r.category}`).to.be.greaterThan(-1);
      const catEnd = md.indexOf('\n## ', catStart + 1);
      const at = md.indexOf(`\n### ${r.id}\n`);
      expect(at > catStart && (catEnd === -1 || at < catEnd), `${r.id} under ${r.category}`).to.equal(true);
    }
  });

  it('rules.md shows params with their defaults, and escapes table cells', () => {
    const rule: Rule = {
      id: 'demo-rule',
      title: 'Demo | with a pipe',
      severity: 'low',
      category: 'network',
      controls: ['CIS:5.3.2'],
      rationale: 'A rationale long enough to be a real paragraph of text.',
      remediation: 'Do the concrete thing to fix it.',
      kinds: ['Service'],
      profiles: [],
      params: [{ name: 'allowedPorts', description: 'Ports | allowed', type: 'string[]', default: ['443'] }],
      check: () => [],
    };
    const md = renderRulesDoc([rule]);
    expect(md).to.contain('| `allowedPorts` | `string[]` | `["443"]` | Ports \\| allowed |');
    expect(md).to.contain('**Demo \\| with a pipe**');
    expect(md).to.contain('| `all` | 1 |');
    expect(md).to.contain('| `recommended` | 0 |');
    expect(md).to.not.contain('## pod-security');
  });

  it('api.md documents every field path, printer column, short name and validation rule of every CRD', () => {
    const crds = crdFiles();
    expect(crds.length).to.be.greaterThanOrEqual(2);
    const md = renderApiDoc(crds);
    for (const { text } of crds) {
      const crd = parseYaml(text) as {
        spec: {
          names: { kind: string; shortNames?: string[] };
          versions: {
            additionalPrinterColumns?: { name: string; jsonPath: string }[];
            schema: { openAPIV3Schema: unknown };
          }[];
        };
      };
      expect(md).to.contain(`## ${crd.spec.names.kind}\n`);
      for (const s of crd.spec.names.shortNames ?? []) expect(md).to.contain('`' + s + '`');
      for (const v of crd.spec.versions) {
        for (const c of v.additionalPrinterColumns ?? []) expect(md).to.contain(`| ${c.name} |`);
        for (const p of paths(v.schema.openAPIV3Schema, '', [])) expect(md, p).to.contain('| `' + p + '` |');
        const rules = JSON.stringify(v.schema).match(/"rule":"((?:[^"\\]|\\.)*)"/g) ?? [];
        for (const r of rules) {
          const rule = (JSON.parse(`{${r}}`) as { rule: string }).rule;
          expect(md).to.contain('`' + rule.replace(/`/g, "'") + '`');
        }
      }
    }
    expect(md).to.contain('| `spec.profile` | string |');
    expect(md).to.match(
      /\| `spec\.action` \| string \| .*one of `audit`, `warn`, `enforce`\. default `"audit"`\./,
    );
  });
});
