import { expect } from 'chai';
import { pssPrivileged } from './privileged.ts';
import { malformedSweep, runTable, spec1, ctr, wrap } from './_testkit.ts';
import { runRule } from '../testing.ts';

describe('rule pss-privileged', () => {
  runTable(pssPrivileged, [
    { name: 'no securityContext', spec: spec1(), hits: 0 },
    { name: 'privileged: false', spec: spec1({ privileged: false }), hits: 0 },
    { name: 'privileged: null', spec: spec1({ privileged: null }), hits: 0 },
    {
      name: 'privileged: true',
      spec: spec1({ privileged: true }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.privileged=true'],
    },
    { name: 'YAML 1.1 "yes" is true to Kubernetes', spec: spec1({ privileged: 'yes' }), hits: 1 },
    { name: 'string "false"', spec: spec1({ privileged: 'false' }), hits: 0 },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', { privileged: true })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('debug', { privileged: true })],
      },
      hits: 2,
      containers: ['init', 'debug'],
      messages: [
        'init container "init" sets @.initContainers[0].securityContext.privileged=true',
        'ephemeral container "debug" sets @.ephemeralContainers[0].securityContext.privileged=true',
      ],
    },
    {
      name: 'every workload kind',
      spec: spec1({ privileged: true }),
      hits: 1,
      kinds: ['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'],
      messages: ['@.containers[0].securityContext.privileged'],
    },
  ]);
  malformedSweep(pssPrivileged);
  it('is a critical baseline rule in every PSS profile', () => {
    expect(pssPrivileged.severity).to.equal('critical');
    expect(pssPrivileged.profiles).to.deep.equal(['pss-baseline', 'pss-restricted', 'recommended']);
    expect(pssPrivileged.controls).to.include('PSS:privileged');
  });
  it('names an unnamed container by its position', () => {
    const hits = runRule(
      pssPrivileged,
      wrap('Pod', { containers: [{ securityContext: { privileged: true } }] }),
    );
    expect(hits[0]?.container).to.equal('containers[0]');
  });
});
