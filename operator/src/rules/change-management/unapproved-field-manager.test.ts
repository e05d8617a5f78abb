import { expect } from 'chai';
import type { KubeObject, Severity } from '../../engine/types.ts';
import { deployment, runRule } from '../testing.ts';
import { unapprovedFieldManager } from './unapproved-field-manager.ts';

const podSpec = { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] };
const withFields = (managedFields: unknown[], kind = 'Deployment'): KubeObject => {
  const d = deployment(podSpec, { managedFields });
  return { ...d, kind };
};
const e = (
  manager: string,
  time?: string,
  operation = 'Update',
  subresource?: string,
): Record<string, unknown> => ({
  manager,
  operation,
  ...(time ? { time } : {}),
  ...(subresource !== undefined ? { subresource } : {}),
  fieldsType: 'FieldsV1',
});

describe('rule change-unapproved-field-manager', () => {
  const cases: {
    name: string;
    obj: KubeObject;
    params?: Record<string, unknown>;
    expect: Severity[];
    contains?: string[];
  }[] = [
    { name: 'no managedFields (plain manifest)', obj: deployment(podSpec), expect: [] },
    {
      name: 'deployed by Argo CD only',
      obj: withFields([
        e('argocd-controller', '2026-05-01T00:00:00Z', 'Apply'),
        e('kube-controller-manager', '2026-05-01T00:00:05Z', 'Update', 'status'),
      ]),
      expect: [],
    },
    {
      name: 'kubectl edit after Argo CD',
      obj: withFields([
        e('argocd-controller', '2026-05-01T00:00:00Z', 'Apply'),
        e('kubectl-edit', '2026-05-02T09:30:00Z'),
      ]),
      expect: ['low'],
      contains: ['"kubectl-edit" (Update) at 2026-05-02T09:30:00Z'],
    },
    {
      name: 'Argo CD re-synced after a kubectl patch',
      obj: withFields([
        e('kubectl-patch', '2026-05-02T09:30:00Z'),
        e('argocd-controller', '2026-05-03T00:00:00Z', 'Apply'),
      ]),
      expect: [],
    },
    {
      name: 'a later controller write does not hide the manual change',
      obj: withFields([
        e('helm', '2026-05-01T00:00:00Z'),
        e('kubectl-client-side-apply', '2026-05-02T00:00:00Z'),
        e('kube-controller-manager', '2026-05-03T00:00:00Z'),
      ]),
      expect: ['low'],
      contains: ['kubectl-client-side-apply'],
    },
    {
      name: 'status and scale writes are not configuration changes',
      obj: withFields([
        e('helm', '2026-05-01T00:00:00Z'),
        e('kubectl', '2026-05-02T00:00:00Z', 'Update', 'scale'),
        e('my-hpa', '2026-05-03T00:00:00Z', 'Update', 'status'),
      ]),
      expect: [],
    },
    {
      name: 'empty subresource is the main resource',
      obj: withFields([e('kubectl', '2026-05-02T00:00:00Z', 'Apply', '')]),
      expect: ['low'],
    },
    {
      name: 'several managers in the same second, one unapproved',
      obj: withFields([
        e('kubectl-label', '2026-05-02T00:00:00Z'),
        e('helm', '2026-05-02T00:00:00Z'),
        e('kubectl-patch', '2026-05-02T00:00:00Z'),
      ]),
      expect: ['low'],
      contains: ['"kubectl-label" (Update), "kubectl-patch" (Update)'],
    },
    {
      name: 'entries without time count as oldest',
      obj: withFields([e('kubectl-create'), e('flux-kustomize', '2026-05-02T00:00:00Z', 'Apply')]),
      expect: [],
    },
    {
      name: 'only untimed entries',
      obj: withFields([e('kubectl-create')]),
      expect: ['low'],
      contains: ['unrecorded time'],
    },
    {
      name: 'approved list is a param (globs)',
      obj: withFields([e('pulumi-kubernetes-4f2a', '2026-05-02T00:00:00Z', 'Apply')]),
      params: { approvedManagers: ['pulumi-kubernetes-*'] },
      expect: [],
    },
    {
      name: 'a hand-edited ClusterRoleBinding is medium',
      obj: withFields(
        [e('kube-apiserver', '2026-01-01T00:00:00Z'), e('kubectl-edit', '2026-05-02T00:00:00Z')],
        'ClusterRoleBinding',
      ),
      expect: ['medium'],
    },
    {
      name: "Kubernetes' own writers on a default ClusterRole",
      obj: withFields(
        [
          e('kube-apiserver', '2026-01-01T00:00:00Z'),
          e('clusterrole-aggregation-controller', '2026-01-01T00:00:02Z', 'Apply'),
        ],
        'ClusterRole',
      ),
      expect: [],
    },
    {
      name: 'unknown operations are ignored',
      obj: withFields([e('kubectl', '2026-05-02T00:00:00Z', 'Create')]),
      expect: [],
    },
    {
      name: 'malformed managedFields',
      obj: withFields([null, 7, { manager: 5 }, { manager: 'x', operation: 'Update', time: 'not a date' }]),
      expect: ['low'],
    },
    {
      name: 'managedFields not a list',
      obj: { kind: 'Deployment', metadata: { managedFields: 'x' } } as unknown as KubeObject,
      expect: [],
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.expect.join(', ') || 'pass'}`, () => {
      const hits = runRule(unapprovedFieldManager, c.obj, c.params ? { params: c.params } : {});
      const text = hits.map((h) => h.message).join('\n');
      expect(
        hits.map((h) => h.severity ?? unapprovedFieldManager.severity),
        text,
      ).to.deep.equal(c.expect);
      for (const s of c.contains ?? []) expect(text).to.contain(s);
    });
  }
});
