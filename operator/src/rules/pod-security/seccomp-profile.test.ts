import { expect } from 'chai';
import { pssSeccompProfileBaseline, pssSeccompProfileRestricted } from './seccomp-profile.ts';
import { ctr, malformedSweep, runTable, spec1 } from './_testkit.ts';

const RD = { type: 'RuntimeDefault' };
const UNCONFINED = { type: 'Unconfined' };
const podSc = (seccompProfile: unknown, extra: Record<string, unknown> = {}) => ({
  securityContext: { seccompProfile },
  ...extra,
});

describe('rule pss-seccomp-profile-baseline', () => {
  runTable(pssSeccompProfileBaseline, [
    { name: 'unset (allowed at baseline)', spec: spec1(), hits: 0 },
    { name: 'pod RuntimeDefault', spec: spec1(undefined, podSc(RD)), hits: 0 },
    {
      name: 'container Localhost',
      spec: spec1({ seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }),
      hits: 0,
    },
    {
      name: 'pod Unconfined',
      spec: spec1(undefined, podSc(UNCONFINED)),
      hits: 1,
      containers: [undefined],
      messages: ['pod sets @.securityContext.seccompProfile.type="Unconfined"'],
    },
    {
      name: 'container Unconfined',
      spec: spec1({ seccompProfile: UNCONFINED }, podSc(RD)),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].securityContext.seccompProfile.type="Unconfined"'],
    },
    { name: 'profile without type', spec: spec1({ seccompProfile: {} }), hits: 1 },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', { seccompProfile: UNCONFINED })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', { seccompProfile: UNCONFINED })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'windows pods are not exempt at baseline',
      spec: spec1(undefined, podSc(UNCONFINED, { os: { name: 'windows' } })),
      hits: 1,
    },
    {
      name: 'the alpha annotations are not checked since v1.19',
      spec: spec1(),
      meta: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } },
      hits: 0,
    },
  ]);
  malformedSweep(pssSeccompProfileBaseline);
  it('is not in pss-restricted (overridden by seccompProfile_restricted), but in pss-baseline and recommended', () => {
    expect(pssSeccompProfileBaseline.profiles).to.deep.equal(['pss-baseline', 'recommended']);
  });
});

describe('rule pss-seccomp-profile-restricted', () => {
  runTable(pssSeccompProfileRestricted, [
    {
      name: 'pod RuntimeDefault covers every container',
      spec: { ...podSc(RD), initContainers: [ctr('i')], containers: [ctr('a')] },
      hits: 0,
    },
    {
      name: 'each container sets Localhost',
      spec: spec1({ seccompProfile: { type: 'Localhost', localhostProfile: 'x' } }),
      hits: 0,
    },
    {
      name: 'nothing set',
      spec: spec1(),
      hits: 1,
      severities: [undefined],
      messages: [
        'container "app" has no @.containers[0].securityContext.seccompProfile and the pod sets no valid @.securityContext.seccompProfile',
      ],
    },
    {
      name: 'pod Unconfined: explicit (high) and the container is uncovered',
      spec: spec1(undefined, podSc(UNCONFINED)),
      hits: 2,
      severities: ['high', undefined],
      containers: [undefined, 'app'],
    },
    {
      name: 'pod Unconfined but container RuntimeDefault',
      spec: spec1({ seccompProfile: RD }, podSc(UNCONFINED)),
      hits: 1,
      severities: ['high'],
      containers: [undefined],
    },
    {
      name: 'container Unconfined under a valid pod profile',
      spec: {
        ...podSc(RD),
        initContainers: [ctr('init', { seccompProfile: UNCONFINED })],
        containers: [ctr('app')],
      },
      hits: 1,
      severities: ['high'],
      containers: ['init'],
    },
    {
      name: 'ephemeral container without profile and no pod profile',
      spec: { containers: [ctr('app', { seccompProfile: RD })], ephemeralContainers: [ctr('dbg')] },
      hits: 1,
      containers: ['dbg'],
    },
    {
      name: 'windows pods are exempt',
      spec: spec1({ seccompProfile: UNCONFINED }, { os: { name: 'windows' } }),
      hits: 0,
    },
    { name: 'linux os is not exempt', spec: spec1(undefined, { os: { name: 'linux' } }), hits: 1 },
  ]);
  malformedSweep(pssSeccompProfileRestricted);
  it('is a restricted rule citing CIS 5.7.2', () => {
    expect(pssSeccompProfileRestricted.profiles).to.deep.equal(['pss-restricted', 'recommended']);
    expect(pssSeccompProfileRestricted.controls).to.include.members([
      'PSS:seccompProfile_restricted',
      'CIS:5.7.2',
    ]);
  });
});
