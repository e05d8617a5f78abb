import { expect } from 'chai';
import { defaultServiceAccount, tokenAutomounted } from './service-account.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from './_testkit.ts';
import type { KubeObject } from '../../engine/types.ts';

function sa(name: string, automount?: unknown, namespace = 'default'): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
  if (automount !== undefined) o['automountServiceAccountToken'] = automount;
  return o;
}

const c = [ctr()];

interface Case {
  name: string;
  spec: Spec;
  others?: KubeObject[];
  defaultSa: number;
  automount: number;
}

const cases: Case[] = [
  { name: 'nothing set', spec: { containers: c }, defaultSa: 1, automount: 1 },
  {
    name: 'explicit default',
    spec: { serviceAccountName: 'default', containers: c },
    defaultSa: 1,
    automount: 1,
  },
  {
    name: 'deprecated serviceAccount field',
    spec: { serviceAccount: 'web', containers: c },
    defaultSa: 0,
    automount: 1,
  },
  {
    name: 'default SA, token disabled on the pod',
    spec: { automountServiceAccountToken: false, containers: c },
    defaultSa: 0,
    automount: 0,
  },
  {
    name: 'default SA, token disabled on the ServiceAccount',
    spec: { containers: c },
    others: [sa('default', false)],
    defaultSa: 0,
    automount: 0,
  },
  {
    name: 'pod true overrides ServiceAccount false',
    spec: { automountServiceAccountToken: true, containers: c },
    others: [sa('default', false)],
    defaultSa: 1,
    automount: 1,
  },
  {
    name: 'ServiceAccount in another namespace does not count',
    spec: { containers: c },
    others: [sa('default', false, 'other')],
    defaultSa: 1,
    automount: 1,
  },
  {
    name: 'dedicated SA with token',
    spec: { serviceAccountName: 'web', containers: c },
    others: [sa('web')],
    defaultSa: 0,
    automount: 1,
  },
  {
    name: 'dedicated SA, token disabled on it',
    spec: { serviceAccountName: 'web', containers: c },
    others: [sa('web', false), sa('default')],
    defaultSa: 0,
    automount: 0,
  },
  {
    name: 'dedicated SA, token disabled on the pod',
    spec: { serviceAccountName: 'web', automountServiceAccountToken: false, containers: c },
    defaultSa: 0,
    automount: 0,
  },
  {
    name: 'string "false" is not false',
    spec: { automountServiceAccountToken: 'false', containers: c },
    defaultSa: 1,
    automount: 1,
  },
];

describe('rules default-service-account-used / service-account-token-automounted', () => {
  for (const k of cases)
    for (const w of WRAPPERS)
      it(`${k.name} (${w.kind}) → default ${k.defaultSa}, automount ${k.automount}`, () => {
        expect(
          runRule(defaultServiceAccount, w.wrap(k.spec), { others: k.others }),
          'default SA',
        ).to.have.length(k.defaultSa);
        expect(runRule(tokenAutomounted, w.wrap(k.spec), { others: k.others }), 'automount').to.have.length(
          k.automount,
        );
      });

  it('messages name the account and the fields', () => {
    const [d] = runRule(defaultServiceAccount, deploymentOf({ containers: c }));
    expect(d?.message).to.equal(
      'pod runs as the "default" service account (spec.template.spec.serviceAccountName is unset) and mounts its API token (spec.template.spec.automountServiceAccountToken is not false)',
    );
    const [a] = runRule(
      tokenAutomounted,
      deploymentOf({ serviceAccountName: 'web', automountServiceAccountToken: true, containers: c }),
    );
    expect(a?.message).to.equal(
      'pod mounts the API token of service account "web" (spec.template.spec.automountServiceAccountToken=true)',
    );
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED)
      for (const r of [defaultServiceAccount, tokenAutomounted])
        expect(() =>
          runRule(r, m, { others: [{ kind: 'ServiceAccount', metadata: 'x' as never }] }),
        ).not.to.throw();
  });
});
