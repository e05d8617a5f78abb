import { expect } from 'chai';
import { pssRunAsUser } from './run-as-user.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

describe('rule pss-run-as-user', () => {
  runTable(pssRunAsUser, [
    { name: 'unset', spec: spec1(), hits: 0 },
    {
      name: 'non-zero',
      spec: spec1({ runAsUser: 1000 }, { securityContext: { runAsUser: 65532 } }),
      hits: 0,
    },
    {
      name: 'pod 0',
      spec: spec1(undefined, { securityContext: { runAsUser: 0 } }),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets @.securityContext.runAsUser=0'],
    },
    {
      name: 'container 0 overriding a non-root pod',
      spec: spec1({ runAsUser: 0 }, { securityContext: { runAsUser: 1000, runAsNonRoot: true } }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.runAsUser=0'],
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', { runAsUser: 0 })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', { runAsUser: 0 })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'hostUsers: false exempts the pod',
      spec: spec1({ runAsUser: 0 }, { hostUsers: false }),
      hits: 0,
    },
    {
      name: 'windows pods are not exempt',
      spec: spec1({ runAsUser: 0 }, { os: { name: 'windows' } }),
      hits: 1,
    },
    { name: 'null is unset', spec: spec1({ runAsUser: null }), hits: 0 },
  ]);
  malformedSweep(pssRunAsUser);
  it('is a high restricted rule', () => {
    expect(pssRunAsUser.severity).to.equal('high');
    expect(pssRunAsUser.profiles).to.deep.equal(['pss-restricted', 'recommended']);
  });
});
