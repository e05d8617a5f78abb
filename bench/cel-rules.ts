/**
 * Ten custom rules of the kinds teams write (labels, registries, limits, names, probes,
 * privileged, ports, passwords in env), for the benchmarks (bench/cel.ts): spec.customRules
 * entries judging the workload kinds.
 */
export const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'];
const CONTAINERS = `object.kind == 'Pod' ? object.spec.containers : object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec.containers : object.spec.template.spec.containers`;

/** Ten rules of the kinds teams write: labels, registries, limits, names, probes. */
export const BENCH_RULES = [
  {
    id: 'require-team-label',
    expression: "'team' in variables.labels",
    variables: [{ name: 'labels', expression: 'object.metadata.?labels.orValue({})' }],
    messageExpression: "'missing team label on ' + object.metadata.name",
  },
  {
    id: 'company-registry',
    expression: "variables.containers.all(c, c.image.startsWith('registry.example.com/'))",
  },
  {
    id: 'memory-under-4gi',
    expression:
      "variables.containers.all(c, !has(c.resources) || !has(c.resources.limits) || !('memory' in c.resources.limits) || quantity(c.resources.limits.memory).isLessThan(quantity('4Gi')))",
  },
  { id: 'no-latest', expression: "!variables.containers.exists(c, c.image.endsWith(':latest'))" },
  {
    id: 'name-is-dns-label',
    expression: '!format.dns1123Label().validate(object.metadata.name).hasValue()',
  },
  { id: 'readiness-probe', expression: 'variables.containers.all(c, has(c.readinessProbe))' },
  {
    id: 'no-privileged',
    expression: '!variables.containers.exists(c, c.?securityContext.?privileged.orValue(false))',
  },
  {
    id: 'owner-annotation',
    expression: "object.metadata.?annotations[?'example.com/owner'].orValue('') != ''",
  },
  {
    id: 'ports-above-1024',
    expression: 'variables.containers.all(c, c.?ports.orValue([]).all(p, p.containerPort > 1024))',
  },
  {
    id: 'env-no-password',
    expression:
      "variables.containers.all(c, c.?env.orValue([]).all(e, !e.name.contains('PASSWORD') || has(e.valueFrom)))",
  },
].map((r) => ({
  id: r.id,
  title: r.id,
  severity: 'medium',
  match: { kinds: WORKLOADS },
  variables: [...(r.variables ?? []), { name: 'containers', expression: CONTAINERS }],
  validations: [
    { expression: r.expression, ...(r.messageExpression ? { messageExpression: r.messageExpression } : {}) },
  ],
}));
