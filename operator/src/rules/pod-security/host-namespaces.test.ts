import { expect } from 'chai';
import { pssHostNamespaces } from './host-namespaces.ts';
import { malformedSweep, runTable, spec1 } from './_testkit.ts';

describe('rule pss-host-namespaces', () => {
  runTable(pssHostNamespaces, [
    { name: 'none set', spec: spec1(), hits: 0 },
    {
      name: 'all false',
      spec: spec1(undefined, { hostNetwork: false, hostPID: false, hostIPC: false }),
      hits: 0,
    },
    {
      name: 'hostNetwork',
      spec: spec1(undefined, { hostNetwork: true }),
      hits: 1,
      messages: ['pod sets @.hostNetwork=true'],
      containers: [undefined],
    },
    {
      name: 'hostPID',
      spec: spec1(undefined, { hostPID: true }),
      hits: 1,
      messages: ['pod sets @.hostPID=true'],
    },
    {
      name: 'hostIPC',
      spec: spec1(undefined, { hostIPC: true }),
      hits: 1,
      messages: ['pod sets @.hostIPC=true'],
    },
    {
      name: 'all three',
      spec: spec1(undefined, { hostNetwork: true, hostPID: true, hostIPC: true }),
      hits: 3,
    },
    {
      name: 'wrong types are not true',
      spec: spec1(undefined, { hostNetwork: 1, hostPID: {}, hostIPC: 'nope' }),
      hits: 0,
    },
    { name: 'YAML 1.1 "on"', spec: spec1(undefined, { hostPID: 'on' }), hits: 1 },
    {
      name: 'hostUsers and os do not matter',
      spec: spec1(undefined, { hostPID: true, hostUsers: false, os: { name: 'windows' } }),
      hits: 1,
    },
  ]);
  malformedSweep(pssHostNamespaces);
  it('cites CIS 5.2.3-5.2.5', () => {
    expect(pssHostNamespaces.controls).to.include.members([
      'PSS:hostNamespaces',
      'CIS:5.2.3',
      'CIS:5.2.4',
      'CIS:5.2.5',
    ]);
  });
});
