/**
 * Kubernetes Events for audit detections: a Warning `AuditDetection` on the object the request was
 * about (the Pod of pods/exec, the Secret read, the ClusterRoleBinding created), or on its
 * Namespace when the request named none (a list). No I/O: the operator posts what `plan()` returns
 * through its EventSink (adapters/event-sink.ts).
 *
 * Deduplicated like the finding events (controller/events.ts): one event per (object, rule,
 * identity) while remembered (10 min, 4096 entries by default), so an attacker repeating a request
 * does not flood the object's events; a token bucket caps the rate, and what it drops is counted.
 * Every detection still reaches the log and the metrics.
 */
import type { Clock } from '../controller/clock.ts';
import {
  CLUSTER_EVENT_NAMESPACE,
  NOTE_MAX_BYTES,
  REASON_AUDIT_DETECTION,
  REASON_AUDIT_RESPONSE,
  REPORTING_CONTROLLER,
  RecentKeys,
  truncateUtf8,
  type EventV1,
  type ObjectReferenceV1,
} from '../controller/events.ts';
import { formatMicroTime, sanitizeSubdomain, sha256Hex, truncateName } from '../controller/names.ts';
import { TokenBucket } from '../controller/rate-limiter.ts';
import type { AuditEvent, Detection } from './types.ts';

/** The action of audit events (the finding events say Scan). */
export const AUDIT_EVENT_ACTION = 'Audit';

/** Kinds of the resources audit detections are about; others are derived from the plural. */
const KINDS: Readonly<Record<string, string>> = {
  pods: 'Pod',
  secrets: 'Secret',
  configmaps: 'ConfigMap',
  serviceaccounts: 'ServiceAccount',
  namespaces: 'Namespace',
  nodes: 'Node',
  services: 'Service',
  endpoints: 'Endpoints',
  persistentvolumes: 'PersistentVolume',
  persistentvolumeclaims: 'PersistentVolumeClaim',
  replicationcontrollers: 'ReplicationController',
  deployments: 'Deployment',
  replicasets: 'ReplicaSet',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
  jobs: 'Job',
  cronjobs: 'CronJob',
  roles: 'Role',
  rolebindings: 'RoleBinding',
  clusterroles: 'ClusterRole',
  clusterrolebindings: 'ClusterRoleBinding',
  certificatesigningrequests: 'CertificateSigningRequest',
  validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  validatingadmissionpolicies: 'ValidatingAdmissionPolicy',
  validatingadmissionpolicybindings: 'ValidatingAdmissionPolicyBinding',
  mutatingadmissionpolicies: 'MutatingAdmissionPolicy',
  mutatingadmissionpolicybindings: 'MutatingAdmissionPolicyBinding',
  networkpolicies: 'NetworkPolicy',
  ingresses: 'Ingress',
  customresourcedefinitions: 'CustomResourceDefinition',
  securitypolicies: 'SecurityPolicy',
  scanreports: 'ScanReport',
};

/** `Kind` of a resource plural: the table above, else the singular, capitalised. */
export function kindOf(resource: string): string {
  const known = KINDS[resource];
  if (known) return known;
  const singular = resource.endsWith('ies')
    ? `${resource.slice(0, -3)}y`
    : resource.endsWith('sses')
      ? resource.slice(0, -2)
      : resource.endsWith('s')
        ? resource.slice(0, -1)
        : resource;
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The object an audit event's Event goes on; undefined when the request named none (and no namespace). */
export function regardingOf(
  ev: AuditEvent,
  uidOf: (kind: string, namespace: string, name: string) => string | undefined = () => undefined,
): ObjectReferenceV1 | undefined {
  const r = ev.resource;
  if (r.resource === '') return undefined;
  const name = r.name || createdName(ev);
  const namespaceRef = (): ObjectReferenceV1 | undefined => {
    if (!DNS_LABEL.test(r.namespace)) return undefined;
    const ref: ObjectReferenceV1 = { apiVersion: 'v1', kind: 'Namespace', name: r.namespace };
    const uid = uidOf('Namespace', '', r.namespace);
    if (uid) ref.uid = uid;
    return ref;
  };
  if (name === '' || name.length > 253) return namespaceRef();
  const version = ev.refApiVersion || 'v1';
  const kind = kindOf(r.resource);
  const ref: ObjectReferenceV1 = {
    apiVersion: r.group ? `${r.group}/${version}` : version,
    kind,
    name,
  };
  if (r.namespace) {
    if (!DNS_LABEL.test(r.namespace)) return undefined;
    ref.namespace = r.namespace;
  }
  const uid = ev.refUID ?? uidOf(kind, r.namespace, name);
  if (uid) ref.uid = uid;
  return ref;
}

/** metadata.name of a created object, when the event carries the request body. */
function createdName(ev: AuditEvent): string {
  const o = ev.requestObject;
  if (ev.verb !== 'create' || typeof o !== 'object' || o === null) return '';
  const meta = (o as Record<string, unknown>)['metadata'];
  if (typeof meta !== 'object' || meta === null) return '';
  const name = (meta as Record<string, unknown>)['name'];
  return typeof name === 'string' ? name : '';
}

/** The note: severity, rule, what happened, who, and the auditID to find the request by. */
export function auditNote(d: Detection): string {
  return truncateUtf8(
    `[${d.severity}] ${d.ruleId} (${d.title}): ${d.message}; user ${d.user}, verb ${d.verb}, auditID ${d.auditID}`,
    NOTE_MAX_BYTES,
  );
}

export interface AuditEventPlannerOptions {
  clock: Clock;
  reportingInstance: string;
  /** How long (object, rule, identity) suppresses its repeats; default 10 min. */
  dedupTtlMs?: number;
  /** Dedup cache bound; default 4096. */
  maxCacheEntries?: number;
  /** Event rate; default 10/s (the operator passes --event-qps). */
  qps?: number;
  burst?: number;
  onSuppressed?(cause: 'duplicate' | 'rate_limited'): void;
}

export class AuditEventPlanner {
  private readonly opts: AuditEventPlannerOptions;
  private readonly bucket: TokenBucket;
  private readonly seen: RecentKeys;

  constructor(opts: AuditEventPlannerOptions) {
    this.opts = opts;
    this.seen = new RecentKeys(opts.dedupTtlMs ?? 10 * 60_000, opts.maxCacheEntries ?? 4096);
    this.bucket = new TokenBucket({ qps: opts.qps ?? 10, burst: opts.burst ?? 50, clock: opts.clock });
  }

  /** The Event to post for a detection about `regarding`, or undefined (a repeat, or over the rate). */
  plan(d: Detection, regarding: ObjectReferenceV1): EventV1 | undefined {
    const now = this.opts.clock.now();
    const object = regarding.uid ?? `${regarding.kind}/${regarding.namespace ?? ''}/${regarding.name}`;
    const key = `${object}|${d.ruleId}|${d.user}`;
    if (this.seen.has(key, now)) {
      this.opts.onSuppressed?.('duplicate');
      return undefined;
    }
    if (!this.bucket.tryTake()) {
      this.opts.onSuppressed?.('rate_limited');
      return undefined;
    }
    this.seen.remember(key, now);
    // Events about cluster-scoped objects (a Namespace too) must live in default or kube-system.
    const namespace = regarding.namespace ?? '';
    const suffix = `${Math.floor(now).toString(16)}${sha256Hex(`${key}|${d.auditID}`).slice(0, 8)}`;
    const base = truncateName(sanitizeSubdomain(regarding.name), 253 - suffix.length - 1);
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {
        name: base === '' ? suffix : `${base}.${suffix}`,
        namespace: namespace || CLUSTER_EVENT_NAMESPACE,
      },
      eventTime: formatMicroTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.opts.reportingInstance.slice(0, 128),
      action: AUDIT_EVENT_ACTION,
      reason: REASON_AUDIT_DETECTION,
      type: 'Warning',
      regarding,
      note: auditNote(d),
    };
  }

  /** Entries in the dedup cache. */
  cacheSize(): number {
    return this.seen.size;
  }
}

/** The Event on the SecurityPolicy (cluster-scoped) whose audit response quarantined `d.user`. */
export function responseEvent(
  d: Detection,
  policy: ObjectReferenceV1,
  guard: string,
  nowMs: number,
  reportingInstance: string,
): EventV1 {
  const suffix = `${Math.floor(nowMs).toString(16)}${sha256Hex(`${d.user}|${d.auditID}`).slice(0, 8)}`;
  const base = truncateName(sanitizeSubdomain(policy.name), 253 - suffix.length - 1);
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: base === '' ? suffix : `${base}.${suffix}`, namespace: CLUSTER_EVENT_NAMESPACE },
    eventTime: formatMicroTime(nowMs),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: reportingInstance.slice(0, 128),
    action: 'Quarantine',
    reason: REASON_AUDIT_RESPONSE,
    type: 'Warning',
    regarding: policy,
    note: truncateUtf8(
      `quarantined ${d.user} after ${d.ruleId} (auditID ${d.auditID}): ValidatingAdmissionPolicy ${guard} denies its writes until a person deletes it and its binding`,
      NOTE_MAX_BYTES,
    ),
  };
}
