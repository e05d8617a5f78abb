import { expect } from 'chai';
import { cpuLimitMissing, memoryLimitMissing, requestsMissing } from './resources.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, podOf, type Spec } from './_testkit.ts';
import type { KubeObject, Rule } from '../../engine/types.ts';

const full = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } };

function limitRange(limits: unknown[], namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace }, spec: { limits } };
}

interface Case {
  name: string;
  spec: Spec;
  others?: KubeObject[];
  params?: Record<string, unknown>;
  hits: Record<string, number>;
}

const R = requestsMissing.id;
const M = memoryLimitMissing.id;
const C = cpuLimitMissing.id;

const cases: Case[] = [
  { name: 'all set', spec: { containers: [ctr({ resources: full })] }, hits: { [R]: 0, [M]: 0, [C]: 0 } },
  { name: 'nothing set', spec: { containers: [ctr()] }, hits: { [R]: 1, [M]: 1, [C]: 1 } },
  {
    name: 'limits only (requests default to limits)',
    spec: { containers: [ctr({ resources: { limits: { cpu: 1, memory: '1Gi' } } })] },
    hits: { [R]: 0, [M]: 0, [C]: 0 },
  },
  {
    name: 'requests only',
    spec: { containers: [ctr({ resources: { requests: { cpu: '1', memory: '1Gi' } } })] },
    hits: { [R]: 0, [M]: 1, [C]: 1 },
  },
  {
    name: 'memory request missing only',
    spec: { containers: [ctr({ resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } })] },
    hits: { [R]: 1, [M]: 1, [C]: 0 },
  },
  {
    name: 'init container without resources',
    spec: { initContainers: [ctr({}, 'migrate')], containers: [ctr({ resources: full })] },
    hits: { [R]: 1, [M]: 1, [C]: 1 },
  },
  {
    name: 'ephemeral containers are ignored (they cannot set resources)',
    spec: { containers: [ctr({ resources: full })], ephemeralContainers: [ctr({}, 'debugger')] },
    hits: { [R]: 0, [M]: 0, [C]: 0 },
  },
  {
    name: 'exempt container by glob',
    spec: { containers: [ctr({ resources: full }), ctr({}, 'istio-proxy')] },
    params: { exemptContainers: ['istio-*'] },
    hits: { [R]: 0, [M]: 0, [C]: 0 },
  },
  {
    name: 'LimitRange defaults cover everything',
    spec: { containers: [ctr()] },
    others: [
      limitRange([
        {
          type: 'Container',
          default: { cpu: '1', memory: '1Gi' },
          defaultRequest: { cpu: '100m', memory: '64Mi' },
        },
      ]),
    ],
    hits: { [R]: 0, [M]: 0, [C]: 0 },
  },
  {
    name: 'LimitRange max becomes the default limit',
    spec: { containers: [ctr()] },
    others: [limitRange([{ type: 'Container', max: { memory: '1Gi' } }])],
    hits: { [R]: 1, [M]: 0, [C]: 1 },
  },
  {
    name: 'LimitRange of type Pod does not default containers',
    spec: { containers: [ctr()] },
    others: [limitRange([{ type: 'Pod', max: { cpu: '1', memory: '1Gi' } }])],
    hits: { [R]: 1, [M]: 1, [C]: 1 },
  },
  {
    name: 'LimitRange in another namespace does not count',
    spec: { containers: [ctr()] },
    others: [limitRange([{ type: 'Container', default: { cpu: '1', memory: '1Gi' } }], 'other')],
    hits: { [R]: 1, [M]: 1, [C]: 1 },
  },
  {
    name: 'empty-string and object quantities do not count',
    spec: {
      containers: [ctr({ resources: { requests: { cpu: '', memory: {} }, limits: { memory: null } } })],
    },
    hits: { [R]: 1, [M]: 1, [C]: 1 },
  },
];

describe('rules container-requests-missing / container-memory-limit-missing / container-cpu-limit-missing', () => {
  const rules: Rule[] = [requestsMissing, memoryLimitMissing, cpuLimitMissing];
  for (const c of cases) {
    for (const w of WRAPPERS) {
      for (const rule of rules) {
        const want = c.hits[rule.id] ?? 0;
        it(`${rule.id}: ${c.name} (${w.kind}) → ${want}`, () => {
          expect(runRule(rule, w.wrap(c.spec), { others: c.others, params: c.params })).to.have.length(want);
        });
      }
    }
  }

  it('names the container, the missing resources and the field path', () => {
    const [hit] = runRule(requestsMissing, deploymentOf({ containers: [ctr()] }));
    expect(hit?.container).to.equal('app');
    expect(hit?.message).to.equal(
      'container "app" sets no CPU or memory request (spec.template.spec.containers[0].resources.requests)',
    );
    const [m] = runRule(
      memoryLimitMissing,
      deploymentOf({ initContainers: [ctr({}, 'init')], containers: [ctr({ resources: full })] }),
    );
    expect(m?.message).to.equal(
      'container "init" sets no memory limit (spec.template.spec.initContainers[0].resources.limits.memory)',
    );
  });

  it('a namespace-less manifest picks up a namespace-less LimitRange (offline scan)', () => {
    const obj = podOf({ containers: [ctr()] }, { namespace: undefined });
    const lr = limitRange([{ type: 'Container', default: { memory: '1Gi' } }]);
    delete (lr.metadata as Record<string, unknown>)['namespace'];
    expect(runRule(memoryLimitMissing, obj, { others: [lr] })).to.have.length(0);
  });

  it('never throws on malformed input', () => {
    for (const rule of rules) for (const m of MALFORMED) expect(() => runRule(rule, m)).not.to.throw();
  });
});
