/**
 * `--output json`: a stable document for scripts. Every finding has the same keys;
 * `namespace` (cluster-scoped objects) and `container` (findings about the whole
 * object) are null when absent rather than left out, and `location.line` is null
 * when unknown. `location.line` and `location.column` point at the offending field the finding
 * names (`location.field`), or at its nearest existing ancestor when the field is absent; a
 * finding that names no field points at its object, whose first line is `location.objectLine`.
 */
import type { Severity } from '../../engine/types.ts';
import { summarize, type ScanFinding, type ScanResult } from './result.ts';

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
  location: {
    file: string | null;
    line: number | null;
    /** 1-based column of the field (or its nearest existing ancestor); null when no field is located. */
    column: number | null;
    /** The field path the finding is about, e.g. `spec.containers[0].securityContext.privileged`. */
    field: string | null;
    /** The first line of the object the finding is about. */
    objectLine: number | null;
  };
}

export interface JsonReport {
  findings: JsonFinding[];
  summary: { critical: number; high: number; medium: number; low: number; info: number; resources: number };
}

export function toJsonFinding(f: ScanFinding): JsonFinding {
  const objectLine = f.location?.line ?? null;
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
    location: {
      file: f.location?.file ?? null,
      line: f.field?.line ?? objectLine,
      column: f.field?.column ?? null,
      field: f.field?.path ?? null,
      objectLine,
    },
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
