import { expect } from 'chai';
import { ClusterCache, parseSubjectKey, subjectKey } from './cache.ts';
import { memoByKinds } from '../rules/rbac/_memo.ts';
import type { KubeObject } from '../engine/types.ts';

const cr = (name: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
});

describe('ClusterCache', () => {
  it('keeps ofKind lists immutable: same array while unchanged, a new one after a change', () => {
    const c = new ClusterCache();
    c.put('ClusterRole', cr('a'));
    const first = c.ofKind('ClusterRole');
    expect(c.ofKind('ClusterRole')).to.equal(first);
    c.put('ClusterRole', cr('b'));
    const second = c.ofKind('ClusterRole');
    expect(second).not.to.equal(first);
    expect(first.map((o) => o.metadata?.name)).to.deep.equal(['a']);
    expect(second.map((o) => o.metadata?.name)).to.deep.equal(['a', 'b']);
    c.remove('ClusterRole', 'a');
    expect(c.ofKind('ClusterRole').map((o) => o.metadata?.name)).to.deep.equal(['b']);
  });

  it('lets memoised rule tables reuse results until the kinds they read change', () => {
    const c = new ClusterCache();
    c.put('ClusterRole', cr('a'));
    let computed = 0;
    const count = (): number =>
      memoByKinds(c, 'test-count', ['ClusterRole'], () => (computed++, c.ofKind('ClusterRole').length));
    expect(count()).to.equal(1);
    expect(count()).to.equal(1);
    expect(computed).to.equal(1);
    c.put('ClusterRole', cr('b'));
    expect(count()).to.equal(2);
    expect(computed).to.equal(2);
    c.put('Pod', { kind: 'Pod', metadata: { name: 'p', namespace: 'x' } });
    expect(count()).to.equal(2);
    expect(computed).to.equal(2);
  });

  it('knows namespaces from Namespace objects and namespaced objects', () => {
    const c = new ClusterCache();
    c.put('Namespace', { kind: 'Namespace', metadata: { name: 'a', labels: { t: '1' } } });
    c.put('Pod', { kind: 'Pod', metadata: { name: 'p', namespace: 'b' } });
    expect(c.namespaces()).to.deep.equal(['a', 'b']);
    expect(c.namespaceLabels('a')).to.deep.equal({ t: '1' });
    expect(c.namespaceLabels('b')).to.equal(undefined);
  });

  it('round-trips subject keys, including cluster-scoped ones', () => {
    expect(parseSubjectKey(subjectKey('Pod', 'ns', 'p'))).to.deep.equal({
      kind: 'Pod',
      namespace: 'ns',
      name: 'p',
    });
    expect(parseSubjectKey(subjectKey('ClusterRole', undefined, 'system:x/y'))).to.deep.equal({
      kind: 'ClusterRole',
      namespace: '',
      name: 'system:x/y',
    });
  });
});
