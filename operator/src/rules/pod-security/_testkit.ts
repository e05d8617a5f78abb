/**
 * Table-test helpers for the PSS rules: pod specs wrapped in every workload kind, a shared
 * table runner and a malformed-input sweep. Used only by the *.test.ts files beside it.
 */
import { expect } from 'chai';
import type { KubeObject, Rule, RuleHit, Severity } from '../../engine/types.ts';
import { runRule } from '../testing.ts';

type Obj = Record<string, unknown>;

export const IMAGE = 'registry.example/app:1.0';

/** A container named `name` with the given securityContext and extra fields. */
export function ctr(name: string, securityContext?: unknown, extra: Obj = {}): Obj {
  const c: Obj = { name, image: IMAGE, ...extra };
  if (securityContext !== undefined) c['securityContext'] = securityContext;
  return c;
}

/** A container securityContext that passes every restricted check. */
export const RESTRICTED_SC: Readonly<Obj> = Object.freeze({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Container securityContext: the restricted one with `over` merged in. */
export function rsc(over: Obj = {}): Obj {
  return { ...RESTRICTED_SC, ...over };
}

/** A pod spec with one regular container `app` (securityContext `sc`) and extra spec fields. */
export function spec1(sc?: unknown, extra: Obj = {}): Obj {
  return { containers: [ctr('app', sc)], ...extra };
}

export const WORKLOAD_PATHS: Readonly<Record<string, string>> = {
  Pod: 'spec',
  Deployment: 'spec.template.spec',
  ReplicaSet: 'spec.template.spec',
  StatefulSet: 'spec.template.spec',
  DaemonSet: 'spec.template.spec',
  Job: 'spec.template.spec',
  ReplicationController: 'spec.template.spec',
  CronJob: 'spec.jobTemplate.spec.template.spec',
};

/** Wraps a pod spec (and pod metadata) into an object of the given workload kind. */
export function wrap(kind: string, spec: unknown, podMeta: Obj = {}): KubeObject {
  const meta = { name: 'w', namespace: 'default' };
  const template = { metadata: { labels: { app: 'w' }, ...podMeta }, spec };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: { ...meta, ...podMeta }, spec };
    case 'CronJob':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata: meta,
        spec: { schedule: '0 * * * *', jobTemplate: { spec: { template } } },
      };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata: meta, spec: { template } };
    case 'ReplicationController':
      return { apiVersion: 'v1', kind, metadata: meta, spec: { selector: { app: 'w' }, template } };
    default:
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata: meta,
        spec: { selector: { matchLabels: { app: 'w' } }, template },
      };
  }
}

export interface Case {
  name: string;
  spec: unknown;
  /** Pod metadata (annotations). */
  meta?: Obj;
  /** Number of hits expected. */
  hits: number;
  /** Each must match some hit message (after the `spec.` path prefix is resolved for the kind). */
  messages?: (string | RegExp)[];
  /** Containers the hits name, in order (undefined = pod-level). */
  containers?: (string | undefined)[];
  /** Per-hit severity overrides expected, in order (undefined = the rule's own). */
  severities?: (Severity | undefined)[];
  /** Kinds to run the case on; defaults to Pod, Deployment and CronJob. */
  kinds?: string[];
}

function check(rule: Rule, c: Case, kind: string): RuleHit[] {
  const hits = runRule(rule, wrap(kind, c.spec, c.meta ?? {}));
  const text = hits.map((h) => h.message).join('\n');
  expect(hits, `${kind} hits:\n${text}`).to.have.length(c.hits);
  const prefix = WORKLOAD_PATHS[kind] ?? 'spec';
  for (const m of c.messages ?? []) {
    if (typeof m === 'string') {
      const want = m.replaceAll('@', prefix);
      expect(
        hits.some((h) => h.message.includes(want)),
        `${kind}: no message contains ${JSON.stringify(want)}:\n${text}`,
      ).to.equal(true);
    } else
      expect(
        hits.some((h) => m.test(h.message)),
        `${kind}: no message matches ${String(m)}:\n${text}`,
      ).to.equal(true);
  }
  if (c.containers) expect(hits.map((h) => h.container)).to.deep.equal(c.containers);
  if (c.severities) expect(hits.map((h) => h.severity)).to.deep.equal(c.severities);
  return hits;
}

/**
 * Runs a table of cases. `@` in a string message stands for the pod spec path of the kind
 * (`spec`, `spec.template.spec`, `spec.jobTemplate.spec.template.spec`).
 */
export function runTable(rule: Rule, cases: readonly Case[]): void {
  for (const c of cases) {
    for (const kind of c.kinds ?? ['Pod', 'Deployment', 'CronJob']) {
      it(`${c.name} [${kind}] → ${c.hits} finding(s)`, () => {
        check(rule, c, kind);
      });
    }
  }
}

/** An object without a prototype: no toString, so String() and template literals throw on it. */
const bare = (): object => Object.create(null) as object;

/** Objects no rule may throw on; for each, the rule must return an array of well-formed hits. */
export const MALFORMED: readonly KubeObject[] = [
  { kind: 'Pod' },
  { kind: 'Pod', metadata: 'junk' as unknown as undefined, spec: 'junk' },
  { kind: 'Pod', spec: null },
  { kind: 'Pod', spec: [] },
  { kind: 'Pod', spec: { containers: 'x', initContainers: 7, ephemeralContainers: {}, volumes: 'v' } },
  { kind: 'Pod', spec: { containers: [null, 7, 'x', [], { name: 5, securityContext: 'junk' }] } },
  {
    kind: 'Pod',
    spec: {
      securityContext: 'junk',
      os: 'windows',
      hostUsers: 'maybe',
      containers: [
        {
          name: 'c',
          ports: [null, 'x', { hostPort: 'x' }],
          securityContext: {
            capabilities: { add: 'SYS_ADMIN', drop: 'ALL' },
            seccompProfile: 'x',
            appArmorProfile: [],
            seLinuxOptions: 3,
            windowsOptions: 'x',
            procMount: 7,
          },
          livenessProbe: 'x',
          lifecycle: { postStart: 'x', preStop: { httpGet: 'x' } },
        },
      ],
    },
  },
  {
    kind: 'Pod',
    metadata: { annotations: 'junk' as unknown as Record<string, string> },
    spec: {
      securityContext: { sysctls: 'x', seccompProfile: null, seLinuxOptions: null },
      volumes: [null, 'x', {}],
    },
  },
  {
    // Values with no toString (JSON allows neither, but objects reach rules from any parser).
    kind: 'Pod',
    spec: {
      securityContext: { sysctls: [bare()], supplementalGroups: [bare()] },
      volumes: [{ name: bare(), hostPath: { path: bare() } }],
      containers: [
        {
          name: bare(),
          image: bare(),
          ports: [{ hostPort: bare() }],
          securityContext: {
            capabilities: { add: [bare(), 7], drop: [bare()] },
            runAsUser: bare(),
            procMount: bare(),
            seccompProfile: { type: bare() },
          },
        },
      ],
    },
  },
  { kind: 'Deployment' },
  { kind: 'Deployment', spec: { template: 'x' } },
  { kind: 'CronJob', spec: { jobTemplate: { spec: null } } },
  { kind: 'Service', spec: { containers: [{ name: 'c', securityContext: { privileged: true } }] } },
  { kind: 7, spec: {} },
];

export function malformedSweep(rule: Rule): void {
  it('never throws on malformed input and returns well-formed hits', () => {
    for (const obj of MALFORMED) {
      const hits = runRule(rule, obj);
      expect(hits).to.be.an('array');
      for (const h of hits) {
        expect(h.message).to.be.a('string').and.not.equal('');
        expect(h.message).to.not.contain('[object Object]');
      }
    }
  });
  it('ignores kinds without a pod template', () => {
    expect(runRule(rule, MALFORMED[MALFORMED.length - 2] as KubeObject)).to.deep.equal([]);
  });
}
