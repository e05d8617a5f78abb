import { defaultServiceAccountBound } from './default-service-account-bound.ts';
import { clusterRoleBinding, role, roleBinding, runCases, sa } from './_testkit.ts';

const cmReader = role('team-a', 'cm', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]);

describe('rule rbac-default-service-account-bound', () => {
  runCases(defaultServiceAccountBound, [
    {
      name: 'default service account bound to a harmless Role',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'cm' }, [sa('team-a', 'default')]),
      others: [cmReader],
      expect: ['medium'],
      contains: ['ServiceAccount "team-a/default"'],
    },
    {
      name: 'default service account bound to edit cluster-wide',
      obj: clusterRoleBinding('x', 'edit', [sa('team-a', 'default')]),
      expect: ['high'],
      contains: ['read secrets'],
    },
    {
      name: 'a dedicated service account',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'cm' }, [sa('team-a', 'app')]),
      others: [cmReader],
      expect: [],
    },
    {
      name: 'subject namespace defaults to the RoleBinding namespace',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'cm' }, [
        { kind: 'ServiceAccount', name: 'default' },
      ]),
      others: [cmReader],
      expect: ['medium'],
      contains: ['"team-a/default"'],
    },
    {
      name: 'platform binding to kube-system/default',
      obj: clusterRoleBinding('system:thing', 'view', [sa('kube-system', 'default')]),
      expect: [],
    },
    {
      name: 'platform binding to a default account outside kube-system',
      obj: clusterRoleBinding('system:thing', 'view', [sa('team-a', 'default')]),
      expect: ['medium'],
    },
    {
      name: 'unresolved role still reported',
      obj: clusterRoleBinding('x', 'unknown', [sa('team-a', 'default')]),
      expect: ['medium'],
    },
  ]);
});
