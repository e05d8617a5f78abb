import { tokenCreate } from './token-create.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, sa } from './_testkit.ts';

const minter = clusterRole('minter', [
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
]);

describe('rule rbac-service-account-token-create', () => {
  runCases(tokenCreate, [
    {
      name: 'cluster-wide token creation',
      obj: clusterRoleBinding('x', 'minter', [sa('ci', 'runner')]),
      others: [minter],
      expect: ['high'],
      contains: ['create on serviceaccounts/token'],
    },
    {
      name: 'in one namespace',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'minter' }, [sa('ci', 'runner')]),
      others: [minter],
      expect: ['medium'],
    },
    {
      name: 'for one named service account',
      obj: clusterRoleBinding('x', 'r', [sa('ci', 'runner')]),
      others: [
        clusterRole('r', [
          {
            apiGroups: [''],
            resources: ['serviceaccounts/token'],
            verbs: ['create'],
            resourceNames: ['builder'],
          },
        ]),
      ],
      expect: [],
    },
    {
      name: 'reading service accounts is not minting tokens',
      obj: clusterRoleBinding('x', 'r', [sa('ci', 'runner')]),
      others: [
        clusterRole('r', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create'] }]),
      ],
      expect: [],
    },
    {
      name: 'unbound Role',
      obj: role('team-a', 'r', [
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      ]),
      expect: ['low'],
    },
  ]);
});
