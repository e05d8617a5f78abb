/**
 * Vigil's alert rules: config/prometheus/prometheus-rule.yaml (a Prometheus
 * Operator PrometheusRule) is the source of truth. This module renders the
 * plain Prometheus rules file promtool and operator-less Prometheus use, and
 * checks the rules' contract: every alert has summary, description, a
 * severity label, a runbook that exists, only metrics Vigil exports, and
 * promtool unit tests where it fires and where it does not.
 */
import { parseYaml, toYaml } from '../yaml.ts';

export const RUNBOOK_BASE = 'https://github.com/vigil-dev/vigil/blob/main/docs/runbooks/';
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: AlertRule[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The rule groups of a PrometheusRule manifest; throws on anything else. */
export function parsePrometheusRule(text: string): RuleGroup[] {
  const doc: unknown = parseYaml(text);
  if (!isObj(doc) || doc.kind !== 'PrometheusRule' || doc.apiVersion !== 'monitoring.coreos.com/v1') {
    throw new Error('not a monitoring.coreos.com/v1 PrometheusRule');
  }
  const spec = doc.spec;
  if (!isObj(spec) || !Array.isArray(spec.groups)) throw new Error('PrometheusRule has no spec.groups');
  return spec.groups.map((g: unknown, i) => {
    if (!isObj(g) || typeof g.name !== 'string' || !Array.isArray(g.rules)) {
      throw new Error(`spec.groups[${i}] needs a name and rules`);
    }
    return g as unknown as RuleGroup;
  });
}

export interface RenderOptions {
  /**
   * Test-only: replace every rule's `for:` (e.g. "0s" to fire on the first
   * evaluation). The e2e test uses it so a run does not wait out production
   * hold times; never use it for a real deployment.
   */
  forOverride?: string;
  /** Header comment naming the source (default: the repository path). */
  source?: string;
}

/** The plain Prometheus rules file (`groups:`) for a PrometheusRule. */
export function renderPlainRules(prometheusRuleText: string, opts: RenderOptions = {}): string {
  const groups = parsePrometheusRule(prometheusRuleText).map((g) => ({
    ...g,
    rules: g.rules.map((r) => {
      if (opts.forOverride === undefined) return r;
      const { for: _for, ...rest } = r;
      return opts.forOverride === '0s' ? rest : { ...rest, for: opts.forOverride };
    }),
  }));
  const source = opts.source ?? 'config/prometheus/prometheus-rule.yaml';
  const header = [
    `# GENERATED from ${source} by scripts/render-alert-rules.ts: do not edit.`,
    '# A plain Prometheus rules file (rule_files: in prometheus.yml; promtool check/test rules).',
    ...(opts.forOverride !== undefined
      ? [`# TEST ONLY: every "for:" overridden to ${opts.forOverride}.`]
      : []),
  ];
  return `${header.join('\n')}\n${toYaml({ groups })}`;
}

export function alertsOf(groups: RuleGroup[]): AlertRule[] {
  return groups.flatMap((g) => g.rules).filter((r) => typeof r.alert === 'string');
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
]);

/**
 * Metric names a PromQL expression selects. Handles label matchers, ranges,
 * grouping clauses, strings, numbers, durations and Grafana variables
 * (`$__rate_interval`, `${var}`); function and aggregation names (followed by
 * `(`) and keywords are not metric names.
 */
export function metricNamesInPromQL(expr: string): string[] {
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, ' ');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  const re =
    /(\d+(?:ms|[smhdwy])\b)|(0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(e)) !== null) {
    const ident = m[3];
    if (!ident || m[4] !== undefined) continue;
    if (PROMQL_KEYWORDS.has(ident.toLowerCase())) continue;
    out.add(ident);
  }
  return [...out];
}

/** A promtool unit-test file (the parts the contract check reads). */
export interface PromtoolTestFile {
  rule_files?: string[];
  tests?: {
    alert_rule_test?: { alertname?: string; eval_time?: string; exp_alerts?: unknown[] }[];
  }[];
}

export interface LintInput {
  groups: RuleGroup[];
  /** Sample names Vigil exports (histograms with _bucket/_sum/_count), plus Prometheus' `up`. */
  knownMetrics: ReadonlySet<string>;
  runbookExists(alert: string): boolean;
  /** Parsed test/alerts/*.yaml, keyed by file name. */
  tests: ReadonlyMap<string, PromtoolTestFile>;
}

/** Problems with the alert rules' contract; empty when all is well. */
export function lintAlertRules(input: LintInput): string[] {
  const problems: string[] = [];
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const file of input.tests.values()) {
    for (const t of file.tests ?? []) {
      for (const a of t.alert_rule_test ?? []) {
        if (!a.alertname) continue;
        if ((a.exp_alerts ?? []).length > 0) fires.add(a.alertname);
        else quiet.add(a.alertname);
      }
    }
  }
  const seen = new Set<string>();
  const alerts = alertsOf(input.groups);
  if (alerts.length === 0) problems.push('no alerts defined');
  for (const r of alerts) {
    const name = r.alert ?? '';
    const where = `alert ${name}`;
    if (!/^Vigil[A-Z][A-Za-z0-9]+$/.test(name)) problems.push(`${where}: name must be VigilCamelCase`);
    if (seen.has(name)) problems.push(`${where}: defined twice`);
    seen.add(name);
    const sev = r.labels?.severity;
    if (!sev || !(ALERT_SEVERITIES as readonly string[]).includes(sev)) {
      problems.push(
        `${where}: labels.severity must be one of ${ALERT_SEVERITIES.join('/')} (is ${String(sev)})`,
      );
    }
    for (const a of ['summary', 'description', 'runbook_url']) {
      const v = r.annotations?.[a];
      if (typeof v !== 'string' || v.trim().length < 10)
        problems.push(`${where}: annotations.${a} missing or too short`);
    }
    const url = r.annotations?.runbook_url;
    if (url !== undefined && url !== `${RUNBOOK_BASE}${name}.md`) {
      problems.push(`${where}: runbook_url must be ${RUNBOOK_BASE}${name}.md`);
    }
    if (!input.runbookExists(name))
      problems.push(`${where}: runbook docs/runbooks/${name}.md does not exist`);
    for (const metric of metricNamesInPromQL(r.expr)) {
      if (!input.knownMetrics.has(metric))
        problems.push(`${where}: expr uses ${metric}, which Vigil does not export`);
    }
    if (!fires.has(name)) problems.push(`${where}: no promtool test where it fires (exp_alerts non-empty)`);
    if (!quiet.has(name)) problems.push(`${where}: no promtool test where it does not fire (exp_alerts: [])`);
  }
  for (const name of new Set([...fires, ...quiet])) {
    if (!seen.has(name)) problems.push(`test/alerts: tests alert ${name}, which is not defined`);
  }
  return problems;
}
