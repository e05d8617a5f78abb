/**
 * Normalises untrusted JSON into AuditEvents: audit.k8s.io/v1 Event objects and EventList
 * documents. Never throws; anything that is not an Event is reported, not guessed at.
 */
import { asObj, asString, isObj } from '../engine/podspec.ts';
import type { AuditEvent } from './types.ts';

/** Stages that complete a request: judging only these counts each request once. */
export const JUDGED_STAGES: ReadonlySet<string> = new Set(['ResponseComplete', 'Panic']);

function str(v: unknown): string {
  return asString(v) ?? '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** One Event object, or an error message saying why it is not one. */
export function toAuditEvent(raw: unknown): AuditEvent | string {
  if (!isObj(raw)) return 'not a JSON object';
  if (raw['kind'] !== undefined && raw['kind'] !== 'Event')
    return `kind: expected Event, found ${JSON.stringify(raw['kind'])?.slice(0, 60) ?? 'undefined'}`;
  const auditID = str(raw['auditID']);
  if (auditID === '') return 'auditID: missing';
  const stage = str(raw['stage']);
  if (stage === '') return 'stage: missing';
  const user = asObj(raw['user']);
  const ref = asObj(raw['objectRef']);
  const status = asObj(raw['responseStatus']);
  const time = str(raw['stageTimestamp']) || str(raw['requestReceivedTimestamp']);
  const code = status['code'];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObj(raw['annotations'])))
    if (typeof v === 'string') annotations[k] = v;
  const ev: AuditEvent = {
    auditID,
    stage,
    time,
    timeMs: time === '' ? NaN : Date.parse(time),
    verb: str(raw['verb']),
    requestURI: str(raw['requestURI']),
    user: str(user['username']),
    groups: strings(user['groups']),
    sourceIPs: strings(raw['sourceIPs']),
    resource: {
      group: str(ref['apiGroup']),
      resource: str(ref['resource']),
      subresource: str(ref['subresource']),
      namespace: str(ref['namespace']),
      name: str(ref['name']),
    },
    code: typeof code === 'number' && Number.isFinite(code) ? code : 0,
    annotations,
  };
  const refVersion = str(ref['apiVersion']);
  if (refVersion !== '') ev.refApiVersion = refVersion;
  const refUID = str(ref['uid']);
  if (refUID !== '') ev.refUID = refUID;
  const imp = str(asObj(raw['impersonatedUser'])['username']);
  if (imp !== '') ev.impersonatedUser = imp;
  if (isObj(raw['requestObject'])) ev.requestObject = raw['requestObject'];
  return ev;
}

/**
 * The events in one JSON document: an Event, or an EventList's items. Items that are not
 * Events are returned as errors with their index.
 */
export function eventsOf(doc: unknown): { events: AuditEvent[]; errors: string[] } {
  if (isObj(doc) && doc['kind'] === 'EventList') {
    const out: { events: AuditEvent[]; errors: string[] } = { events: [], errors: [] };
    const items = doc['items'];
    if (!Array.isArray(items)) return { events: [], errors: ['EventList: items is not a list'] };
    items.forEach((item, i) => {
      const ev = toAuditEvent(item);
      if (typeof ev === 'string') out.errors.push(`items[${i}]: ${ev}`);
      else out.events.push(ev);
    });
    return out;
  }
  const ev = toAuditEvent(doc);
  return typeof ev === 'string' ? { events: [], errors: [ev] } : { events: [ev], errors: [] };
}

/** The request was allowed and succeeded (a 4xx/5xx response changed nothing). */
export function succeeded(ev: AuditEvent): boolean {
  return ev.code > 0 && ev.code < 400;
}

export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);

export function isWrite(ev: AuditEvent): boolean {
  return WRITE_VERBS.has(ev.verb);
}

/** `pods/exec`-style label of the resource. */
export function resourceLabel(ev: AuditEvent): string {
  const r = ev.resource;
  const res = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const ns = r.namespace ? `${r.namespace}/` : '';
  return `${res} ${ns}${r.name}`.trim();
}

/** Control-plane identities (not people): controllers, scheduler, nodes, the API server. */
export function isControlPlane(user: string): boolean {
  return (
    user === 'system:kube-controller-manager' ||
    user === 'system:kube-scheduler' ||
    user === 'system:apiserver' ||
    user === 'system:kube-proxy' ||
    user.startsWith('system:node:') ||
    user.startsWith('system:serviceaccount:kube-system:')
  );
}
