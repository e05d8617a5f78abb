/**
 * `helm install`, `helm upgrade` and `helm uninstall` of charts/vigil against any cluster, as a
 * mocha suite that takes the cluster's kubeconfig and, optionally, the operator image to run: the
 * control plane of the e2e harness (e2e/chart/chart.e2e.ts; no kubelet, so the pods stay Pending)
 * or a real node (expectReady: the operator must become ready).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toYaml } from '../../operator/src/yaml.ts';
import { waitFor } from '../controlplane/controlplane.ts';
import {
  CHART_DIR,
  INSTALL_YAML,
  objectKey,
  parseImageRef,
  parseObjects,
  readObjects,
  type K8sObject,
} from '../../scripts/chart.ts';

export interface HelmTarget {
  /** The pinned helm (helmBin() in scripts/chart.ts). */
  helm: string;
  kubeconfig: string;
  kubectl: string;
  /** Release namespace (vigil-system). */
  namespace: string;
  release: string;
  /** Operator image to run instead of the chart's default: repository[:tag]@sha256:… */
  image?: string;
  /**
   * The ports the operator reaches the API server on, when not the chart's default [443, 6443]
   * (networkPolicy.apiServerPorts; matters where a CNI enforces NetworkPolicies).
   */
  apiServerPorts?: number[];
  /**
   * A cluster that runs the pods (nodes that can pull `image`): wait for the operator to become
   * ready, and for it to mark the policy the upgrade installs Ready.
   */
  expectReady?: boolean;
}

export interface Result {
  ok: boolean;
  /** stdout; on failure stdout and stderr. */
  out: string;
  stderr: string;
}

const tempDirs: string[] = [];

/** A temp directory, removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  helmHome = undefined;
}

let helmHome: string | undefined;

/** Helm's config, cache and data directories: a fresh temp dir, never the user's. */
function helmEnv(): NodeJS.ProcessEnv {
  helmHome ??= tempDir('vigil-helm-');
  return {
    ...process.env,
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
}

function run(bin: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Result {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, env, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const ok = r.status === 0;
  return { ok, out: ok ? r.stdout : `${r.stdout}${r.stderr}`, stderr: r.stderr };
}

/** helm with no cluster (lint, template). */
export function helmRun(helm: string, args: string[]): Result {
  return run(helm, args, undefined, helmEnv());
}

export function helmOn(t: HelmTarget, args: string[]): Result {
  return run(t.helm, [...args, '--kubeconfig', t.kubeconfig], undefined, helmEnv());
}

export function kubectlOn(t: HelmTarget, args: string[], input?: string): Result {
  return run(t.kubectl, ['--kubeconfig', t.kubeconfig, ...args], input);
}

/** stdout of a command that must succeed; throws with its output otherwise. */
export function must(r: Result, what: string): string {
  if (!r.ok) throw new Error(`${what} failed:\n${r.out}`);
  return r.out;
}

/** --set-json arguments for the target's image and API server ports (none: the chart's defaults). */
export function targetSetJson(t: Pick<HelmTarget, 'image' | 'apiServerPorts'>): string[] {
  const args: string[] = [];
  if (t.image !== undefined) {
    args.push(
      '--set-json',
      `image=${JSON.stringify({ ...parseImageRef(t.image), pullPolicy: 'IfNotPresent' })}`,
    );
  }
  if (t.apiServerPorts !== undefined) {
    args.push('--set-json', `networkPolicy.apiServerPorts=${JSON.stringify(t.apiServerPorts)}`);
  }
  return args;
}

/** install.yaml's objects, with the target's image and API server ports when it sets them. */
export function expectedObjects(t: Pick<HelmTarget, 'image' | 'apiServerPorts'>): K8sObject[] {
  const objs = readObjects(INSTALL_YAML);
  for (const o of objs) {
    if (o.kind === 'Deployment' && t.image !== undefined) {
      const spec = o.spec as { template: { spec: { containers: { name: string; image: string }[] } } };
      for (const c of spec.template.spec.containers) if (c.name === 'manager') c.image = t.image;
    }
    if (o.kind === 'NetworkPolicy' && t.apiServerPorts !== undefined) {
      const spec = o.spec as { egress?: { ports: unknown[] }[] };
      for (const e of spec.egress ?? [])
        e.ports = t.apiServerPorts.map((port) => ({ port, protocol: 'TCP' }));
    }
  }
  return objs;
}

interface Live {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

function getJson(t: HelmTarget, args: string[]): unknown {
  return JSON.parse(must(kubectlOn(t, ['get', ...args, '-o', 'json']), `kubectl get ${args.join(' ')}`));
}

/** The names of the release's operator pods (any phase). */
function podNames(t: HelmTarget): string[] {
  const out = must(
    kubectlOn(t, [
      'get',
      'pods',
      '-n',
      t.namespace,
      '-l',
      'app.kubernetes.io/name=vigil,app.kubernetes.io/component=operator',
      '-o',
      'name',
    ]),
    'kubectl get pods',
  );
  return out.split('\n').filter((l) => l.trim() !== '');
}

/**
 * The Deployment has rolled out `replicas` pods of its current template: ready, with no other pods
 * left, when the cluster runs them (expectReady); otherwise created (updatedReplicas), since pods
 * that never become ready leave the old ones in place (maxUnavailable 0).
 */
async function waitForRollout(t: HelmTarget, replicas: number): Promise<void> {
  if (t.expectReady === true) {
    must(
      kubectlOn(t, ['rollout', 'status', `deployment/${t.release}`, '-n', t.namespace, '--timeout=180s']),
      'kubectl rollout status',
    );
    await waitFor(
      `${replicas} operator pod(s)`,
      () => Promise.resolve(podNames(t).length === replicas),
      90_000,
      () => `\npods: ${podNames(t).join(' ')}`,
    );
    return;
  }
  const status = (): { generation: number; observed: number; updated: number } => {
    const d = getJson(t, ['deployment', t.release, '-n', t.namespace]) as {
      metadata: { generation: number };
      status?: { observedGeneration?: number; updatedReplicas?: number };
    };
    return {
      generation: d.metadata.generation,
      observed: d.status?.observedGeneration ?? 0,
      updated: d.status?.updatedReplicas ?? 0,
    };
  };
  await waitFor(
    `${replicas} pod(s) of the Deployment's current template`,
    () => {
      const s = status();
      return Promise.resolve(s.observed === s.generation && s.updated === replicas);
    },
    90_000,
    () => `\ndeployment: ${JSON.stringify(status())}, pods: ${podNames(t).join(' ')}`,
  );
}

/** `label` tells suites apart in the report, e.g. the image they run. */
export function helmInstallSuite(target: () => HelmTarget, label = ''): void {
  describe(`helm install, upgrade and uninstall of charts/vigil${label}`, function () {
    let t: HelmTarget;
    let expected: K8sObject[];
    let expectedFile: string;
    let installed = false;

    before(() => {
      t = target();
      expected = expectedObjects(t);
      expectedFile = join(tempDir('vigil-chart-'), 'install.yaml');
      writeFileSync(expectedFile, expected.map((o) => toYaml(o)).join('---\n'));
    });

    after(() => {
      // Leave the cluster as found when a test failed half-way (the last test uninstalls).
      if (installed) helmOn(t, ['uninstall', t.release, '-n', t.namespace, '--wait']);
    });

    it('helm install creates exactly the objects of install.yaml, with the same content', () => {
      must(
        helmOn(t, [
          'install',
          t.release,
          CHART_DIR,
          '-n',
          t.namespace,
          '--create-namespace',
          ...targetSetJson(t),
        ]),
        'helm install',
      );
      installed = true;
      // The release's objects (Helm lists CRDs apart: they come from crds/).
      const manifest = parseObjects(
        must(helmOn(t, ['get', 'manifest', t.release, '-n', t.namespace]), 'helm get manifest'),
        'helm get manifest',
      );
      const want = expected.filter((o) => o.kind !== 'CustomResourceDefinition').map(objectKey);
      expect(manifest.map(objectKey).sort()).to.deep.equal(want.sort());
      // Every object of install.yaml exists, and applying install.yaml over them would change
      // nothing: same fields, same values (Helm's own labels and annotations aside).
      const diff = kubectlOn(t, ['diff', '--server-side', '--force-conflicts', '-f', expectedFile]);
      expect(diff.ok, `kubectl diff against install.yaml:\n${diff.out}`).to.equal(true);
      const crds = expected.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
      expect(crds).to.have.length(2);
      must(
        kubectlOn(t, [
          'wait',
          '--for=condition=established',
          '--timeout=60s',
          ...crds.map((n) => `crd/${n}`),
        ]),
        'CRDs established',
      );
      const deployment = getJson(t, ['deployment', t.release, '-n', t.namespace]) as Live;
      expect(deployment.metadata.annotations?.['meta.helm.sh/release-name']).to.equal(t.release);
    });

    it('the restricted namespace admits the operator pods (two replicas)', async () => {
      const ns = getJson(t, ['namespace', t.namespace]) as Live;
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).to.equal('restricted');
      await waitForRollout(t, 2);
    });

    it('helm upgrade applies changed values', async () => {
      const ports = t.apiServerPorts ?? [443, 6443];
      // One more port (minikube's 8443, or another): the operator keeps reaching the API server.
      const upgradedPorts = [...ports, ports.includes(8443) ? 9443 : 8443];
      must(
        helmOn(t, [
          'upgrade',
          t.release,
          CHART_DIR,
          '-n',
          t.namespace,
          ...targetSetJson(t),
          '--set-json',
          'replicas=1',
          '--set-json',
          `networkPolicy.apiServerPorts=${JSON.stringify(upgradedPorts)}`,
          '--set',
          'logLevel=debug',
          '--set-json',
          'policies=[{"name":"chart-e2e-baseline","spec":{"profile":"pss-baseline"}}]',
        ]),
        'helm upgrade',
      );
      const d = getJson(t, ['deployment', t.release, '-n', t.namespace]) as {
        spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
      };
      expect(d.spec.replicas).to.equal(1);
      expect(d.spec.template.spec.containers[0]?.args).to.include('--log-level=debug');
      const np = getJson(t, ['networkpolicy', t.release, '-n', t.namespace]) as {
        spec: { egress: { ports: { port: number }[] }[] };
      };
      expect(np.spec.egress.flatMap((e) => e.ports.map((p) => p.port))).to.deep.equal(upgradedPorts);
      const policy = getJson(t, ['securitypolicy', 'chart-e2e-baseline']) as Live;
      expect(policy.spec).to.include({ profile: 'pss-baseline' });
      if (t.expectReady === true) {
        must(
          kubectlOn(t, [
            'wait',
            '--for=condition=Ready',
            '--timeout=120s',
            'securitypolicy/chart-e2e-baseline',
          ]),
          'the upgraded operator marks the new policy Ready',
        );
      }
      const history = JSON.parse(
        must(helmOn(t, ['history', t.release, '-n', t.namespace, '-o', 'json']), 'helm history'),
      ) as { revision: number; status: string }[];
      expect(history.map((h) => [h.revision, h.status])).to.deep.equal([
        [1, 'superseded'],
        [2, 'deployed'],
      ]);
      await waitForRollout(t, 1);
    });

    it('helm uninstall removes what it installed, keeping the CRDs and the namespace', () => {
      must(helmOn(t, ['uninstall', t.release, '-n', t.namespace, '--wait']), 'helm uninstall');
      installed = false;
      const left = must(
        kubectlOn(t, ['get', '-f', expectedFile, '--ignore-not-found', '-o', 'name']),
        'kubectl get',
      )
        .split('\n')
        .filter((l) => l.trim() !== '')
        .sort();
      // CRDs are never deleted by Helm (that would delete every policy and report); the namespace
      // is kept (helm.sh/resource-policy: keep) because it held the release record.
      expect(left).to.deep.equal([
        'customresourcedefinition.apiextensions.k8s.io/scanreports.security.vigil.dev',
        'customresourcedefinition.apiextensions.k8s.io/securitypolicies.security.vigil.dev',
        `namespace/${t.namespace}`,
      ]);
      const policy = kubectlOn(t, [
        'get',
        'securitypolicy',
        'chart-e2e-baseline',
        '--ignore-not-found',
        '-o',
        'name',
      ]);
      expect(policy.ok, policy.out).to.equal(true);
      expect(policy.out).to.equal('');
      const status = helmOn(t, ['status', t.release, '-n', t.namespace]);
      expect(status.ok).to.equal(false);
      expect(status.out).to.match(/release: not found/);
    });
  });
}
