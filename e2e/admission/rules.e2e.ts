/**
 * One semantics for the single-object workload, supply-chain and secrets rules (rules-cel.ts):
 * for each translated rule (and a few param variants) an enforce policy that runs only that
 * rule is rendered and installed on the real API server (type checking must be free of
 * warnings), then a corpus is created with server-side dry-run in the policy's namespace: the
 * 148 official Pod Security fixtures, every workload of manifests/examples, and positive and
 * negative cases written here as Pods, Deployments, Jobs and CronJobs. Every admission verdict
 * must equal the engine's verdict (evaluateSubjects) for that rule, and a refusal must carry one
 * of the engine's messages for the object, prefixed with the rule id.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml, parseYamlAll } from '../../operator/src/yaml.ts';
import { renderAdmission } from '../../operator/src/admission/translate.ts';
import {
  CONTAINER_SECURITY_CONTEXT_FIELDS,
  POD_SECURITY_CONTEXT_FIELDS,
  RULES_CEL,
} from '../../operator/src/admission/rules-cel.ts';
import { evaluateSubjects } from '../../operator/src/engine/evaluate.ts';
import { WORKLOAD_KINDS } from '../../operator/src/engine/podspec.ts';
import type { KubeObject } from '../../operator/src/engine/types.ts';
import { rules as podSecurity } from '../../operator/src/rules/pod-security/index.ts';
import { upstreamFixtures } from '../../operator/src/testing/pss-fixtures.ts';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import type { CompiledPolicy } from '../../operator/src/engine/policy.ts';
import { NOW, compile, inForce, install, kubectl, mustKubectl, namespace, placed, toYaml } from './lib.ts';

type Obj = Record<string, unknown>;

const PAUSE = 'registry.k8s.io/pause:3.10';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const c = (extra: Obj = {}, name = 'app'): Obj => ({ name, image: PAUSE, ...extra });

const COMPLIANT_CONTAINER: Obj = c({
  image: `registry.k8s.io/pause:3.10@${DIGEST}`,
  imagePullPolicy: 'IfNotPresent',
  securityContext: {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  },
  livenessProbe: { exec: { command: ['true'] } },
});
const COMPLIANT_POD: Obj = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 2000,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  automountServiceAccountToken: false,
  containers: [COMPLIANT_CONTAINER],
};

/** Pod specs judged as a Pod, a Deployment, a Job and a CronJob. */
const SPECS: Record<string, Obj> = {
  minimal: { containers: [c()] },
  hardened: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
    automountServiceAccountToken: false,
    containers: [
      c({
        image: `registry.k8s.io/pause:3.10@${DIGEST}`,
        imagePullPolicy: 'IfNotPresent',
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        livenessProbe: { exec: { command: ['true'] } },
      }),
    ],
  },
  'init-and-sidecar': {
    initContainers: [c({ securityContext: { readOnlyRootFilesystem: true } }, 'init')],
    containers: [
      c({ livenessProbe: { tcpSocket: { port: 8080 } }, securityContext: { readOnlyRootFilesystem: false } }),
      c({ securityContext: { runAsGroup: 0 } }, 'sidecar'),
    ],
  },
  'istio-exempt': {
    containers: [
      c({
        livenessProbe: { exec: { command: ['true'] } },
        securityContext: { readOnlyRootFilesystem: true },
      }),
      c({ securityContext: { runAsGroup: 1 } }, 'istio-proxy'),
    ],
  },
  'pod-root-group': { securityContext: { runAsGroup: 0 }, containers: [c(), c({}, 'b')] },
  'pod-root-group-overridden': {
    securityContext: { runAsGroup: 0 },
    containers: [c({ securityContext: { runAsGroup: 3000 } })],
  },
  'fs-group-0': { securityContext: { fsGroup: 0, runAsGroup: 5 }, containers: [c()] },
  'supplemental-0': { securityContext: { supplementalGroups: [1, 0] }, containers: [c()] },
  'container-run-as-group': { containers: [c({ securityContext: { runAsGroup: 7 } }), c({}, 'other')] },
  windows: { os: { name: 'windows' }, containers: [c()] },
  'empty-security-contexts': { securityContext: {}, containers: [c({ securityContext: {} })] },
  'container-capabilities-only': {
    containers: [c({ securityContext: { capabilities: { drop: ['ALL'] } } })],
  },
  'pod-seccomp-only': { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [c()] },
  'pod-sysctls-only': {
    securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }] },
    containers: [c()],
  },
  'host-aliases': {
    hostAliases: [
      { ip: '10.0.0.1', hostnames: ['db.internal', 'cache.internal'] },
      { ip: '10.0.0.2', hostnames: ['x'] },
    ],
    containers: [c()],
  },
  'share-process-namespace': { shareProcessNamespace: true, containers: [c()] },
  'share-process-namespace-false': { shareProcessNamespace: false, containers: [c()] },
  'secret-env': {
    containers: [
      c({
        env: [
          { name: 'PLAIN', value: 'x' },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        ],
      }),
    ],
  },
  'secret-env-withheld-name': {
    containers: [
      c({ env: [{ name: 'AKIAABCDEFGHIJKLMNOP', valueFrom: { secretKeyRef: { name: 'aws', key: 'id' } } }] }),
    ],
  },
  'secret-env-from': {
    containers: [
      c({ envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 'creds' } }] }),
      c({}, 'clean'),
    ],
  },
  'config-map-env': {
    containers: [c({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'a' } } }] })],
  },
  'exempt-debug-image': { containers: [c({ image: 'registry.local/dev/tool:latest' })] },
  // Passes every translated rule (with registry.k8s.io allowed).
  compliant: COMPLIANT_POD,
  // As compliant, and large: every expression runs in full within the API server's CEL cost budget.
  'many-containers': {
    ...COMPLIANT_POD,
    initContainers: Array.from({ length: 10 }, (_, i) => manyContainer(`init-${String(i)}`, i, false)),
    containers: Array.from({ length: 40 }, (_, i) => manyContainer(`app-${String(i)}`, i, true)),
  },
};

function manyContainer(name: string, i: number, probe: boolean): Obj {
  const { livenessProbe, ...init } = COMPLIANT_CONTAINER;
  return {
    ...(probe ? { ...init, livenessProbe } : init),
    name,
    image: `registry.k8s.io/team-${String(i)}/a-service-with-a-rather-long-repository-name-${String(i)}:1.${String(i)}.0@${DIGEST}`,
    env: Array.from({ length: 15 }, (_, j) => ({ name: `VAR_${String(j)}`, value: `value-${String(j)}` })),
  };
}

/** Images judged as the only container of a Pod, Deployment, Job and CronJob (with and without a pull policy). */
const IMAGES = [
  'nginx',
  'nginx:latest',
  'nginx:1.27',
  'nginx:1.27.3',
  'nginx:1',
  'nginx:v3.12-slim',
  'nginx:18-alpine3.20',
  'nginx:stable',
  'nginx:STABLE-2',
  'nginx:lts-iron',
  'nginx:edge',
  'nginx:1.27.3-latest',
  `nginx@${DIGEST}`,
  `nginx:latest@${DIGEST}`,
  'docker.io/library/nginx:1.2.3',
  'index.docker.io/nginx:1.2.3',
  'docker.io/bitnami/redis:7.2.4',
  'localhost:5000/app:1.0.0',
  'localhost:5000',
  'registry.k8s.io/pause:3.10',
  'Registry.Example.com/app:1.0.0',
  'ghcr.io/acme/api:1.0.0',
  'ghcr.io/acme-evil/api:1.0.0',
  'ghcr.io/Acme/api:1.0.0',
  '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.0.0',
  '[::1]:5000/app:1.0.0',
  'a_b.c/x:1.0.0',
  'app_1/x__y:1.0.0',
  'registry.local/dev/tool:latest',
  'nginx:bad!tag',
  'a'.repeat(64),
  `nginx@sha256:${'a'.repeat(63)}`,
  `registry.example.com/${'x'.repeat(250)}:1`,
];

function asKinds(
  name: string,
  spec: Obj,
  kinds: readonly string[] = ['Pod', 'Deployment', 'Job', 'CronJob'],
): KubeObject[] {
  const labels = { app: name.slice(0, 60) };
  const out: KubeObject[] = [];
  for (const kind of kinds) {
    if (kind === 'Pod') out.push({ apiVersion: 'v1', kind, metadata: { name, labels }, spec });
    if (kind === 'Deployment')
      out.push({
        apiVersion: 'apps/v1',
        kind,
        metadata: { name, labels },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
      });
    if (kind === 'Job')
      out.push({
        apiVersion: 'batch/v1',
        kind,
        metadata: { name },
        spec: { template: { spec: { ...spec, restartPolicy: 'Never' } } },
      });
    if (kind === 'CronJob')
      out.push({
        apiVersion: 'batch/v1',
        kind,
        metadata: { name },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: { spec: { template: { spec: { ...spec, restartPolicy: 'OnFailure' } } } },
        },
      });
  }
  return out;
}

interface Case {
  label: string;
  object: KubeObject;
}

function corpus(): Case[] {
  const out: Case[] = [];
  for (const f of upstreamFixtures())
    out.push({
      label: `pss-fixture ${f.path}`,
      object: parseYaml(readFileSync(f.file, 'utf8')) as KubeObject,
    });
  const examples = join(REPO_ROOT, 'manifests', 'examples');
  for (const file of readdirSync(examples)
    .filter((f) => f.endsWith('.yaml'))
    .sort())
    for (const o of parseYamlAll(readFileSync(join(examples, file), 'utf8')) as KubeObject[]) {
      if ((WORKLOAD_KINDS as readonly unknown[]).includes(o.kind))
        out.push({ label: `example ${file} ${String(o.kind)}/${String(o.metadata?.name)}`, object: o });
    }
  for (const [name, spec] of Object.entries(SPECS))
    for (const o of asKinds(name, spec)) out.push({ label: `case ${name} as ${String(o.kind)}`, object: o });
  // Pods a Job owns run to completion (no liveness probe needed); other owners do not count.
  for (const kind of ['Job', 'ReplicaSet'])
    out.push({
      label: `case pod owned by a ${kind}`,
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'owned',
          ownerReferences: [
            {
              apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1',
              kind,
              name: 'owner',
              uid: '0c8d6f1e-1111-4a5b-9c3d-222233334444',
            },
          ],
        },
        spec: SPECS['minimal'],
      },
    });
  IMAGES.forEach((image, i) => {
    for (const policy of [undefined, 'Always', 'IfNotPresent', 'Never'])
      for (const o of asKinds('img', {
        containers: [c(policy ? { image, imagePullPolicy: policy } : { image })],
      }))
        out.push({
          label: `image ${image} (${policy ?? 'no pull policy'}) as ${String(o.kind)} #${String(i)}`,
          object: o,
        });
  });
  return out;
}

interface Variant {
  rule: string;
  params?: Obj;
}

const VARIANTS: Variant[] = [
  { rule: 'container-liveness-probe-missing' },
  { rule: 'container-liveness-probe-missing', params: { exemptContainers: ['istio-*'] } },
  { rule: 'container-root-filesystem-writable' },
  { rule: 'pod-host-aliases' },
  { rule: 'pod-share-process-namespace' },
  { rule: 'pod-security-context-missing' },
  { rule: 'container-runs-as-root-group' },
  { rule: 'container-runs-as-root-group', params: { exemptContainers: ['side*'] } },
  { rule: 'container-run-as-group-missing' },
  { rule: 'image-latest-tag' },
  { rule: 'image-latest-tag', params: { exemptImages: ['registry.local/dev/*'] } },
  { rule: 'image-not-pinned-by-digest' },
  { rule: 'image-pull-policy-stale' },
  {
    rule: 'image-pull-policy-stale',
    params: { floatingVersionTags: false, mutableTags: ['Stable*', 'edge'] },
  },
  {
    rule: 'image-registry-not-allowed',
    params: {
      allowedRegistries: [
        'registry.k8s.io',
        'ghcr.io/acme/',
        '*.dkr.ecr.eu-west-1.amazonaws.com',
        'https://index.docker.io/library',
        'LOCALHOST:5000',
      ],
    },
  },
  { rule: 'secret-exposed-as-env' },
  { rule: 'secret-exposed-as-env', params: { requireSecretFiles: false } },
];

/** A policy that runs exactly this rule: the pss-baseline profile with its rules switched off. */
function policyFor(name: string, ns: string, v: Variant): ReturnType<typeof compile> {
  const off = podSecurity
    .filter((r) => r.profiles.includes('pss-baseline'))
    .map((r) => ({ id: r.id, enabled: false }));
  return compile(name, {
    profile: 'pss-baseline',
    action: 'enforce',
    match: { namespaces: [ns] },
    rules: [...off, { id: v.rule, enabled: true, ...(v.params ? { params: v.params } : {}) }],
  });
}

/** The admission verdict of every object of one batch: kubectl reports each object on its own line. */
function dryRunAll(objs: KubeObject[]): Map<string, { admitted: boolean; error: string }> {
  const r = kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], toYaml(objs));
  const out = new Map<string, { admitted: boolean; error: string }>();
  const admitted = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('/'))
      .map((l) => l.slice(l.indexOf('/') + 1).trim()),
  );
  const errors = r.stderr.split('\n');
  for (const o of objs) {
    const name = String(o.metadata?.name);
    out.set(name, {
      admitted: admitted.has(name),
      error:
        errors.find((l) => l.includes(`"${name}" is forbidden`) || l.includes(`"${name}" is invalid`)) ?? '',
    });
  }
  return out;
}

describe('single-object rules translated to CEL, on a real API server', function () {
  this.timeout(900_000);

  it('the securityContext field lists match the API server schema', () => {
    const doc = JSON.parse(mustKubectl(['get', '--raw', '/openapi/v3/api/v1'])) as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const fields = (t: string): string[] =>
      Object.keys(doc.components.schemas[`io.k8s.api.core.v1.${t}`]?.properties ?? {}).sort();
    expect(fields('PodSecurityContext')).to.deep.equal([...POD_SECURITY_CONTEXT_FIELDS].sort());
    expect(fields('SecurityContext')).to.deep.equal([...CONTAINER_SECURITY_CONTEXT_FIELDS].sort());
  });

  it('covers every translated rule', () => {
    expect(new Set(VARIANTS.map((v) => v.rule))).to.deep.equal(new Set(Object.keys(RULES_CEL)));
  });

  it('admission and the engine agree on every object, rule by rule', async () => {
    const cases = corpus();
    const installed = VARIANTS.map((v, i) => {
      const ns = `adm-r${String(i)}`;
      namespace(ns);
      return { v, ns, name: `r${String(i)}`, policy: policyFor(`r${String(i)}`, ns, v) };
    });
    for (const x of installed) {
      const r = renderAdmission(x.policy, NOW);
      expect(r.translatedRules, x.name).to.deep.equal([x.v.rule]);
      if (r.names.length > 0) await install(x.policy);
    }
    const disagreements: string[] = [];
    for (const x of installed) {
      const c = await compare(x.name, x.ns, x.policy, cases);
      disagreements.push(...c.disagreements);
      console.log(`      ${x.v.rule}${x.v.params ? ` ${JSON.stringify(x.v.params)}` : ''}: ${c.summary}`);
    }
    expect(disagreements.join('\n')).to.equal('');
  });

  it('and with every rule at once (profile all), within the CEL cost budget', async () => {
    namespace('adm-all');
    const policy = compile('all', {
      profile: 'all',
      action: 'enforce',
      match: { namespaces: ['adm-all'] },
      rules: [
        { id: 'image-registry-not-allowed', params: { allowedRegistries: ['registry.k8s.io', 'docker.io'] } },
      ],
    });
    expect(renderAdmission(policy, NOW).translatedRules).to.have.length(31);
    await install(policy);
    const c = await compare('all', 'adm-all', policy, corpus());
    console.log(`      profile all (31 translated rules): ${c.summary}`);
    expect(c.disagreements.join('\n')).to.equal('');
    // The compliant cases pass every expression, the large one included.
    for (const kind of ['Pod', 'Deployment', 'Job', 'CronJob'])
      for (const spec of ['compliant', 'many-containers'])
        expect(c.admitted, `${spec} as ${kind}`).to.include(`case ${spec} as ${kind}`);
  });

  it('checks ephemeral containers added to a running Pod (kubectl debug)', async () => {
    namespace('adm-debug');
    const policy = compile('debug', {
      profile: 'recommended',
      action: 'enforce',
      match: { namespaces: ['adm-debug'] },
      rules: podSecurity.map((r) => ({ id: r.id, enabled: false })),
    });
    await install(policy);
    const target: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'target', namespace: 'adm-debug', labels: { app: 'target' } },
      spec: SPECS['hardened'],
    };
    await inForce(
      'vigil-debug-',
      toYaml([
        { ...target, metadata: { name: 'sentinel', namespace: 'adm-debug' }, spec: SPECS['host-aliases'] },
      ]),
    );
    mustKubectl(['create', '-f', '-'], toYaml([target]));
    const debug = (image: string, name: string): ReturnType<typeof kubectl> =>
      kubectl([
        'debug',
        '-n',
        'adm-debug',
        'target',
        `--image=${image}`,
        `--container=${name}`,
        '--attach=false',
      ]);
    const denied = debug('busybox', 'dbg');
    expect(denied.ok, denied.stdout).to.equal(false);
    // The engine's finding for the Pod with that ephemeral container, word for word.
    const withDebug: KubeObject = {
      ...target,
      spec: { ...SPECS['hardened'], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] },
    };
    const findings = evaluateSubjects([{ object: withDebug }], policy, { now: NOW }).findings.filter(
      (f) => f.ruleId === 'image-latest-tag',
    );
    expect(findings.map((f) => f.message)).to.deep.equal([
      'container "dbg" image "busybox" has no tag and pulls :latest (spec.ephemeralContainers[0].image)',
    ]);
    expect(denied.stderr).to.include(`image-latest-tag: ${findings[0]?.message ?? ''}`);
    const allowed = debug(`registry.k8s.io/pause:3.10@sha256:${'b'.repeat(64)}`, 'dbg2');
    expect(allowed.ok, allowed.stderr).to.equal(true);
  });
});

/**
 * Dry-runs every case in `ns` (where `policy` is installed, or where it generated nothing) and
 * compares each admission verdict with the engine's findings of the policy's translated rules.
 */
async function compare(
  name: string,
  ns: string,
  policy: CompiledPolicy,
  cases: Case[],
): Promise<{ summary: string; disagreements: string[]; admitted: string[] }> {
  const render = renderAdmission(policy, NOW);
  const translated = new Set(render.translatedRules);
  const placedCases = cases.map((k, i) => ({ ...k, object: placed(k.object, ns, `c${String(i)}`) }));
  const engine = placedCases.map((k) => {
    const res = evaluateSubjects([{ object: k.object }], policy, { now: NOW });
    expect(res.errors, `${k.label}: engine rule errors`).to.deep.equal([]);
    return res.findings.filter((f) => translated.has(f.ruleId)).map((f) => `${f.ruleId}: ${f.message}`);
  });
  if (render.names.length > 0) {
    const sentinel = placedCases.find((_, i) => (engine[i]?.length ?? 0) > 0);
    expect(sentinel, `${name}: the corpus has an object the policy refuses`).to.not.equal(undefined);
    if (sentinel) await inForce(`vigil-${name}-`, toYaml([sentinel.object]));
  }
  const verdicts = dryRunAll(placedCases.map((k) => k.object));
  const disagreements: string[] = [];
  const invalid: string[] = [];
  const admitted: string[] = [];
  let agree = 0;
  let refused = 0;
  placedCases.forEach((k, i) => {
    const v = verdicts.get(String(k.object.metadata?.name));
    const messages = engine[i] ?? [];
    if (!v) throw new Error(`${k.label}: no verdict`);
    if (!v.admitted && v.error.includes(' is invalid')) {
      // Refused by object validation before admission (no admission verdict): only upstream
      // fixtures the API server itself forbids; a case written here must reach admission.
      invalid.push(k.label);
      if (!k.label.startsWith('pss-fixture '))
        disagreements.push(`${name}: ${k.label} is invalid: ${v.error}`);
      return;
    }
    if (!v.admitted && !v.error.includes(`ValidatingAdmissionPolicy 'vigil-${name}-`))
      throw new Error(`${k.label}: refused for another reason: ${v.error}`);
    const engineRefuses = messages.length > 0;
    if (v.admitted === engineRefuses) {
      disagreements.push(
        `${name}: ${k.label}: API server ${v.admitted ? 'admits' : `refuses (${v.error})`}, engine ${engineRefuses ? `finds ${messages.join(' | ')}` : 'finds nothing'}`,
      );
      return;
    }
    agree++;
    if (v.admitted) {
      admitted.push(k.label);
      return;
    }
    refused++;
    // The refusal names the rule and one of the engine's findings. The API server has
    // defaulted imagePullPolicy before admission, so the engine's "defaults to" reads "is".
    const words = messages.flatMap((m) => [
      m,
      m.replace(' but imagePullPolicy defaults to ', ' but imagePullPolicy is '),
    ]);
    if (!words.some((m) => v.error.includes(m)))
      disagreements.push(
        `${name}: ${k.label}: message ${v.error} is none of the engine's: ${messages.join(' | ')}`,
      );
  });
  const summary =
    `agree on ${String(agree)}/${String(placedCases.length - invalid.length)} ` +
    `(${String(refused)} refused by both; refused by object validation before admission, skipped: ${invalid.join(', ') || 'none'})`;
  return { summary, disagreements, admitted };
}
