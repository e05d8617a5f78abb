/**
 * The Helm chart and manifests/install.yaml must install the same thing. Renders charts/vigil with
 * the pinned helm (scripts/helm-build.sh) and compares object by object:
 *
 *   - default values (`helm template vigil charts/vigil -n vigil-system --include-crds`) against
 *     manifests/install.yaml;
 *   - serviceMonitor.enabled and prometheusRule.enabled against config/prometheus/service-monitor.yaml
 *     and config/prometheus/prometheus-rule.yaml.
 *
 * Ignored, and only in each object's own metadata: the labels helm.sh/chart,
 * app.kubernetes.io/managed-by, app.kubernetes.io/instance, app.kubernetes.io/version and the
 * annotation helm.sh/resource-policy (HELM_BOOKKEEPING_* in scripts/chart.ts). Everything else
 * must match: the set of objects (in any order), every field, the image reference. Exit 1 naming every difference (make lint, make chart-test).
 *
 *   node scripts/chart-drift.ts [--helm PATH]
 */
import { join, relative } from 'node:path';
import {
  INSTALL_YAML,
  ROOT,
  compareObjects,
  helmBin,
  readObjects,
  renderChart,
  type K8sObject,
} from './chart.ts';

const i = process.argv.indexOf('--helm');
const helm = i >= 0 ? process.argv[i + 1] : helmBin();
if (helm === undefined) {
  console.error('usage: node scripts/chart-drift.ts [--helm PATH]');
  process.exit(2);
}

const problems: string[] = [];
const installed = readObjects(INSTALL_YAML);
for (const p of compareObjects(installed, renderChart({ helm }))) {
  problems.push(`default values vs ${relative(ROOT, INSTALL_YAML)}: ${p}`);
}

const prometheusFiles = ['service-monitor.yaml', 'prometheus-rule.yaml'].map((f) =>
  join(ROOT, 'config', 'prometheus', f),
);
const prometheus = prometheusFiles.flatMap((f) => readObjects(f));
const monitoringKinds = new Set(prometheus.map((o) => o.kind));
const withMonitoring = renderChart({
  helm,
  setJson: ['serviceMonitor.enabled=true', 'prometheusRule.enabled=true'],
}).filter((o: K8sObject) => monitoringKinds.has(o.kind));
for (const p of compareObjects(prometheus, withMonitoring)) {
  problems.push(`monitoring values vs config/prometheus: ${p}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(`chart-drift: ${p}`);
  console.error(
    `chart-drift: ${problems.length} difference(s) between charts/vigil and what it must render; fix the chart's templates (or its sources: make manifests)`,
  );
  process.exit(1);
}
console.log(
  `chart-drift: charts/vigil renders the ${installed.length} objects of ${relative(ROOT, INSTALL_YAML)} and the ${prometheus.length} of config/prometheus`,
);
