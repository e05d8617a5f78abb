import { expect } from 'chai';
import { runAsGroupMissing, runsAsRootGroup, securityContextMissing } from './security-context.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from './_testkit.ts';
import type { Rule } from '../../engine/types.ts';

interface Case {
  name: string;
  spec: Spec;
  params?: Record<string, unknown>;
  missing: number;
  rootGroup: number;
  groupMissing: number;
}

const cases: Case[] = [
  { name: 'nothing set', spec: { containers: [ctr()] }, missing: 1, rootGroup: 0, groupMissing: 1 },
  {
    name: 'empty securityContexts',
    spec: { securityContext: {}, containers: [ctr({ securityContext: {} })] },
    missing: 1,
    rootGroup: 0,
    groupMissing: 1,
  },
  {
    name: 'pod-level group',
    spec: { securityContext: { runAsGroup: 10001 }, containers: [ctr()] },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
  {
    name: 'container-level group',
    spec: { containers: [ctr({ securityContext: { runAsGroup: 10001 } })] },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
  {
    name: 'pod runAsGroup 0 inherited by all containers',
    spec: { securityContext: { runAsGroup: 0 }, initContainers: [ctr({}, 'init')], containers: [ctr()] },
    missing: 0,
    rootGroup: 2,
    groupMissing: 0,
  },
  {
    name: 'pod runAsGroup 0 overridden by the container',
    spec: {
      securityContext: { runAsGroup: 0 },
      containers: [ctr({ securityContext: { runAsGroup: 2000 } })],
    },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
  {
    name: 'container runAsGroup 0',
    spec: {
      securityContext: { runAsGroup: 2000 },
      containers: [ctr({ securityContext: { runAsGroup: 0 } })],
    },
    missing: 0,
    rootGroup: 1,
    groupMissing: 0,
  },
  {
    name: 'ephemeral container runAsGroup 0',
    spec: {
      securityContext: { runAsGroup: 2000 },
      containers: [ctr()],
      ephemeralContainers: [ctr({ securityContext: { runAsGroup: 0 } }, 'dbg')],
    },
    missing: 0,
    rootGroup: 1,
    groupMissing: 0,
  },
  {
    name: 'fsGroup 0 and supplementalGroups with 0',
    spec: { securityContext: { runAsGroup: 1, fsGroup: 0, supplementalGroups: [5, 0] }, containers: [ctr()] },
    missing: 0,
    rootGroup: 2,
    groupMissing: 0,
  },
  {
    name: 'init container without any securityContext',
    spec: { initContainers: [ctr({}, 'init')], containers: [ctr({ securityContext: { runAsGroup: 3 } })] },
    missing: 1,
    rootGroup: 0,
    groupMissing: 1,
  },
  {
    name: 'exempt container',
    spec: { securityContext: { runAsGroup: 0 }, containers: [ctr({}, 'legacy')] },
    params: { exemptContainers: ['leg*'] },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
  {
    name: 'Windows pod',
    spec: { os: { name: 'windows' }, securityContext: { runAsGroup: 0 }, containers: [ctr()] },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
  {
    name: 'runAsGroup "0" as a string is not 0',
    spec: { securityContext: { runAsGroup: '0' }, containers: [ctr()] },
    missing: 0,
    rootGroup: 0,
    groupMissing: 0,
  },
];

describe('rules pod-security-context-missing / container-runs-as-root-group / container-run-as-group-missing', () => {
  const table: [Rule, 'missing' | 'rootGroup' | 'groupMissing'][] = [
    [securityContextMissing, 'missing'],
    [runsAsRootGroup, 'rootGroup'],
    [runAsGroupMissing, 'groupMissing'],
  ];
  for (const c of cases)
    for (const w of WRAPPERS)
      for (const [rule, key] of table)
        it(`${rule.id}: ${c.name} (${w.kind}) → ${c[key]}`, () => {
          expect(runRule(rule, w.wrap(c.spec), { params: c.params })).to.have.length(c[key]);
        });

  it('messages name the container and the field path', () => {
    const obj = deploymentOf({
      securityContext: { runAsGroup: 0 },
      containers: [ctr(), ctr({ securityContext: { runAsGroup: 0 } }, 'b')],
    });
    expect(runRule(runsAsRootGroup, obj).map((h) => h.message)).to.deep.equal([
      'container "app" inherits spec.template.spec.securityContext.runAsGroup=0',
      'container "b" sets spec.template.spec.containers[1].securityContext.runAsGroup=0',
    ]);
    const [m] = runRule(securityContextMissing, deploymentOf({ containers: [ctr()] }));
    expect(m?.message).to.equal(
      'container "app" has no securityContext (spec.template.spec.containers[0].securityContext) and the pod sets none (spec.template.spec.securityContext)',
    );
    expect(m?.container).to.equal('app');
  });

  it('never throws on malformed input', () => {
    for (const [rule] of table) for (const m of MALFORMED) expect(() => runRule(rule, m)).not.to.throw();
  });
});
