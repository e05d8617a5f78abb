import { expect } from 'chai';
import { pssAllowPrivilegeEscalation } from './allow-privilege-escalation.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

describe('rule pss-allow-privilege-escalation', () => {
  runTable(pssAllowPrivilegeEscalation, [
    { name: 'false', spec: spec1({ allowPrivilegeEscalation: false }), hits: 0 },
    { name: 'YAML 1.1 "no" is false', spec: spec1({ allowPrivilegeEscalation: 'no' }), hits: 0 },
    {
      name: 'unset',
      spec: spec1(),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" must set @.containers[0].securityContext.allowPrivilegeEscalation=false'],
    },
    { name: 'securityContext without the field', spec: spec1({ runAsNonRoot: true }), hits: 1 },
    {
      name: 'true',
      spec: spec1({ allowPrivilegeEscalation: true }),
      hits: 1,
      messages: [
        'container "app" sets @.containers[0].securityContext.allowPrivilegeEscalation=true; it must be false',
      ],
    },
    {
      name: 'every container type is checked',
      spec: {
        initContainers: [ctr('init')],
        containers: [ctr('app', { allowPrivilegeEscalation: false })],
        ephemeralContainers: [ctr('dbg', { allowPrivilegeEscalation: true })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'pod-level setting does not exist',
      spec: spec1(undefined, { securityContext: { allowPrivilegeEscalation: false } }),
      hits: 1,
    },
    { name: 'windows pods are exempt', spec: spec1(undefined, { os: { name: 'windows' } }), hits: 0 },
  ]);
  malformedSweep(pssAllowPrivilegeEscalation);
  it('is a medium restricted rule citing CIS 5.2.6', () => {
    expect(pssAllowPrivilegeEscalation.severity).to.equal('medium');
    expect(pssAllowPrivilegeEscalation.controls).to.include.members([
      'PSS:allowPrivilegeEscalation',
      'CIS:5.2.6',
    ]);
    expect(pssAllowPrivilegeEscalation.profiles).to.deep.equal(['pss-restricted', 'recommended']);
  });
});
