import { expect } from 'chai';
import type { KubeObject } from '../../engine/types.ts';
import { runRule } from '../testing.ts';
import { workloadClusterAdmin } from './workload-cluster-admin.ts';
import { MALFORMED, clusterRole, clusterRoleBinding, roleBinding, sa } from './_testkit.ts';

function deployment(
  ns: string | undefined,
  serviceAccountName?: string,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: ns === undefined ? { name: 'ops' } : { name: 'ops', namespace: ns },
    spec: {
      selector: { matchLabels: { app: 'ops' } },
      template: {
        metadata: { labels: { app: 'ops' } },
        spec: {
          ...(serviceAccountName ? { serviceAccountName } : {}),
          containers: [{ name: 'app', image: 'registry.example/ops:1.0' }],
          ...extra,
        },
      },
    },
  };
}

const adminOf = (ns: string, name: string): KubeObject =>
  clusterRoleBinding('ops-admin', 'cluster-admin', [sa(ns, name)]);

const cases: { name: string; obj: KubeObject; others?: KubeObject[]; hits: number; contains?: string }[] = [
  {
    name: 'service account bound to cluster-admin, token mounted (issue 19 item 5)',
    obj: deployment('tools', 'ops'),
    others: [adminOf('tools', 'ops')],
    hits: 1,
    contains:
      'ServiceAccount "ops" in namespace "tools", which ClusterRoleBinding "ops-admin" makes cluster-admin',
  },
  {
    name: 'the default service account bound to cluster-admin',
    obj: deployment('tools'),
    others: [adminOf('tools', 'default')],
    hits: 1,
    contains: 'ServiceAccount "default"',
  },
  {
    name: 'a role with all verbs on all resources counts as cluster-admin',
    obj: deployment('tools', 'ops'),
    others: [
      clusterRole('god', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
      clusterRoleBinding('ops-god', 'god', [sa('tools', 'ops')]),
    ],
    hits: 1,
  },
  {
    name: 'install.yaml style: no namespaces anywhere',
    obj: deployment(undefined, 'ops'),
    others: [clusterRoleBinding('ops-admin', 'cluster-admin', [{ kind: 'ServiceAccount', name: 'ops' }])],
    hits: 1,
    contains: 'the unspecified (apply-time) namespace',
  },
  {
    name: 'token not mounted',
    obj: deployment('tools', 'ops', { automountServiceAccountToken: false }),
    others: [adminOf('tools', 'ops')],
    hits: 0,
  },
  {
    name: 'same account name in another namespace',
    obj: deployment('tools', 'ops'),
    others: [adminOf('other', 'ops')],
    hits: 0,
  },
  {
    name: 'cluster-admin only inside one namespace (RoleBinding) is not this rule',
    obj: deployment('tools', 'ops'),
    others: [roleBinding('tools', 'x', { kind: 'ClusterRole', name: 'cluster-admin' }, [sa('tools', 'ops')])],
    hits: 0,
  },
  {
    name: 'a less privileged role',
    obj: deployment('tools', 'ops'),
    others: [clusterRoleBinding('ops-view', 'view', [sa('tools', 'ops')])],
    hits: 0,
  },
  {
    name: 'a pod owned by a Deployment in scope is represented by it',
    obj: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'ops-1',
        namespace: 'tools',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ops', uid: 'u', controller: true },
        ],
      },
      spec: { serviceAccountName: 'ops', containers: [{ name: 'app', image: 'x:1' }] },
    },
    others: [deployment('tools', 'ops'), adminOf('tools', 'ops')],
    hits: 0,
  },
];

describe('rule rbac-workload-cluster-admin', () => {
  for (const c of cases)
    it(`${c.name} → ${c.hits}`, () => {
      const hits = runRule(workloadClusterAdmin, c.obj, { others: c.others ?? [] });
      expect(hits, hits.map((h) => h.message).join('\n')).to.have.length(c.hits);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });

  it('does not throw on malformed objects', () => {
    for (const m of MALFORMED)
      expect(() => runRule(workloadClusterAdmin, deployment('tools', 'ops'), { others: [m] })).not.to.throw();
  });
});
