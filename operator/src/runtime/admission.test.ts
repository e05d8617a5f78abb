/**
 * AdmissionSync against an in-memory API (the real API server runs in
 * e2e/admission/operator.e2e.ts): what it applies, adopts, removes and reports.
 */
import { expect } from 'chai';
import { ALL_RULES } from '../rules/index.ts';
import { compilePolicy, type CompiledPolicy } from '../engine/policy.ts';
import type { KubeObject } from '../engine/types.ts';
import { noopLogger } from '../controller/logger.ts';
import { ApiError, type KubeApi } from './api.ts';
import { AdmissionSync, POLICY_ANNOTATION } from './admission.ts';
import { enforcedCondition } from './controller.ts';

const VAPS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const NOW = new Date('2026-06-01T00:00:00Z');

interface Stored {
  metadata: {
    name: string;
    generation: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

/** Objects by path; `reject(path)` makes an apply of that path fail like the API server would. */
function fakeApi(opts: { reject?: (path: string) => ApiError | undefined } = {}) {
  const objects = new Map<string, Stored>();
  const calls: string[] = [];
  const api = {
    apply: (path: string, body: Stored) => {
      calls.push(`PATCH ${path}`);
      const err = opts.reject?.(path);
      if (err) return Promise.reject(err);
      const prev = objects.get(path);
      const generation =
        (prev?.metadata.generation ?? 0) + (JSON.stringify(prev?.spec) === JSON.stringify(body.spec) ? 0 : 1);
      const stored: Stored = {
        ...body,
        metadata: { ...body.metadata, generation },
        status: prev?.status ?? {},
      };
      objects.set(path, stored);
      return Promise.resolve(stored);
    },
    get: (path: string) => {
      calls.push(`GET ${path}`);
      const o = objects.get(path);
      return o ? Promise.resolve(o) : Promise.reject(new ApiError(404, 'NotFound', path));
    },
    request: (o: { method: string; path: string; query?: { labelSelector?: string } }) => {
      calls.push(`${o.method} ${o.path}?${o.query?.labelSelector ?? ''}`);
      const items = [...objects.entries()]
        .filter(
          ([p, v]) =>
            p.startsWith(`${o.path}/`) && v.metadata.labels?.['app.kubernetes.io/managed-by'] === 'vigil',
        )
        .map(([, v]) => v);
      return Promise.resolve({ items });
    },
    deleteIfExists: (path: string) => {
      calls.push(`DELETE ${path}`);
      return Promise.resolve(objects.delete(path));
    },
  };
  return { api: api as unknown as KubeApi, objects, calls };
}

function compiled(name: string, spec: Record<string, unknown>): CompiledPolicy {
  const { policy, errors } = compilePolicy(
    { apiVersion: 'security.vigil.dev/v1alpha1', kind: 'SecurityPolicy', metadata: { name }, spec },
    ALL_RULES,
  );
  if (!policy) throw new Error(JSON.stringify(errors));
  return policy;
}

const owner = (name: string): KubeObject => ({
  apiVersion: 'security.vigil.dev/v1alpha1',
  kind: 'SecurityPolicy',
  metadata: { name, uid: `uid-${name}` },
});

const paths = (objects: Map<string, Stored>): string[] => [...objects.keys()].sort();

describe('runtime/AdmissionSync', () => {
  it('applies each generated policy and binding, labelled, annotated and owned by the SecurityPolicy', async () => {
    const f = fakeApi();
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    const out = await s.sync(owner('p'), compiled('p', { profile: 'pss-baseline', action: 'enforce' }), NOW);
    expect(out.names).to.deep.equal(['vigil-p-pods', 'vigil-p-workloads', 'vigil-p-cronjobs']);
    expect(out.rejected).to.equal(undefined);
    const all = ['vigil-p-cronjobs', 'vigil-p-pods', 'vigil-p-workloads'];
    expect(paths(f.objects)).to.deep.equal([
      ...all.map((n) => `${VAPS}/${n}`),
      ...all.map((n) => `${BINDINGS}/${n}`),
    ]);
    for (const o of f.objects.values()) {
      const m = o.metadata as Stored['metadata'] & { ownerReferences?: unknown };
      expect(m.labels?.['app.kubernetes.io/managed-by']).to.equal('vigil');
      expect(m.annotations?.[POLICY_ANNOTATION]).to.equal('p');
      expect(m.ownerReferences).to.deep.equal([
        {
          apiVersion: 'security.vigil.dev/v1alpha1',
          kind: 'SecurityPolicy',
          name: 'p',
          uid: 'uid-p',
          controller: true,
        },
      ]);
    }
  });

  it('costs no request while nothing changed, and repairs tampering after invalidate()', async () => {
    const f = fakeApi();
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    const policy = compiled('p', { profile: 'pss-baseline', action: 'warn' });
    // Type checking caught up with every write, so there is nothing to re-read.
    const caughtUp = (): void => {
      for (const o of f.objects.values()) o.status = { observedGeneration: o.metadata.generation };
    };
    await s.sync(owner('p'), policy, NOW);
    caughtUp();
    await s.sync(owner('p'), policy, NOW); // re-reads type checking once
    f.calls.length = 0;
    await s.sync(owner('p'), policy, NOW);
    expect(f.calls).to.deep.equal([]);

    f.objects.delete(`${BINDINGS}/vigil-p-pods`);
    s.invalidate();
    await s.sync(owner('p'), policy, NOW);
    expect(f.objects.has(`${BINDINGS}/vigil-p-pods`)).to.equal(true);
    expect(
      (f.objects.get(`${BINDINGS}/vigil-p-pods`)?.spec as { validationActions: string[] }).validationActions,
    ).to.deep.equal(['Warn', 'Audit']);
  });

  it('removes what is no longer generated, and leaves other policies’ objects alone', async () => {
    const f = fakeApi();
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    await s.sync(owner('p'), compiled('p', { profile: 'pss-baseline', action: 'enforce' }), NOW);
    await s.sync(owner('q'), compiled('q', { profile: 'pss-baseline', action: 'enforce' }), NOW);
    // Restarted operator (fresh memory), policy narrowed to Pods.
    const restarted = new AdmissionSync(f.api, 'vigil', noopLogger);
    const out = await restarted.sync(
      owner('p'),
      compiled('p', { profile: 'pss-baseline', action: 'enforce', match: { kinds: ['Pod'] } }),
      NOW,
    );
    expect(out.names).to.deep.equal(['vigil-p-pods']);
    expect(paths(f.objects).filter((p) => p.includes('vigil-p-'))).to.deep.equal([
      `${VAPS}/vigil-p-pods`,
      `${BINDINGS}/vigil-p-pods`,
    ]);
    expect(paths(f.objects).filter((p) => p.includes('vigil-q-'))).to.have.length(6);

    const audit = await restarted.sync(
      owner('p'),
      compiled('p', { profile: 'pss-baseline', action: 'audit' }),
      NOW,
    );
    expect(audit.names).to.deep.equal([]);
    expect(audit.translatedRules).to.include('pss-privileged');
    expect(paths(f.objects).filter((p) => p.includes('vigil-p-'))).to.deep.equal([]);

    expect(await restarted.remove('q')).to.equal(6);
    expect(f.objects.size).to.equal(0);
  });

  it('leaves nothing half-applied when the API server refuses a generated object, and says why', async () => {
    const f = fakeApi({
      reject: (p) =>
        p.endsWith('vigil-p-workloads') && p.startsWith(VAPS)
          ? new ApiError(422, 'Invalid', '422 Invalid: metadata.name: must be no more than 253 characters')
          : undefined,
    });
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    const out = await s.sync(owner('p'), compiled('p', { profile: 'pss-baseline', action: 'enforce' }), NOW);
    expect(out.rejected).to.include('must be no more than 253 characters');
    expect(out.names).to.deep.equal([]);
    expect(f.calls).to.include(`PATCH ${VAPS}/vigil-p-pods`); // applied first, then removed
    expect(f.objects.size).to.equal(0);
    const c = enforcedCondition('enforce', out, 0);
    expect(c).to.include({ ok: false, reason: 'Invalid' });
    expect(c.message).to.include('must be no more than 253 characters');
  });

  it('keeps enforcement in place on errors that are not a refusal (the work queue retries)', async () => {
    let fail = false;
    const f = fakeApi({ reject: () => (fail ? new ApiError(503, 'ServiceUnavailable', 'busy') : undefined) });
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    await s.sync(owner('p'), compiled('p', { profile: 'pss-baseline', action: 'enforce' }), NOW);
    fail = true;
    const err = await s
      .sync(owner('p'), compiled('p', { profile: 'pss-baseline', action: 'warn' }), NOW)
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(f.objects.size).to.equal(6);
  });

  it('reports the API server’s type-checking warnings once it has observed the write', async () => {
    const f = fakeApi();
    const s = new AdmissionSync(f.api, 'vigil', noopLogger);
    const policy = compiled('p', { profile: 'pss-baseline', action: 'enforce', match: { kinds: ['Pod'] } });
    const first = await s.sync(owner('p'), policy, NOW);
    expect(first.checking).to.equal(true);
    const vap = f.objects.get(`${VAPS}/vigil-p-pods`);
    if (!vap) throw new Error('no policy applied');
    vap.status = {
      observedGeneration: vap.metadata.generation,
      typeChecking: {
        expressionWarnings: [{ fieldRef: 'spec.validations[0].expression', warning: 'no such key' }],
      },
    };
    const second = await s.sync(owner('p'), policy, NOW);
    expect(second.checking).to.equal(false);
    expect(second.typeWarnings).to.deep.equal(['vigil-p-pods: spec.validations[0].expression: no such key']);
    expect(enforcedCondition('enforce', second, 0).message).to.include(
      'type-checking warnings: vigil-p-pods',
    );
  });

  it('names the Enforced reasons: AuditOnly, NotTranslatable, PartiallyEnforced, Enforced, Warning', () => {
    const base = {
      names: ['vigil-p-pods'],
      translatedRules: ['a'],
      untranslatedRules: [],
      typeWarnings: [],
      checking: false,
    };
    expect(enforcedCondition('audit', base, 3)).to.include({ ok: false, reason: 'AuditOnly' });
    expect(enforcedCondition('audit', base, 3).message).to.include('3 existing objects would be rejected');
    expect(enforcedCondition('enforce', { ...base, names: [], translatedRules: [] }, 0)).to.include({
      ok: false,
      reason: 'NotTranslatable',
    });
    // Translated rules whose parameters accept everything (an empty allow-list) generate nothing.
    expect(enforcedCondition('enforce', { ...base, names: [] }, 0).message).to.match(
      /^the 1 rules that translate accept every object/,
    );
    expect(
      enforcedCondition('enforce', { ...base, untranslatedRules: [{ id: 'x', reason: 'y' }] }, 0),
    ).to.include({ ok: false, reason: 'PartiallyEnforced' });
    expect(enforcedCondition('enforce', base, 0)).to.include({ ok: true, reason: 'Enforced' });
    expect(enforcedCondition('warn', base, 0)).to.include({ ok: true, reason: 'Warning' });
  });
});
