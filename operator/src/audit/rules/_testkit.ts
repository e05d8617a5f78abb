/** Builders for audit rule tests: raw audit.k8s.io/v1 Events, normalised like the CLI does. */
import assert from 'node:assert/strict';
import { toAuditEvent } from '../event.ts';
import {
  defaultSettings,
  type AuditEvent,
  type AuditHit,
  type AuditRule,
  type AuditSettings,
} from '../types.ts';

export interface EventSpec {
  id?: string;
  stage?: string;
  user?: string;
  groups?: string[];
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code?: number;
  uri?: string;
  sourceIPs?: string[];
  impersonate?: { username: string; groups?: string[] };
  requestObject?: unknown;
  time?: string;
  annotations?: Record<string, string>;
}

/** The raw JSON object of an audit event. */
export function rawEvent(s: EventSpec = {}): Record<string, unknown> {
  const objectRef: Record<string, string> = {};
  if (s.resource !== '') objectRef['resource'] = s.resource ?? 'pods';
  if (s.group) objectRef['apiGroup'] = s.group;
  if (s.subresource) objectRef['subresource'] = s.subresource;
  if (s.namespace) objectRef['namespace'] = s.namespace;
  if (s.name) objectRef['name'] = s.name;
  const raw: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: s.requestObject === undefined ? 'Metadata' : 'RequestResponse',
    auditID: s.id ?? '00000000-0000-4000-8000-000000000001',
    stage: s.stage ?? 'ResponseComplete',
    requestURI: s.uri ?? '/api/v1/pods',
    verb: s.verb ?? 'get',
    user: { username: s.user ?? 'alice', groups: s.groups ?? ['system:authenticated'] },
    sourceIPs: s.sourceIPs ?? ['10.0.0.5'],
    responseStatus: { metadata: {}, code: s.code ?? 200 },
    requestReceivedTimestamp: s.time ?? '2026-12-01T10:00:00.000000Z',
    stageTimestamp: s.time ?? '2026-12-01T10:00:00.000000Z',
  };
  if (s.resource !== '') raw['objectRef'] = objectRef;
  if (s.impersonate) raw['impersonatedUser'] = s.impersonate;
  if (s.requestObject !== undefined) raw['requestObject'] = s.requestObject;
  if (s.annotations) raw['annotations'] = s.annotations;
  return raw;
}

export function event(s: EventSpec = {}): AuditEvent {
  const ev = toAuditEvent(rawEvent(s));
  assert.ok(typeof ev !== 'string', ev as string);
  return ev;
}

/** Runs one rule on one event with fresh state. */
export function check(rule: AuditRule, s: EventSpec, settings: Partial<AuditSettings> = {}): AuditHit[] {
  return rule.check(event(s), { settings: { ...defaultSettings(), ...settings }, state: new Map() });
}

export interface Case {
  name: string;
  event: EventSpec;
  settings?: Partial<AuditSettings>;
  /** Expected severities of the hits ([] = none); the rule's own severity when a hit has none. */
  expect: string[];
  contains?: string;
}

/** One `it` per case: the hits' severities, and a message fragment. */
export function runCases(rule: AuditRule, cases: Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const hits = check(rule, c.event, c.settings);
      assert.deepEqual(
        hits.map((h) => h.severity ?? rule.severity),
        c.expect,
      );
      if (c.contains !== undefined)
        assert.ok(
          hits.some((h) => h.message.includes(c.contains ?? '')),
          JSON.stringify(hits),
        );
    });
  }
}
