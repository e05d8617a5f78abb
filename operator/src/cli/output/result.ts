/** What `vigil scan` hands to its output formatters. */
import type { CompiledPolicy } from '../../engine/policy.ts';
import type { RuleError } from '../../engine/evaluate.ts';
import {
  emptyCounts,
  type Finding,
  type ResourceRef,
  type SeverityCounts,
  type SourceLocation,
} from '../../engine/types.ts';
import type { InputError } from '../load.ts';
import type { FieldLocation } from '../locate.ts';

/** A finding of `vigil scan`: the engine's, plus where its offending field is in the file. */
export interface ScanFinding extends Finding {
  /** The field the finding names and its position; absent when the message names no field. */
  field?: FieldLocation;
}

export interface EvaluatedResource {
  /** Kind of the object (also in `ref`), kept for rule applicability. */
  ref: ResourceRef;
  location?: SourceLocation;
}

export interface LocatedRuleError extends RuleError {
  location?: SourceLocation;
}

export interface ScanResult {
  /** Findings in the engine's stable order (compareFindings). */
  findings: ScanFinding[];
  /** Every resource the policy selected, in input order. */
  resources: EvaluatedResource[];
  policy: CompiledPolicy;
  inputErrors: InputError[];
  ruleErrors: LocatedRuleError[];
  toolVersion: string;
}

export function summarize(findings: readonly Finding[]): SeverityCounts {
  const c = emptyCounts();
  for (const f of findings) c[f.severity]++;
  return c;
}

/** `Kind namespace/name`, or `Kind name` for cluster-scoped objects. */
export function resourceLabel(ref: ResourceRef): string {
  const name = ref.name === '' ? '(unnamed)' : ref.name;
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/${name}` : name}`;
}

/** `file:line`, or `file` when the line is unknown. */
export function locationLabel(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return loc.line === undefined ? loc.file : `${loc.file}:${loc.line}`;
}
