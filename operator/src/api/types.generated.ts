// GENERATED from crds/src/*.yaml by scripts/generate-api.ts (make generate). Do not edit by hand.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const API_GROUP = 'security.vigil.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = 'security.vigil.dev/v1alpha1';

/** Kinds this API defines, with their REST names. */
export const KINDS = {
  ScanReport: {
    plural: 'scanreports',
    namespaced: true,
  },
  SecurityPolicy: {
    plural: 'securitypolicies',
    namespaced: false,
  },
} as const;

/** ScanReport holds Vigil's findings about one subject (a workload, a bare Pod, a Role, a Namespace, a Node…), from every SecurityPolicy that matches it. Vigil owns these objects: edits are reverted to the truth. */
export interface ScanReport {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: string;
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: string;
  metadata?: V1ObjectMeta;
  /** What the report is about. */
  spec: ScanReportSpec;
  /** Findings, written by Vigil. */
  status?: ScanReportStatus;
}

/** What the report is about. */
export interface ScanReportSpec {
  /** The evaluated object. Reports about cluster-scoped subjects live in Vigil's namespace. */
  subject: ScanReportSpecSubject;
}

/** The evaluated object. Reports about cluster-scoped subjects live in Vigil's namespace. */
export interface ScanReportSpecSubject {
  /** API version of the subject (for example apps/v1). */
  apiVersion: string;
  /** Kind of the subject (for example Deployment). */
  kind: string;
  /** Namespace of the subject; empty for cluster-scoped subjects. */
  namespace?: string;
  /** Name of the subject. */
  name: string;
  /** UID of the subject when the report was written. */
  uid?: string;
}

/** Findings, written by Vigil. */
export interface ScanReportStatus {
  /** Findings by severity. Exact even when the findings list is truncated. */
  summary?: SeverityCounts;
  /** Findings, most severe first. May be truncated to stay within the report byte budget. */
  findings?: ScanReportStatusFinding[];
  /** Findings left out of the list to respect the byte budget (the summary still counts them). */
  omittedFindings?: number;
  /** Ready (the subject has been evaluated) and Compliant (no findings). */
  conditions?: Condition[];
  /** When the findings last changed. */
  lastEvaluated?: string;
}

/** Number of findings per severity. */
export interface SeverityCounts {
  /** Findings of severity critical. */
  critical?: number;
  /** Findings of severity high. */
  high?: number;
  /** Findings of severity medium. */
  medium?: number;
  /** Findings of severity low. */
  low?: number;
  /** Findings of severity info. */
  info?: number;
}

/** One problem found on the subject. */
export interface ScanReportStatusFinding {
  /** Id of the rule that found it (see `vigil rules`). */
  ruleId: string;
  /** Short title of the rule. */
  title?: string;
  /** Severity after policy overrides. */
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  /** Rule category (pod-security, workload, supply-chain, secrets, rbac, network, platform, management-tools, change-management, custom). */
  category?: string;
  /** Framework references, for example PSS:privileged, CIS:5.2.2 or a CVE id. */
  controls?: string[];
  /** SecurityPolicy that reported it. */
  policy?: string;
  /** Container the finding is about, when it is about one. */
  container?: string;
  /** What is wrong, naming the field. */
  message: string;
  /** How to fix it. */
  remediation?: string;
  /** When Vigil first reported this finding on this subject. */
  firstSeen?: string;
}

/** One condition. */
export interface Condition {
  /** Condition type in CamelCase (for example Ready). */
  type: string;
  /** True, False or Unknown. */
  status: 'True' | 'False' | 'Unknown';
  /** The metadata.generation the condition was set for. */
  observedGeneration?: number;
  /** When the condition last changed status. */
  lastTransitionTime: string;
  /** Machine-readable CamelCase reason for the last transition. */
  reason: string;
  /** Human-readable details. */
  message: string;
}

/** SecurityPolicy declares which security rules Vigil evaluates, on which resources, and which findings are accepted as exceptions. Vigil writes the results into ScanReports, Events and metrics. */
export interface SecurityPolicy {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: string;
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: string;
  metadata?: V1ObjectMeta;
  /** Desired behaviour of the policy. */
  spec: SecurityPolicySpec;
  /** Observed state, written by Vigil. */
  status?: SecurityPolicyStatus;
}

/** Desired behaviour of the policy. */
export interface SecurityPolicySpec {
  /** Rule set to start from. pss-baseline and pss-restricted are exactly the Kubernetes Pod Security Standards; recommended (the default) adds the other rules that matter; all is every rule Vigil ships. */
  profile?: 'pss-baseline' | 'pss-restricted' | 'recommended' | 'all';
  /** Which resources the policy evaluates. Empty matches every resource Vigil watches. */
  match?: ResourceMatch;
  /** Per-rule overrides on top of the profile (enable or disable, severity, params). */
  rules?: SecurityPolicySpecRule[];
  /** Accepted risks. Findings of the named rules on matching resources are not reported while the exception is in force; after expiresAt they are reported again and the lapse is reported. */
  exceptions?: SecurityPolicySpecException[];
  /** The policy's own rules, in CEL with exactly the Kubernetes semantics (the API server's CEL environment and ValidatingAdmissionPolicy meaning, at the pinned version). A custom rule behaves like a built-in one: findings, exceptions, severity overrides in rules, `vigil scan --policy`. An expression that does not compile makes the policy invalid (Accepted=False, reason InvalidRule, naming the rule, the expression and the position). See docs/custom-rules.md. */
  customRules?: SecurityPolicySpecCustomRule[];
  /** What Vigil does with findings. Every action records them (ScanReports, events, metrics). warn and enforce also generate ValidatingAdmissionPolicies (with their bindings) for the rules that can be checked on one admitted object: warn admits with a warning and an audit annotation, enforce denies. status.admission says which rules are checked at admission and previews what enforce would reject among the existing objects. */
  action?: 'audit' | 'warn' | 'enforce';
  /** Event settings. */
  events?: SecurityPolicySpecEvents;
  /** Reading the images of the workloads this policy matches from their registries (packages, known vulnerabilities; docs/images.md). Off unless analyse is true. */
  images?: SecurityPolicySpecImages;
  /** Settings of the audit-event detections (the operator's audit webhook and `vigil audit --policy`). The API server sends one stream of events, so one policy's audit settings apply: of the policies with this section, the first by name (docs/audit.md). */
  audit?: SecurityPolicySpecAudit;
}

/** Selects resources by namespace, name, kind and labels. All given criteria must hold. */
export interface ResourceMatch {
  /** Namespace globs (for example team-*). Cluster-scoped resources match only when no namespace criteria are set. */
  namespaces?: string[];
  /** Namespace globs to leave out. */
  excludeNamespaces?: string[];
  /** Resource name globs. */
  names?: string[];
  /** Resource kinds (for example Deployment, Pod, ClusterRole). */
  kinds?: string[];
  /** Labels the resource's namespace must carry. */
  namespaceSelector?: LabelSelector;
  /** Labels the resource itself must carry. */
  objectSelector?: LabelSelector;
}

/** A Kubernetes label selector. */
export interface LabelSelector {
  /** Labels that must be present with exactly these values. */
  matchLabels?: Record<string, string>;
  /** Label requirements; all must hold. */
  matchExpressions?: LabelSelectorMatchExpression[];
}

/** One label requirement. */
export interface LabelSelectorMatchExpression {
  /** Label key. */
  key: string;
  /** Relation between the key and the values. */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Values for In and NotIn; must be empty for Exists and DoesNotExist. */
  values?: string[];
}

/** Override for one rule. */
export interface SecurityPolicySpecRule {
  /** Rule id, as listed by `vigil rules` (for example pss-privileged). */
  id: string;
  /** false removes the rule from the profile; true adds a rule the profile lacks. */
  enabled?: boolean;
  /** Severity to report instead of the rule's default. */
  severity?: 'critical' | 'high' | 'medium' | 'low' | 'info';
  /** Rule parameters (see `vigil rules` for each rule's params and defaults). */
  params?: Record<string, unknown>;
}

/** One accepted risk, with an owner and a reason. */
export interface SecurityPolicySpecException {
  /** Rule ids (globs allowed, for example pss-*) the exception covers. Empty means every rule. */
  rules?: string[];
  /** Resources the exception covers. Omitted means every resource the policy matches. */
  match?: ResourceMatch;
  /** Why the risk is accepted. */
  reason: string;
  /** Who is accountable for the exception (team or person). */
  owner: string;
  /** RFC 3339 time after which the exception no longer applies. */
  expiresAt?: string;
}

/** One rule, shaped like a ValidatingAdmissionPolicy. */
export interface SecurityPolicySpecCustomRule {
  /** Unique rule id, shown like a built-in rule's (it may not reuse one). */
  id: string;
  /** One-line summary, shown with each finding. */
  title: string;
  /** Why the rule matters (shown as its rationale). */
  description?: string;
  /** Severity of the rule's findings. */
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  /** Category of the rule's findings (metrics and reports group by it). */
  category?:
    | 'pod-security'
    | 'workload'
    | 'supply-chain'
    | 'secrets'
    | 'rbac'
    | 'network'
    | 'platform'
    | 'management-tools'
    | 'change-management'
    | 'custom';
  /** Resources the rule judges, within the policy's match (the same matcher as exceptions). Without kinds, every kind Vigil evaluates. */
  match?: ResourceMatch;
  /** Named expressions, available to later variables and to validations as variables.<name> (as in a ValidatingAdmissionPolicy). */
  variables?: SecurityPolicySpecCustomRuleVariable[];
  /** Each must be true for the object to comply; each false one is a finding. */
  validations: SecurityPolicySpecCustomRuleValidation[];
  /** How to fix a finding (shown with each finding). */
  remediation?: string;
}

export interface SecurityPolicySpecCustomRuleVariable {
  /** A CEL identifier. */
  name: string;
  /** CEL expression; object, oldObject, request, namespaceObject and earlier variables are in scope. */
  expression: string;
}

export interface SecurityPolicySpecCustomRuleValidation {
  /** CEL expression returning bool; true means compliant. */
  expression: string;
  /** The finding's message when messageExpression is absent or fails. */
  message?: string;
  /** CEL expression returning the finding's message (a single line). */
  messageExpression?: string;
}

/** Event settings. */
export interface SecurityPolicySpecEvents {
  /** Lowest severity that produces a Warning event on the offending object. */
  minSeverity?: 'critical' | 'high' | 'medium' | 'low' | 'info';
}

/** Reading the images of the workloads this policy matches from their registries (packages, known vulnerabilities; docs/images.md). Off unless analyse is true. */
export interface SecurityPolicySpecImages {
  /** Read the images of matched workloads from their registries (the OCI distribution API; no node access) and match their packages against the operator's advisories (--advisories). */
  analyse?: boolean;
  /** allow: for an image whose registry needs credentials, read the pod's imagePullSecrets (kubernetes.io/dockerconfigjson; needs the opt-in vigil-pull-secret-reader ClusterRole, Helm value images.readPullSecrets). deny: such an image is reported as not analysed. */
  pullSecrets?: 'allow' | 'deny';
}

/** Settings of the audit-event detections (the operator's audit webhook and `vigil audit --policy`). The API server sends one stream of events, so one policy's audit settings apply: of the policies with this section, the first by name (docs/audit.md). */
export interface SecurityPolicySpecAudit {
  /** Identities (globs, for example system:serviceaccount:cert-manager:*) expected to read Secrets, beyond the control plane's controllers and the node authorizer. */
  expectedSecretReaders?: string[];
  /** Identities (globs) of the approved deployment pipeline; changes by anyone else are reported by audit-unapproved-change. Empty turns that rule off. */
  approvedChangers?: string[];
  /** The pod and node networks: a ServiceAccount token used from elsewhere is reported by audit-sa-token-foreign-ip. Empty turns that rule off. */
  clusterCIDRs?: string[];
  /** ServiceAccounts (namespace/name globs) whose tokens are powerful, beyond kube-system. */
  powerfulServiceAccounts?: string[];
  /** ClusterRoles a binding to which is reported (default admin, edit, system:controller:*). */
  powerfulRoles?: string[];
  /** A burst of denied (403) requests from one identity within a sliding window. */
  deniedBurst?: SecurityPolicySpecAuditDeniedBurst;
  /** Severity per audit rule id, instead of the rule's default. */
  severities?: Record<string, 'critical' | 'high' | 'medium' | 'low' | 'info'>;
  /** Audit rule ids not to run. */
  disabledRules?: string[];
  /** Accepted detections: detections of the rules (all when empty) by the users (globs) in the namespaces (globs; any when empty) are not reported while the exception is in force; events at or after expiresAt are reported again. reason and owner are required. */
  exceptions?: SecurityPolicySpecAuditException[];
  /** Opt-in answers to chosen detections. quarantine: a ValidatingAdmissionPolicy denies every write by the detected identity until a person deletes it (never Vigil's own identity, system:masters, or the control plane's system users and kube-system ServiceAccounts); each response is an Event on this policy and a metric (docs/audit.md). */
  responses?: SecurityPolicySpecAuditResponse[];
}

/** A burst of denied (403) requests from one identity within a sliding window. */
export interface SecurityPolicySpecAuditDeniedBurst {
  /** Denied requests in the window that make a detection (default 20). */
  threshold?: number;
  /** The window, in seconds (default 60). */
  windowSeconds?: number;
}

export interface SecurityPolicySpecAuditException {
  /** Audit rule ids; empty accepts every rule's detections. */
  rules?: string[];
  /** Identities (globs, for example system:serviceaccount:backup:*). */
  users: string[];
  /** Namespaces of the requests (globs); empty for any. */
  namespaces?: string[];
  /** Why the detections are accepted. */
  reason: string;
  /** Who accepted them. */
  owner: string;
  /** When the exception lapses. */
  expiresAt?: string;
}

export interface SecurityPolicySpecAuditResponse {
  /** Audit rule ids whose detections trigger the response. */
  rules: string[];
  /** What to do with the identity the detection names. */
  action: 'quarantine';
}

/** Observed state, written by Vigil. */
export interface SecurityPolicyStatus {
  /** The metadata.generation the status reflects. */
  observedGeneration?: number;
  /** Accepted (the spec is valid), Ready (every matching resource has been evaluated) and Enforced (the generated admission policies are in place and cover every rule: True; False with reason AuditOnly, PartiallyEnforced, NotTranslatable, InvalidPolicy or Invalid). */
  conditions?: Condition[];
  /** Findings of this policy across all ScanReports, by severity. */
  summary?: SeverityCounts;
  /** Number of resources the policy matched in the last evaluation. */
  resourcesEvaluated?: number;
  /** When the policy's results last changed or were fully re-evaluated. */
  lastEvaluated?: string;
  /** Admission control generated from this policy (ValidatingAdmissionPolicies and bindings), and a preview of what it rejects among the objects that exist now. Written for every action, so the preview can be read before switching to warn or enforce. */
  admission?: SecurityPolicyStatusAdmission;
}

/** Admission control generated from this policy (ValidatingAdmissionPolicies and bindings), and a preview of what it rejects among the objects that exist now. Written for every action, so the preview can be read before switching to warn or enforce. */
export interface SecurityPolicyStatusAdmission {
  /** Rules of the policy checked at admission (CEL in the generated policies). */
  translatedRules?: string[];
  /** Rules of the policy that stay audit-only, each with the reason. */
  untranslatedRules?: SecurityPolicyStatusAdmissionUntranslatedRule[];
  /** Existing workloads (controllers not owned by another controller, and bare Pods) with a finding of a translated rule: what enforce would reject on their next rollout. */
  existingViolations?: number;
  /** The first of those objects (at most 20, sorted), with the rules they break. */
  wouldReject?: SecurityPolicyStatusAdmissionWouldReject[];
  /** Names of the generated ValidatingAdmissionPolicies (each binding has the same name); empty for audit. */
  validatingAdmissionPolicies?: string[];
  /** The API server's type-checking warnings on the generated expressions (status.typeChecking). */
  typeCheckingWarnings?: string[];
}

export interface SecurityPolicyStatusAdmissionUntranslatedRule {
  /** Rule id. */
  id: string;
  /** Why the rule is not checked at admission. */
  reason: string;
}

export interface SecurityPolicyStatusAdmissionWouldReject {
  /** Kind of the object. */
  kind: string;
  /** Namespace of the object. */
  namespace?: string;
  /** Name of the object. */
  name: string;
  /** Translated rules it breaks. */
  rules: string[];
}
