import { expect } from 'chai';
import { secretAsEnv } from './secret-env.ts';
import { FIXED_NOW, runRule } from '../testing.ts';
import { ALL_RULES } from '../index.ts';
import { compilePolicy } from '../../engine/policy.ts';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from '../workload/_testkit.ts';

const envRef = {
  env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
};
const envFromRef = { envFrom: [{ secretRef: { name: 'api' } }] };
const on = { requireSecretFiles: true };
const off = { requireSecretFiles: false };

const cases: { name: string; spec: Spec; params?: Record<string, unknown>; hits: number }[] = [
  { name: 'secretKeyRef, param default', spec: { containers: [ctr(envRef)] }, hits: 1 },
  { name: 'envFrom secretRef, param default', spec: { containers: [ctr(envFromRef)] }, hits: 1 },
  { name: 'secretKeyRef, param off', spec: { containers: [ctr(envRef)] }, params: off, hits: 0 },
  { name: 'secretKeyRef, param on', spec: { containers: [ctr(envRef)] }, params: on, hits: 1 },
  { name: 'envFrom secretRef, param on', spec: { containers: [ctr(envFromRef)] }, params: on, hits: 1 },
  {
    name: 'configMapKeyRef and configMapRef are fine',
    spec: {
      containers: [
        ctr({
          env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'x' } } }],
          envFrom: [{ configMapRef: { name: 'c' } }],
        }),
      ],
    },
    params: on,
    hits: 0,
  },
  {
    name: 'mounted secret volume is fine',
    spec: {
      containers: [ctr({ volumeMounts: [{ name: 's', mountPath: '/s' }] })],
      volumes: [{ name: 's', secret: { secretName: 'db' } }],
    },
    params: on,
    hits: 0,
  },
  {
    name: 'init container',
    spec: { initContainers: [ctr(envRef, 'init')], containers: [ctr()] },
    params: on,
    hits: 1,
  },
  {
    name: 'ephemeral container',
    spec: { containers: [ctr()], ephemeralContainers: [ctr(envFromRef, 'dbg')] },
    params: on,
    hits: 1,
  },
  {
    name: 'exempt container',
    spec: { containers: [ctr({ ...envRef, ...envFromRef })] },
    params: { ...on, exemptContainers: ['app'] },
    hits: 0,
  },
  {
    name: 'param set to a string is not true',
    spec: { containers: [ctr(envRef)] },
    params: { requireSecretFiles: 'true' },
    hits: 0,
  },
];

describe('rule secret-exposed-as-env', () => {
  for (const c of cases)
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → ${c.hits}`, () => {
        expect(runRule(secretAsEnv, w.wrap(c.spec), { params: c.params })).to.have.length(c.hits);
      });

  it('messages name the container, variable, Secret, key and path', () => {
    const hits = runRule(secretAsEnv, deploymentOf({ containers: [ctr({ ...envRef, ...envFromRef })] }), {
      params: on,
    });
    expect(hits.map((h) => h.message)).to.deep.equal([
      'container "app" env DB_PASSWORD reads key "password" of Secret "db" (spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef); mount it as a file instead',
      'container "app" imports every key of Secret "api" as environment variables (spec.template.spec.containers[0].envFrom[0].secretRef); mount it as a file instead',
    ]);
  });

  it('is only in the all profile, and reports there (issue 19 item 7)', () => {
    expect(secretAsEnv.profiles).to.deep.equal([]);
    const compiled = compilePolicy({ profile: 'all' }, ALL_RULES).policy;
    if (!compiled) throw new Error('profile all compiles');
    const manifest = deploymentOf({ containers: [ctr(envRef)] });
    const res = evaluateSubjects([{ object: manifest }], compiled, { now: FIXED_NOW });
    expect(res.findings.filter((f) => f.ruleId === 'secret-exposed-as-env')).to.have.length(1);
    const recommended = compilePolicy({ profile: 'recommended' }, ALL_RULES).policy;
    if (!recommended) throw new Error('profile recommended compiles');
    const quiet = evaluateSubjects([{ object: manifest }], recommended, { now: FIXED_NOW });
    expect(quiet.findings.filter((f) => f.ruleId === 'secret-exposed-as-env')).to.deep.equal([]);
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(secretAsEnv, m, { params: on })).not.to.throw();
    expect(() =>
      runRule(
        secretAsEnv,
        deploymentOf({
          containers: [
            ctr({ env: [{ valueFrom: { secretKeyRef: 'x' } }], envFrom: ['x', { secretRef: 7 }] }),
          ],
        }),
        { params: on },
      ),
    ).not.to.throw();
  });
});
