/**
 * `--output table` (the default): findings grouped by resource, most severe first,
 * each with its message and the rule's remediation, then a summary line. Colours
 * only on a terminal without NO_COLOR. Untrusted text is escaped, never interpreted.
 */
import { SEVERITIES, severityRank, type Finding, type Severity } from '../../engine/types.ts';
import { printable } from '../io.ts';
import { locationLabel, resourceLabel, summarize, type ScanResult } from './result.ts';

const RESET = '\x1b[0m';
const SEVERITY_COLOUR: Record<Severity, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  info: '\x1b[2m',
};
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';

export interface TableOptions {
  colour: boolean;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupKey(f: Finding): string {
  const r = f.resource;
  return [
    f.location?.file ?? '',
    f.location?.line ?? 0,
    r.kind,
    r.namespace ?? '',
    r.name,
    r.apiVersion,
  ].join('\u0000');
}

export function formatTable(r: ScanResult, opts: TableOptions): string {
  const paint = (code: string, s: string): string => (opts.colour ? `${code}${s}${RESET}` : s);
  const groups = new Map<string, Finding[]>();
  for (const f of r.findings) {
    const k = groupKey(f);
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  const ordered = [...groups.values()].sort((a, b) => {
    const fa = a[0] as Finding;
    const fb = b[0] as Finding;
    return (
      cmp(fa.location?.file ?? '', fb.location?.file ?? '') ||
      (fa.location?.line ?? 0) - (fb.location?.line ?? 0) ||
      cmp(resourceLabel(fa.resource), resourceLabel(fb.resource))
    );
  });
  const width = Math.max(...SEVERITIES.map((s) => s.length));
  const indent = ' '.repeat(2 + width + 2);
  const lines: string[] = [];
  for (const g of ordered) {
    const first = g[0] as Finding;
    const where = locationLabel(first.location);
    lines.push(
      `${where ? `${paint(DIM, printable(where))}  ` : ''}${paint(BOLD, printable(resourceLabel(first.resource)))}`,
    );
    g.sort(
      (a, b) =>
        severityRank(b.severity) - severityRank(a.severity) ||
        cmp(a.ruleId, b.ruleId) ||
        cmp(a.container ?? '', b.container ?? '') ||
        cmp(a.message, b.message),
    );
    g.forEach((f, i) => {
      const sev = f.severity.toUpperCase().padEnd(width);
      lines.push(`  ${paint(SEVERITY_COLOUR[f.severity], sev)}  ${f.ruleId}  ${printable(f.message)}`);
      const next = g[i + 1];
      if (!next || next.ruleId !== f.ruleId)
        lines.push(`${indent}${paint(DIM, `fix: ${printable(f.remediation)}`)}`);
    });
    lines.push('');
  }
  const c = summarize(r.findings);
  const n = r.resources.length;
  const resources = `${n} resource${n === 1 ? '' : 's'} scanned`;
  if (r.findings.length === 0) lines.push(`${resources}, no findings.`);
  else {
    const counts = SEVERITIES.map((s) =>
      c[s] > 0 ? paint(SEVERITY_COLOUR[s], `${c[s]} ${s}`) : `${c[s]} ${s}`,
    ).join(', ');
    const total = r.findings.length;
    lines.push(`${resources}, ${total} finding${total === 1 ? '' : 's'}: ${counts}.`);
  }
  const errs = r.inputErrors.length + r.ruleErrors.length;
  if (errs > 0) lines.push(`${errs} error${errs === 1 ? '' : 's'} (see stderr); results are incomplete.`);
  return `${lines.join('\n')}\n`;
}
