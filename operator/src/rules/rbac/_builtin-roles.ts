/**
 * What Kubernetes' well-known ClusterRoles (and kube-system/kube-public Roles) grant, for bindings whose role is not
 * in the scanned set (a CLI scan of a chart that binds `edit` does not contain
 * `edit` itself). Derived from the bootstrap policy of a v1.37 control plane
 * (`kubectl get clusterroles -o json` on a fresh kube-apiserver), condensed:
 * every rule that matters to the RBAC rules (secrets, exec, pod creation,
 * impersonation, token creation, wildcards) is kept verbatim; long read-only
 * lists are kept as they are because they are what makes `view` harmless.
 *
 * `aggregateLabels`: ClusterRoles in scope carrying one of these labels (value
 * "true") are folded in, as the clusterrole-aggregation controller does for the
 * user-facing roles (view ⊂ edit ⊂ admin).
 */
import type { PolicyRule } from './_rbac.ts';

export interface BuiltinRole {
  rules: PolicyRule[];
  aggregateLabels?: string[];
}

function r(
  apiGroups: string[],
  resources: string[],
  verbs: string[],
  resourceNames: string[] = [],
): PolicyRule {
  return { apiGroups, resources, verbs, resourceNames, nonResourceURLs: [] };
}
function url(nonResourceURLs: string[], verbs: string[]): PolicyRule {
  return { apiGroups: [], resources: [], verbs, resourceNames: [], nonResourceURLs };
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const VIEW: PolicyRule[] = [
  r(
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
      'bindings',
      'limitranges',
      'namespaces/status',
      'pods/log',
      'pods/status',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
      'namespaces',
    ],
    READ,
  ),
  r(['', 'events.k8s.io'], ['events'], READ),
  r(['discovery.k8s.io'], ['endpointslices'], READ),
  r(
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
    READ,
  ),
  r(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  r(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  r(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  r(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
  r(['resource.k8s.io'], ['resourceclaims', 'resourceclaims/status', 'resourceclaimtemplates'], READ),
];

const EDIT: PolicyRule[] = [
  r([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
  r([''], ['serviceaccounts'], ['impersonate']),
  r([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
  r([''], ['pods/eviction'], ['create']),
  r(
    [''],
    [
      'configmaps',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'secrets',
      'serviceaccounts',
      'services',
      'services/proxy',
    ],
    WRITE,
  ),
  r([''], ['serviceaccounts/token'], ['create']),
  r(['', 'events.k8s.io'], ['events'], WRITE),
  r(
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
    WRITE,
  ),
  r(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
  r(['batch'], ['cronjobs', 'jobs'], WRITE),
  r(['policy'], ['poddisruptionbudgets'], WRITE),
  r(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  r(['coordination.k8s.io'], ['leases'], [...WRITE, ...READ]),
  r(['resource.k8s.io'], ['resourceclaims', 'resourceclaimtemplates'], WRITE),
  ...VIEW,
];

const ADMIN: PolicyRule[] = [
  ...EDIT,
  r(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  r(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], [...WRITE, ...READ]),
];

const AGG = 'rbac.authorization.k8s.io/aggregate-to-';

/** Well-known ClusterRoles by name. Anything else not in scope is "unresolved". */
export const BUILTIN_CLUSTER_ROLES: ReadonlyMap<string, BuiltinRole> = new Map<string, BuiltinRole>([
  ['cluster-admin', { rules: [r(['*'], ['*'], ['*']), url(['*'], ['*'])] }],
  ['admin', { rules: ADMIN, aggregateLabels: [`${AGG}admin`, `${AGG}edit`, `${AGG}view`] }],
  ['edit', { rules: EDIT, aggregateLabels: [`${AGG}edit`, `${AGG}view`] }],
  ['view', { rules: VIEW, aggregateLabels: [`${AGG}view`] }],
  [
    'system:discovery',
    {
      rules: [
        url(
          [
            '/api',
            '/api/*',
            '/apis',
            '/apis/*',
            '/healthz',
            '/livez',
            '/openapi',
            '/openapi/*',
            '/readyz',
            '/version',
            '/version/',
          ],
          ['get'],
        ),
      ],
    },
  ],
  [
    'system:public-info-viewer',
    { rules: [url(['/healthz', '/livez', '/readyz', '/version', '/version/'], ['get'])] },
  ],
  [
    'system:basic-user',
    {
      rules: [
        r(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
        r(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
      ],
    },
  ],
  [
    'system:service-account-issuer-discovery',
    {
      rules: [
        url(
          [
            '/.well-known/openid-configuration',
            '/.well-known/openid-configuration/',
            '/openid/v1/jwks',
            '/openid/v1/jwks/',
          ],
          ['get'],
        ),
      ],
    },
  ],
  [
    'system:monitoring',
    {
      rules: [
        url(
          [
            '/flagz',
            '/healthz',
            '/healthz/*',
            '/livez',
            '/livez/*',
            '/metrics',
            '/metrics/slis',
            '/readyz',
            '/readyz/*',
            '/statusz',
          ],
          ['get'],
        ),
        r([''], ['nodes/metrics'], ['get']),
      ],
    },
  ],
  [
    'system:cluster-trust-bundle-discovery',
    { rules: [r(['certificates.k8s.io'], ['clustertrustbundles'], READ)] },
  ],
  [
    'system:auth-delegator',
    {
      rules: [
        r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
        r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      ],
    },
  ],
  [
    'system:kubelet-api-admin',
    {
      rules: [
        r([''], ['nodes'], ['get', 'list', 'watch', 'proxy']),
        r(
          [''],
          [
            'nodes/log',
            'nodes/metrics',
            'nodes/proxy',
            'nodes/stats',
            'nodes/configz',
            'nodes/healthz',
            'nodes/pods',
          ],
          ['*'],
        ),
      ],
    },
  ],
  [
    'system:node-proxier',
    {
      rules: [
        r([''], ['endpoints', 'services'], ['list', 'watch']),
        r([''], ['nodes'], READ),
        r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
        r(['networking.k8s.io'], ['servicecidrs'], ['list', 'watch']),
        r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
      ],
    },
  ],
  [
    'system:kube-controller-manager',
    {
      rules: [
        r([''], ['secrets', 'serviceaccounts'], ['create', 'update']),
        r([''], ['secrets'], ['delete']),
        r([''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts'], ['get']),
        r(['*'], ['*'], ['list', 'watch']),
        r([''], ['serviceaccounts/token'], ['create']),
        r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
        r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      ],
    },
  ],
  [
    'system:node',
    {
      rules: [
        r([''], ['pods'], ['get', 'list', 'watch', 'create', 'delete']),
        r([''], ['configmaps', 'secrets'], READ),
        r([''], ['serviceaccounts/token'], ['create']),
        r([''], ['nodes'], ['create', 'get', 'list', 'watch', 'patch', 'update']),
        r(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch']),
      ],
    },
  ],
]);

/**
 * Well-known Roles by `namespace/name`: the namespaced part of the same bootstrap policy
 * (every Role of a fresh v1.37 control plane, verbatim; see testdata/fresh-control-plane-v1.37.json).
 * Bindings to them (extension-apiserver-authentication-reader is bound by every
 * aggregated API server) resolve without the Role in scope.
 */
export const BUILTIN_ROLES: ReadonlyMap<string, BuiltinRole> = new Map<string, BuiltinRole>([
  [
    'kube-public/system:controller:bootstrap-signer',
    {
      rules: [
        r([''], ['configmaps'], READ),
        r([''], ['configmaps'], ['update'], ['cluster-info']),
        r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
      ],
    },
  ],
  [
    'kube-system/extension-apiserver-authentication-reader',
    { rules: [r([''], ['configmaps'], READ, ['extension-apiserver-authentication'])] },
  ],
  ...['kube-controller-manager', 'kube-scheduler'].map((c): [string, BuiltinRole] => [
    `kube-system/system::leader-locking-${c}`,
    {
      rules: [
        r(['coordination.k8s.io'], ['leases'], ['create', 'get', 'list', 'update', 'watch']),
        r(['coordination.k8s.io'], ['leasecandidates'], ['create', 'get', 'list', 'update', 'watch']),
      ],
    },
  ]),
  ['kube-system/system:controller:bootstrap-signer', { rules: [r([''], ['secrets'], READ)] }],
  [
    'kube-system/system:controller:cloud-provider',
    { rules: [r([''], ['configmaps'], ['create', 'get', 'list', 'watch'])] },
  ],
  [
    'kube-system/system:controller:token-cleaner',
    {
      rules: [
        r([''], ['secrets'], ['delete', 'get', 'list', 'watch']),
        r(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
      ],
    },
  ],
]);

/** The user-facing roles whose namespaced grant is Kubernetes' documented delegation mechanism. */
export const USER_FACING_BROAD_ROLES: ReadonlySet<string> = new Set(['admin', 'edit']);

/** Names of the default ClusterRoles that are not `system:`-prefixed. */
export const DEFAULT_ROLE_NAMES: ReadonlySet<string> = new Set(['cluster-admin', 'admin', 'edit', 'view']);
