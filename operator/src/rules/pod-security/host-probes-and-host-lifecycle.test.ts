import { expect } from 'chai';
import { pssHostProbesAndHostLifecycle } from './host-probes-and-host-lifecycle.ts';
import { ctr, malformedSweep, runTable } from './_testkit.ts';

const withFields = (extra: Record<string, unknown>) => ({ containers: [ctr('app', undefined, extra)] });

describe('rule pss-host-probes-and-host-lifecycle', () => {
  runTable(pssHostProbesAndHostLifecycle, [
    { name: 'no probes', spec: withFields({}), hits: 0 },
    {
      name: 'probes without host',
      spec: withFields({
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        readinessProbe: { tcpSocket: { port: 8080 } },
        startupProbe: { exec: { command: ['true'] } },
        lifecycle: { preStop: { httpGet: { path: '/stop', port: 8080 } } },
      }),
      hits: 0,
    },
    { name: 'empty host', spec: withFields({ livenessProbe: { httpGet: { host: '', port: 80 } } }), hits: 0 },
    {
      name: 'liveness httpGet.host',
      spec: withFields({ livenessProbe: { httpGet: { host: '169.254.169.254', port: 80 } } }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].livenessProbe.httpGet.host="169.254.169.254"'],
    },
    {
      name: 'readiness tcpSocket.host',
      spec: withFields({ readinessProbe: { tcpSocket: { host: 'db.internal', port: 5432 } } }),
      hits: 1,
      messages: ['@.containers[0].readinessProbe.tcpSocket.host="db.internal"'],
    },
    {
      name: 'startup probe',
      spec: withFields({ startupProbe: { httpGet: { host: 'x', port: 1 } } }),
      hits: 1,
    },
    {
      name: 'postStart and preStop',
      spec: withFields({
        lifecycle: {
          postStart: { httpGet: { host: 'a', port: 1 } },
          preStop: { tcpSocket: { host: 'b', port: 2 } },
        },
      }),
      hits: 2,
      messages: [
        '@.containers[0].lifecycle.postStart.httpGet.host="a"',
        '@.containers[0].lifecycle.preStop.tcpSocket.host="b"',
      ],
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', undefined, { startupProbe: { tcpSocket: { host: 'x', port: 1 } } })],
        containers: [ctr('app')],
        ephemeralContainers: [
          ctr('dbg', undefined, { lifecycle: { preStop: { httpGet: { host: 'y', port: 1 } } } }),
        ],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'non-string host fails closed',
      spec: withFields({ livenessProbe: { httpGet: { host: 12, port: 1 } } }),
      hits: 1,
    },
  ]);
  malformedSweep(pssHostProbesAndHostLifecycle);
  it('is a baseline rule', () => {
    expect(pssHostProbesAndHostLifecycle.profiles).to.include('pss-baseline');
    expect(pssHostProbesAndHostLifecycle.controls).to.include('PSS:hostProbesAndHostLifecycle');
  });
});
