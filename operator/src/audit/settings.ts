/**
 * Reads a SecurityPolicy's `spec.audit` section into AuditSettings: `vigil audit --policy` and the
 * operator's webhook pipeline both read it here. The CRD declares the section (the API server
 * checks types); this check also runs on files the API server never saw, and reports every field
 * it does not know.
 */
import { asObj, isObj } from '../engine/podspec.ts';
import { SEVERITIES, type Severity } from '../engine/types.ts';
import { AUDIT_RULES } from './rules/index.ts';
import { validCidr } from './rules/_common.ts';
import { defaultSettings, type AuditException, type AuditResponse, type AuditSettings } from './types.ts';
import { parseRfc3339 } from '../engine/policy.ts';

const KNOWN = new Set([
  'expectedSecretReaders',
  'approvedChangers',
  'clusterCIDRs',
  'powerfulServiceAccounts',
  'powerfulRoles',
  'deniedBurst',
  'severities',
  'disabledRules',
  'responses',
  'exceptions',
]);

function stringList(v: unknown, field: string, errors: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    errors.push(`${field}: expected a list of non-empty strings`);
    return undefined;
  }
  return v as string[];
}

function positiveInt(v: unknown, field: string, max: number, errors: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    errors.push(`${field}: expected an integer from 1 to ${max}`);
    return undefined;
  }
  return v;
}

/** Settings from a SecurityPolicy object (or defaults when it has no spec.audit), or error messages. */
export function auditSettingsOf(policy: unknown): AuditSettings | string[] {
  const s = defaultSettings();
  const raw = asObj(policy)['spec'];
  const audit = asObj(raw)['audit'];
  if (audit === undefined) return s;
  if (!isObj(audit)) return ['spec.audit: expected a mapping'];
  const errors: string[] = [];
  const p = 'spec.audit';
  for (const k of Object.keys(audit))
    if (!KNOWN.has(k)) errors.push(`${p}.${k}: unknown field (known: ${[...KNOWN].join(', ')})`);
  const readers = stringList(audit['expectedSecretReaders'], `${p}.expectedSecretReaders`, errors);
  const changers = stringList(audit['approvedChangers'], `${p}.approvedChangers`, errors);
  const cidrs = stringList(audit['clusterCIDRs'], `${p}.clusterCIDRs`, errors);
  const sas = stringList(audit['powerfulServiceAccounts'], `${p}.powerfulServiceAccounts`, errors);
  const roles = stringList(audit['powerfulRoles'], `${p}.powerfulRoles`, errors);
  const disabled = stringList(audit['disabledRules'], `${p}.disabledRules`, errors);
  for (const c of cidrs ?? [])
    if (!validCidr(c)) errors.push(`${p}.clusterCIDRs: "${c}" is not a CIDR such as 10.244.0.0/16`);
  const ids = new Set(AUDIT_RULES.map((r) => r.id));
  for (const id of disabled ?? []) if (!ids.has(id)) errors.push(`${p}.disabledRules: unknown rule "${id}"`);
  const burst = audit['deniedBurst'];
  let threshold: number | undefined;
  let windowSeconds: number | undefined;
  if (burst !== undefined) {
    if (!isObj(burst)) errors.push(`${p}.deniedBurst: expected a mapping with threshold and windowSeconds`);
    else {
      for (const k of Object.keys(burst))
        if (k !== 'threshold' && k !== 'windowSeconds') errors.push(`${p}.deniedBurst.${k}: unknown field`);
      threshold = positiveInt(burst['threshold'], `${p}.deniedBurst.threshold`, 1_000_000, errors);
      windowSeconds = positiveInt(burst['windowSeconds'], `${p}.deniedBurst.windowSeconds`, 86_400, errors);
    }
  }
  const severities: Record<string, Severity> = {};
  const sev = audit['severities'];
  if (sev !== undefined) {
    if (!isObj(sev)) errors.push(`${p}.severities: expected a mapping of rule id to severity`);
    else
      for (const [id, v] of Object.entries(sev)) {
        if (!ids.has(id)) errors.push(`${p}.severities.${id}: unknown rule`);
        else if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v))
          errors.push(`${p}.severities.${id}: expected one of ${SEVERITIES.join(', ')}`);
        else severities[id] = v as Severity;
      }
  }
  const responses: AuditResponse[] = [];
  const rawResponses = audit['responses'];
  if (rawResponses !== undefined) {
    if (!Array.isArray(rawResponses)) errors.push(`${p}.responses: expected a list`);
    else
      rawResponses.forEach((r: unknown, i) => {
        const at = `${p}.responses[${String(i)}]`;
        if (!isObj(r)) {
          errors.push(`${at}: expected a mapping with rules and action`);
          return;
        }
        for (const k of Object.keys(r))
          if (k !== 'rules' && k !== 'action')
            errors.push(`${at}.${k}: unknown field (known: rules, action)`);
        const rules = stringList(r['rules'], `${at}.rules`, errors);
        if (rules !== undefined && rules.length === 0) errors.push(`${at}.rules: name at least one rule`);
        for (const id of rules ?? []) if (!ids.has(id)) errors.push(`${at}.rules: unknown rule "${id}"`);
        if (r['action'] !== 'quarantine') errors.push(`${at}.action: expected quarantine`);
        else if (rules && rules.length > 0) responses.push({ rules, action: 'quarantine' });
      });
  }
  const exceptions: AuditException[] = [];
  const rawExceptions = audit['exceptions'];
  if (rawExceptions !== undefined) {
    if (!Array.isArray(rawExceptions)) errors.push(`${p}.exceptions: expected a list`);
    else
      rawExceptions.forEach((e: unknown, i) => {
        const at = `${p}.exceptions[${String(i)}]`;
        if (!isObj(e)) {
          errors.push(`${at}: expected a mapping`);
          return;
        }
        const known = ['rules', 'users', 'namespaces', 'reason', 'owner', 'expiresAt'];
        for (const k of Object.keys(e))
          if (!known.includes(k)) errors.push(`${at}.${k}: unknown field (known: ${known.join(', ')})`);
        const rules = stringList(e['rules'], `${at}.rules`, errors) ?? [];
        for (const id of rules) if (!ids.has(id)) errors.push(`${at}.rules: unknown rule "${id}"`);
        const users = stringList(e['users'], `${at}.users`, errors);
        if (users === undefined || users.length === 0)
          errors.push(`${at}.users: name the identities (globs) it accepts`);
        const namespaces = stringList(e['namespaces'], `${at}.namespaces`, errors) ?? [];
        const text = (k: string): string | undefined => {
          const v = e[k];
          if (typeof v === 'string' && v.trim() !== '') return v;
          errors.push(`${at}.${k}: required (who accepted the risk, and why)`);
          return undefined;
        };
        const reason = text('reason');
        const owner = text('owner');
        let expiresAtMs: number | undefined;
        if (e['expiresAt'] !== undefined) {
          const d = parseRfc3339(e['expiresAt']);
          if (!d) errors.push(`${at}.expiresAt: expected an RFC 3339 date-time`);
          else expiresAtMs = d.getTime();
        }
        if (users && users.length > 0 && reason && owner)
          exceptions.push({
            rules,
            users,
            namespaces,
            reason,
            owner,
            ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
          });
      });
  }
  if (errors.length > 0) return errors;
  return {
    exceptions,
    responses,
    expectedSecretReaders: readers ?? s.expectedSecretReaders,
    approvedChangers: changers ?? s.approvedChangers,
    clusterCIDRs: cidrs ?? s.clusterCIDRs,
    powerfulServiceAccounts: sas ?? s.powerfulServiceAccounts,
    powerfulRoles: roles ?? s.powerfulRoles,
    deniedBurst: {
      threshold: threshold ?? s.deniedBurst.threshold,
      windowSeconds: windowSeconds ?? s.deniedBurst.windowSeconds,
    },
    severities,
    disabledRules: disabled ?? s.disabledRules,
  };
}

/** The audit settings the operator judges with, and where they came from. */
export interface ChosenAuditSettings {
  settings: AuditSettings;
  /** The SecurityPolicy whose spec.audit applies; undefined: none has one, defaults apply. */
  policy?: string;
  /** Policies with a spec.audit that is not used: `name: why`. */
  ignored: string[];
}

/**
 * One set of audit settings for the whole cluster (the API server sends one stream of events):
 * the spec.audit of the SecurityPolicy with that section that comes first by name, skipping
 * sections that are invalid. Other policies' sections are reported as ignored.
 */
export function chooseAuditSettings(policies: readonly unknown[]): ChosenAuditSettings {
  const named = policies
    .map((p) => {
      const name = asObj(asObj(p)['metadata'])['name'];
      return { p, name: typeof name === 'string' ? name : '' };
    })
    .filter(({ p }) => asObj(asObj(p)['spec'])['audit'] !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: ChosenAuditSettings = { settings: defaultSettings(), ignored: [] };
  for (const { p, name } of named) {
    const s = auditSettingsOf(p);
    if (Array.isArray(s)) {
      out.ignored.push(`${name}: ${s.join('; ')}`);
      continue;
    }
    if (out.policy === undefined) {
      out.policy = name;
      out.settings = s;
    } else out.ignored.push(`${name}: policy ${out.policy} comes first by name and its spec.audit applies`);
  }
  return out;
}
