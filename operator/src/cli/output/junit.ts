/**
 * `--output junit`: JUnit XML for CI test reports. One testsuite per input file, one
 * testcase per (resource, active rule applicable to its kind). A testcase fails when
 * the rule found anything on the resource (whatever --fail-on says: the exit code
 * carries the threshold, the report shows everything); a rule that crashed, or a file
 * that could not be read, is an <error>. Every value is XML-escaped, and characters
 * XML 1.0 cannot carry are replaced by U+FFFD.
 */
import { severityRank, type Finding, type ResourceRef, type SourceLocation } from '../../engine/types.ts';
import { resourceLabel, type LocatedRuleError, type ScanResult } from './result.ts';

const INVALID_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const TEXT_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

/** Escapes text content. */
export function xmlText(s: string): string {
  return s.replace(INVALID_XML, '\ufffd').replace(/[&<>"']/g, (c) => TEXT_ESCAPES[c] ?? c);
}

/** Escapes an attribute value (line breaks and tabs kept as character references). */
export function xmlAttr(s: string): string {
  return s.replace(INVALID_XML, '\ufffd').replace(/[&<>"'\n\r\t]/g, (c) => ATTR_ESCAPES[c] ?? c);
}

function key(ref: ResourceRef, loc: SourceLocation | undefined): string {
  return [loc?.file ?? '', loc?.line ?? 0, ref.apiVersion, ref.kind, ref.namespace ?? '', ref.name].join(
    '\u0000',
  );
}

interface Case {
  name: string;
  classname: string;
  file: string;
  line?: number;
  failure?: { message: string; type: string; text: string };
  error?: { message: string; text: string };
}

function failureOf(findings: Finding[]): Case['failure'] {
  const sorted = [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const worst = sorted[0] as Finding;
  const more = sorted.length > 1 ? ` (+${sorted.length - 1} more)` : '';
  const lines = sorted.map((f) => `[${f.severity.toUpperCase()}] ${f.message}`);
  lines.push(`Remediation: ${worst.remediation}`);
  if (worst.controls.length > 0) lines.push(`Controls: ${worst.controls.join(', ')}`);
  return { message: `${worst.message}${more}`, type: worst.severity, text: lines.join('\n') };
}

function caseXml(c: Case): string {
  const attrs = [
    `name="${xmlAttr(c.name)}"`,
    `classname="${xmlAttr(c.classname)}"`,
    `file="${xmlAttr(c.file)}"`,
  ];
  if (c.line !== undefined) attrs.push(`line="${c.line}"`);
  const open = `    <testcase ${attrs.join(' ')}`;
  if (c.failure)
    return `${open}>\n      <failure message="${xmlAttr(c.failure.message)}" type="${xmlAttr(c.failure.type)}">${xmlText(c.failure.text)}</failure>\n    </testcase>`;
  if (c.error)
    return `${open}>\n      <error message="${xmlAttr(c.error.message)}" type="error">${xmlText(c.error.text)}</error>\n    </testcase>`;
  return `${open}/>`;
}

export function formatJunit(r: ScanResult): string {
  const findingsBy = new Map<string, Finding[]>();
  for (const f of r.findings) {
    const k = `${key(f.resource, f.location)}\u0000${f.ruleId}`;
    const list = findingsBy.get(k);
    if (list) list.push(f);
    else findingsBy.set(k, [f]);
  }
  const errorsBy = new Map<string, LocatedRuleError>();
  for (const e of r.ruleErrors) errorsBy.set(`${key(e.resource, e.location)}\u0000${e.ruleId}`, e);

  const suites = new Map<string, Case[]>();
  const suite = (file: string): Case[] => {
    let s = suites.get(file);
    if (!s) {
      s = [];
      suites.set(file, s);
    }
    return s;
  };
  for (const res of r.resources) {
    const file = res.location?.file ?? '';
    const cases = suite(file);
    const base = key(res.ref, res.location);
    for (const a of r.policy.rules) {
      if (!a.rule.kinds.includes(res.ref.kind)) continue;
      const c: Case = { name: a.rule.id, classname: resourceLabel(res.ref), file };
      if (res.location?.line !== undefined) c.line = res.location.line;
      const err = errorsBy.get(`${base}\u0000${a.rule.id}`);
      const found = findingsBy.get(`${base}\u0000${a.rule.id}`);
      if (err) c.error = { message: `rule crashed: ${err.message}`, text: err.message };
      else if (found) c.failure = failureOf(found);
      cases.push(c);
    }
  }
  for (const e of r.inputErrors) {
    const c: Case = {
      name: 'read and parse',
      classname: 'input',
      file: e.file,
      error: { message: e.message, text: e.message },
    };
    if (e.line !== undefined) c.line = e.line;
    suite(e.file).push(c);
  }

  let tests = 0;
  let failures = 0;
  let errors = 0;
  const body: string[] = [];
  for (const [file, cases] of suites) {
    const f = cases.filter((c) => c.failure).length;
    const e = cases.filter((c) => c.error).length;
    tests += cases.length;
    failures += f;
    errors += e;
    body.push(
      `  <testsuite name="${xmlAttr(file)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="0">`,
      ...cases.map(caseXml),
      '  </testsuite>',
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vigil" tests="${tests}" failures="${failures}" errors="${errors}">`,
    ...body,
    '</testsuites>',
    '',
  ].join('\n');
}
