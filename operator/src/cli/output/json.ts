/**
 * `--output json`: a stable document for scripts. Every finding has the same keys;
 * `namespace` (cluster-scoped objects) and `container` (findings about the whole
 * object) are null when absent rather than left out, and `location.line` is null
 * when unknown.
 */
import type { Finding, Severity } from '../../engine/types.ts';
import { summarize, type ScanResult } from './result.ts';

export interface JsonFinding {
  ruleId: string;
  title: string;
  severity: Severity;
  category: string;
  controls: string[];
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  container: string | null;
  message: string;
  remediation: string;
  location: { file: string | null; line: number | null };
}

export interface JsonReport {
  findings: JsonFinding[];
  summary: { critical: number; high: number; medium: number; low: number; info: number; resources: number };
}

export function toJsonFinding(f: Finding): JsonFinding {
  return {
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    category: f.category,
    controls: f.controls,
    resource: {
      apiVersion: f.resource.apiVersion,
      kind: f.resource.kind,
      namespace: f.resource.namespace ?? null,
      name: f.resource.name,
    },
    container: f.container ?? null,
    message: f.message,
    remediation: f.remediation,
    location: { file: f.location?.file ?? null, line: f.location?.line ?? null },
  };
}

export function toJsonReport(r: ScanResult): JsonReport {
  const c = summarize(r.findings);
  return {
    findings: r.findings.map(toJsonFinding),
    summary: {
      critical: c.critical,
      high: c.high,
      medium: c.medium,
      low: c.low,
      info: c.info,
      resources: r.resources.length,
    },
  };
}

export function formatJson(r: ScanResult): string {
  return `${JSON.stringify(toJsonReport(r), null, 2)}\n`;
}
