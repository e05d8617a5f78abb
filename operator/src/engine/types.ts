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
  /**
   * What several rules derive from the same object (its containers as a tool sees them, the
   * secrets found in a container …), kept for the evaluation of this one object so the rules
   * that need it compute it once (see perObject in evaluate.ts). Absent: computed every time.
   */
  objectMemo?: Map<string, unknown>;
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
  /**
   * What was learned by reading images from their registries (their packages, known
   * vulnerabilities, suspicious content). Filled by the operator's image scanner or by
   * `vigil scan --images`; absent when images are not analysed at all.
   */
  images?: ImageFactsView;
}

/** Image facts by the reference a container names (and the digest the kubelet ran, if known). */
export interface ImageFactsView {
  /**
   * Facts of the image a container runs. `reference` is the container's `image` as written;
   * `imageID` is the pod status' `imageID` (…@sha256:…) when the kubelet reported one, which
   * wins over the reference. Undefined: not looked at (yet).
   */
  lookup(reference: string, imageID?: string): ImageFacts | undefined;
  /** When the advisory data in use was last refreshed (ISO 8601), when any is loaded. */
  readonly advisoriesUpdatedAt?: string;
  /** How old advisory data may get before it is reported as stale (seconds). */
  readonly advisoriesMaxAgeSeconds?: number;
}

export interface ImageFacts {
  /** The reference analysed, pinned: registry/repository@sha256:… */
  reference: string;
  digest?: string;
  status: 'analysed' | 'not-analysed';
  /** Why it was not analysed (a registry error, a pull secret the policy does not let Vigil read…). */
  reason?: string;
  /** e.g. "debian 12", "alpine 3.20". */
  os?: string;
  /** Number of packages found (all ecosystems). */
  packages?: number;
  vulnerabilities: readonly ImageVulnerability[];
  suspicious: readonly SuspiciousContent[];
}

export interface ImageVulnerability {
  /** OSV id (DSA-…, GHSA-…, CVE-…), with its aliases (CVE ids). */
  id: string;
  aliases: readonly string[];
  summary?: string;
  /** Package name and its OSV ecosystem (Debian:12, npm, PyPI, Go, Alpine:v3.20). */
  package: string;
  ecosystem: string;
  installed: string;
  fixed?: string;
  severity?: Severity;
}

export interface SuspiciousContent {
  kind: 'miner' | 'mining-pool' | 'setuid' | 'private-key' | 'secret';
  /** Path in the image (or "entrypoint"/"env"), and what was found there. */
  path: string;
  detail: string;
  severity: Severity;
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
