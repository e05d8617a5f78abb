/**
 * What custom rules cost (issue 15 point 5), offline: the engine over the generated bench corpus
 * (bench/corpus.ts, 10 000 resources by default) with the recommended profile alone, then with
 * 10 custom rules added (docs/custom-rules.md's examples and their like), evaluated by the CEL
 * evaluator (the API server's code as WebAssembly). Also the evaluator's size and load time.
 *
 *   node bench/cel.ts [--resources N] [--repetitions R] [--out FILE]
 *
 * Prints one JSON object, and writes it to FILE (make bench: bench/results/cel.json).
 */
import { statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { evaluateSubjects } from '../operator/src/engine/evaluate.ts';
import { compilePolicy, type CompiledPolicy } from '../operator/src/engine/policy.ts';
import type { KubeObject } from '../operator/src/engine/types.ts';
import { evaluator, wasmCandidates } from '../operator/src/engine/cel/wasm.ts';
import { ClusterIndex } from '../operator/src/engine/cluster-index.ts';
import { ALL_RULES } from '../operator/src/rules/index.ts';
import { BENCH_RULES, WORKLOADS } from './cel-rules.ts';
import { DEFAULT_RESOURCES, generateCorpus } from './corpus.ts';

function compiled(spec: Record<string, unknown>): CompiledPolicy {
  const { policy, errors } = compilePolicy(
    { kind: 'SecurityPolicy', metadata: { name: 'bench' }, spec },
    ALL_RULES,
  );
  if (!policy) throw new Error(JSON.stringify(errors));
  return policy;
}

function time(fn: () => void, repetitions: number): number {
  const ms: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return Math.min(...ms);
}

const { values } = parseArgs({
  options: { resources: { type: 'string' }, repetitions: { type: 'string' }, out: { type: 'string' } },
});
const resources = Number(values.resources ?? DEFAULT_RESOURCES);
const repetitions = Number(values.repetitions ?? 3);

const wasm = wasmCandidates().find((p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
});
let t = performance.now();
evaluator();
const loadMs = performance.now() - t;

const objects = generateCorpus(resources).objects.map((o) => o.object as KubeObject);
const subjects = objects.map((object) => ({ object }));
const index = new ClusterIndex(objects);
const now = new Date('2026-06-01T00:00:00Z');
const builtIn = compiled({ profile: 'recommended' });
t = performance.now();
const withCustom = compiled({ profile: 'recommended', customRules: BENCH_RULES });
const compileMs = performance.now() - t;
const judged = objects.filter((o) => WORKLOADS.includes(String(o.kind))).length;

const builtInMs = time(() => evaluateSubjects(subjects, builtIn, { now, index }), repetitions);
const customMs = time(() => evaluateSubjects(subjects, withCustom, { now, index }), repetitions);
const findings = evaluateSubjects(subjects, withCustom, { now, index }).findings.filter((f) =>
  BENCH_RULES.some((r) => r.id === f.ruleId),
).length;
const evaluations = judged * BENCH_RULES.length;
const result = JSON.stringify(
  {
    resources,
    workloads: judged,
    customRules: BENCH_RULES.length,
    customFindings: findings,
    wasmBytes: wasm ? statSync(wasm).size : undefined,
    loadMs: Math.round(loadMs),
    compile10RulesMs: Math.round(compileMs),
    recommendedMs: Math.round(builtInMs),
    recommendedPlusCustomMs: Math.round(customMs),
    perCustomEvaluationUs: Math.round(((customMs - builtInMs) * 1000) / evaluations),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  null,
  2,
);
console.log(result);
if (values.out !== undefined) writeFileSync(values.out, `${result}\n`);
