/**
 * A fresh control plane must be clean: the default ClusterRoles, Roles and
 * bindings of a v1.37 kube-apiserver + kube-controller-manager (testdata, dumped
 * from the e2e control plane), plus what kubeadm adds, produce no RBAC finding
 * at all with profile `all`. Adding one bad binding must produce findings, so
 * the test can fail.
 */
import { expect } from 'chai';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy } from '../../engine/policy.ts';
import type { KubeObject } from '../../engine/types.ts';
import { ALL_RULES } from '../index.ts';
import fresh from './testdata/fresh-control-plane-v1.37.json' with { type: 'json' };
import { clusterRole, clusterRoleBinding, group, role, roleBinding, sa, user } from './_testkit.ts';

/** Objects kubeadm init adds on top of the bootstrap policy (names and subjects as kubeadm creates them). */
const KUBEADM: KubeObject[] = [
  clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [group('kubeadm:cluster-admins')]),
  clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [
    group('system:bootstrappers:kubeadm:default-node-token'),
  ]),
  clusterRoleBinding(
    'kubeadm:node-autoapprove-bootstrap',
    'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    [group('system:bootstrappers:kubeadm:default-node-token')],
  ),
  clusterRoleBinding(
    'kubeadm:node-autoapprove-certificate-rotation',
    'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    [group('system:nodes')],
  ),
  clusterRole('kubeadm:get-nodes', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]),
  clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [
    group('system:bootstrappers:kubeadm:default-node-token'),
  ]),
  clusterRoleBinding('kubeadm:node-proxier', 'system:node-proxier', [sa('kube-system', 'kube-proxy')]),
  role('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['cluster-info'] },
  ]),
  roleBinding(
    'kube-public',
    'kubeadm:bootstrap-signer-clusterinfo',
    { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
    [user('system:anonymous')],
  ),
  role('kube-system', 'kube-proxy', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['kube-proxy'] },
  ]),
  roleBinding('kube-system', 'kube-proxy', { kind: 'Role', name: 'kube-proxy' }, [
    group('system:bootstrappers:kubeadm:default-node-token'),
  ]),
  role('kube-system', 'kubeadm:kubelet-config', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['kubelet-config'] },
  ]),
  roleBinding('kube-system', 'kubeadm:kubelet-config', { kind: 'Role', name: 'kubeadm:kubelet-config' }, [
    group('system:nodes'),
    group('system:bootstrappers:kubeadm:default-node-token'),
  ]),
  clusterRole('system:coredns', [
    { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ]),
  clusterRoleBinding('system:coredns', 'system:coredns', [sa('kube-system', 'coredns')]),
];

function rbacFindings(objects: readonly KubeObject[]): string[] {
  const { policy } = compilePolicy({ profile: 'all' }, ALL_RULES);
  if (!policy) throw new Error('policy');
  const res = evaluateSubjects(
    objects.map((object) => ({ object })),
    policy,
    { now: new Date('2026-06-01T00:00:00Z') },
  );
  expect(res.errors).to.deep.equal([]);
  return res.findings
    .filter((f) => f.category === 'rbac')
    .map((f) => `${f.severity} ${f.ruleId} ${f.resource.kind}/${f.resource.name}: ${f.message}`);
}

describe('RBAC rules on a fresh control plane', () => {
  const defaults = fresh.items as KubeObject[];

  it('the fixture holds the bootstrap policy', () => {
    expect(defaults.filter((o) => o.kind === 'ClusterRole').length).to.be.greaterThan(60);
    expect(defaults.filter((o) => o.kind === 'ClusterRoleBinding').length).to.be.greaterThan(40);
  });

  it('produces no RBAC finding for the default roles and bindings', () => {
    expect(rbacFindings(defaults)).to.deep.equal([]);
  });

  it('produces no RBAC finding with what kubeadm adds', () => {
    expect(rbacFindings([...defaults, ...KUBEADM])).to.deep.equal([]);
  });

  it('still reports a bad binding added to a fresh cluster', () => {
    const found = rbacFindings([
      ...defaults,
      clusterRoleBinding('oops', 'edit', [group('system:authenticated')]),
      clusterRoleBinding('dev-admin', 'cluster-admin', [user('dev')]),
    ]);
    expect(
      found.some((f) => f.startsWith('critical rbac-public-group-binding ClusterRoleBinding/oops')),
    ).to.equal(true);
    expect(
      found.some((f) => f.startsWith('critical rbac-cluster-admin-binding ClusterRoleBinding/dev-admin')),
    ).to.equal(true);
  });
});
