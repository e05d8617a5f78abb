import { expect } from 'chai';
import { ClusterIndex } from '../../engine/cluster-index.ts';
import {
  CAP_EXEC,
  CAP_NODES_PROXY,
  clusterAdminBindingsOf,
  findGrant,
  grantLevel,
  grantees,
  isBound,
  parseBinding,
  parseRules,
  resolveRoleRef,
  resourceMatches,
  type BindingInfo,
} from './_rbac.ts';
import { clusterRole, clusterRoleBinding, group, role, roleBinding, sa, user } from './_testkit.ts';

function binding(o: unknown): BindingInfo {
  const b = parseBinding(o as never);
  if (!b) throw new Error('not a binding');
  return b;
}

describe('rbac analysis (_rbac.ts)', () => {
  describe('resourceMatches (RBAC authorizer semantics)', () => {
    const cases: [string[], string, boolean][] = [
      [['*'], 'pods/exec', true],
      [['pods'], 'pods', true],
      [['pods'], 'pods/exec', false],
      [['pods/exec'], 'pods/exec', true],
      [['*/exec'], 'pods/exec', true],
      [['*/exec'], 'pods', false],
      [['*/log'], 'pods/exec', false],
      [[], 'pods', false],
    ];
    for (const [rule, res, want] of cases)
      it(`${JSON.stringify(rule)} vs ${res} → ${want}`, () =>
        expect(resourceMatches(rule, res)).to.equal(want));
  });

  describe('findGrant', () => {
    it('ignores rules restricted by resourceNames', () => {
      const rules = parseRules([
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'], resourceNames: ['a'] },
      ]);
      expect(findGrant(rules, CAP_EXEC, 'cluster')).to.equal(undefined);
    });
    it('cluster-scoped queries do not match at namespace scope', () => {
      const rules = parseRules([{ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }]);
      expect(findGrant(rules, CAP_NODES_PROXY, 'cluster')).to.deep.equal({
        verbs: ['get'],
        resources: ['nodes/proxy'],
      });
      expect(findGrant(rules, CAP_NODES_PROXY, 'namespace')).to.equal(undefined);
    });
    it('requires the API group to match', () => {
      const rules = parseRules([{ apiGroups: ['apps'], resources: ['pods/exec'], verbs: ['*'] }]);
      expect(findGrant(rules, CAP_EXEC, 'cluster')).to.equal(undefined);
    });
  });

  describe('grantLevel', () => {
    const cases: [string, unknown[], string][] = [
      ['empty', [], 'none'],
      ['health endpoints', [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }], 'discovery'],
      ['metrics endpoint', [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }], 'read'],
      [
        'self reviews',
        [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] }],
        'discovery',
      ],
      [
        'named read',
        [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['x'] }],
        'named-read',
      ],
      ['read', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }], 'read'],
      [
        'reading public CA bundles',
        [{ apiGroups: ['certificates.k8s.io'], resources: ['clustertrustbundles'], verbs: ['get', 'list'] }],
        'discovery',
      ],
      [
        'writing them',
        [{ apiGroups: ['certificates.k8s.io'], resources: ['clustertrustbundles'], verbs: ['create'] }],
        'write',
      ],
      ['write', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['update'] }], 'write'],
      ['secrets', [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }], 'dangerous'],
    ];
    for (const [name, rules, want] of cases)
      it(`${name} → ${want}`, () => expect(grantLevel(parseRules(rules), 'cluster')).to.equal(want));
  });

  describe('parseBinding and grantees', () => {
    it('defaults a service account subject namespace to the RoleBinding namespace', () => {
      const b = binding(
        roleBinding('ns1', 'b', { kind: 'Role', name: 'r' }, [{ kind: 'ServiceAccount', name: 'app' }]),
      );
      expect(b.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'app', namespace: 'ns1' }]);
    });
    it('assumes ClusterRole when roleRef.kind is missing', () => {
      const b = binding({
        kind: 'ClusterRoleBinding',
        metadata: { name: 'x' },
        roleRef: { name: 'view' },
        subjects: [],
      });
      expect(b.roleRef).to.deep.equal({ kind: 'ClusterRole', name: 'view' });
    });
    it('platform bindings keep non-platform subjects; user bindings keep system: subjects except system:masters', () => {
      const subjects = [
        user('system:kube-scheduler'),
        group('system:masters'),
        group('system:authenticated'),
        sa('kube-system', 'x'),
        sa('apps', 'y'),
        user('alice'),
      ];
      const prefixes = ['system:', 'kubeadm:'];
      const names = (b: unknown): string[] => grantees(binding(b), prefixes).map((s) => s.name);
      expect(names(clusterRoleBinding('system:foo', 'r', subjects))).to.deep.equal(['y', 'alice']);
      expect(names(clusterRoleBinding('foo', 'r', subjects))).to.deep.equal([
        'system:kube-scheduler',
        'x',
        'y',
        'alice',
      ]);
    });
  });

  describe('resolveRoleRef', () => {
    it('resolves a Role only in the binding namespace', () => {
      const idx = new ClusterIndex([
        role('a', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
      ]);
      expect(
        resolveRoleRef(binding(roleBinding('a', 'b', { kind: 'Role', name: 'r' }, [])), idx).source,
      ).to.equal('scope');
      expect(
        resolveRoleRef(binding(roleBinding('b', 'b', { kind: 'Role', name: 'r' }, [])), idx).source,
      ).to.equal('unresolved');
    });
    it('prefers the scanned role over the built-in table', () => {
      const idx = new ClusterIndex([
        clusterRole('view', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]),
      ]);
      const r = resolveRoleRef(binding(clusterRoleBinding('b', 'view', [])), idx);
      expect(r.source).to.equal('scope');
      expect(r.rules).to.have.length(1);
    });
    it('aggregates transitively and survives cycles', () => {
      const idx = new ClusterIndex([
        clusterRole('top', [], {
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { l: 'top' } }] },
        }),
        clusterRole('mid', [], {
          labels: { l: 'top' },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { l: 'mid' } }] },
        }),
        clusterRole('leaf', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
          labels: { l: 'mid' },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { l: 'top' } }] },
        }),
      ]);
      const r = resolveRoleRef(binding(clusterRoleBinding('b', 'top', [])), idx);
      expect(r.aggregated).to.deep.equal(['mid', 'leaf']);
      expect(r.rules).to.have.length(1);
    });
  });

  describe('isBound', () => {
    const part = clusterRole('part', [], {
      labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
    });
    it('a role aggregated into a bound built-in role is bound', () => {
      const idx = new ClusterIndex([
        part,
        roleBinding('a', 'b', { kind: 'ClusterRole', name: 'edit' }, [user('u')]),
      ]);
      expect(isBound(part, idx)).to.equal(true);
    });
    it('is not bound when the built-in role is not bound', () => {
      expect(isBound(part, new ClusterIndex([part]))).to.equal(false);
    });
  });

  it('clusterAdminBindingsOf finds cluster-admin bindings of a service account', () => {
    const idx = new ClusterIndex([
      clusterRoleBinding('dash', 'cluster-admin', [sa('kubernetes-dashboard', 'kubernetes-dashboard')]),
      clusterRoleBinding('other', 'view', [sa('kubernetes-dashboard', 'kubernetes-dashboard')]),
      roleBinding('kubernetes-dashboard', 'rb', { kind: 'ClusterRole', name: 'cluster-admin' }, [
        sa('kubernetes-dashboard', 'kubernetes-dashboard'),
      ]),
    ]);
    expect(clusterAdminBindingsOf(idx, 'kubernetes-dashboard', 'kubernetes-dashboard')).to.deep.equal([
      'dash',
    ]);
    expect(clusterAdminBindingsOf(idx, 'other', 'kubernetes-dashboard')).to.deep.equal([]);
  });
});
