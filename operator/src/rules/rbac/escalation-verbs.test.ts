import { escalationVerbs } from './escalation-verbs.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, user } from './_testkit.ts';

const impersonator = clusterRole('impersonator', [
  { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
]);
const saImpersonator = clusterRole('sa-impersonator', [
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
]);

describe('rule rbac-escalate-bind-impersonate', () => {
  runCases(escalationVerbs, [
    {
      name: 'impersonate users and groups cluster-wide',
      obj: clusterRoleBinding('x', 'impersonator', [user('alice')]),
      others: [impersonator],
      expect: ['critical'],
      contains: ['impersonate on users, groups'],
    },
    {
      name: '"*" verbs on groups include impersonate',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['groups'], verbs: ['*'] }])],
      expect: ['critical'],
    },
    {
      name: 'impersonating users through a RoleBinding grants nothing',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'impersonator' }, [user('alice')]),
      others: [impersonator],
      expect: [],
    },
    {
      name: 'impersonate service accounts in one namespace',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'sa-impersonator' }, [user('alice')]),
      others: [saImpersonator],
      expect: ['medium'],
    },
    {
      name: 'escalate on clusterroles cluster-wide',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles'],
            verbs: ['escalate', 'update'],
          },
        ]),
      ],
      expect: ['high'],
      contains: ['escalate on clusterroles'],
    },
    {
      name: 'bind restricted to named roles',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles'],
            verbs: ['bind'],
            resourceNames: ['view'],
          },
        ]),
      ],
      expect: [],
    },
    {
      name: 'several escalation paths in one finding',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind'] },
          { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
        ]),
      ],
      expect: ['high'],
      contains: ['bind on roles; impersonate on serviceaccounts'],
    },
    { name: 'unbound ClusterRole that impersonates users', obj: impersonator, expect: ['medium'] },
    {
      name: 'unbound Role with bind',
      obj: role('team-a', 'r', [
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind'] },
      ]),
      expect: ['low'],
    },
    {
      name: 'ordinary RBAC management without escalation verbs',
      obj: clusterRole('r', [
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['roles', 'rolebindings'],
          verbs: ['create', 'update'],
        },
      ]),
      expect: [],
    },
  ]);
});
