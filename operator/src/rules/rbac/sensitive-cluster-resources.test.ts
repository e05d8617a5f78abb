import { expect } from 'chai';
import { sensitiveClusterResources } from './sensitive-cluster-resources.ts';
import { clusterRole, clusterRoleBinding, roleBinding, runCases, sa } from './_testkit.ts';
import { runRule } from '../testing.ts';

const pv = clusterRole('pv', [{ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['create'] }]);

describe('rule rbac-sensitive-cluster-resources', () => {
  runCases(sensitiveClusterResources, [
    {
      name: 'create PersistentVolumes',
      obj: clusterRoleBinding('x', 'pv', [sa('ci', 'r')]),
      others: [pv],
      expect: ['high'],
      contains: ['create on persistentvolumes'],
    },
    {
      name: 'approve CSRs',
      obj: clusterRoleBinding('x', 'r', [sa('ci', 'r')]),
      others: [
        clusterRole('r', [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests/approval'],
            verbs: ['update'],
          },
        ]),
      ],
      expect: ['high'],
    },
    {
      name: 'write webhook configurations',
      obj: clusterRoleBinding('x', 'r', [sa('ci', 'r')]),
      others: [
        clusterRole('r', [
          {
            apiGroups: ['admissionregistration.k8s.io'],
            resources: ['mutatingwebhookconfigurations'],
            verbs: ['patch'],
          },
        ]),
      ],
      expect: ['high'],
    },
    {
      name: 'a RoleBinding cannot grant cluster-scoped resources',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'pv' }, [sa('ci', 'r')]),
      others: [pv],
      expect: [],
    },
    { name: 'unbound ClusterRole', obj: pv, expect: ['medium'] },
    {
      name: 'reading webhook configurations',
      obj: clusterRole('r', [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          verbs: ['get', 'list'],
        },
      ]),
      expect: [],
    },
  ]);

  it('adds the CIS control of each path found', () => {
    const [hit] = runRule(
      sensitiveClusterResources,
      clusterRole('r', [
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['create'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['*'], verbs: ['update'] },
      ]),
    );
    expect(hit?.controls).to.deep.equal(['CIS:5.1.9', 'CIS:5.1.12']);
  });
});
