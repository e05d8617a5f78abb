/**
 * Shared by the admission e2e suites: kubectl against the harness's control plane, compiling a
 * SecurityPolicy, installing the ValidatingAdmissionPolicies `renderAdmission` generates (and
 * requiring the API server's type checking to be free of warnings), and server-side dry runs.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { toYaml as yamlDocument } from '../../operator/src/yaml.ts';
import { renderAdmission } from '../../operator/src/admission/translate.ts';
import { compilePolicy, type CompiledPolicy } from '../../operator/src/engine/policy.ts';
import type { KubeObject } from '../../operator/src/engine/types.ts';
import { ALL_RULES } from '../../operator/src/rules/index.ts';
import { waitFor } from '../controlplane/controlplane.ts';
import { cluster } from '../harness.ts';

export const NOW = new Date('2026-06-01T00:00:00Z');

export interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** kubectl with stdout and stderr kept apart (warnings go to stderr on success). */
export function kubectl(args: string[], input?: string): Run {
  const k = cluster();
  const r = spawnSync(k.kubectlPath, ['--kubeconfig', k.kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

export function mustKubectl(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (!r.ok) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export function compile(name: string, spec: Record<string, unknown>): CompiledPolicy {
  const { policy, errors } = compilePolicy(
    { apiVersion: 'security.vigil.dev/v1alpha1', kind: 'SecurityPolicy', metadata: { name }, spec },
    ALL_RULES,
  );
  if (!policy) throw new Error(`policy ${name} does not compile: ${JSON.stringify(errors)}`);
  return policy;
}

export const toYaml = (objs: unknown[]): string => objs.map((o) => `---\n${yamlDocument(o)}`).join('');

/** Creates the generated objects and waits until the API server has type-checked each policy. */
export async function install(policy: CompiledPolicy): Promise<string[]> {
  const r = renderAdmission(policy, NOW);
  mustKubectl(['apply', '--server-side', '-f', '-'], toYaml(r.objects));
  for (const name of r.names) {
    let status: { observedGeneration?: number; typeChecking?: { expressionWarnings?: unknown[] } } = {};
    await waitFor(
      `type checking of ${name}`,
      () => {
        const vap = JSON.parse(mustKubectl(['get', 'validatingadmissionpolicy', name, '-o', 'json'])) as {
          metadata: { generation: number };
          status?: typeof status;
        };
        status = vap.status ?? {};
        return Promise.resolve(
          status.observedGeneration === vap.metadata.generation && status.typeChecking !== undefined,
        );
      },
      60_000,
    );
    expect(
      status.typeChecking?.expressionWarnings ?? [],
      `${name}: API server type-checking warnings`,
    ).to.deep.equal([]);
  }
  return r.names;
}

export function namespace(name: string): void {
  mustKubectl(['create', 'namespace', name]);
}

/** The policies are in force once `sentinel` is refused by one of them (policies load asynchronously). */
export async function inForce(policyPrefix: string, sentinel: string): Promise<void> {
  await waitFor(
    `${policyPrefix} in force`,
    () => {
      const r = kubectl(['create', '--dry-run=server', '-f', '-'], sentinel);
      return Promise.resolve(!r.ok && r.stderr.includes(policyPrefix));
    },
    60_000,
  );
}

/** The object in the test namespace under another name (both sides judge the same object). */
export function placed(obj: KubeObject, ns: string, name: string): KubeObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, namespace: ns, name },
  };
}

export function dryRun(obj: KubeObject): Run {
  return kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], yamlDocument(obj));
}
