import { expect } from 'chai';
import { pssRunAsNonRoot } from './run-as-non-root.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const podSc = (v: unknown, extra: Record<string, unknown> = {}) => ({
  securityContext: { runAsNonRoot: v },
  ...extra,
});

describe('rule pss-run-as-non-root', () => {
  runTable(pssRunAsNonRoot, [
    {
      name: 'pod true covers containers',
      spec: { ...podSc(true), initContainers: [ctr('i')], containers: [ctr('a')] },
      hits: 0,
    },
    { name: 'each container true', spec: spec1({ runAsNonRoot: true }), hits: 0 },
    {
      name: 'nothing set',
      spec: spec1(),
      hits: 1,
      containers: ['app'],
      messages: [
        'container "app" must set @.containers[0].securityContext.runAsNonRoot=true, or the pod @.securityContext.runAsNonRoot=true',
      ],
    },
    {
      name: 'pod false',
      spec: spec1({ runAsNonRoot: true }, podSc(false)),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets @.securityContext.runAsNonRoot=false; it must be true'],
    },
    { name: 'pod false and container unset', spec: spec1(undefined, podSc(false)), hits: 2 },
    {
      name: 'container false overrides pod true',
      spec: spec1({ runAsNonRoot: false }, podSc(true)),
      hits: 1,
      messages: ['container "app" sets @.containers[0].securityContext.runAsNonRoot=false; it must be true'],
    },
    {
      name: 'ephemeral container not covered',
      spec: {
        initContainers: [ctr('init', { runAsNonRoot: true })],
        containers: [ctr('app', { runAsNonRoot: true })],
        ephemeralContainers: [ctr('dbg')],
      },
      hits: 1,
      containers: ['dbg'],
    },
    {
      name: 'hostUsers: false exempts the pod',
      spec: spec1({ runAsNonRoot: false }, { hostUsers: false }),
      hits: 0,
    },
    { name: 'hostUsers: true does not', spec: spec1(undefined, { hostUsers: true }), hits: 1 },
    { name: 'windows pods are not exempt', spec: spec1(undefined, { os: { name: 'windows' } }), hits: 1 },
    { name: 'runAsUser non-zero alone is not enough', spec: spec1({ runAsUser: 1000 }), hits: 1 },
  ]);
  malformedSweep(pssRunAsNonRoot);
  it('is a restricted rule citing CIS 5.2.7', () => {
    expect(pssRunAsNonRoot.controls).to.include.members(['PSS:runAsNonRoot', 'CIS:5.2.7']);
  });
});
