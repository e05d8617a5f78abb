import { expect } from 'chai';
import { pdbMissing, singleReplica } from './availability.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, ctr, deploymentOf, podOf } from './_testkit.ts';
import type { KubeObject } from '../../engine/types.ts';

const spec = { containers: [ctr()] };

function hpa(kind: string, name: string): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'h', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name }, minReplicas: 2, maxReplicas: 5 },
  };
}

function pdb(selector: unknown, namespace: string | null = 'default'): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: namespace === null ? { name: 'b' } : { name: 'b', namespace },
    spec: { maxUnavailable: 1, selector },
  };
}

function withoutNamespace(o: KubeObject): KubeObject {
  return { ...o, metadata: { name: o.metadata?.name ?? 'x' } };
}

function statefulSet(replicas: unknown): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec },
    },
  };
}

describe('rule deployment-single-replica', () => {
  const cases: { name: string; obj: KubeObject; others?: KubeObject[]; hits: number }[] = [
    { name: 'three replicas', obj: deploymentOf(spec, { replicas: 3 }), hits: 0 },
    { name: 'one replica', obj: deploymentOf(spec, { replicas: 1 }), hits: 1 },
    { name: 'replicas unset', obj: deploymentOf(spec, { replicas: undefined }), hits: 1 },
    { name: 'scaled to zero', obj: deploymentOf(spec, { replicas: 0 }), hits: 0 },
    {
      name: 'HPA manages it',
      obj: deploymentOf(spec, { replicas: 1 }),
      others: [hpa('Deployment', 'web')],
      hits: 0,
    },
    {
      name: 'HPA for another Deployment',
      obj: deploymentOf(spec, { replicas: 1 }),
      others: [hpa('Deployment', 'other')],
      hits: 1,
    },
    { name: 'malformed replicas', obj: deploymentOf(spec, { replicas: 'one' }), hits: 0 },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.hits}`, () => {
      expect(runRule(singleReplica, c.obj, { others: c.others })).to.have.length(c.hits);
    });
  it('message names the field', () => {
    expect(runRule(singleReplica, deploymentOf(spec, { replicas: 1 }))[0]?.message).to.equal(
      'Deployment runs a single replica (spec.replicas=1)',
    );
  });
  it('only evaluates Deployments', () => {
    expect(singleReplica.kinds).to.deep.equal(['Deployment']);
  });
  it('never throws on malformed input', () => {
    for (const m of MALFORMED)
      expect(() =>
        runRule(singleReplica, m, { others: [{ kind: 'HorizontalPodAutoscaler', spec: 'x' }] }),
      ).not.to.throw();
  });
});

describe('rule pod-disruption-budget-missing', () => {
  const cases: { name: string; obj: KubeObject; others?: KubeObject[]; hits: number }[] = [
    { name: 'replicated, no PDB', obj: deploymentOf(spec, { replicas: 3 }), hits: 1 },
    {
      name: 'replicated, matching PDB',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchLabels: { app: 'web' } })],
      hits: 0,
    },
    {
      name: 'PDB with matchExpressions',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] })],
      hits: 0,
    },
    {
      name: 'PDB selecting other pods',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchLabels: { app: 'api' } })],
      hits: 1,
    },
    {
      name: 'PDB in another namespace',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchLabels: { app: 'web' } }, 'other')],
      hits: 1,
    },
    {
      name: 'PDB with empty selector selects all',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({})],
      hits: 0,
    },
    {
      name: 'PDB without selector selects none',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb(undefined)],
      hits: 1,
    },
    {
      name: 'PDB with invalid selector',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] })],
      hits: 1,
    },
    {
      name: 'namespace-less Deployment and PDB share the apply-time namespace',
      obj: withoutNamespace(deploymentOf(spec, { replicas: 3 })),
      others: [pdb({ matchLabels: { app: 'web' } }, null)],
      hits: 0,
    },
    {
      name: 'a PDB without namespace does not cover a Deployment in a named one (issue 19 item 1)',
      obj: deploymentOf(spec, { replicas: 3 }),
      others: [pdb({ matchLabels: { app: 'web' } }, null)],
      hits: 1,
    },
    {
      name: 'nor does a named namespace cover a namespace-less Deployment',
      obj: withoutNamespace(deploymentOf(spec, { replicas: 3 })),
      others: [pdb({ matchLabels: { app: 'web' } })],
      hits: 1,
    },
    { name: 'single replica: not this rule', obj: deploymentOf(spec, { replicas: 1 }), hits: 0 },
    {
      name: 'single replica with HPA',
      obj: deploymentOf(spec, { replicas: 1 }),
      others: [hpa('Deployment', 'web')],
      hits: 1,
    },
    { name: 'StatefulSet with 3 replicas', obj: statefulSet(3), hits: 1 },
    {
      name: 'StatefulSet with PDB',
      obj: statefulSet(3),
      others: [pdb({ matchLabels: { app: 'db' } })],
      hits: 0,
    },
    { name: 'Pod is not replicated', obj: podOf(spec), hits: 0 },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.hits}`, () => {
      expect(runRule(pdbMissing, c.obj, { others: c.others })).to.have.length(c.hits);
    });
  it('message names the template labels', () => {
    expect(runRule(pdbMissing, deploymentOf(spec, { replicas: 3 }))[0]?.message).to.equal(
      'no PodDisruptionBudget in scope selects the pod template (labels app=web)',
    );
  });
  it('never throws on malformed input', () => {
    for (const m of MALFORMED)
      expect(() => runRule(pdbMissing, m, { others: [pdb('x'), pdb({ matchLabels: 'x' })] })).not.to.throw();
  });
});
