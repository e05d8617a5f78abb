import { expect } from 'chai';
import { ClusterIndex } from './cluster-index.ts';
import type { KubeObject } from './types.ts';

describe('engine/cluster-index ClusterIndex', () => {
  const objs: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'zeta' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'alpha' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mid', labels: { env: 'prod' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'odd', labels: { n: 1, s: 'x' } as never } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin' } },
    { apiVersion: 'v1', metadata: { name: 'no-kind' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: 'junk' as never },
  ];
  const index = new ClusterIndex(objs, { serverVersion: 'v1.37.0' });

  it('lists objects by kind in input order', () => {
    expect(index.ofKind('Namespace')).to.have.length(3);
    expect(index.ofKind('Pod').map((o) => o.metadata?.name)).to.deep.equal(['a', 'b', undefined]);
    expect(index.ofKind('Secret')).to.deep.equal([]);
  });

  it('gets objects by kind, namespace ("" for cluster-scoped) and name', () => {
    expect(index.get('Pod', 'alpha', 'b')).to.equal(objs[1]);
    expect(index.get('ClusterRole', '', 'admin')).to.equal(objs[5]);
    expect(index.get('Pod', 'zeta', 'b')).to.equal(undefined);
  });

  it('a cluster-scoped object that names a namespace is indexed without it, as the API server stores it', () => {
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:network-policies', namespace: 'kube-system' },
    };
    const idx = new ClusterIndex([role]);
    expect(idx.get('ClusterRole', '', 'system:network-policies')).to.equal(role);
    expect(idx.get('ClusterRole', 'kube-system', 'system:network-policies')).to.equal(undefined);
    expect(idx.namespaces()).to.deep.equal([]);
  });

  it('namespaces: from objects and Namespace objects, sorted', () => {
    expect(index.namespaces()).to.deep.equal(['alpha', 'bare', 'mid', 'odd', 'zeta']);
  });

  it('namespaceLabels: labels of a Namespace in scope, {} without labels, undefined when absent', () => {
    expect(index.namespaceLabels('mid')).to.deep.equal({ env: 'prod' });
    expect(index.namespaceLabels('bare')).to.deep.equal({});
    expect(index.namespaceLabels('zeta')).to.equal(undefined);
    expect(index.namespaceLabels('odd')).to.deep.equal({ s: 'x' }); // non-string values are not labels
  });

  it('carries cluster facts', () => {
    expect(index.cluster.serverVersion).to.equal('v1.37.0');
    expect(new ClusterIndex([]).cluster).to.deep.equal({});
  });
});
