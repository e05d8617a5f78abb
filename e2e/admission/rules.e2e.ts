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
import { parse, parseAllDocuments } from 'yaml';
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
import { NOW, compile, inForce, install, kubectl, mustKubectl, namespace, placed, toYaml } from './lib.ts';

type Obj = Record<string, unknown>;

const PAUSE = 'registry.k8s.io/pause:3.10';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const c = (extra: Obj = {}, name = 'app'): Obj => ({ name, image: PAUSE, ...extra });

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
};

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
    out.push({ label: `pss-fixture ${f.path}`, object: parse(readFileSync(f.file, 'utf8')) as KubeObject });
  const examples = join(REPO_ROOT, 'manifests', 'examples');
  for (const file of readdirSync(examples)
    .filter((f) => f.endsWith('.yaml'))
    .sort())
    for (const d of parseAllDocuments(readFileSync(join(examples, file), 'utf8'))) {
      const o = d.toJS() as KubeObject;
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
    const summary: string[] = [];
    for (const x of installed) {
      const placedCases = cases.map((k, i) => ({ ...k, object: placed(k.object, x.ns, `c${String(i)}`) }));
      const engine = placedCases.map((k) => {
        const res = evaluateSubjects([{ object: k.object }], x.policy, { now: NOW });
        expect(res.errors, `${k.label}: engine rule errors`).to.deep.equal([]);
        return res.findings.filter((f) => f.ruleId === x.v.rule).map((f) => f.message);
      });
      const sentinel = placedCases.find((_, i) => (engine[i]?.length ?? 0) > 0);
      const generated = renderAdmission(x.policy, NOW).names.length > 0;
      if (generated) {
        expect(sentinel, `${x.name}: the corpus has an object ${x.v.rule} refuses`).to.not.equal(undefined);
        if (sentinel) await inForce(`vigil-${x.name}-`, toYaml([sentinel.object]));
      }
      const verdicts = dryRunAll(placedCases.map((k) => k.object));
      let agree = 0;
      let refused = 0;
      let invalid = 0;
      placedCases.forEach((k, i) => {
        const name = String(k.object.metadata?.name);
        const v = verdicts.get(name);
        const messages = engine[i] ?? [];
        if (!v) throw new Error(`${k.label}: no verdict`);
        if (!v.admitted && v.error.includes(' is invalid')) {
          invalid++; // refused by object validation before admission: no admission verdict
          return;
        }
        if (!v.admitted && !v.error.includes(`ValidatingAdmissionPolicy 'vigil-${x.name}-`))
          throw new Error(`${k.label}: refused for another reason: ${v.error}`);
        const engineRefuses = messages.length > 0;
        if (v.admitted === engineRefuses) {
          disagreements.push(
            `${x.v.rule} ${JSON.stringify(x.v.params ?? {})}: ${k.label}: API server ${v.admitted ? 'admits' : `refuses (${v.error})`}, engine ${engineRefuses ? `finds ${messages.join(' | ')}` : 'finds nothing'}`,
          );
          return;
        }
        agree++;
        if (v.admitted) return;
        refused++;
        // The refusal names the rule and one of the engine's findings. The API server has
        // defaulted imagePullPolicy before admission, so the engine's "defaults to" reads "is".
        const words = messages.flatMap((m) => [
          m,
          m.replace(' but imagePullPolicy defaults to ', ' but imagePullPolicy is '),
        ]);
        if (!words.some((m) => v.error.includes(`${x.v.rule}: ${m}`)))
          disagreements.push(
            `${x.v.rule}: ${k.label}: message ${v.error} is none of the engine's: ${messages.join(' | ')}`,
          );
      });
      const line = `${x.v.rule}${x.v.params ? ` ${JSON.stringify(x.v.params)}` : ''}: agree on ${String(agree)}/${String(placedCases.length - invalid)} (${String(refused)} refused by both; ${String(invalid)} invalid objects skipped)`;
      summary.push(line);
      console.log(`      ${line}`);
    }
    expect(disagreements.join('\n')).to.equal('');
    expect(summary).to.have.length(VARIANTS.length);
  });
});
