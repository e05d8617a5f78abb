import { expect } from 'chai';
import { ClusterIndex } from '../../engine/cluster-index.ts';
import type { KubeObject } from '../../engine/types.ts';
import { ClusterCache } from '../../runtime/cache.ts';
import { sameNamespaceObjects } from './_shared.ts';

const svc = (name: string, namespace?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: namespace === undefined ? { name } : { name, namespace },
});
const names = (l: readonly KubeObject[]): string[] => l.map((o) => o.metadata?.name ?? '');
const deployIn = (namespace?: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: namespace === undefined ? { name: 'd' } : { name: 'd', namespace },
});

describe('workload/_shared sameNamespaceObjects', () => {
  it('gives the objects of the same namespace, in input order; unset is the one apply-time namespace (issue 19 item 1)', () => {
    const index = new ClusterIndex([svc('a', 'x'), svc('b'), svc('c', 'y'), svc('d', 'x'), svc('e')]);
    expect(names(sameNamespaceObjects(index, 'Service', deployIn('x')))).to.deep.equal(['a', 'd']);
    expect(names(sameNamespaceObjects(index, 'Service', deployIn('y')))).to.deep.equal(['c']);
    expect(names(sameNamespaceObjects(index, 'Service', deployIn('z')))).to.deep.equal([]);
    expect(names(sameNamespaceObjects(index, 'Service', deployIn()))).to.deep.equal(['b', 'e']);
    // Asked again: the same answer (from the memo).
    expect(names(sameNamespaceObjects(index, 'Service', deployIn('x')))).to.deep.equal(['a', 'd']);
  });

  it('follows a live cache as objects come and go', () => {
    const cache = new ClusterCache();
    cache.put('Service', svc('a', 'x'));
    cache.put('Service', svc('b', 'y'));
    expect(names(sameNamespaceObjects(cache, 'Service', deployIn('x')))).to.deep.equal(['a']);
    cache.put('Service', svc('c', 'x'));
    expect(names(sameNamespaceObjects(cache, 'Service', deployIn('x')))).to.deep.equal(['a', 'c']);
    cache.remove('Service', 'x/a');
    expect(names(sameNamespaceObjects(cache, 'Service', deployIn('x')))).to.deep.equal(['c']);
    expect(names(sameNamespaceObjects(cache, 'Service', deployIn('none')))).to.deep.equal([]);
  });
});
