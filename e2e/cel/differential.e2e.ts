/**
 * Custom rules agree with the API server (issue 15 point 4). Every expression of the corpus
 * (corpus.ts) becomes a custom rule for Vigil and a ValidatingAdmissionPolicy (with a binding
 * selecting only that expression's objects) on the real API server; every object of the
 * expression's group is then created with server-side dry-run. Verdicts and messages must be
 * identical: admitted ⇔ no finding and no rule error; refused with message M ⇔ a finding or a
 * rule error with message M. Expressions the API server refuses to compile must be refused by
 * Vigil, at the same position.
 *
 * Vigil judges the object as the API server does: defaulted (each base object is dry-run once,
 * before any policy exists, and the returned object is what Vigil evaluates), with its Namespace
 * (namespaceObject) in scope.
 */
import { expect } from 'chai';
import { evaluateSubjects } from '../../operator/src/engine/evaluate.ts';
import { compilePolicy } from '../../operator/src/engine/policy.ts';
import { ClusterIndex } from '../../operator/src/engine/cluster-index.ts';
import type { KubeObject } from '../../operator/src/engine/types.ts';
import { evaluator } from '../../operator/src/engine/cel/wasm.ts';
import { inForce, kubectl, mustKubectl, toYaml } from '../admission/lib.ts';
import { CASES, CONFIGMAPS, WORKLOADS, type CelCase } from './corpus.ts';

const NS = 'cel-diff';
const LABEL = 'vigil.dev/cel-case';
const NOW = new Date('2026-06-01T00:00:00Z');

const caseId = (i: number): string => `e${String(i).padStart(3, '0')}`;

function vap(id: string, c: CelCase): KubeObject[] {
  const validation: Record<string, string> = { expression: c.expression };
  if (c.message !== undefined) validation['message'] = c.message;
  if (c.messageExpression !== undefined) validation['messageExpression'] = c.messageExpression;
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: `vigil-cel-${id}` },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['', 'apps'],
              apiVersions: ['v1'],
              operations: ['CREATE'],
              resources: ['configmaps', 'deployments', 'pods'],
            },
          ],
        },
        ...(c.variables ? { variables: c.variables } : {}),
        validations: [validation],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: `vigil-cel-${id}` },
      spec: {
        policyName: `vigil-cel-${id}`,
        validationActions: ['Deny'],
        matchResources: { objectSelector: { matchLabels: { [LABEL]: id } } },
      },
    },
  ];
}

function customRule(id: string, c: CelCase): Record<string, unknown> {
  const validation: Record<string, string> = { expression: c.expression };
  if (c.message !== undefined) validation['message'] = c.message;
  if (c.messageExpression !== undefined) validation['messageExpression'] = c.messageExpression;
  return {
    id,
    title: `${c.library}: ${c.expression}`.slice(0, 200),
    severity: 'medium',
    match: { kinds: ['ConfigMap', 'Deployment', 'Pod'] },
    ...(c.variables ? { variables: c.variables } : {}),
    validations: [validation],
  };
}

/** The object with the case's label, named after the case. */
function labelled(obj: KubeObject, id: string): KubeObject {
  const meta = obj.metadata ?? {};
  return {
    ...obj,
    metadata: {
      ...meta,
      namespace: NS,
      name: `${id}-${meta.name ?? ''}`,
      labels: { ...meta.labels, [LABEL]: id },
    },
  };
}

/** Refusals by name, from one `kubectl create --dry-run=server` of many objects. */
function dryRunAll(objs: KubeObject[]): Map<string, { admitted: boolean; message: string }> {
  const out = new Map<string, { admitted: boolean; message: string }>();
  for (let i = 0; i < objs.length; i += 60) {
    const chunk = objs.slice(i, i + 60);
    const r = kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], toYaml(chunk));
    for (const line of r.stdout.split('\n')) {
      const m = /^[a-z.]+\/([a-z0-9-]+)$/.exec(line.trim());
      if (m?.[1]) out.set(m[1], { admitted: true, message: '' });
    }
    for (const line of r.stderr.split('\n')) {
      const m = /"([a-z0-9-]+)" is (?:forbidden|invalid): (.*)$/.exec(line);
      if (!m?.[1] || !m[2]) continue;
      const denied = /denied request: (.*)$/.exec(m[2]);
      out.set(m[1], { admitted: false, message: denied?.[1] ?? `(not by a policy) ${m[2]}` });
    }
    for (const o of chunk) {
      const name = o.metadata?.name ?? '';
      if (!out.has(name))
        throw new Error(`no verdict for ${name} in kubectl's output:\n${r.stdout}\n${r.stderr}`);
    }
  }
  return out;
}

describe('custom rules agree with ValidatingAdmissionPolicies on the real API server', function () {
  this.timeout(1_800_000);

  it('has the same verdict and message on every expression × object case of the corpus', async function () {
    const info = evaluator().info();
    console.log(
      `      Vigil's CEL: environment ${info.environmentVersion}, per-call limit ${String(info.perCallLimit)}`,
    );
    mustKubectl(
      ['apply', '-f', '-'],
      toYaml([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { env: 'cel-test' } } }]),
    );
    const namespaceObject = JSON.parse(mustKubectl(['get', 'namespace', NS, '-o', 'json'])) as KubeObject;

    // The objects as the API server stores them (defaults, system fields), before any policy exists.
    const defaulted = new Map<string, KubeObject>();
    for (const o of [...CONFIGMAPS, ...WORKLOADS]) {
      const sent = labelled(o, 'base');
      const back = JSON.parse(
        mustKubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], toYaml([sent])),
      ) as KubeObject;
      defaulted.set(o.metadata?.name ?? '', back);
    }

    const compileDisagreements: string[] = [];
    const mismatches: string[] = [];
    const perLibrary = new Map<string, { cases: number; agree: number }>();
    const toInstall: KubeObject[] = [];
    const judged: { id: string; c: CelCase; objects: KubeObject[]; vigil: Map<string, string> }[] = [];
    let compileCases = 0;
    const refusedByBoth: string[] = [];

    CASES.forEach((c, i) => {
      const id = caseId(i);
      const policyObjects = vap(id, c);
      const serverCompile = kubectl(['create', '--dry-run=server', '-f', '-'], toYaml([policyObjects[0]]));
      const { policy, errors } = compilePolicy(
        {
          kind: 'SecurityPolicy',
          metadata: { name: `cel-${id}` },
          spec: { profile: 'pss-baseline', rules: [], customRules: [customRule(id, c)] },
        },
        [],
      );
      if (!policy || !serverCompile.ok) {
        compileCases++;
        const first = errors[0]?.message ?? '';
        const pos = /": (\d+):(\d+): (.*)$/.exec(first);
        const agrees =
          !policy &&
          !serverCompile.ok &&
          (pos
            ? serverCompile.stderr.includes(
                `<input>:${pos[1] ?? ''}:${pos[2] ?? ''}: ${(pos[3] ?? '').split(';')[0] ?? ''}`,
              )
            : true);
        if (agrees)
          refusedByBoth.push(`${c.expression}${c.messageExpression ? ` / ${c.messageExpression}` : ''}`);
        else
          compileDisagreements.push(
            `${id} ${c.expression}: API server ${serverCompile.ok ? 'compiles it' : `refuses: ${serverCompile.stderr.trim()}`}; Vigil ${policy ? 'compiles it' : `refuses: ${errors.map((e) => e.message).join('; ')}`}`,
          );
        return;
      }
      toInstall.push(...policyObjects);
      const bases = c.objects === 'configmaps' ? CONFIGMAPS : WORKLOADS;
      const objects = bases.map((b) => labelled(defaulted.get(b.metadata?.name ?? '') ?? b, id));
      const subjects = objects.map((object) => ({ object }));
      const res = evaluateSubjects(subjects, policy, {
        now: NOW,
        index: new ClusterIndex([...objects, namespaceObject]),
      });
      const vigil = new Map<string, string>();
      for (const o of objects) {
        const name = o.metadata?.name ?? '';
        const f = res.findings.filter((x) => x.resource.name === name).map((x) => x.message);
        const e = res.errors.filter((x) => x.resource.name === name).map((x) => x.message);
        vigil.set(name, [...f, ...e].length === 0 ? 'admit' : `deny: ${[...f, ...e].join(' | ')}`);
      }
      judged.push({ id, c, objects, vigil });
    });

    // Every policy, then a sentinel created last: once the sentinel refuses, all are loaded.
    mustKubectl(['apply', '-f', '-'], toYaml(toInstall));
    mustKubectl(
      ['apply', '-f', '-'],
      toYaml(vap('sentinel', { library: '', expression: 'false', objects: 'configmaps' })),
    );
    await inForce(
      'vigil-cel-sentinel',
      toYaml([
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 's', namespace: NS, labels: { [LABEL]: 'sentinel' } },
        },
      ]),
    );

    const server = dryRunAll(
      judged.flatMap((j) =>
        j.objects.map((o) => ({
          ...o,
          metadata: {
            ...o.metadata,
            resourceVersion: undefined,
            uid: undefined,
            creationTimestamp: undefined,
            managedFields: undefined,
          },
        })),
      ),
    );
    let cases = 0;
    let agree = 0;
    const kinds = { admit: 0, deny: 0, error: 0 };
    for (const j of judged) {
      for (const o of j.objects) {
        const name = o.metadata?.name ?? '';
        const s = server.get(name);
        const theirs = s?.admitted ? 'admit' : `deny: ${s?.message ?? '(no verdict)'}`;
        const ours = j.vigil.get(name) ?? '(no verdict)';
        cases++;
        if (theirs === 'admit') kinds.admit++;
        else if (theirs.includes('resulted in error') || theirs.includes('failed messageExpression'))
          kinds.error++;
        else kinds.deny++;
        const lib = perLibrary.get(j.c.library) ?? { cases: 0, agree: 0 };
        lib.cases++;
        if (theirs === ours) {
          agree++;
          lib.agree++;
        } else
          mismatches.push(
            `${name} [${j.c.library}] ${j.c.expression}\n        API server: ${theirs}\n        Vigil:      ${ours}`,
          );
        perLibrary.set(j.c.library, lib);
      }
    }
    console.log(
      `      ${String(agree)}/${String(cases)} expression × object cases agree (verdict and message); ` +
        `the API server admitted ${String(kinds.admit)}, denied ${String(kinds.deny)}, failed ${String(kinds.error)} on an evaluation error`,
    );
    console.log(
      `      by library: ${[...perLibrary].map(([l, n]) => `${l} ${String(n.agree)}/${String(n.cases)}`).join(', ')}`,
    );
    console.log(
      `      compile errors: ${String(compileCases - compileDisagreements.length)}/${String(compileCases)} expressions refused by both at the same position`,
    );
    console.log(`      refused by both: ${refusedByBoth.join(' ‖ ')}`);
    if (mismatches.length > 0) console.log(`      did not match:\n      ${mismatches.join('\n      ')}`);
    if (compileDisagreements.length > 0)
      console.log(`      compile disagreements:\n      ${compileDisagreements.join('\n      ')}`);
    expect(cases).to.be.at.least(200);
    expect(mismatches).to.deep.equal([]);
    expect(compileDisagreements).to.deep.equal([]);
  });
});
