import { expect } from 'chai';
import type { KubeObject } from '../../engine/types.ts';
import { deployment, pod, runRule } from '../testing.ts';
import { ownershipLabels } from './ownership-labels.ts';

const podSpec = { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] };
const cronJob = (templateLabels: Record<string, string>): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'c', namespace: 'default' },
  spec: { jobTemplate: { spec: { template: { metadata: { labels: templateLabels }, spec: podSpec } } } },
});

describe('rule workload-missing-ownership-labels', () => {
  const cases: {
    name: string;
    obj: KubeObject;
    others?: KubeObject[];
    params?: Record<string, unknown>;
    hits: number;
    contains?: string;
  }[] = [
    { name: 'no labels at all', obj: deployment(podSpec), hits: 1, contains: 'app.kubernetes.io/name' },
    {
      name: 'label on the workload',
      obj: deployment(podSpec, { labels: { 'app.kubernetes.io/name': 'web' } }),
      hits: 0,
    },
    {
      name: 'label on the CronJob pod template',
      obj: cronJob({ 'app.kubernetes.io/name': 'report' }),
      hits: 0,
    },
    {
      name: 'empty value does not count',
      obj: deployment(podSpec, { labels: { 'app.kubernetes.io/name': '' } }),
      hits: 1,
    },
    {
      name: 'custom ownership keys',
      obj: deployment(podSpec, { labels: { team: 'payments' } }),
      params: { requiredLabels: ['team', 'owner'] },
      hits: 1,
      contains: 'owner',
    },
    { name: 'nothing required', obj: deployment(podSpec), params: { requiredLabels: [] }, hits: 0 },
    { name: 'kube-system is skipped', obj: deployment(podSpec, { namespace: 'kube-system' }), hits: 0 },
    {
      name: 'pod owned by a Deployment in scope',
      obj: pod(
        {},
        {
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u', controller: true },
          ],
        },
      ),
      others: [deployment(podSpec)],
      hits: 0,
    },
    { name: 'bare pod', obj: pod(), hits: 1 },
    { name: 'malformed labels', obj: deployment(podSpec, { labels: 'x' }), hits: 1 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.hits}`, () => {
      const hits = runRule(ownershipLabels, c.obj, {
        ...(c.others ? { others: c.others } : {}),
        ...(c.params ? { params: c.params } : {}),
      });
      expect(hits).to.have.length(c.hits);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }
});
