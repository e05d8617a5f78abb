import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../yaml.ts';
import {
  RUNBOOK_BASE,
  alertsOf,
  lintAlertRules,
  metricNamesInPromQL,
  parsePrometheusRule,
  renderPlainRules,
  type PromtoolTestFile,
} from './alert-rules.ts';
import { exportedSampleNames } from './metrics.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SOURCE = join(REPO_ROOT, 'config', 'prometheus', 'prometheus-rule.yaml');
const PLAIN = join(REPO_ROOT, 'config', 'prometheus', 'rules', 'vigil-alerts.rules.yaml');
const TESTS = join(REPO_ROOT, 'test', 'alerts');

function promtoolTests(): Map<string, PromtoolTestFile> {
  return new Map(
    readdirSync(TESTS)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => [f, parseYaml(readFileSync(join(TESTS, f), 'utf8')) as PromtoolTestFile]),
  );
}

describe('observability/alert-rules', () => {
  const sourceText = readFileSync(SOURCE, 'utf8');
  const groups = parsePrometheusRule(sourceText);

  it('the plain rules file is rendered from the PrometheusRule (run node scripts/render-alert-rules.ts)', () => {
    expect(readFileSync(PLAIN, 'utf8')).to.equal(renderPlainRules(sourceText));
    const plain = parseYaml(readFileSync(PLAIN, 'utf8')) as { groups: unknown };
    expect(plain.groups).to.deep.equal(groups);
  });

  it('every alert meets the contract: annotations, severity, runbook, known metrics, fire and no-fire tests', () => {
    const problems = lintAlertRules({
      groups,
      knownMetrics: exportedSampleNames(),
      runbookExists: (a) => existsSync(join(REPO_ROOT, 'docs', 'runbooks', `${a}.md`)),
      tests: promtoolTests(),
    });
    expect(problems).to.deep.equal([]);
    expect(alertsOf(groups).length).to.be.greaterThanOrEqual(9);
  });

  it('ships the alerts the issue asks for', () => {
    const names = alertsOf(groups).map((a) => a.alert);
    for (const n of [
      'VigilCriticalFinding',
      'VigilHighFindingsAboveThreshold',
      'VigilVulnerableKubernetesVersion',
      'VigilExceptionExpiringSoon',
      'VigilOperatorDown',
      'VigilReconcileErrors',
      'VigilWatchStalled',
      'VigilReportsStale',
    ]) {
      expect(names).to.include(n);
    }
  });

  it('every runbook says how to diagnose, fix and verify, with kubectl', () => {
    for (const a of alertsOf(groups)) {
      const md = readFileSync(join(REPO_ROOT, 'docs', 'runbooks', `${a.alert ?? ''}.md`), 'utf8');
      expect(md, a.alert).to.match(new RegExp(`^# ${a.alert ?? ''}\\n`));
      for (const h of ['## Meaning', '## Diagnose', '## Fix', '## Verify'])
        expect(md, `${a.alert} ${h}`).to.contain(h);
      expect(md, a.alert).to.contain('kubectl');
    }
  });

  describe('lintAlertRules', () => {
    const good = {
      alert: 'VigilTest',
      expr: 'vigil_leader == 0',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'something is wrong',
        description: 'a long enough description',
        runbook_url: `${RUNBOOK_BASE}VigilTest.md`,
      },
    };
    const tests = new Map<string, PromtoolTestFile>([
      [
        't.yaml',
        {
          tests: [
            {
              alert_rule_test: [
                { alertname: 'VigilTest', exp_alerts: [{}] },
                { alertname: 'VigilTest', exp_alerts: [] },
              ],
            },
          ],
        },
      ],
    ]);
    const lint = (rule: object, t = tests): string[] =>
      lintAlertRules({
        groups: [{ name: 'g', rules: [{ ...good, ...rule }] }],
        knownMetrics: new Set(['vigil_leader', 'up']),
        runbookExists: (a) => a === 'VigilTest',
        tests: t,
      });

    it('accepts a complete alert', () => {
      expect(lint({})).to.deep.equal([]);
    });

    it('reports each missing piece', () => {
      expect(lint({ labels: {} })).to.have.length(1);
      expect(lint({ labels: { severity: 'page' } })).to.have.length(1);
      expect(lint({ annotations: { ...good.annotations, summary: undefined } })).to.have.length(1);
      expect(
        lint({ annotations: { ...good.annotations, runbook_url: 'https://example.com/x' } }),
      ).to.have.length(1);
      expect(lint({ expr: 'vigil_nope > 0' })).to.deep.equal([
        'alert VigilTest: expr uses vigil_nope, which Vigil does not export',
      ]);
      expect(
        lint({
          alert: 'VigilOther',
          annotations: { ...good.annotations, runbook_url: `${RUNBOOK_BASE}VigilOther.md` },
        }),
      )
        .to.include('alert VigilOther: runbook docs/runbooks/VigilOther.md does not exist')
        .and.include('alert VigilOther: no promtool test where it fires (exp_alerts non-empty)')
        .and.include('alert VigilOther: no promtool test where it does not fire (exp_alerts: [])')
        .and.include('test/alerts: tests alert VigilTest, which is not defined');
    });
  });

  describe('metricNamesInPromQL', () => {
    const cases: [string, string[]][] = [
      ['max by (policy, namespace) (vigil_findings{severity="critical"}) > 0', ['vigil_findings']],
      ['absent(up{job=~".*vigil.*"} == 1)', ['up']],
      [
        'sum by (controller) (rate(a_total{job=~"v"}[10m])) / sum by (controller) (rate(b_total[10m])) > 0.1',
        ['a_total', 'b_total'],
      ],
      ['histogram_quantile(0.95, sum(rate(h_bucket[$__rate_interval])) by (le))', ['h_bucket']],
      ['time() - max(ts_seconds) > 7200', ['ts_seconds']],
      ['x_total offset 5m and on(instance) group_left(version) y_info', ['x_total', 'y_info']],
      ['sum(z{namespace=~"$namespace", policy=~"${policy}"}) or vector(1e3)', ['z']],
      ['label_replace(m, "dst", "$1", "src", "(.*)")', ['m']],
    ];
    for (const [expr, names] of cases) {
      it(expr, () => {
        expect(metricNamesInPromQL(expr)).to.have.members(names);
      });
    }
  });

  it('renders a test-only for: override', () => {
    const plain = parseYaml(renderPlainRules(sourceText, { forOverride: '0s' })) as {
      groups: { rules: { for?: string }[] }[];
    };
    expect(plain.groups.flatMap((g) => g.rules).every((r) => r.for === undefined)).to.equal(true);
    const two = parseYaml(renderPlainRules(sourceText, { forOverride: '2s' })) as typeof plain;
    expect(two.groups.flatMap((g) => g.rules).every((r) => r.for === '2s')).to.equal(true);
  });

  it('rejects a manifest that is not a PrometheusRule', () => {
    expect(() => parsePrometheusRule('kind: ConfigMap\napiVersion: v1\n')).to.throw(/PrometheusRule/);
  });
});
