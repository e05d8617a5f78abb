/**
 * Vigil's alert rules have one source: config/prometheus/prometheus-rule.yaml
 * (a PrometheusRule). This script derives the plain Prometheus rules file from it
 * and checks the alerting contract.
 *
 *   node scripts/render-alert-rules.ts            writes config/prometheus/rules/vigil-alerts.rules.yaml
 *   node scripts/render-alert-rules.ts --check    exits 1 when that file is out of date, or when an alert
 *                                                 lacks summary/description/severity/runbook_url, its runbook
 *                                                 file, fires/does-not-fire promtool tests, or uses a metric
 *                                                 Vigil does not export
 *   node scripts/render-alert-rules.ts --out F --for-override 0s
 *                                                 TEST ONLY: writes the rules to F with every `for:` replaced
 *                                                 (the e2e alerting test uses it; see docs/alerting.md)
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../operator/src/yaml.ts';
import {
  lintAlertRules,
  parsePrometheusRule,
  renderPlainRules,
  type PromtoolTestFile,
} from '../operator/src/observability/alert-rules.ts';
import { exportedSampleNames } from '../operator/src/observability/metrics.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(root, 'config', 'prometheus', 'prometheus-rule.yaml');
const PLAIN = join(root, 'config', 'prometheus', 'rules', 'vigil-alerts.rules.yaml');
const TESTS = join(root, 'test', 'alerts');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sourceText = readFileSync(SOURCE, 'utf8');
const out = arg('--out');
const forOverride = arg('--for-override');

if (out !== undefined) {
  writeFileSync(out, renderPlainRules(sourceText, forOverride !== undefined ? { forOverride } : {}));
  process.exit(0);
}

const rendered = renderPlainRules(sourceText);
if (!process.argv.includes('--check')) {
  writeFileSync(PLAIN, rendered);
  console.log(`wrote ${relative(root, PLAIN)}`);
  process.exit(0);
}

const problems: string[] = [];
if (!existsSync(PLAIN) || readFileSync(PLAIN, 'utf8') !== rendered) {
  problems.push(`${relative(root, PLAIN)} is out of date: run node scripts/render-alert-rules.ts`);
}
const tests = new Map<string, PromtoolTestFile>();
for (const f of existsSync(TESTS) ? readdirSync(TESTS).sort() : []) {
  if (f.endsWith('.yaml') || f.endsWith('.yml')) {
    tests.set(f, parseYaml(readFileSync(join(TESTS, f), 'utf8')) as PromtoolTestFile);
  }
}
problems.push(
  ...lintAlertRules({
    groups: parsePrometheusRule(sourceText),
    knownMetrics: exportedSampleNames(),
    runbookExists: (alert) => existsSync(join(root, 'docs', 'runbooks', `${alert}.md`)),
    tests,
  }),
);
if (problems.length > 0) {
  for (const p of problems) console.error(`render-alert-rules: ${p}`);
  process.exit(1);
}
console.log(
  `render-alert-rules: ${relative(root, PLAIN)} is current; every alert has its annotations, runbook and tests`,
);
