import { expect } from 'chai';
import { pssAppArmorProfile } from './app-armor-profile.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const KEY = 'container.apparmor.security.beta.kubernetes.io/';

describe('rule pss-app-armor-profile', () => {
  runTable(pssAppArmorProfile, [
    { name: 'nothing set', spec: spec1(), hits: 0 },
    {
      name: 'pod RuntimeDefault',
      spec: spec1(undefined, { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }),
      hits: 0,
    },
    {
      name: 'container Localhost',
      spec: spec1({ appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-nginx' } }),
      hits: 0,
    },
    {
      name: 'pod Unconfined',
      spec: spec1(undefined, { securityContext: { appArmorProfile: { type: 'Unconfined' } } }),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets @.securityContext.appArmorProfile.type="Unconfined"'],
    },
    {
      name: 'container Unconfined',
      spec: spec1({ appArmorProfile: { type: 'Unconfined' } }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.appArmorProfile.type="Unconfined"'],
    },
    {
      name: 'profile without type is forbidden (Go: empty type)',
      spec: spec1({ appArmorProfile: {} }),
      hits: 1,
    },
    { name: 'profile null is unset', spec: spec1({ appArmorProfile: null }), hits: 0 },
    {
      name: 'wrong case is forbidden',
      spec: spec1({ appArmorProfile: { type: 'runtimedefault' } }),
      hits: 1,
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', { appArmorProfile: { type: 'Unconfined' } })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', { appArmorProfile: { type: 'Unconfined' } })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'allowed annotations',
      spec: spec1(),
      meta: {
        annotations: { [`${KEY}app`]: 'runtime/default', [`${KEY}b`]: 'localhost/foo', [`${KEY}c`]: '' },
      },
      hits: 0,
    },
    {
      name: 'unconfined annotation',
      spec: spec1(),
      meta: { annotations: { [`${KEY}app`]: 'unconfined', other: 'unconfined' } },
      hits: 1,
      containers: ['app'],
      messages: [`annotation "${KEY}app" sets AppArmor profile "unconfined" for container "app"`],
    },
    {
      name: 'annotation for a container that does not exist still counts',
      spec: spec1(),
      meta: { annotations: { [`${KEY}ghost`]: 'docker-default' } },
      hits: 1,
    },
    {
      name: 'non-string annotation value fails closed',
      spec: spec1(),
      meta: { annotations: { [`${KEY}app`]: 5 } },
      hits: 1,
    },
  ]);
  malformedSweep(pssAppArmorProfile);
  it('is a high-severity baseline rule', () => {
    expect(pssAppArmorProfile.severity).to.equal('high');
    expect(pssAppArmorProfile.profiles).to.deep.equal(['pss-baseline', 'pss-restricted', 'recommended']);
  });
});
