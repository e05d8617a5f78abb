import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricNamesInPromQL } from './alert-rules.ts';
import { exportedSampleNames } from './metrics.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DASHBOARD = join(REPO_ROOT, 'manifests', 'grafana-dashboard.json');

interface Target {
  expr?: string;
  refId?: string;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
}
interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] };
}

function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels)]);
}

/** Grafana's `label_values(metric{…}, label)` is not PromQL: check only its selector. */
function variableSelector(query: string): string {
  const m = /^label_values\((?:(.*),)?\s*\w+\s*\)$/.exec(query.trim());
  return m ? (m[1] ?? '') : query;
}

describe('observability/grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = allPanels(dashboard.panels);
  const known = exportedSampleNames();

  it('parses, has a stable uid and unique panel ids', () => {
    expect(dashboard.uid).to.equal('vigil-overview');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const p of panels) {
      expect(p.gridPos, p.title).to.be.an('object');
      expect((p.gridPos?.x ?? 0) + (p.gridPos?.w ?? 0), p.title).to.be.at.most(24);
    }
  });

  it('every PromQL expression references only metrics Vigil exports', () => {
    const exprs = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title ?? '', expr: t.expr ?? '' })),
    );
    expect(exprs.length).to.be.greaterThan(20);
    for (const { panel, expr } of exprs) {
      expect(expr, panel).not.to.equal('');
      const names = metricNamesInPromQL(expr);
      expect(names.length, `${panel}: ${expr}`).to.be.greaterThan(0);
      for (const n of names) expect(known.has(n), `${panel}: ${n} in ${expr}`).to.equal(true);
    }
    for (const v of dashboard.templating?.list ?? []) {
      if (v.type !== 'query' || typeof v.definition !== 'string') continue;
      for (const n of metricNamesInPromQL(variableSelector(v.definition))) {
        expect(known.has(n), `variable ${v.name}: ${n}`).to.equal(true);
      }
    }
  });

  it('shows what the issue asks for', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')).join('\n');
    for (const want of [
      'sum by (severity) (vigil_findings',
      'sum by (namespace) (vigil_findings',
      'sum by (policy, severity) (vigil_findings',
      'histogram_quantile(0.50, sum by (le) (rate(vigil_time_to_finding_seconds_bucket',
      'histogram_quantile(0.95, sum by (le) (rate(vigil_time_to_finding_seconds_bucket',
      'histogram_quantile(0.99, sum by (le) (rate(vigil_time_to_finding_seconds_bucket',
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'vigil_watch_last_event_age_seconds',
      'vigil_watch_restarts_total',
    ]) {
      expect(exprs).to.contain(want);
    }
  });

  it('every panel uses the datasource variable', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect((p as { datasource?: { uid?: string } }).datasource?.uid, p.title).to.equal('${datasource}');
    }
  });
});
