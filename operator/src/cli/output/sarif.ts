/**
 * `--output sarif`: SARIF 2.1.0 as GitHub code scanning accepts it. One run; the
 * driver lists every active rule (with GitHub's `security-severity`), each finding is
 * a result pointing at the file, line and column of its offending field (its nearest existing
 * ancestor when absent; the object's first line when the finding names no field), and a partial fingerprint
 * that ignores the line keeps alerts stable when a manifest moves within its file.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import type { Finding, Rule, Severity } from '../../engine/types.ts';
import { STDIN_NAME } from '../load.ts';
import { locationLabel, resourceLabel, type ScanResult } from './result.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const PROJECT_URI = 'https://github.com/vigil-dev/vigil';
export const FINGERPRINT_KEY = 'vigilFindingHash/v1';

export type SarifLevel = 'error' | 'warning' | 'note';

/** GitHub maps over 9.0 to critical, 7.0–8.9 high, 4.0–6.9 medium, 3.9 or less low. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

export const SARIF_LEVEL: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** `pss-privileged` → `PssPrivileged` (SARIF's human-readable rule name). */
export function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/**
 * A file as a SARIF artifact URI: relative to the working directory with forward
 * slashes (how GitHub matches it to the checkout), percent-encoded; absolute paths
 * outside the working directory become file:// URIs.
 */
export function artifactUri(file: string, cwd: string): string {
  if (file === STDIN_NAME) return 'stdin';
  let p = file;
  if (isAbsolute(p)) {
    const rel = relative(cwd, p);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      const posix = p.split(sep).join('/');
      return `file://${posix.startsWith('/') ? '' : '/'}${encodePath(posix)}`;
    }
    p = rel;
  }
  p = p.split(sep).join('/').replace(/\\/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  return encodePath(p);
}

function encodePath(p: string): string {
  return p
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

export function fingerprint(f: Finding): string {
  const r = f.resource;
  const parts = [f.ruleId, r.apiVersion, r.kind, r.namespace ?? '', r.name, f.container ?? '', f.message];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

function ruleDescriptor(rule: Rule, severity: Severity): Record<string, unknown> {
  const controls = rule.controls.length > 0 ? rule.controls.join(', ') : 'none';
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: {
      text: `${rule.rationale}\n\nRemediation: ${rule.remediation}\n\nControls: ${controls}`,
      markdown: `**${rule.title}**\n\n${rule.rationale}\n\n**Remediation:** ${rule.remediation}\n\n**Controls:** ${controls}`,
    },
    defaultConfiguration: { level: SARIF_LEVEL[severity] },
    properties: {
      tags: [rule.category, ...rule.controls, 'security'],
      'security-severity': SECURITY_SEVERITY[severity],
      precision: 'high',
    },
  };
}

export function toSarif(r: ScanResult, cwd: string): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  const index = new Map<string, number>();
  for (const a of r.policy.rules) {
    index.set(a.rule.id, rules.length);
    rules.push(ruleDescriptor(a.rule, a.severity));
  }
  // A finding of a rule outside the active set cannot happen through the engine; keep
  // the output valid anyway (ruleIndex must point into the rules array).
  for (const f of r.findings) {
    if (index.has(f.ruleId)) continue;
    index.set(f.ruleId, rules.length);
    rules.push({
      id: f.ruleId,
      name: ruleName(f.ruleId),
      shortDescription: { text: f.title },
      defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
    });
  }
  const results = r.findings.map((f) => ({
    ruleId: f.ruleId,
    ruleIndex: index.get(f.ruleId) as number,
    level: SARIF_LEVEL[f.severity],
    message: { text: `${resourceLabel(f.resource)}: ${f.message}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(f.location?.file ?? STDIN_NAME, cwd) },
          region: f.field
            ? { startLine: Math.max(1, f.field.line), startColumn: Math.max(1, f.field.column) }
            : { startLine: Math.max(1, f.location?.line ?? 1) },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(f) },
    properties: {
      severity: f.severity,
      resource: {
        apiVersion: f.resource.apiVersion,
        kind: f.resource.kind,
        namespace: f.resource.namespace ?? null,
        name: f.resource.name,
      },
      container: f.container ?? null,
    },
  }));
  const notifications = [
    ...r.inputErrors.map((e) => ({
      level: 'error',
      message: { text: `${locationLabel({ file: e.file, line: e.line })}: ${e.message}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(e.file, cwd) },
            region: { startLine: Math.max(1, e.line ?? 1) },
          },
        },
      ],
    })),
    ...r.ruleErrors.map((e) => ({
      level: 'error',
      message: { text: `rule ${e.ruleId} failed on ${resourceLabel(e.resource)}: ${e.message}` },
      associatedRule: { id: e.ruleId },
    })),
  ];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vigil',
            informationUri: PROJECT_URI,
            version: r.toolVersion,
            semanticVersion: r.toolVersion,
            rules,
          },
        },
        invocations: [
          { executionSuccessful: notifications.length === 0, toolExecutionNotifications: notifications },
        ],
        results,
      },
    ],
  };
}

export function formatSarif(r: ScanResult, cwd: string): string {
  return `${JSON.stringify(toSarif(r, cwd), null, 2)}\n`;
}
