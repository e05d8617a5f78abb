import { expect } from 'chai';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy } from '../../engine/policy.ts';
import type { Finding, KubeObject } from '../../engine/types.ts';
import { runRule } from '../testing.ts';
import { namespaceNotIsolated, workloadNotIsolated } from './namespace-isolation.ts';
import { DENY_ALL_INGRESS, namespace, networkPolicy, workload } from './_testkit.ts';

const web = workload('Deployment', 'shop', 'web', { app: 'web' });
const db = workload('StatefulSet', 'shop', 'db', { app: 'db' });

interface Case {
  name: string;
  obj: KubeObject;
  others?: KubeObject[];
  params?: Record<string, unknown>;
  hits: number;
  contains?: string[];
}

function table(rule: typeof namespaceNotIsolated, cases: Case[]): void {
  for (const c of cases) {
    it(`${c.name} → ${c.hits} finding(s)`, () => {
      const hits = runRule(rule, c.obj, {
        ...(c.others ? { others: c.others } : {}),
        ...(c.params ? { params: c.params } : {}),
      });
      expect(hits, hits.map((h) => h.message).join('\n')).to.have.length(c.hits);
      for (const s of c.contains ?? []) expect(hits.map((h) => h.message).join('\n')).to.contain(s);
    });
  }
}

const MALFORMED: KubeObject[] = [
  { kind: 'Namespace' },
  { kind: 'Namespace', metadata: { name: 5 } } as unknown as KubeObject,
  { kind: 'Deployment', metadata: { name: 'x', namespace: 'shop' }, spec: 'nope' },
  {
    kind: 'NetworkPolicy',
    metadata: { name: 'x', namespace: 'shop' },
    spec: { podSelector: 'all', policyTypes: 'Ingress' },
  },
  {
    kind: 'Pod',
    metadata: { name: 'x', namespace: 'shop', ownerReferences: [null, { controller: true }] },
  } as unknown as KubeObject,
];

describe('rule network-namespace-not-isolated', () => {
  const shop = namespace('shop');
  table(namespaceNotIsolated, [
    {
      name: 'namespace with workloads and no policy',
      obj: shop,
      others: [web, db],
      hits: 1,
      contains: ['has no NetworkPolicy at all', '2 of 2', 'Deployment/web', 'StatefulSet/db'],
    },
    {
      name: 'default-deny ingress policy',
      obj: shop,
      others: [web, db, networkPolicy('shop', 'deny', DENY_ALL_INGRESS)],
      hits: 0,
    },
    {
      name: 'default-deny for Egress only',
      obj: shop,
      others: [web, networkPolicy('shop', 'deny', { podSelector: {}, policyTypes: ['Egress'] })],
      hits: 1,
      contains: ['no default-deny ingress'],
    },
    {
      name: 'a policy for web only leaves db open',
      obj: shop,
      others: [web, db, networkPolicy('shop', 'web', { podSelector: { matchLabels: { app: 'web' } } })],
      hits: 1,
      contains: ['1 of 2', 'StatefulSet/db'],
    },
    {
      name: 'policies selecting every workload without a default deny',
      obj: shop,
      others: [
        web,
        db,
        networkPolicy('shop', 'apps', {
          podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] },
        }),
      ],
      hits: 0,
    },
    { name: 'namespace without workloads', obj: shop, others: [], hits: 0 },
    {
      name: 'kube-system is excluded by default',
      obj: namespace('kube-system'),
      others: [workload('Pod', 'kube-system', 'p', {})],
      hits: 0,
    },
    {
      name: 'exclusions are a param',
      obj: namespace('kube-system'),
      others: [workload('Pod', 'kube-system', 'p', {})],
      params: { excludeNamespaces: [] },
      hits: 1,
    },
    {
      name: 'owned pods are represented by their controller',
      obj: shop,
      others: [
        web,
        workload(
          'Pod',
          'shop',
          'web-abc',
          { app: 'web' },
          { ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] },
        ),
      ],
      hits: 1,
      contains: ['1 of 1'],
    },
    {
      name: 'a pod whose owner is not in scope counts',
      obj: shop,
      others: [
        workload(
          'Pod',
          'shop',
          'orphan',
          { app: 'x' },
          { ownerReferences: [{ kind: 'Rollout', name: 'r', controller: true }] },
        ),
      ],
      hits: 1,
      contains: ['Pod/orphan'],
    },
    {
      name: 'a policy in another namespace does not count',
      obj: shop,
      others: [web, networkPolicy('other', 'deny', DENY_ALL_INGRESS)],
      hits: 1,
    },
    {
      name: 'a policy with an invalid selector is ignored',
      obj: shop,
      others: [
        web,
        networkPolicy('shop', 'bad', {
          podSelector: { matchExpressions: [{ key: 'app', operator: 'Near' }] },
        }),
      ],
      hits: 1,
    },
    {
      name: 'an omitted podSelector selects all pods',
      obj: shop,
      others: [web, networkPolicy('shop', 'deny', {})],
      hits: 0,
    },
    {
      name: 'without policyTypes, Ingress is implied even with egress rules',
      obj: shop,
      others: [web, networkPolicy('shop', 'p', { podSelector: {}, egress: [{}] })],
      hits: 0,
    },
    {
      name: 'CronJob pod template labels are matched',
      obj: shop,
      others: [
        workload('CronJob', 'shop', 'report', { app: 'report' }),
        networkPolicy('shop', 'p', { podSelector: { matchLabels: { app: 'report' } } }),
      ],
      hits: 0,
    },
    {
      name: 'an allow-all ingress policy (ingress: [{}]) is not isolation',
      obj: shop,
      others: [web, networkPolicy('shop', 'allow-all', { podSelector: {}, ingress: [{}] })],
      hits: 1,
      contains: ['NetworkPolicy "allow-all" allowing all ingress', 'spec.ingress[0]', '1 of 1'],
    },
    {
      name: 'an allow-all rule opens pods that a default deny also selects',
      obj: shop,
      others: [
        web,
        db,
        networkPolicy('shop', 'deny', DENY_ALL_INGRESS),
        networkPolicy('shop', 'web-open', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x' } } }] }, { from: [] }],
        }),
      ],
      hits: 1,
      contains: ['1 of 2', 'Deployment/web', 'spec.ingress[1]'],
    },
    {
      name: 'all pods of all namespaces as peer, no ports, is allow-all',
      obj: shop,
      others: [
        web,
        networkPolicy('shop', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }),
      ],
      hits: 1,
    },
    {
      name: '0.0.0.0/0 as peer, no ports, is allow-all',
      obj: shop,
      others: [
        web,
        networkPolicy('shop', 'p', { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
      ],
      hits: 1,
    },
    {
      name: 'an allow-all rule restricted to ports still isolates',
      obj: shop,
      others: [web, networkPolicy('shop', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] })],
      hits: 0,
    },
    {
      name: 'ingress from one namespace only is isolation',
      obj: shop,
      others: [
        web,
        networkPolicy('shop', 'p', {
          podSelector: {},
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }],
        }),
      ],
      hits: 0,
    },
    {
      name: 'an allow-all ingress rule of an Egress-only policy is ignored',
      obj: shop,
      others: [
        web,
        networkPolicy('shop', 'deny', DENY_ALL_INGRESS),
        networkPolicy('shop', 'e', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}] }),
      ],
      hits: 0,
    },
    {
      name: 'long lists are shortened',
      obj: shop,
      others: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => workload('Deployment', 'shop', n, { app: n })),
      hits: 1,
      contains: ['and 2 more'],
    },
  ]);
  it('does not throw on malformed input', () => {
    for (const m of MALFORMED)
      expect(() => runRule(namespaceNotIsolated, m, { others: MALFORMED })).not.to.throw();
  });
});

describe('rule network-workload-not-isolated', () => {
  table(workloadNotIsolated, [
    {
      name: 'workload whose Namespace is not in scope, no policy',
      obj: web,
      hits: 1,
      contains: ['namespace "shop"', 'labels app=web'],
    },
    {
      name: 'Namespace object in scope carries the finding instead',
      obj: web,
      others: [namespace('shop')],
      hits: 0,
    },
    {
      name: 'selected by a policy',
      obj: web,
      others: [networkPolicy('shop', 'web', { podSelector: { matchLabels: { app: 'web' } } })],
      hits: 0,
    },
    { name: 'default deny', obj: web, others: [networkPolicy('shop', 'deny', DENY_ALL_INGRESS)], hits: 0 },
    {
      name: 'manifests without namespaces: a namespace-less policy applies',
      obj: workload('Deployment', undefined, 'web', { app: 'web' }),
      others: [networkPolicy(undefined, 'deny', DENY_ALL_INGRESS)],
      hits: 0,
    },
    {
      name: 'manifests without namespaces and no policy',
      obj: workload('Deployment', undefined, 'web', { app: 'web' }),
      hits: 1,
      contains: ['unspecified'],
    },
    {
      name: 'selected only by an allow-all ingress policy (issue 19 item 2)',
      obj: web,
      others: [networkPolicy('shop', 'allow-all', { podSelector: {}, ingress: [{}] })],
      hits: 1,
      contains: ['NetworkPolicy "allow-all" in namespace "shop"', 'allows all ingress', 'spec.ingress[0]'],
    },
    { name: 'kube-system excluded', obj: workload('DaemonSet', 'kube-system', 'cni', { k: 'v' }), hits: 0 },
    {
      name: 'pod owned by a controller in scope',
      obj: workload(
        'Pod',
        'shop',
        'web-abc',
        { app: 'web' },
        { ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] },
      ),
      others: [web],
      hits: 0,
    },
  ]);
  it('does not throw on malformed input', () => {
    for (const m of MALFORMED)
      expect(() => runRule(workloadNotIsolated, m, { others: MALFORMED })).not.to.throw();
  });
});

describe('namespace isolation across files', () => {
  const { policy } = compilePolicy({ profile: 'all' }, [namespaceNotIsolated, workloadNotIsolated]);
  const strip = (fs: Finding[]): Omit<Finding, 'location'>[] => fs.map(({ location: _l, ...f }) => f);
  const sets: [string, KubeObject[]][] = [
    [
      'with the Namespace object',
      [
        namespace('shop'),
        web,
        db,
        networkPolicy('shop', 'web', { podSelector: { matchLabels: { app: 'web' } } }),
      ],
    ],
    ['without it', [web, db, networkPolicy('shop', 'web', { podSelector: { matchLabels: { app: 'web' } } })]],
  ];
  for (const [name, objects] of sets) {
    it(`one file or one file per object gives the same findings (${name})`, () => {
      if (!policy) throw new Error('policy');
      const now = new Date('2026-06-01T00:00:00Z');
      const one = evaluateSubjects(
        objects.map((object, i) => ({ object, location: { file: 'all.yaml', line: i * 10 + 1 } })),
        policy,
        { now },
      );
      const many = evaluateSubjects(
        objects.map((object, i) => ({ object, location: { file: `f${i}.yaml`, line: 1 } })),
        policy,
        { now },
      );
      expect(one.findings.length).to.be.greaterThan(0);
      expect(strip(many.findings)).to.deep.equal(strip(one.findings));
    });
  }
});

describe('network-namespace-not-isolated message order', () => {
  it('lists the open workloads the same way whatever order the cache holds them in', () => {
    const pods = ['e', 'a', 'd', 'c', 'b', 'f'].map((n) => workload('Deployment', 'shop', n, { app: n }));
    const forward = runRule(namespaceNotIsolated, namespace('shop'), { others: pods });
    const backward = runRule(namespaceNotIsolated, namespace('shop'), { others: [...pods].reverse() });
    expect(forward.map((h) => h.message)).to.deep.equal(backward.map((h) => h.message));
    expect(forward[0]?.message).to.match(
      /Deployment\/a, Deployment\/b, Deployment\/c, Deployment\/d, Deployment\/e and 1 more$/,
    );
  });
});
