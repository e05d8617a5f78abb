import { expect } from 'chai';
import { pssHostPathVolumes } from './host-path-volumes.ts';
import { malformedSweep, runTable, spec1 } from './_testkit.ts';

describe('rule pss-host-path-volumes', () => {
  runTable(pssHostPathVolumes, [
    { name: 'no volumes', spec: spec1(), hits: 0 },
    {
      name: 'emptyDir and secret',
      spec: spec1(undefined, {
        volumes: [
          { name: 'a', emptyDir: {} },
          { name: 'b', secret: { secretName: 's' } },
        ],
      }),
      hits: 0,
    },
    {
      name: 'nfs is not hostPath',
      spec: spec1(undefined, { volumes: [{ name: 'a', nfs: { server: 'x', path: '/' } }] }),
      hits: 0,
    },
    {
      name: 'hostPath',
      spec: spec1(undefined, {
        volumes: [
          { name: 'ok', emptyDir: {} },
          { name: 'root', hostPath: { path: '/' } },
        ],
      }),
      hits: 1,
      messages: ['volume "root" sets @.volumes[1].hostPath (path "/")'],
    },
    {
      name: 'hostPath: {} still counts',
      spec: spec1(undefined, { volumes: [{ name: 'h', hostPath: {} }] }),
      hits: 1,
    },
    {
      name: 'hostPath: null is unset',
      spec: spec1(undefined, { volumes: [{ name: 'h', hostPath: null }] }),
      hits: 0,
    },
    {
      name: 'hostPath next to an allowed source still fails baseline',
      spec: spec1(undefined, { volumes: [{ name: 'h', emptyDir: {}, hostPath: { path: '/etc' } }] }),
      hits: 1,
    },
    {
      name: 'two hostPaths',
      spec: spec1(undefined, {
        volumes: [
          { name: 'a', hostPath: { path: '/a' } },
          { name: 'b', hostPath: { path: '/b' } },
        ],
      }),
      hits: 2,
    },
  ]);
  malformedSweep(pssHostPathVolumes);
  it('is not in pss-restricted (overridden by restrictedVolumes at restricted), but in pss-baseline and recommended', () => {
    expect(pssHostPathVolumes.profiles).to.deep.equal(['pss-baseline', 'recommended']);
    expect(pssHostPathVolumes.severity).to.equal('critical');
  });
});
