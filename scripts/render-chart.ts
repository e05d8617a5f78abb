/**
 * Writes the parts of the Helm chart charts/vigil that have another source of truth, so they cannot
 * drift from it:
 *
 *   charts/vigil/crds/<plural>.yaml             the CRDs exactly as manifests/install.yaml has them
 *                                               (crds/*.yaml rendered by kustomize)
 *   charts/vigil/files/vigil-alerts.rules.yaml  config/prometheus/rules/vigil-alerts.rules.yaml (the
 *                                               alert rules; the chart's PrometheusRule reads it)
 *   charts/vigil/values.yaml image.*            the image install.yaml runs, i.e. the one set in
 *                                               config/manager/kustomization.yaml (images:)
 *
 * Run after scripts/render-manifests.sh (make manifests / make generate do):
 *   node scripts/render-chart.ts           write them
 *   node scripts/render-chart.ts --check   exit 1, naming each file that is out of date (make lint)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseYaml, parseYamlAll, toYaml } from '../operator/src/yaml.ts';
import { CHART_DIR, INSTALL_YAML, ROOT, managerImage, parseImageRef, readObjects } from './chart.ts';

const ALERT_RULES = join(ROOT, 'config', 'prometheus', 'rules', 'vigil-alerts.rules.yaml');
const VALUES = join(CHART_DIR, 'values.yaml');
const rel = (f: string): string => relative(ROOT, f);

/** file -> wanted content */
const wanted = new Map<string, string>();

// CRDs: the documents of install.yaml, as kustomize rendered them (labels included).
type Crd = { kind?: string; spec?: { names?: { plural?: string } } } | null;
for (const o of parseYamlAll(readFileSync(INSTALL_YAML, 'utf8')) as Crd[]) {
  if (o?.kind !== 'CustomResourceDefinition') continue;
  const plural = o.spec?.names?.plural;
  if (plural === undefined) throw new Error(`${rel(INSTALL_YAML)}: a CRD without spec.names.plural`);
  const body = toYaml(o);
  wanted.set(
    join(CHART_DIR, 'crds', `${plural}.yaml`),
    `# GENERATED from ${rel(INSTALL_YAML)} (crds/${plural}.yaml) by scripts/render-chart.ts (make manifests). Do not edit.\n${body}`,
  );
}
if (wanted.size === 0) throw new Error(`${rel(INSTALL_YAML)} has no CustomResourceDefinition`);

wanted.set(join(CHART_DIR, 'files', 'vigil-alerts.rules.yaml'), readFileSync(ALERT_RULES, 'utf8'));

// values.yaml: only the three image lines are rewritten; comments and the rest stay as written.
const image = parseImageRef(managerImage(readObjects(INSTALL_YAML)));
const valuesText = readFileSync(VALUES, 'utf8');
const lines = valuesText.split('\n');
const start = lines.indexOf('image:');
if (start < 0) throw new Error(`${rel(VALUES)}: no top-level image: block`);
const seen = new Set<string>();
for (let i = start + 1; i < lines.length && /^(\s|$)/.test(lines[i] ?? ''); i++) {
  const m = /^ {2}(repository|tag|digest):/.exec(lines[i] ?? '');
  if (!m?.[1]) continue;
  const key = m[1] as keyof typeof image;
  // Single-quoted, as Prettier writes YAML here (.prettierrc.json); a quote doubles inside.
  lines[i] = `  ${key}: '${image[key].replaceAll("'", "''")}'`;
  seen.add(key);
}
if (seen.size !== 3) throw new Error(`${rel(VALUES)}: image: needs the keys repository, tag and digest`);
const values = lines.join('\n');
const parsed = parseYaml(values) as { image?: Record<string, unknown> };
for (const k of ['repository', 'tag', 'digest'] as const) {
  if (parsed.image?.[k] !== image[k]) throw new Error(`${rel(VALUES)}: image.${k} did not round-trip`);
}
wanted.set(VALUES, values);

if (process.argv.includes('--check')) {
  const stale = [...wanted].filter(([f, text]) => !existsSync(f) || readFileSync(f, 'utf8') !== text);
  for (const [f] of stale) {
    console.error(`render-chart: ${rel(f)} is out of date with its source: run make manifests`);
  }
  process.exit(stale.length > 0 ? 1 : 0);
}
for (const [f, text] of wanted) {
  if (existsSync(f) && readFileSync(f, 'utf8') === text) continue;
  writeFileSync(f, text);
  console.log(`wrote ${rel(f)}`);
}
