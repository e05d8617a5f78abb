import { expect } from 'chai';
import { noopLogger } from '../controller/logger.ts';
import { ApiError, type KubeApi } from '../runtime/api.ts';
import { Responder, quarantineName, quarantineObjects, quarantineRefusal, responseFor } from './respond.ts';
import { auditSettingsOf } from './settings.ts';
import type { Detection } from './types.ts';

const detection = (user: string, ruleId = 'audit-secret-read-unexpected'): Detection => ({
  ruleId,
  title: 't',
  severity: 'high',
  category: 'api-abuse',
  auditID: 'a-1',
  time: '2026-06-01T00:00:00Z',
  user,
  verb: 'get',
  resource: { group: '', resource: 'secrets', subresource: '', namespace: 'shop', name: 's' },
  sourceIPs: ['10.0.0.1'],
  message: 'm',
  remediation: 'r',
});

describe('audit/respond: quarantine', () => {
  it('never quarantines Vigil itself, system:masters, control-plane users or kube-system ServiceAccounts', () => {
    const self = 'system:serviceaccount:vigil-system:vigil';
    expect(quarantineRefusal(self, [], self)).to.match(/Vigil's own identity/);
    expect(quarantineRefusal('admin', ['system:masters'], self)).to.match(/system:masters/);
    expect(quarantineRefusal('system:kube-controller-manager', [], self)).to.match(/control-plane/);
    expect(quarantineRefusal('system:node:n1', ['system:nodes'], self)).to.match(/control-plane/);
    expect(quarantineRefusal('system:serviceaccount:kube-system:replicaset-controller', [], self)).to.match(
      /kube-system/,
    );
    expect(quarantineRefusal('mallory', ['system:authenticated'], self)).to.equal(undefined);
    expect(quarantineRefusal('system:serviceaccount:shop:ci', [], self)).to.equal(undefined);
    expect(quarantineRefusal('system:anonymous', ['system:unauthenticated'], self)).to.equal(undefined);
  });

  it('denies every write of exactly that username, naming the rule, the event and how to lift it', () => {
    const [vap, binding] = quarantineObjects("o'brien", detection("o'brien"), '2026-06-01T00:00:00Z');
    const name = quarantineName("o'brien");
    expect(name).to.match(/^vigil-quarantine-[0-9a-f]{16}$/);
    const spec = (vap as { spec: Record<string, unknown> }).spec;
    expect(spec['matchConditions']).to.deep.equal([
      { name: 'quarantined-user', expression: "request.userInfo.username == 'o\\'brien'" },
    ]);
    const rules = (
      spec['matchConstraints'] as { resourceRules: { operations: string[]; resources: string[] }[] }
    ).resourceRules;
    expect(rules[0]?.operations).to.deep.equal(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
    expect(rules[0]?.resources).to.deep.equal(['*/*']);
    const message = (spec['validations'] as { message: string }[])[0]?.message;
    expect(message).to.include('audit-secret-read-unexpected (auditID a-1)');
    expect(message).to.include(`deletes ValidatingAdmissionPolicy ${name}`);
    expect((binding as { spec: unknown }).spec).to.deep.equal({
      policyName: name,
      validationActions: ['Deny'],
    });
  });

  it('reads spec.audit.responses, refusing unknown rules and actions', () => {
    const ok = auditSettingsOf({
      spec: { audit: { responses: [{ rules: ['audit-secret-read-unexpected'], action: 'quarantine' }] } },
    });
    if (Array.isArray(ok)) throw new Error(ok.join('; '));
    expect(responseFor(detection('x'), ok.responses)?.action).to.equal('quarantine');
    expect(responseFor(detection('x', 'audit-exec-into-pod'), ok.responses)).to.equal(undefined);
    expect(
      auditSettingsOf({ spec: { audit: { responses: [{ rules: ['nope'], action: 'shoot' }] } } }),
    ).to.deep.equal([
      'spec.audit.responses[0].rules: unknown rule "nope"',
      'spec.audit.responses[0].action: expected quarantine',
    ]);
  });

  it('creates the objects once, is a no-op when they exist, and reports only what it imposed', async () => {
    const created: string[] = [];
    let exists = false;
    const api = {
      create: (collection: string, obj: { kind: string }) => {
        if (exists) return Promise.reject(new ApiError(409, 'AlreadyExists', 'exists'));
        created.push(`${collection.split('/').pop() ?? ''}:${obj.kind}`);
        return Promise.resolve(obj);
      },
    } as unknown as KubeApi;
    const responded: string[] = [];
    const r = new Responder({
      api,
      logger: noopLogger,
      fieldManager: 'vigil',
      self: () => 'system:serviceaccount:vigil-system:vigil',
      responded: (d, action, name) => responded.push(`${d.user} ${action} ${name}`),
    });
    const t0 = new Date('2026-06-01T00:00:00Z');
    await r.respond(
      { rules: ['audit-secret-read-unexpected'], action: 'quarantine' },
      detection('mallory'),
      [],
      t0,
    );
    expect(created).to.deep.equal([
      'validatingadmissionpolicies:ValidatingAdmissionPolicy',
      'validatingadmissionpolicybindings:ValidatingAdmissionPolicyBinding',
    ]);
    expect(responded).to.deep.equal([`mallory quarantine ${quarantineName('mallory')}`]);
    // A minute later (the quarantine lifted and imposed again by someone else meanwhile): no new response.
    exists = true;
    await r.respond(
      { rules: ['audit-secret-read-unexpected'], action: 'quarantine' },
      detection('mallory'),
      [],
      new Date(t0.getTime() + 61_000),
    );
    expect(responded).to.have.length(1);
    // Vigil itself: withheld.
    await r.respond(
      { rules: ['audit-secret-read-unexpected'], action: 'quarantine' },
      detection('system:serviceaccount:vigil-system:vigil'),
      [],
      t0,
    );
    expect(created).to.have.length(2);
  });

  it('counts one response when detections of the same identity arrive together', async () => {
    // The API server as the e2e saw it: each object exists once, the second create of one is a 409.
    // The first request is slow (as the first write after a quiet spell often is), so later
    // detections' requests overtake it.
    const stored = new Set<string>();
    let calls = 0;
    const api = {
      create: async (collection: string) => {
        await new Promise((r) => setTimeout(r, calls++ === 0 ? 30 : 1));
        if (stored.has(collection)) throw new ApiError(409, 'AlreadyExists', 'exists');
        stored.add(collection);
        return {};
      },
    } as unknown as KubeApi;
    const responded: string[] = [];
    const r = new Responder({
      api,
      logger: noopLogger,
      fieldManager: 'vigil',
      self: () => 'system:serviceaccount:vigil-system:vigil',
      responded: (d) => responded.push(d.auditID),
    });
    const response = { rules: ['audit-secret-read-unexpected'], action: 'quarantine' } as const;
    const t0 = new Date('2026-06-01T00:00:00Z');
    await Promise.all([
      r.respond(response, { ...detection('eve'), auditID: 'a-1' }, [], t0),
      r.respond(response, { ...detection('eve'), auditID: 'a-2' }, [], t0),
      r.respond(response, { ...detection('eve'), auditID: 'a-3' }, [], new Date(t0.getTime() + 1)),
    ]);
    expect(responded).to.deep.equal(['a-1']);
    expect(stored.size).to.equal(2);
  });
});
