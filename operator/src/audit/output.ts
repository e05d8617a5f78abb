/** `vigil audit` output: JSON with stable keys, and a table for terminals. */
import { emptyCounts, SEVERITIES, type Severity, type SeverityCounts } from '../engine/types.ts';
import { printable } from '../cli/io.ts';
import type { Detection } from './types.ts';

export interface AuditSummary extends SeverityCounts {
  /** Events read (every stage). */
  events: number;
  /** Events judged (ResponseComplete and Panic). */
  judged: number;
  /** Lines or documents that could not be read as events. */
  inputErrors: number;
}

export function summarize(
  detections: readonly Detection[],
  events: number,
  judged: number,
  inputErrors: number,
): AuditSummary {
  const counts = emptyCounts();
  for (const d of detections) counts[d.severity]++;
  return { ...counts, events, judged, inputErrors };
}

export function formatAuditJson(detections: readonly Detection[], summary: AuditSummary): string {
  const out = detections.map((d) => ({
    ruleId: d.ruleId,
    title: d.title,
    severity: d.severity,
    category: d.category,
    auditID: d.auditID,
    time: d.time,
    user: d.user,
    verb: d.verb,
    resource: { ...d.resource },
    sourceIPs: d.sourceIPs,
    message: d.message,
    remediation: d.remediation,
  }));
  return `${JSON.stringify({ detections: out, summary }, null, 2)}\n`;
}

const RESET = '\x1b[0m';
const COLOUR: Record<Severity, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  info: '\x1b[2m',
};

/** One block per detection, in the order of the log, then a summary line. */
export function formatAuditTable(
  detections: readonly Detection[],
  summary: AuditSummary,
  colour: boolean,
): string {
  const paint = (sev: Severity, s: string): string => (colour ? `${COLOUR[sev]}${s}${RESET}` : s);
  const lines: string[] = [];
  for (const d of detections) {
    const r = d.resource;
    const res = `${r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.namespace || r.name ? ' ' : ''}${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
    lines.push(
      `${paint(d.severity, d.severity.toUpperCase().padEnd(8))} ${printable(d.time)}  ${d.ruleId}  ${printable(d.user)} ${printable(d.verb)} ${printable(res)}`,
      `         ${printable(d.message)}`,
      `         auditID ${printable(d.auditID)}${d.sourceIPs.length > 0 ? `  from ${printable(d.sourceIPs.join(', '))}` : ''}`,
      '',
    );
  }
  const total = detections.length;
  const parts = SEVERITIES.filter((s) => summary[s] > 0).map((s) => `${summary[s]} ${s}`);
  lines.push(
    `${total} detection${total === 1 ? '' : 's'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''} in ${summary.events} events (${summary.judged} judged)${summary.inputErrors > 0 ? `, ${summary.inputErrors} input errors` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
