/**
 * A ScanReport as an OpenReports (openreports.io/v1alpha1) Report, for Policy Reporter and the
 * other consumers of that API (issue 17 point 6). Pure: the controller writes what this returns,
 * next to the ScanReport, when the operator runs with --openreports.
 *
 * - A namespaced subject gets a `Report` in its namespace; a cluster-scoped one (a ClusterRole,
 *   a Node, the API server) a `ClusterReport`. Both are named like the ScanReport, labelled
 *   managed by Vigil and owned by the subject (garbage-collected with it).
 * - `scope` is the subject; every finding is one result with `result: fail` (a finding is a
 *   failed check), the finding's severity, rule, policy (the SecurityPolicy), category and
 *   message, and `properties` for what has no field of its own (container, remediation,
 *   controls, firstSeen). Vigil reports failures only, so `summary` counts them as `fail`.
 */
import type { DesiredScanReport } from './report.ts';

export const OPENREPORTS_API_VERSION = 'openreports.io/v1alpha1';
export const OPENREPORTS_SOURCE = 'vigil';

export interface OpenReport {
  apiVersion: typeof OPENREPORTS_API_VERSION;
  kind: 'Report' | 'ClusterReport';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences?: unknown[];
  };
  scope: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string };
  source: string;
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: OpenReportResult[];
}

export interface OpenReportResult {
  source: string;
  policy: string;
  rule: string;
  result: 'fail';
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  category?: string;
  message: string;
  timestamp?: { seconds: number; nanos: number };
  properties?: Record<string, string>;
}

/** The collection path of the OpenReport for a subject (namespace '' for cluster-scoped ones). */
export function openReportCollection(namespace: string): string {
  return namespace
    ? `/apis/${OPENREPORTS_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/reports`
    : `/apis/${OPENREPORTS_API_VERSION}/clusterreports`;
}

/** The OpenReport carrying the findings of `report` (a ScanReport as Vigil writes it). */
export function toOpenReport(report: DesiredScanReport): OpenReport {
  const subject = report.spec.subject;
  const namespaced = (subject.namespace ?? '') !== '';
  const findings = report.status.findings ?? [];
  const results = findings.map((f): OpenReportResult => {
    const properties: Record<string, string> = {};
    if (f.container !== undefined) properties['container'] = f.container;
    if (f.title !== undefined) properties['title'] = f.title;
    if (f.remediation !== undefined) properties['remediation'] = f.remediation;
    if (f.controls !== undefined && f.controls.length > 0) properties['controls'] = f.controls.join(', ');
    if (f.firstSeen !== undefined) properties['firstSeen'] = f.firstSeen;
    const r: OpenReportResult = {
      source: OPENREPORTS_SOURCE,
      policy: f.policy ?? '',
      rule: f.ruleId,
      result: 'fail',
      severity: f.severity,
      message: f.message,
    };
    if (f.category !== undefined) r.category = f.category;
    const seen = f.firstSeen === undefined ? NaN : Date.parse(f.firstSeen);
    if (!Number.isNaN(seen)) r.timestamp = { seconds: Math.floor(seen / 1000), nanos: 0 };
    if (Object.keys(properties).length > 0) r.properties = properties;
    return r;
  });
  const metadata: OpenReport['metadata'] = {
    name: report.metadata.name,
    labels: { ...report.metadata.labels },
  };
  if (namespaced) metadata.namespace = subject.namespace;
  if (report.metadata.ownerReferences) metadata.ownerReferences = report.metadata.ownerReferences;
  const scope: OpenReport['scope'] = {
    apiVersion: subject.apiVersion,
    kind: subject.kind,
    name: subject.name,
  };
  if (namespaced) scope.namespace = subject.namespace;
  if (subject.uid !== undefined) scope.uid = subject.uid;
  // Findings the ScanReport left out to stay within its byte budget still count as failures.
  const omitted = report.status.omittedFindings ?? 0;
  return {
    apiVersion: OPENREPORTS_API_VERSION,
    kind: namespaced ? 'Report' : 'ClusterReport',
    metadata,
    scope,
    source: OPENREPORTS_SOURCE,
    summary: { pass: 0, fail: results.length + omitted, warn: 0, error: 0, skip: 0 },
    results,
  };
}
