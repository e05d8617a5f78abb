import { expect } from 'chai';
import { SAFE_SYSCTLS_V1_37, pssSysctls } from './sysctls.ts';
import { malformedSweep, runTable, spec1 } from './_testkit.ts';

const sysctls = (...names: unknown[]) =>
  spec1(undefined, { securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) } });

describe('rule pss-sysctls', () => {
  runTable(pssSysctls, [
    { name: 'none', spec: spec1(), hits: 0 },
    { name: 'all 14 safe sysctls of v1.37', spec: sysctls(...SAFE_SYSCTLS_V1_37), hits: 0 },
    {
      name: 'the two added in 1.37',
      spec: sysctls('net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat'),
      hits: 0,
    },
    {
      name: 'unsafe sysctl',
      spec: sysctls('kernel.shm_rmid_forced', 'kernel.msgmax'),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets forbidden sysctl "kernel.msgmax" in @.securityContext.sysctls[1]'],
    },
    {
      name: 'exact match only',
      spec: sysctls('net.ipv4.tcp_syncookies ', 'NET.IPV4.TCP_SYNCOOKIES', 'net/ipv4/tcp_syncookies'),
      hits: 3,
    },
    {
      name: 'missing name fails closed',
      spec: spec1(undefined, { securityContext: { sysctls: [{ value: '1' }] } }),
      hits: 1,
    },
    { name: 'net.ipv4.ip_forward is not namespaced-safe', spec: sysctls('net.ipv4.ip_forward'), hits: 1 },
  ]);
  malformedSweep(pssSysctls);
  it('has the 14 names of v1.37', () => {
    expect(SAFE_SYSCTLS_V1_37.size).to.equal(14);
  });
});
