/** Globs and Kubernetes label selectors, as SecurityPolicies use them. */
import { asArray, asObj, asString, asStringArray, isObj } from './podspec.ts';

/**
 * Shell-style glob: `*` any run of characters, `?` one character. Whole-string match.
 * Matched by a two-pointer scan, not a RegExp: backtracking regexes go exponential on
 * patterns like `*a*a*a*a*b`, and a policy's globs are evaluated for every object.
 * Worst case O(pattern × value).
 */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  let p = 0;
  let v = 0;
  let star = -1; // position of the last `*` seen in the pattern
  let resume = 0; // value position that `*` currently extends to
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      resume = v;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      p++;
      v++;
    } else if (star !== -1) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

export function anyGlob(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => globMatch(p, value));
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** Validates an untrusted selector; returns error strings (empty when valid). */
export function selectorErrors(sel: unknown, path: string): string[] {
  if (sel === undefined || sel === null) return [];
  if (!isObj(sel)) return [`${path} must be an object`];
  const errs: string[] = [];
  const ml = sel['matchLabels'];
  if (ml !== undefined) {
    if (!isObj(ml)) errs.push(`${path}.matchLabels must be a map of strings`);
    else
      for (const [k, v] of Object.entries(ml))
        if (typeof v !== 'string') errs.push(`${path}.matchLabels.${k} must be a string`);
  }
  asArray(sel['matchExpressions']).forEach((e, i) => {
    const o = asObj(e);
    const op = o['operator'];
    if (typeof o['key'] !== 'string') errs.push(`${path}.matchExpressions[${i}].key must be a string`);
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
      errs.push(`${path}.matchExpressions[${i}].operator must be In, NotIn, Exists or DoesNotExist`);
    else if ((op === 'In' || op === 'NotIn') && asStringArray(o['values']).length === 0)
      errs.push(`${path}.matchExpressions[${i}].values must be non-empty for ${op}`);
    else if ((op === 'Exists' || op === 'DoesNotExist') && asArray(o['values']).length > 0)
      errs.push(`${path}.matchExpressions[${i}].values must be empty for ${op}`);
  });
  return errs;
}

/** Label selector semantics of Kubernetes: all requirements must hold; an empty selector matches all. */
export function selectorMatches(
  sel: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const val = has ? labels[e.key] : undefined;
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(val ?? '')) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(val ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function labelsOf(meta: unknown): Record<string, string> {
  const l = asObj(asObj(meta)['labels']);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l)) {
    const s = asString(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}
