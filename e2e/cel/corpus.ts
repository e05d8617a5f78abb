/**
 * The differential corpus of custom-rule expressions (differential.e2e.ts): each expression is
 * judged, on each object of its group, by Vigil's evaluator and by a ValidatingAdmissionPolicy
 * on the real API server. Grouped by the library each exercises; objects are chosen so every
 * expression is true on some, false on some and an evaluation error on some.
 */
import type { KubeObject } from '../../operator/src/engine/types.ts';

export interface CelCase {
  /** Library or feature, for the report. */
  library: string;
  expression: string;
  messageExpression?: string;
  message?: string;
  variables?: { name: string; expression: string }[];
  /** Which objects judge it. */
  objects: 'configmaps' | 'workloads';
}

const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

/** Three ConfigMaps: mostly valid values, mostly wrong values, unparseable values. */
export const CONFIGMAPS: KubeObject[] = [
  cm(
    'cm-good',
    {
      mem: '512Mi',
      cpu: '250m',
      url: 'https://user@example.com:8443/path/x?q=1&r=2#frag',
      ip: '10.0.0.17',
      cidr: '10.0.0.0/8',
      ver: '1.2.3',
      name: 'web-frontend',
      list: 'a,b,c',
      email: 'ops@example.com',
      image: 'registry.example.com/shop/app:1.4.2',
      num: '42',
    },
    { team: 'shop', tier: 'prod' },
  ),
  cm(
    'cm-wrong',
    {
      mem: '8Gi',
      cpu: '2',
      url: 'http://[::1]:80/',
      ip: '2001:db8::1',
      cidr: '192.168.0.0/16',
      ver: '2.0.0-rc.1',
      name: 'Bad_Name',
      list: 'c,a',
      email: 'ops@elsewhere.org',
      image: 'docker.io/library/nginx:latest',
      num: '-7',
    },
    { tier: 'dev' },
  ),
  cm('cm-broken', {
    mem: '1.5Gx',
    cpu: 'abc',
    url: 'not a url',
    ip: '300.1.1.1',
    cidr: '10.0.0.0/33',
    ver: 'v1',
    name: '',
    list: '',
    email: '',
    image: 'nginx',
    num: 'x',
  }),
];

const container = (name: string, image: string, more: Record<string, unknown> = {}) => ({
  name,
  image,
  ...more,
});

/** A compliant Deployment, a non-compliant one, and a bare Pod (the API server defaults all three). */
export const WORKLOADS: KubeObject[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'deploy-good', labels: { team: 'shop' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'good' } },
      template: {
        metadata: { labels: { app: 'good' } },
        spec: {
          containers: [
            container('app', 'registry.example.com/shop/app:1.4.2', {
              imagePullPolicy: 'Always',
              ports: [{ containerPort: 8080 }],
              resources: { limits: { memory: '512Mi', cpu: '500m' } },
              env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } }],
            }),
            container('sidecar', 'registry.example.com/shop/proxy:2.0.0', {
              imagePullPolicy: 'Always',
              resources: { limits: { memory: '128Mi' } },
            }),
          ],
        },
      },
    },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'deploy-bad' },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: 'bad' } },
      template: {
        metadata: { labels: { app: 'bad' } },
        spec: {
          containers: [
            container('web', 'docker.io/library/nginx:latest', {
              ports: [{ containerPort: 80 }],
              securityContext: { privileged: true },
              resources: { limits: { memory: '8Gi' } },
              env: [{ name: 'ADMIN_PASSWORD', value: 'hunter2' }],
            }),
            container('app', 'nginx'),
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pod-plain', labels: { team: 'ops' } },
    spec: { containers: [container('only', 'registry.example.com/ops/tool:0.1.0')] },
  },
];

const C = 'configmaps' as const;
const W = 'workloads' as const;
const containers = [
  {
    name: 'containers',
    expression: "object.kind == 'Pod' ? object.spec.containers : object.spec.template.spec.containers",
  },
];

export const CASES: CelCase[] = [
  // quantity
  { library: 'quantity', objects: C, expression: "quantity(object.data.mem).isLessThan(quantity('4Gi'))" },
  {
    library: 'quantity',
    objects: C,
    expression: "quantity(object.data.mem).compareTo(quantity('1Gi')) <= 0",
  },
  { library: 'quantity', objects: C, expression: 'isQuantity(object.data.cpu)' },
  {
    library: 'quantity',
    objects: C,
    expression: 'isQuantity(object.data.cpu) && quantity(object.data.cpu).asApproximateFloat() < 1.0',
  },
  {
    library: 'quantity',
    objects: C,
    expression: "quantity(object.data.mem).add(quantity('1Gi')).isGreaterThan(quantity('1600Mi'))",
  },
  { library: 'quantity', objects: C, expression: 'quantity(object.data.cpu).isInteger()' },
  { library: 'quantity', objects: C, expression: "quantity(object.data.mem).isGreaterThan(quantity('0'))" },
  {
    library: 'quantity',
    objects: C,
    expression: "quantity(object.data.mem).sub(quantity('256Mi')).asInteger() > 268435456",
    messageExpression: "'memory ' + object.data.mem + ' leaves too little'",
  },
  // url
  { library: 'url', objects: C, expression: 'isURL(object.data.url)' },
  {
    library: 'url',
    objects: C,
    expression: "url(object.data.url).getScheme() == 'https'",
    messageExpression: "'scheme is ' + url(object.data.url).getScheme()",
  },
  { library: 'url', objects: C, expression: "url(object.data.url).getHost() == 'example.com:8443'" },
  { library: 'url', objects: C, expression: "url(object.data.url).getHostname() == 'example.com'" },
  { library: 'url', objects: C, expression: "url(object.data.url).getPort() != ''" },
  { library: 'url', objects: C, expression: "url(object.data.url).getEscapedPath().startsWith('/path')" },
  { library: 'url', objects: C, expression: 'url(object.data.url).getQuery().size() > 1' },
  // regex
  { library: 'regex', objects: C, expression: "object.data.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')" },
  { library: 'regex', objects: C, expression: "object.data.image.find('[0-9]+[.][0-9]+[.][0-9]+') != ''" },
  { library: 'regex', objects: C, expression: "object.data.email.findAll('[a-z]+').size() >= 3" },
  {
    library: 'regex',
    objects: C,
    expression: "object.data.email.matches('^[^@]+@example[.]com$')",
    messageExpression: "'bad email: ' + object.data.email",
  },
  { library: 'regex', objects: C, expression: "!object.data.image.matches(':latest$')" },
  {
    library: 'regex',
    objects: C,
    expression: "object.data.num.matches('^-?[0-9]+$') && int(object.data.num) > 0",
  },
  // optionals
  { library: 'optionals', objects: C, expression: "object.metadata.?labels.?team.orValue('') != ''" },
  { library: 'optionals', objects: C, expression: 'object.metadata.?labels.?tier.hasValue()' },
  { library: 'optionals', objects: C, expression: "object.?data.?missing.orValue('none') == 'none'" },
  {
    library: 'optionals',
    objects: C,
    expression: 'optional.of(object.data.name).or(optional.none()).value().size() > 0',
  },
  { library: 'optionals', objects: C, expression: 'object.metadata.?labels.orValue({}).size() >= 2' },
  {
    library: 'optionals',
    objects: C,
    expression: '[?object.metadata.?labels.?team, ?optional.none()].size() == 1',
  },
  {
    library: 'optionals',
    objects: C,
    expression: "{?'t': object.metadata.?labels.?team}.size() == 1",
    message: 'no team label',
  },
  {
    library: 'optionals',
    objects: C,
    expression: "object.metadata.?labels.?tier.optMap(t, t == 'prod').orValue(false)",
  },
  // lists
  { library: 'lists', objects: C, expression: "object.data.list.split(',').isSorted()" },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').indexOf('b') == 1" },
  {
    library: 'lists',
    objects: C,
    expression: "[3, 1, 2].sum() == 6 && object.data.list.split(',').lastIndexOf('c') >= 0",
  },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').min() == 'a'" },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').max() < 'c'" },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').slice(0, 1) == ['a']" },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').distinct().size() == 3" },
  { library: 'lists', objects: C, expression: "object.data.list.split(',').sort() == ['a', 'b', 'c']" },
  {
    library: 'lists',
    objects: C,
    expression: 'lists.range(3).map(i, i * 2).sum() == size(object.data.list)',
  },
  // sets
  { library: 'sets', objects: C, expression: "sets.contains(object.data.list.split(','), ['a'])" },
  {
    library: 'sets',
    objects: C,
    expression: "sets.equivalent(object.data.list.split(','), ['c', 'b', 'a'])",
  },
  { library: 'sets', objects: C, expression: "!sets.intersects(object.data.list.split(','), ['x', 'c'])" },
  // ip and cidr
  { library: 'ip/cidr', objects: C, expression: 'isIP(object.data.ip)' },
  { library: 'ip/cidr', objects: C, expression: 'ip(object.data.ip).family() == 4' },
  { library: 'ip/cidr', objects: C, expression: 'cidr(object.data.cidr).containsIP(object.data.ip)' },
  {
    library: 'ip/cidr',
    objects: C,
    expression: 'isCIDR(object.data.cidr) && cidr(object.data.cidr).prefixLength() <= 8',
  },
  {
    library: 'ip/cidr',
    objects: C,
    expression: 'ip(object.data.ip).isLoopback() || ip(object.data.ip).isGlobalUnicast()',
  },
  { library: 'ip/cidr', objects: C, expression: 'cidr(object.data.cidr).ip().family() == 4' },
  { library: 'ip/cidr', objects: C, expression: 'ip.isCanonical(object.data.ip)' },
  {
    library: 'ip/cidr',
    objects: C,
    expression:
      "cidr(object.data.cidr).masked() == cidr(object.data.cidr) && string(cidr('10.1.0.0/16').masked()) != ''",
  },
  // format
  {
    library: 'format',
    objects: C,
    expression: '!format.dns1123Label().validate(object.data.name).hasValue()',
    messageExpression: "format.dns1123Label().validate(object.data.name).value().join('; ')",
  },
  {
    library: 'format',
    objects: C,
    expression: "format.named('dns1123Subdomain').value().validate(object.data.name) == optional.none()",
  },
  {
    library: 'format',
    objects: C,
    expression: '!format.qualifiedName().validate(object.data.name).hasValue()',
  },
  { library: 'format', objects: C, expression: '!format.uri().validate(object.data.url).hasValue()' },
  {
    library: 'format',
    objects: C,
    expression: '!format.labelValue().validate(object.data.name).hasValue()',
    messageExpression: "'label value: ' + format.labelValue().validate(object.data.name).value()[0]",
  },
  // semver
  { library: 'semver', objects: C, expression: 'isSemver(object.data.ver)' },
  { library: 'semver', objects: C, expression: "semver(object.data.ver).isLessThan(semver('2.0.0'))" },
  { library: 'semver', objects: C, expression: 'semver(object.data.ver).major() >= 2' },
  {
    library: 'semver',
    objects: C,
    expression: 'isSemver(object.data.ver, true) && semver(object.data.ver, true).minor() == 0',
  },
  { library: 'semver', objects: C, expression: "semver(object.data.ver).compareTo(semver('1.2.3')) == 0" },
  // strings
  { library: 'strings', objects: C, expression: 'object.data.name.lowerAscii() == object.data.name' },
  { library: 'strings', objects: C, expression: "object.data.name.replace('-', '_').contains('_')" },
  { library: 'strings', objects: C, expression: "object.data.name.split('-').size() == 2" },
  { library: 'strings', objects: C, expression: "object.data.name.substring(0, 3) == 'web'" },
  { library: 'strings', objects: C, expression: 'object.data.name.trim().size() > 0' },
  { library: 'strings', objects: C, expression: "object.data.image.lastIndexOf('/') > 8" },
  { library: 'strings', objects: C, expression: "object.data.list.split(',').join('+') == 'a+b+c'" },
  { library: 'strings', objects: C, expression: "object.data.name.charAt(0) == 'w'" },
  { library: 'strings', objects: C, expression: 'strings.quote(object.data.name).size() > 2' },
  {
    library: 'strings',
    objects: C,
    expression: "object.data.email.endsWith('@example.com')",
    messageExpression: "object.metadata.name + ': ' + object.data.email + ' is outside example.com'",
  },
  {
    library: 'strings',
    objects: C,
    expression: 'object.data.size() < 5',
    messageExpression: "'%s has %d keys, first %s'.format([object.metadata.name, object.data.size(), 'mem'])",
  },
  { library: 'strings', objects: C, expression: 'object.data.name.reverse() != object.data.name' },
  { library: 'strings', objects: C, expression: "object.data.image.upperAscii().indexOf('NGINX') < 0" },
  // all / exists and the other macros
  { library: 'all/exists', objects: C, expression: 'object.data.all(k, object.data[k].size() < 30)' },
  {
    library: 'all/exists',
    objects: C,
    expression: "object.data.exists(k, object.data[k].startsWith('ops'))",
  },
  { library: 'all/exists', objects: C, expression: "object.data.exists_one(k, object.data[k] == '')" },
  {
    library: 'all/exists',
    objects: C,
    expression: 'object.data.map(k, object.data[k].size()).filter(n, n > 10).size() <= 2',
  },
  {
    library: 'all/exists',
    objects: C,
    expression:
      "object.data.all(k, k.matches('^[a-z]+$')) && !object.data.exists(v, object.data[v] == 'abc')",
  },
  // core language, variables and the other admission variables
  {
    library: 'core',
    objects: C,
    expression: 'has(object.metadata.labels) && has(object.metadata.labels.team)',
  },
  { library: 'core', objects: C, expression: "object.data.mem in ['512Mi', '1Gi']" },
  { library: 'core', objects: C, expression: 'type(object.data) == map && dyn(object.data.mem).size() > 0' },
  {
    library: 'core',
    objects: C,
    expression:
      "duration('1h30m') > duration('89m') && timestamp('2026-01-01T00:00:00Z') < timestamp('2027-01-01T00:00:00Z')",
  },
  { library: 'core', objects: C, expression: "object.data.nope == 'x'" },
  { library: 'core', objects: C, expression: '10 / (size(object.data.list) - 5) > 0' },
  { library: 'core', objects: C, expression: 'int(object.data.num) + 1 > 0' },
  { library: 'core', objects: C, expression: 'oldObject == null && request.operation == "CREATE"' },
  {
    library: 'core',
    objects: C,
    expression:
      "request.kind.kind == 'ConfigMap' && request.resource.resource == 'configmaps' && request.namespace == object.metadata.namespace",
  },
  {
    library: 'core',
    objects: C,
    expression:
      "namespaceObject.metadata.name == object.metadata.namespace && namespaceObject.metadata.?labels.?env.orValue('') == 'cel-test'",
  },
  {
    library: 'variables',
    objects: C,
    variables: [
      { name: 'mem', expression: 'quantity(object.data.mem)' },
      { name: 'limit', expression: "quantity('1Gi')" },
    ],
    expression: 'variables.mem.isLessThan(variables.limit)',
    messageExpression: "'memory ' + object.data.mem + ' is not below 1Gi'",
  },
  {
    library: 'variables',
    objects: C,
    variables: [
      { name: 'parts', expression: "object.data.list.split(',')" },
      { name: 'count', expression: 'size(variables.parts)' },
    ],
    expression: 'variables.count >= 2 && variables.parts[0] != variables.parts[1]',
  },
  // messages: fallbacks as the API server picks them
  {
    library: 'messages',
    objects: C,
    expression: "object.data.name == 'web-frontend'",
    message: 'static message',
    messageExpression: 'string(object.data.nope)',
  },
  {
    library: 'messages',
    objects: C,
    expression: "object.data.name == 'web-frontend'",
    message: '  padded static message  ',
    messageExpression: "object.data.name == 'Bad_Name' ? '' : 'name is ' + object.data.name",
  },
  {
    library: 'messages',
    objects: C,
    expression: "object.data.name == 'web-frontend'",
    messageExpression: "'line one\\nline two'",
  },
  {
    library: 'messages',
    objects: C,
    expression: "  object.data.list == 'a,b,c'  ",
    messageExpression: "'   list ' + object.data.list + '   '",
  },
  // the cost limit: the API server's per-expression limit stops both
  {
    library: 'cost',
    objects: C,
    expression:
      'object.data.all(a, object.data.all(b, object.data.all(c, object.data.all(d, object.data.all(e, object.data.all(f, a != "zz"))))))',
  },

  // workloads (defaulted by the API server)
  {
    library: 'all/exists',
    objects: W,
    variables: containers,
    expression:
      "variables.containers.all(c, has(c.resources) && has(c.resources.limits) && 'memory' in c.resources.limits)",
  },
  {
    library: 'all/exists',
    objects: W,
    variables: containers,
    expression: "variables.containers.all(c, c.image.startsWith('registry.example.com/'))",
    messageExpression:
      "'images outside the registry: ' + variables.containers.filter(c, !c.image.startsWith('registry.example.com/')).map(c, c.image).join(', ')",
  },
  {
    library: 'optionals',
    objects: W,
    variables: containers,
    expression: '!variables.containers.exists(c, c.?securityContext.?privileged.orValue(false))',
  },
  {
    library: 'quantity',
    objects: W,
    variables: containers,
    expression:
      "variables.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('4Gi')))",
  },
  {
    library: 'lists',
    objects: W,
    variables: containers,
    expression: 'variables.containers.map(c, c.name).isSorted()',
  },
  {
    library: 'optionals',
    objects: W,
    expression: 'object.metadata.?labels.?team.hasValue()',
    messageExpression: "'missing team label on ' + object.metadata.name",
  },
  { library: 'core', objects: W, expression: "object.kind != 'Deployment' || object.spec.replicas <= 3" },
  {
    library: 'core',
    objects: W,
    variables: containers,
    expression: "variables.containers.all(c, c.imagePullPolicy == 'Always')",
  },
  {
    library: 'strings',
    objects: W,
    variables: containers,
    expression: "variables.containers.all(c, !c.image.endsWith(':latest') && c.image.contains(':'))",
  },
  {
    library: 'all/exists',
    objects: W,
    variables: containers,
    expression: 'variables.containers.all(c, c.?ports.orValue([]).all(p, p.containerPort > 1024))',
  },
  {
    library: 'sets',
    objects: W,
    variables: containers,
    expression: "sets.intersects(variables.containers.map(c, c.name), ['sidecar'])",
  },
  {
    library: 'all/exists',
    objects: W,
    variables: containers,
    expression:
      "variables.containers.all(c, c.?env.orValue([]).all(e, !e.name.contains('PASSWORD') || has(e.valueFrom)))",
    messageExpression: "object.metadata.name + ' has a password in plain text'",
  },
  {
    library: 'core',
    objects: W,
    expression:
      "object.kind == 'Pod' ? object.spec.restartPolicy == 'Always' : object.spec.strategy.type == 'RollingUpdate'",
  },
  {
    library: 'quantity',
    objects: W,
    variables: containers,
    expression:
      "variables.containers.all(c, !has(c.resources.limits.cpu) || quantity(c.resources.limits.cpu).isLessThan(quantity('1')))",
  },

  // expressions the API server refuses to compile: Vigil must refuse them too
  { library: 'compile', objects: C, expression: 'object.data.name ==' },
  { library: 'compile', objects: C, expression: 'object.data.size()' },
  { library: 'compile', objects: C, expression: 'nosuchfunction(object.data.name)' },
  { library: 'compile', objects: C, expression: 'true', messageExpression: '42' },
  { library: 'compile', objects: C, expression: "variables.undeclared == 'x'" },
  // cel-go libraries the Kubernetes environment does not offer at the pinned version
  { library: 'compile', objects: C, expression: 'math.greatest(1, size(object.data.name)) > 5' },
  {
    library: 'compile',
    objects: C,
    expression: "base64.encode(bytes(object.data.name)) != 'd2ViLWZyb250ZW5k'",
  },
  { library: 'compile', objects: C, expression: 'quantity(object.data.mem).sign() == 1' },
  { library: 'compile', objects: C, expression: "['x', object.data.name].join('-') == 'x-web-frontend'" },
];
