import { expect } from 'chai';
import { pssCapabilitiesBaseline, pssCapabilitiesRestricted } from './capabilities.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const caps = (add?: unknown, drop?: unknown) => {
  const c: Record<string, unknown> = {};
  if (add !== undefined) c['add'] = add;
  if (drop !== undefined) c['drop'] = drop;
  return { capabilities: c };
};

describe('rule pss-capabilities-baseline', () => {
  runTable(pssCapabilitiesBaseline, [
    { name: 'no capabilities', spec: spec1(), hits: 0 },
    { name: 'drop only', spec: spec1(caps(undefined, ['ALL'])), hits: 0 },
    {
      name: 'the whole default set',
      spec: spec1(
        caps([
          'AUDIT_WRITE',
          'CHOWN',
          'DAC_OVERRIDE',
          'FOWNER',
          'FSETID',
          'KILL',
          'MKNOD',
          'NET_BIND_SERVICE',
          'SETFCAP',
          'SETGID',
          'SETPCAP',
          'SETUID',
          'SYS_CHROOT',
        ]),
      ),
      hits: 0,
    },
    {
      name: 'NET_RAW (high)',
      spec: spec1(caps(['CHOWN', 'NET_RAW'])),
      hits: 1,
      severities: [undefined],
      containers: ['app'],
      messages: ['container "app" adds "NET_RAW" in @.containers[0].securityContext.capabilities.add'],
    },
    {
      name: 'SYS_ADMIN is root-equivalent (critical)',
      spec: spec1(caps(['SYS_ADMIN'])),
      hits: 1,
      severities: ['critical'],
    },
    {
      name: 'CAP_ prefix is not an exact match, and still critical',
      spec: spec1(caps(['CAP_SYS_ADMIN'])),
      hits: 1,
      severities: ['critical'],
    },
    {
      name: 'lower case is not an exact match',
      spec: spec1(caps(['chown'])),
      hits: 1,
      severities: [undefined],
    },
    { name: 'ALL', spec: spec1(caps(['ALL'])), hits: 1, severities: ['critical'] },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', caps(['NET_ADMIN']))],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', caps(['SYS_PTRACE']))],
      },
      hits: 2,
      containers: ['init', 'dbg'],
      severities: [undefined, 'critical'],
    },
    { name: 'non-string entries fail closed', spec: spec1(caps([7])), hits: 1 },
  ]);
  malformedSweep(pssCapabilitiesBaseline);
  it('is not in pss-restricted (overridden by capabilities_restricted), but in pss-baseline and recommended', () => {
    expect(pssCapabilitiesBaseline.profiles).to.deep.equal(['pss-baseline', 'recommended']);
  });
});

describe('rule pss-capabilities-restricted', () => {
  runTable(pssCapabilitiesRestricted, [
    { name: 'drop ALL', spec: spec1(caps(undefined, ['ALL'])), hits: 0 },
    { name: 'drop ALL, add NET_BIND_SERVICE', spec: spec1(caps(['NET_BIND_SERVICE'], ['ALL'])), hits: 0 },
    {
      name: 'no securityContext',
      spec: spec1(),
      hits: 1,
      messages: ['container "app" must set @.containers[0].securityContext.capabilities.drop=["ALL"]'],
    },
    { name: 'capabilities: {}', spec: spec1(caps()), hits: 1 },
    { name: 'drop is case-sensitive', spec: spec1(caps(undefined, ['all'])), hits: 1 },
    { name: 'drop some but not ALL', spec: spec1(caps(undefined, ['NET_RAW', 'SYS_ADMIN'])), hits: 1 },
    {
      name: 'adds a default capability (medium)',
      spec: spec1(caps(['CHOWN'], ['ALL'])),
      hits: 1,
      severities: [undefined],
      messages: [
        'container "app" adds "CHOWN" in @.containers[0].securityContext.capabilities.add (only "NET_BIND_SERVICE" is allowed)',
      ],
    },
    { name: 'adds NET_RAW (high)', spec: spec1(caps(['NET_RAW'], ['ALL'])), hits: 1, severities: ['high'] },
    {
      name: 'adds SYS_ADMIN without drop (critical + missing drop)',
      spec: spec1(caps(['SYS_ADMIN'])),
      hits: 2,
      severities: [undefined, 'critical'],
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', caps(undefined, ['ALL']))],
        containers: [ctr('app', caps(undefined, ['ALL']))],
        ephemeralContainers: [ctr('dbg')],
      },
      hits: 1,
      containers: ['dbg'],
    },
    {
      name: 'windows pods are exempt',
      spec: spec1(caps(['SYS_ADMIN']), { os: { name: 'windows' } }),
      hits: 0,
    },
  ]);
  malformedSweep(pssCapabilitiesRestricted);
  it('is a restricted rule', () => {
    expect(pssCapabilitiesRestricted.profiles).to.deep.equal(['pss-restricted', 'recommended']);
    expect(pssCapabilitiesRestricted.severity).to.equal('medium');
  });
});
