/**
 * fast-check arbitraries for untrusted Kubernetes input: objects shaped like
 * the kinds Vigil's rules read, where every field may instead hold the wrong
 * type, null, a huge or exotic string, a deep list, or a `__proto__` key.
 */
import fc from 'fast-check';
import type { KubeObject } from '../engine/types.ts';

/** Keys that must stay plain data (never reach a prototype). */
export const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** A marker key replaced by a real own `__proto__` property after generation (see `withProtoKeys`). */
const PROTO_MARKER = '__vigil_proto_marker__';

const key = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_KEYS.slice(1), PROTO_MARKER) },
);

/** Strings a parser or a regex might choke on. */
export const nastyString = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '*',
      '**',
      '\u0000',
      '\u202eevil',
      '${HOME}',
      '../../etc/passwd',
      'a'.repeat(70_000),
      '('.repeat(5000),
      'AKIA' + 'A'.repeat(16),
      '-----BEGIN RSA PRIVATE KEY-----',
      'registry.example/app@sha256:' + 'f'.repeat(64),
      'ALL',
      'SYS_ADMIN',
      '0',
      'true',
      'NaN',
    ),
  },
);

/** Any JSON-ish value, small. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4, key, withNullPrototype: true }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, 0, -1, 1e308, Number.NaN, Infinity) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map(deepList) },
);

/** A list nested `depth` levels deep: [[[…]]]. */
export function deepList(depth: number): unknown {
  let v: unknown = ['bottom'];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** The right type most of the time, anything else some of the time. */
function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: junk });
}

function rec(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return maybe(fc.record(fields, { requiredKeys: [] }));
}

const str = maybe(nastyString);
const bool = maybe(fc.boolean());
const int = maybe(fc.integer({ min: -1, max: 70000 }));
const strList = maybe(fc.array(nastyString, { maxLength: 4 }));

const image = maybe(
  fc.oneof(
    fc.constantFrom(
      'nginx',
      'nginx:latest',
      'registry.example/app:1.0',
      'tiller',
      'kubernetesui/dashboard:v2.0.0',
    ),
    nastyString,
  ),
);

const securityContext = rec({
  privileged: bool,
  runAsUser: int,
  runAsGroup: int,
  runAsNonRoot: bool,
  allowPrivilegeEscalation: bool,
  readOnlyRootFilesystem: bool,
  procMount: str,
  capabilities: rec({ add: strList, drop: strList }),
  seccompProfile: rec({ type: str, localhostProfile: str }),
  seLinuxOptions: rec({ type: str, user: str, role: str, level: str }),
  appArmorProfile: rec({ type: str }),
  windowsOptions: rec({ hostProcess: bool }),
  sysctls: maybe(fc.array(rec({ name: str, value: str }), { maxLength: 3 })),
});

const container = rec({
  name: str,
  image,
  imagePullPolicy: str,
  command: strList,
  args: strList,
  env: maybe(
    fc.array(rec({ name: str, value: str, valueFrom: rec({ secretKeyRef: rec({ name: str, key: str }) }) }), {
      maxLength: 4,
    }),
  ),
  envFrom: maybe(fc.array(rec({ secretRef: rec({ name: str }) }), { maxLength: 2 })),
  ports: maybe(
    fc.array(rec({ containerPort: int, hostPort: int, protocol: str, hostIP: str }), { maxLength: 3 }),
  ),
  securityContext,
  resources: rec({ limits: rec({ cpu: str, memory: str }), requests: rec({ cpu: str, memory: str }) }),
  volumeMounts: maybe(fc.array(rec({ name: str, mountPath: str, readOnly: bool }), { maxLength: 3 })),
  livenessProbe: rec({ httpGet: rec({ host: str, port: int }), tcpSocket: rec({ host: str }) }),
  readinessProbe: junk,
  lifecycle: rec({ postStart: rec({ httpGet: rec({ host: str }) }) }),
});

const podSpec = rec({
  containers: maybe(fc.array(container, { maxLength: 3 })),
  initContainers: maybe(fc.array(container, { maxLength: 2 })),
  ephemeralContainers: maybe(fc.array(container, { maxLength: 1 })),
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  hostUsers: bool,
  securityContext,
  serviceAccountName: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  os: rec({ name: str }),
  volumes: maybe(
    fc.array(
      rec({
        name: str,
        hostPath: rec({ path: str, type: str }),
        secret: rec({ secretName: str }),
        projected: junk,
        emptyDir: junk,
      }),
      { maxLength: 3 },
    ),
  ),
});

const template = rec({ metadata: rec({ labels: junk, annotations: junk }), spec: podSpec });

const rbacRules = maybe(
  fc.array(
    rec({
      apiGroups: strList,
      resources: maybe(
        fc.array(
          fc.constantFrom('*', 'secrets', 'pods', 'pods/exec', 'nodes/proxy', 'serviceaccounts/token'),
        ),
      ),
      verbs: maybe(
        fc.array(fc.constantFrom('*', 'get', 'list', 'create', 'escalate', 'bind', 'impersonate')),
      ),
      resourceNames: strList,
      nonResourceURLs: strList,
    }),
    { maxLength: 4 },
  ),
);
const subjects = maybe(
  fc.array(rec({ kind: str, name: str, namespace: str, apiGroup: str }), { maxLength: 3 }),
);
const roleRef = rec({ kind: maybe(fc.constantFrom('Role', 'ClusterRole')), name: str, apiGroup: str });

const labels = maybe(
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
);

const metadata = rec({
  name: maybe(fc.oneof(fc.constantFrom('web', 'default', 'kube-system', 'cluster-admin'), nastyString)),
  namespace: maybe(fc.constantFrom('default', 'kube-system', 'team-a', '')),
  uid: str,
  labels,
  annotations: labels,
  ownerReferences: maybe(
    fc.array(rec({ kind: str, name: str, controller: bool, uid: str }), { maxLength: 2 }),
  ),
  managedFields: maybe(
    fc.array(rec({ manager: str, operation: str, time: str, subresource: str }), { maxLength: 3 }),
  ),
  creationTimestamp: str,
});

/** kind → the shape of its body beside metadata. */
const BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  Pod: fc.record({ spec: podSpec, status: junk }, { requiredKeys: [] }),
  Deployment: fc.record({ spec: rec({ replicas: int, template, selector: junk }) }, { requiredKeys: [] }),
  StatefulSet: fc.record({ spec: rec({ template }) }, { requiredKeys: [] }),
  DaemonSet: fc.record({ spec: rec({ template }) }, { requiredKeys: [] }),
  ReplicaSet: fc.record({ spec: rec({ template }) }, { requiredKeys: [] }),
  ReplicationController: fc.record({ spec: rec({ template }) }, { requiredKeys: [] }),
  Job: fc.record({ spec: rec({ template }) }, { requiredKeys: [] }),
  CronJob: fc.record({ spec: rec({ jobTemplate: rec({ spec: rec({ template }) }) }) }, { requiredKeys: [] }),
  Role: fc.record({ rules: rbacRules }, { requiredKeys: [] }),
  ClusterRole: fc.record({ rules: rbacRules, aggregationRule: junk }, { requiredKeys: [] }),
  RoleBinding: fc.record({ roleRef, subjects }, { requiredKeys: [] }),
  ClusterRoleBinding: fc.record({ roleRef, subjects }, { requiredKeys: [] }),
  ServiceAccount: fc.record({ automountServiceAccountToken: bool, secrets: junk }, { requiredKeys: [] }),
  Service: fc.record(
    {
      spec: rec({
        type: maybe(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName')),
        externalIPs: strList,
        selector: labels,
        ports: maybe(fc.array(rec({ port: int, nodePort: int, targetPort: junk }), { maxLength: 2 })),
      }),
    },
    { requiredKeys: [] },
  ),
  Ingress: fc.record({ spec: rec({ tls: junk, rules: junk, ingressClassName: str }) }, { requiredKeys: [] }),
  NetworkPolicy: fc.record(
    { spec: rec({ podSelector: junk, policyTypes: strList, ingress: junk, egress: junk }) },
    { requiredKeys: [] },
  ),
  Namespace: fc.record({ spec: junk, status: junk }, { requiredKeys: [] }),
  Node: fc.record(
    {
      status: rec({
        nodeInfo: rec({
          kubeletVersion: str,
          kernelVersion: str,
          osImage: str,
          containerRuntimeVersion: str,
        }),
      }),
    },
    { requiredKeys: [] },
  ),
  ConfigMap: fc.record({ data: junk, binaryData: junk }, { requiredKeys: [] }),
  Secret: fc.record({ data: junk, stringData: junk, type: str }, { requiredKeys: [] }),
  ClusterVersion: fc.record(
    { status: rec({ gitVersion: str, major: str, minor: str }) },
    { requiredKeys: [] },
  ),
  SecurityPolicy: fc.record({ spec: junk }, { requiredKeys: [] }),
};

/** A Kubernetes-shaped object of any kind the rules read, with adversarial fields. */
export function kubeObject(kinds: readonly string[] = Object.keys(BODIES)): fc.Arbitrary<KubeObject> {
  return fc
    .constantFrom(...kinds)
    .chain((kind) =>
      fc.record({
        apiVersion: maybe(fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1')),
        kind: fc.oneof(
          { weight: 9, arbitrary: fc.constant(kind as unknown) },
          { weight: 1, arbitrary: junk },
        ),
        metadata,
        body: BODIES[kind] ?? fc.constant({}),
        extra: fc.dictionary(key, junk, { maxKeys: 2 }),
      }),
    )
    .map(({ apiVersion, kind, metadata: meta, body, extra }) =>
      withProtoKeys({ ...extra, ...body, apiVersion, kind, metadata: meta } as KubeObject),
    );
}

/** Turns the marker key into a real own `__proto__` property, as JSON.parse and YAML produce it. */
export function withProtoKeys<T>(v: T): T {
  const text = JSON.stringify(v, (_k, x: unknown) => (x === undefined ? null : x));
  if (!text.includes(PROTO_MARKER)) return v;
  return JSON.parse(text.split(`"${PROTO_MARKER}"`).join('"__proto__"')) as T;
}

/** A SecurityPolicy-ish input for compilePolicy: plausible keys, adversarial values. */
export const policyInput: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: junk },
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          apiVersion: maybe(fc.constant('security.vigil.dev/v1alpha1')),
          kind: maybe(fc.constant('SecurityPolicy')),
          metadata: rec({ name: str }),
          spec: rec({
            profile: maybe(fc.constantFrom('pss-baseline', 'pss-restricted', 'recommended', 'all', 'strict')),
            action: maybe(fc.constantFrom('audit', 'warn', 'enforce', 'block')),
            events: rec({ minSeverity: maybe(fc.constantFrom('critical', 'high', 'low', 'urgent')) }),
            match: rec({
              namespaces: strList,
              excludeNamespaces: strList,
              names: strList,
              kinds: strList,
              namespaceSelector: rec({
                matchLabels: labels,
                matchExpressions: maybe(
                  fc.array(
                    rec({
                      key: str,
                      operator: maybe(fc.constantFrom('In', 'NotIn', 'Exists', 'Bogus')),
                      values: strList,
                    }),
                    { maxLength: 2 },
                  ),
                ),
              }),
              objectSelector: junk,
            }),
            rules: maybe(
              fc.array(
                rec({
                  id: maybe(
                    fc.constantFrom(
                      'pss-privileged',
                      'image-latest-tag',
                      'container-cpu-limit-missing',
                      'nope',
                      '',
                    ),
                  ),
                  enabled: bool,
                  severity: maybe(fc.constantFrom('critical', 'high', 'medium', 'low', 'info', 'urgent')),
                  params: rec({ exemptContainers: strList, exemptImages: strList, bogus: junk }),
                }),
                { maxLength: 4 },
              ),
            ),
            exceptions: maybe(
              fc.array(
                rec({
                  rules: maybe(
                    fc.array(fc.constantFrom('pss-*', 'pss-privileged', 'nope', '*', '['), { maxLength: 2 }),
                  ),
                  match: junk,
                  reason: str,
                  owner: str,
                  expiresAt: maybe(
                    fc.constantFrom(
                      '2030-01-01T00:00:00Z',
                      '2020-02-30T00:00:00Z',
                      'tomorrow',
                      '2026-06-01T00:00:00.123+02:00',
                    ),
                  ),
                }),
                { maxLength: 3 },
              ),
            ),
          }),
        },
        { requiredKeys: [] },
      )
      .map(withProtoKeys),
  },
);
