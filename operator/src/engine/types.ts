/**
 * Core types of Vigil's pure evaluation engine. Nothing here performs I/O,
 * reads the clock or imports a Kubernetes client: the CLI and the controller
 * feed the same functions and get the same verdicts.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Numeric rank: critical = 4 … info = 0. */
export function severityRank(s: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(s);
}

export const CATEGORIES = [
  'pod-security',
  'workload',
  'supply-chain',
  'secrets',
  'rbac',
  'network',
  'platform',
  'management-tools',
  'change-management',
  // Custom rules (spec.customRules) that name no other category.
  'custom',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const PROFILES = ['pss-baseline', 'pss-restricted', 'recommended', 'all'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Any Kubernetes object as parsed from YAML/JSON or read from the API. Fields are untrusted. */
export interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: ManagedFieldsEntry[];
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
  [key: string]: unknown;
}

/** Identifies the object a finding is about. */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/** Where an object came from, when known (CLI: file and 1-based line). */
export interface SourceLocation {
  file: string;
  line?: number;
}

/** One object to evaluate, with where it was read from. */
export interface Subject {
  object: KubeObject;
  location?: SourceLocation;
}

/** What a rule's check function returns: the variable part of a finding. */
export interface RuleHit {
  message: string;
  /** Container the problem is in, when it is about one container. */
  container?: string;
  /** Overrides the rule's severity for this hit (e.g. cluster-wide is worse). */
  severity?: Severity;
  /** Controls to add to the rule's own for this hit (e.g. a more specific PSS check). */
  controls?: string[];
}

/** Parameter declared by a rule, with its default. Policies may override. */
export interface ParamSpec {
  name: string;
  description: string;
  type: 'string' | 'string[]' | 'number' | 'boolean';
  default: unknown;
}

export type Params = Readonly<Record<string, unknown>>;

export interface RuleContext {
  /** This rule's params: declared defaults merged with the policy's overrides. */
  params: Params;
  /** Cross-resource lookups over the whole scanned set (or cluster cache). */
  index: ClusterIndexView;
  /** Evaluation time, passed in so rules stay pure (exception expiry, certificate ages). */
  now: Date;
  /**
   * Ids of every rule the evaluating policy runs. A rule whose problem is also reported by a
   * more specific rule in the same policy leaves it to that rule (one finding per problem);
   * undefined means the rule runs alone.
   */
  activeRules?: ReadonlySet<string>;
}

/** Read-only view over every object in scope, for cross-resource rules. */
export interface ClusterIndexView {
  /** All objects of a kind (e.g. 'ClusterRole'), in input order. */
  ofKind(kind: string): readonly KubeObject[];
  /** One object by kind, namespace ('' for cluster-scoped) and name. */
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Namespaces named by any object in scope, plus Namespace objects. Sorted. */
  namespaces(): readonly string[];
  /** Labels of a Namespace object, when one is in scope. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /** Cluster facts that are not objects (the API server's version, in the cluster). */
  readonly cluster: ClusterFacts;
  /**
   * True when `ofKind` never changes a returned list in place (a change yields a new
   * array): memoised derived tables can then be validated by list identity alone.
   */
  readonly immutableLists?: boolean;
}

export interface ClusterFacts {
  /** `gitVersion` from the API server's /version (e.g. "v1.37.2"), when known. */
  serverVersion?: string;
}

/** A severity above a rule's own that some of its findings get, and when. */
export interface RaisedSeverity {
  severity: Severity;
  /** Which findings, e.g. "a hostPath volume (pss-restricted)". */
  when: string;
}

export interface RuleMeta {
  /** Stable kebab-case id. */
  id: string;
  title: string;
  severity: Severity;
  /**
   * The severities above `severity` that some findings of the rule are raised to. `vigil rules`
   * lists them beside `severity`, and the rule raises its findings to these values (one source).
   */
  raisedTo?: readonly RaisedSeverity[];
  category: Category;
  /** Framework references: `PSS:<checkId>`, `CIS:5.2.2`, `NSA:...`, `CVE-...`. */
  controls: string[];
  /** Why this matters (one paragraph). */
  rationale: string;
  /** How to fix it (one paragraph, concrete). */
  remediation: string;
  /** Kinds this rule evaluates. Use WORKLOAD_KINDS for pod-template rules. */
  kinds: readonly string[];
  /** Profiles that include the rule ('all' includes every rule implicitly). */
  profiles: readonly Exclude<ProfileName, 'all'>[];
  params?: ParamSpec[];
}

export interface Rule extends RuleMeta {
  /** Pure: object and context in, hits out. Must not throw on malformed input. */
  check(object: KubeObject, ctx: RuleContext): RuleHit[];
}

/** A finding as reported by the CLI and written into ScanReports. */
export interface Finding {
  ruleId: string;
  title: string;
  severity: Severity;
  category: Category;
  controls: string[];
  resource: ResourceRef;
  container?: string;
  message: string;
  remediation: string;
  location?: SourceLocation;
  /** Name of the SecurityPolicy that produced it (controller; CLI with --policy). */
  policy?: string;
}

export type SeverityCounts = Record<Severity, number>;

export function emptyCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}
