import { expect } from 'chai';
import { pssWindowsHostProcess } from './windows-host-process.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const hp = (v: unknown) => ({ windowsOptions: { hostProcess: v } });

describe('rule pss-windows-host-process', () => {
  runTable(pssWindowsHostProcess, [
    { name: 'unset', spec: spec1(), hits: 0 },
    { name: 'false', spec: spec1(hp(false), { securityContext: hp(false) }), hits: 0 },
    {
      name: 'runAsUserName only',
      spec: spec1({ windowsOptions: { runAsUserName: 'ContainerUser' } }),
      hits: 0,
    },
    {
      name: 'pod hostProcess',
      spec: spec1(undefined, { securityContext: hp(true), os: { name: 'windows' } }),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets @.securityContext.windowsOptions.hostProcess=true'],
    },
    {
      name: 'container hostProcess',
      spec: spec1(hp(true)),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.windowsOptions.hostProcess=true'],
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', hp(true))],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', hp(true))],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
  ]);
  malformedSweep(pssWindowsHostProcess);
  it('is critical and cites CIS 5.2.11', () => {
    expect(pssWindowsHostProcess.severity).to.equal('critical');
    expect(pssWindowsHostProcess.controls).to.include.members(['PSS:windowsHostProcess', 'CIS:5.2.11']);
  });
});
