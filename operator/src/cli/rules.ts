/** `vigil rules`: the rule catalogue (id, severity, category, profiles), as a table or JSON. */
import { parseArgs } from 'node:util';
import { rulesOfProfile } from '../engine/policy.ts';
import { PROFILES, severityRank, type ProfileName, type Rule } from '../engine/types.ts';
import { ALL_RULES } from '../rules/index.ts';
import { AUDIT_RULES } from '../audit/rules/index.ts';
import type { AuditRule } from '../audit/types.ts';
import { shortParseError, usageError } from './args.ts';
import { EXIT_ERROR, EXIT_OK, type CliIO } from './io.ts';

export const RULES_USAGE = `Usage: vigil rules [options]

Lists the rules Vigil ships, sorted by id.

SEVERITY is the rule's severity; "medium (up to critical)" means some findings are
raised above it (json: raisedTo, with which findings).

Options:
  --profile NAME     Only the rules of a profile: ${PROFILES.join(', ')}.
  --audit            The detections \`vigil audit\` and the operator's audit webhook run on
                     the API server's audit events instead (json: mitre, references).
  -o, --output FMT   table or json (default table). json includes controls, kinds,
                     params, rationale and remediation.
  -h, --help         Show this help.
`;

/** Profiles a rule belongs to, `all` included (every rule is in `all`). */
export function profilesOf(rule: Rule): ProfileName[] {
  return [...rule.profiles, 'all'];
}

/** `medium`, or `medium (up to critical)` for a rule that raises some findings (the highest raise). */
export function severityLabel(rule: Rule): string {
  const raised = (rule.raisedTo ?? []).map((x) => x.severity);
  if (raised.length === 0) return rule.severity;
  const top = raised.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a));
  return `${rule.severity} (up to ${top})`;
}

export function rulesJson(rules: readonly Rule[]): unknown[] {
  return rules.map((r) => ({
    id: r.id,
    title: r.title,
    severity: r.severity,
    raisedTo: (r.raisedTo ?? []).map((x) => ({ severity: x.severity, when: x.when })),
    category: r.category,
    profiles: profilesOf(r),
    controls: r.controls,
    kinds: r.kinds,
    params: (r.params ?? []).map((p) => ({
      name: p.name,
      type: p.type,
      default: p.default,
      description: p.description,
    })),
    rationale: r.rationale,
    remediation: r.remediation,
  }));
}

/** Columns padded to their widest cell (the last one free), and a count line. */
function table(header: string[], rows: string[][], noun: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]): string =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[fmt(header), ...rows.map(fmt)].join('\n')}\n${rows.length} ${noun}${rows.length === 1 ? '' : 's'}\n`;
}

export function rulesTable(rules: readonly Rule[]): string {
  return table(
    ['ID', 'SEVERITY', 'CATEGORY', 'PROFILES', 'TITLE'],
    rules.map((r) => [r.id, severityLabel(r), r.category, profilesOf(r).join(','), r.title]),
    'rule',
  );
}

export function auditRulesJson(rules: readonly AuditRule[]): unknown[] {
  return rules.map((r) => ({
    id: r.id,
    title: r.title,
    severity: r.severity,
    category: r.category,
    mitre: r.mitre,
    references: r.references,
    rationale: r.rationale,
    remediation: r.remediation,
  }));
}

export function auditRulesTable(rules: readonly AuditRule[]): string {
  return table(
    ['ID', 'SEVERITY', 'MITRE', 'TITLE'],
    rules.map((r) => [r.id, r.severity, r.mitre.join(',') || '-', r.title]),
    'audit rule',
  );
}

export function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        profile: { type: 'string' },
        audit: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return Promise.resolve(usageError(io, 'rules', shortParseError(err), RULES_USAGE));
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(RULES_USAGE);
    return Promise.resolve(EXIT_OK);
  }
  const output = v.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    return Promise.resolve(
      usageError(io, 'rules', `unknown output format "${output}" (valid: table, json)`, RULES_USAGE),
    );
  if (v.audit) {
    if (v.profile !== undefined)
      return Promise.resolve(
        usageError(io, 'rules', '--profile selects scan rules; audit rules have no profiles', RULES_USAGE),
      );
    const audit = [...AUDIT_RULES].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    io.stdout.write(
      output === 'json' ? `${JSON.stringify(auditRulesJson(audit), null, 2)}\n` : auditRulesTable(audit),
    );
    return Promise.resolve(EXIT_OK);
  }
  let rules: Rule[] = [...ALL_RULES];
  if (v.profile !== undefined) {
    if (!(PROFILES as readonly string[]).includes(v.profile)) {
      io.stderr.write(
        `vigil rules: unknown profile "${v.profile}" (valid profiles: ${PROFILES.join(', ')})\n`,
      );
      return Promise.resolve(EXIT_ERROR);
    }
    rules = rulesOfProfile(rules, v.profile as ProfileName);
  }
  rules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  io.stdout.write(output === 'json' ? `${JSON.stringify(rulesJson(rules), null, 2)}\n` : rulesTable(rules));
  return Promise.resolve(EXIT_OK);
}
