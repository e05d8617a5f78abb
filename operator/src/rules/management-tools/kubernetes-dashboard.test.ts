import { dashboardClusterAdmin, dashboardInsecureFlags } from './kubernetes-dashboard.ts';
import { adminBinding, exposingService, runCases, tool } from './_testkit.ts';

const dash = (args: string[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'kubernetes-dashboard',
  image: 'kubernetesui/dashboard:v2.7.0',
  args,
  ...extra,
});
const ns = 'kubernetes-dashboard';
const opts = { ns, name: 'kubernetes-dashboard', sa: 'kubernetes-dashboard' };

describe('rule kubernetes-dashboard-insecure-flags', () => {
  runCases(dashboardInsecureFlags, [
    {
      name: 'default args',
      obj: tool([dash(['--auto-generate-certificates', '--namespace=kubernetes-dashboard'])], opts),
      expect: [],
    },
    {
      name: 'skip login, internal only',
      obj: tool([dash(['--auto-generate-certificates', '--enable-skip-login'])], opts),
      expect: ['high'],
      contains: [
        'container "kubernetes-dashboard" (spec.template.spec.containers[0]) passes --enable-skip-login',
      ],
      container: 'kubernetes-dashboard',
    },
    {
      name: 'skip login behind a NodePort Service',
      obj: tool([dash(['--enable-skip-login=true'])], opts),
      others: [exposingService(ns, 'NodePort')],
      expect: ['critical'],
      contains: ['Service "svc-nodeport" (NodePort)'],
    },
    {
      name: 'skip login with a cluster-admin service account',
      obj: tool([dash(['--enable-skip-login'])], opts),
      others: [adminBinding(ns, 'kubernetes-dashboard')],
      expect: ['critical'],
      contains: ['is cluster-admin through ClusterRoleBinding "kubernetes-dashboard-admin"'],
    },
    {
      name: 'skip login behind an Ingress',
      obj: tool([dash(['--enable-skip-login'])], opts),
      others: [
        exposingService(ns, 'ClusterIP'),
        {
          kind: 'Ingress',
          metadata: { name: 'dash', namespace: ns },
          spec: { rules: [{ http: { paths: [{ backend: { service: { name: 'svc-clusterip' } } }] } }] },
        },
      ],
      expect: ['critical'],
      contains: ['Ingress "dash" via Service "svc-clusterip"'],
    },
    {
      name: 'a ClusterIP Service alone is not exposure',
      obj: tool([dash(['--enable-skip-login'])], opts),
      others: [exposingService(ns, 'ClusterIP')],
      expect: ['high'],
    },
    {
      name: 'Service in another namespace',
      obj: tool([dash(['--enable-skip-login'])], opts),
      others: [exposingService('other', 'NodePort')],
      expect: ['high'],
    },
    { name: 'explicitly false', obj: tool([dash(['--enable-skip-login=false'])], opts), expect: [] },
    {
      name: 'all the weakening flags',
      obj: tool(
        [
          dash([
            '--enable-insecure-login',
            '--insecure-bind-address=0.0.0.0',
            '--disable-settings-authorizer',
          ]),
        ],
        opts,
      ),
      expect: ['medium', 'medium', 'low'],
    },
    {
      name: 'insecure bind address on localhost',
      obj: tool([dash(['--insecure-bind-address', '127.0.0.1'])], opts),
      expect: [],
    },
    {
      name: 'old image name and flags in command',
      obj: tool(
        [
          {
            name: 'd',
            image: 'k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1',
            command: ['/dashboard', '--enable-skip-login'],
          },
        ],
        opts,
      ),
      expect: ['high'],
    },
    {
      name: 'v7 dashboard-web image',
      obj: tool(
        [{ name: 'web', image: 'docker.io/kubernetesui/dashboard-web:1.6.0', args: ['--enable-skip-login'] }],
        opts,
      ),
      expect: ['high'],
    },
    {
      name: 'the same flag on another tool',
      obj: tool([{ name: 'x', image: 'example/other:1', args: ['--enable-skip-login'] }], opts),
      expect: [],
    },
  ]);
});

describe('rule kubernetes-dashboard-cluster-admin', () => {
  runCases(dashboardClusterAdmin, [
    {
      name: 'service account bound to cluster-admin',
      obj: tool([dash([])], opts),
      others: [adminBinding(ns, 'kubernetes-dashboard')],
      expect: ['critical'],
      contains: ['service account "kubernetes-dashboard"', '"kubernetes-dashboard-admin"'],
    },
    {
      name: 'default service account bound to cluster-admin',
      obj: tool([dash([])], { ns, name: 'kubernetes-dashboard' }),
      others: [adminBinding(ns, 'default')],
      expect: ['critical'],
      contains: ['service account "default"'],
    },
    {
      name: 'bound to an equivalent custom role',
      obj: tool([dash([])], opts),
      others: [
        adminBinding(ns, 'kubernetes-dashboard', 'god'),
        {
          kind: 'ClusterRole',
          metadata: { name: 'god' },
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        },
      ],
      expect: ['critical'],
    },
    {
      name: 'bound to view',
      obj: tool([dash([])], opts),
      others: [adminBinding(ns, 'kubernetes-dashboard', 'view')],
      expect: [],
    },
    {
      name: 'binding for an account in another namespace',
      obj: tool([dash([])], opts),
      others: [adminBinding('other', 'kubernetes-dashboard')],
      expect: [],
    },
    {
      name: 'not a dashboard',
      obj: tool([{ name: 'x', image: 'example/app:1' }], opts),
      others: [adminBinding(ns, 'kubernetes-dashboard')],
      expect: [],
    },
    {
      name: 'pods owned by a Deployment in scope are represented by it',
      obj: tool([dash([])], {
        ...opts,
        kind: 'Pod',
        meta: { ownerReferences: [{ kind: 'Deployment', name: 'kubernetes-dashboard', controller: true }] },
      }),
      others: [tool([dash([])], opts), adminBinding(ns, 'kubernetes-dashboard')],
      expect: [],
    },
  ]);
});
