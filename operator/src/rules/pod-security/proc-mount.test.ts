import { expect } from 'chai';
import { pssProcMount, pssProcMountRestricted } from './proc-mount.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const both = {
  initContainers: [ctr('init', { procMount: 'Unmasked' })],
  containers: [ctr('app', { procMount: 'Default' })],
  ephemeralContainers: [ctr('dbg', { procMount: 'Unmasked' })],
};

describe('rule pss-proc-mount (baseline)', () => {
  runTable(pssProcMount, [
    { name: 'unset', spec: spec1(), hits: 0 },
    { name: 'Default', spec: spec1({ procMount: 'Default' }), hits: 0 },
    { name: 'null', spec: spec1({ procMount: null }), hits: 0 },
    {
      name: 'Unmasked',
      spec: spec1({ procMount: 'Unmasked' }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.procMount="Unmasked"'],
    },
    {
      name: 'Unmasked with hostUsers: true',
      spec: spec1({ procMount: 'Unmasked' }, { hostUsers: true }),
      hits: 1,
    },
    {
      name: 'Unmasked with hostUsers: false (user namespace relaxation)',
      spec: spec1({ procMount: 'Unmasked' }, { hostUsers: false }),
      hits: 0,
    },
    { name: 'init and ephemeral containers', spec: both, hits: 2, containers: ['init', 'dbg'] },
    { name: 'unknown value', spec: spec1({ procMount: 'default' }), hits: 1 },
  ]);
  malformedSweep(pssProcMount);
  it('is not in pss-restricted (overridden by procMount_restricted), but in pss-baseline and recommended', () => {
    expect(pssProcMount.profiles).to.deep.equal(['pss-baseline', 'recommended']);
  });
});

describe('rule pss-proc-mount-restricted', () => {
  runTable(pssProcMountRestricted, [
    { name: 'unset', spec: spec1(), hits: 0 },
    {
      name: 'Default with hostUsers: false',
      spec: spec1({ procMount: 'Default' }, { hostUsers: false }),
      hits: 0,
    },
    {
      name: 'Unmasked with hostUsers: false is still forbidden',
      spec: spec1({ procMount: 'Unmasked' }, { hostUsers: false }),
      hits: 1,
      severities: [undefined],
    },
    {
      name: 'Unmasked sharing the host user namespace is high',
      spec: spec1({ procMount: 'Unmasked' }),
      hits: 1,
      severities: ['high'],
    },
    { name: 'init and ephemeral containers', spec: both, hits: 2, containers: ['init', 'dbg'] },
    {
      name: 'windows pods are not exempt',
      spec: spec1({ procMount: 'Unmasked' }, { os: { name: 'windows' } }),
      hits: 1,
    },
  ]);
  malformedSweep(pssProcMountRestricted);
  it('is a restricted rule', () => {
    expect(pssProcMountRestricted.profiles).to.deep.equal(['pss-restricted', 'recommended']);
    expect(pssProcMountRestricted.controls).to.include('PSS:procMount_restricted');
  });
});
