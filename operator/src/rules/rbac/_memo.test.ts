import { expect } from 'chai';
import { ClusterIndex } from '../../engine/cluster-index.ts';
import type { ClusterIndexView, KubeObject } from '../../engine/types.ts';
import { memoByKinds } from './_memo.ts';
import { clusterAdminBindingsOf } from './_rbac.ts';
import { clusterRoleBinding, sa } from './_testkit.ts';

/** An index whose lists are changed in place, like a cache that replaces objects on update. */
function liveIndex(lists: Record<string, KubeObject[]>): ClusterIndexView {
  return {
    ofKind: (k) => lists[k] ?? [],
    get: (k, _ns, name) => (lists[k] ?? []).find((o) => o.metadata?.name === name),
    namespaces: () => [],
    namespaceLabels: () => undefined,
    cluster: {},
  };
}

describe('memoByKinds', () => {
  it('reuses a value while the lists are unchanged', () => {
    const idx = new ClusterIndex([clusterRoleBinding('a', 'view', [])]);
    let calls = 0;
    const f = (): number => memoByKinds(idx, 'test/count', ['ClusterRoleBinding'], () => ++calls);
    expect([f(), f(), f()]).to.deep.equal([1, 1, 1]);
    idx.add(clusterRoleBinding('b', 'view', []));
    expect(f()).to.equal(2);
  });

  it('recomputes when a live index replaces an object in place', () => {
    const crbs = [clusterRoleBinding('dash', 'view', [sa('d', 'dash')])];
    const idx = liveIndex({ ClusterRoleBinding: crbs });
    expect(clusterAdminBindingsOf(idx, 'd', 'dash')).to.deep.equal([]);
    crbs[0] = clusterRoleBinding('dash', 'cluster-admin', [sa('d', 'dash')]);
    expect(clusterAdminBindingsOf(idx, 'd', 'dash')).to.deep.equal(['dash']);
  });

  it('keeps separate values per index', () => {
    const a = new ClusterIndex([]);
    const b = new ClusterIndex([]);
    expect(memoByKinds(a, 'test/id', [], () => 'a')).to.equal('a');
    expect(memoByKinds(b, 'test/id', [], () => 'b')).to.equal('b');
  });
});
