import { expect } from 'chai';
import { pssSeLinuxOptions } from './se-linux-options.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const podSel = (o: unknown) => spec1(undefined, { securityContext: { seLinuxOptions: o } });

describe('rule pss-se-linux-options', () => {
  runTable(pssSeLinuxOptions, [
    { name: 'unset', spec: spec1(), hits: 0 },
    { name: 'empty options', spec: podSel({}), hits: 0 },
    { name: 'level only', spec: podSel({ level: 's0:c123,c456' }), hits: 0 },
    ...['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].map((type) => ({
      name: `type ${type}`,
      spec: spec1({ seLinuxOptions: { type } }),
      hits: 0,
    })),
    {
      name: 'pod type spc_t',
      spec: podSel({ type: 'spc_t' }),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets forbidden @.securityContext.seLinuxOptions: type="spc_t"'],
    },
    {
      name: 'container user and role',
      spec: spec1({ seLinuxOptions: { user: 'system_u', role: 'system_r' } }),
      hits: 1,
      containers: ['app'],
      messages: [
        'container "app" sets forbidden @.containers[0].securityContext.seLinuxOptions: user="system_u", role="system_r"',
      ],
    },
    { name: 'empty user and role strings', spec: spec1({ seLinuxOptions: { user: '', role: '' } }), hits: 0 },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', { seLinuxOptions: { type: 'unconfined_t' } })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', { seLinuxOptions: { role: 'r' } })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    { name: 'non-string type fails closed', spec: podSel({ type: 1 }), hits: 1 },
  ]);
  malformedSweep(pssSeLinuxOptions);
  it('is a baseline rule with its PSS control', () => {
    expect(pssSeLinuxOptions.controls).to.include('PSS:seLinuxOptions');
  });
});
