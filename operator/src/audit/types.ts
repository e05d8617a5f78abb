/**
 * Types of the audit-event detections: a normalised audit.k8s.io/v1 Event, the rules that judge
 * one, and the detections they produce. Like the engine, nothing here performs I/O or reads the
 * clock: time comes from the events.
 */
import type { Severity } from '../engine/types.ts';

export const AUDIT_CATEGORY = 'api-abuse';

/** The fields of an audit.k8s.io/v1 Event the detections read, validated and defaulted. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  /** stageTimestamp, else requestReceivedTimestamp (RFC 3339 as in the event; '' when absent). */
  time: string;
  /** `time` in milliseconds since the epoch; NaN when absent or unparsable. */
  timeMs: number;
  verb: string;
  requestURI: string;
  user: string;
  groups: readonly string[];
  /** The impersonated identity, when the request impersonated one. */
  impersonatedUser?: string;
  sourceIPs: readonly string[];
  resource: {
    group: string;
    resource: string;
    subresource: string;
    namespace: string;
    name: string;
  };
  /** objectRef.apiVersion and objectRef.uid, when the API server set them (Events on the object use them). */
  refApiVersion?: string;
  refUID?: string;
  /** responseStatus.code; 0 when absent. */
  code: number;
  /** Present at RequestResponse/Request level only. */
  requestObject?: unknown;
  annotations: Readonly<Record<string, string>>;
}

/** Audit settings of a SecurityPolicy (`spec.audit`), with defaults applied. */
export interface AuditSettings {
  /** Identities (globs) allowed to read Secrets, beyond the built-in controllers. */
  expectedSecretReaders: readonly string[];
  /** Identities (globs) of the deployment pipeline; empty turns audit-unapproved-change off. */
  approvedChangers: readonly string[];
  /** Pod and node networks; empty turns audit-sa-token-foreign-ip off. */
  clusterCIDRs: readonly string[];
  /** ServiceAccounts (`namespace/name` globs) whose tokens are powerful, beyond kube-system. */
  powerfulServiceAccounts: readonly string[];
  /** ClusterRoles a binding to which is reported by audit-powerful-role-binding. */
  powerfulRoles: readonly string[];
  deniedBurst: { threshold: number; windowSeconds: number };
  /** Per-rule severity overrides. */
  severities: Readonly<Record<string, Severity>>;
  disabledRules: readonly string[];
  /** Opt-in answers to chosen detections (spec.audit.responses). */
  responses: readonly AuditResponse[];
  /** Accepted detections (spec.audit.exceptions): not reported while in force. */
  exceptions: readonly AuditException[];
}

/** Detections of `rules` (all when empty) by `users` (globs) in `namespaces` (globs; any when empty). */
export interface AuditException {
  rules: readonly string[];
  users: readonly string[];
  namespaces: readonly string[];
  reason: string;
  owner: string;
  /** Epoch ms; events at or after it are reported again. */
  expiresAtMs?: number;
}

/** `quarantine`: deny every write by the detected identity until a person removes the guard. */
export interface AuditResponse {
  rules: readonly string[];
  action: 'quarantine';
}

export function defaultSettings(): AuditSettings {
  return {
    expectedSecretReaders: [],
    approvedChangers: [],
    clusterCIDRs: [],
    powerfulServiceAccounts: [],
    powerfulRoles: ['admin', 'edit', 'system:controller:*', 'system:kube-controller-manager'],
    deniedBurst: { threshold: 20, windowSeconds: 60 },
    severities: {},
    disabledRules: [],
    responses: [],
    exceptions: [],
  };
}

export interface AuditContext {
  settings: AuditSettings;
  /**
   * Per-rule state kept by the evaluator between events (windowed rules). It is explicit
   * input, so a rule stays a function of the events it has seen.
   */
  state: Map<string, unknown>;
}

export interface AuditHit {
  message: string;
  severity?: Severity;
}

export interface AuditRule {
  /** Stable kebab-case id, `audit-…`. */
  id: string;
  title: string;
  severity: Severity;
  category: typeof AUDIT_CATEGORY;
  /** MITRE ATT&CK for Containers technique ids, where one fits. */
  mitre: readonly string[];
  /** Documentation links. */
  references: readonly string[];
  rationale: string;
  remediation: string;
  /** Pure except for ctx.state: one judged event in, hits out. Must not throw on odd input. */
  check(ev: AuditEvent, ctx: AuditContext): AuditHit[];
}

export interface Detection {
  ruleId: string;
  title: string;
  severity: Severity;
  category: typeof AUDIT_CATEGORY;
  auditID: string;
  time: string;
  user: string;
  verb: string;
  resource: AuditEvent['resource'];
  sourceIPs: string[];
  message: string;
  remediation: string;
}
