/**
 * VigilController on an in-memory cache and a recording API: the per-policy
 * totals it keeps incrementally always equal a recount over every subject,
 * finding metrics are published with the (debounced) policy reconcile, and the
 * watch echo of the controller's own report writes does not trigger another
 * reconcile while anyone else's edit does.
 */
import { expect } from 'chai';
import { ALL_RULES } from '../rules/index.ts';
import { FakeClock } from '../controller/testing/fake-clock.ts';
import { noopLogger } from '../controller/logger.ts';
import { WorkQueue } from '../controller/workqueue.ts';
import type { KubeObject } from '../engine/types.ts';
import { ApiError, type KubeApi } from './api.ts';
import { ClusterCache, subjectKey } from './cache.ts';
import { VigilController, type ControllerOptions, type ImageDemand, type ShareStatus } from './controller.ts';

interface Write {
  path: string;
  body: KubeObject;
  /** Written by create (POST), not apply. */
  created?: boolean;
}

function pod(name: string, opts: { privileged?: boolean; image?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team', uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      containers: [
        {
          name: 'app',
          image: opts.image ?? 'registry.example/app:1.0',
          ...(opts.privileged ? { securityContext: { privileged: true } } : {}),
        },
      ],
    },
  };
}

function setup(opts: Partial<ControllerOptions> & { spec?: Record<string, unknown> } = {}): {
  clock: FakeClock;
  c: VigilController;
  cache: ClusterCache;
  subjects: WorkQueue;
  policies: WorkQueue;
  writes: Write[];
  published: [string, Map<string, number>][];
  drain(): Promise<void>;
} {
  const { spec, ...over } = opts;
  const clock = new FakeClock();
  const subjects = new WorkQueue({ name: 'subjects', clock });
  const policies = new WorkQueue({ name: 'policies', clock });
  const cache = new ClusterCache();
  const writes: Write[] = [];
  let rv = 100;
  /**
   * Objects on the fake server by path: a create of an existing one is refused, and a status
   * write returns the whole object (spec included), as the API server does.
   */
  const stored = new Map<string, KubeObject>();
  const save = (path: string, obj: KubeObject): KubeObject => {
    const saved = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
    stored.set(path, saved);
    return saved;
  };
  const api = {
    apply: (path: string, body: KubeObject) => {
      writes.push({ path, body });
      if (path.endsWith('/status')) {
        const main = path.slice(0, -'/status'.length);
        return Promise.resolve(save(main, { ...(stored.get(main) ?? body), status: body['status'] }));
      }
      return Promise.resolve(save(path, { ...stored.get(path), ...body }));
    },
    create: (collection: string, body: KubeObject) => {
      const path = `${collection}/${body.metadata?.name ?? ''}`;
      if (stored.has(path)) {
        return Promise.reject(new ApiError(409, 'AlreadyExists', `${path} already exists`));
      }
      writes.push({ path, body, created: true });
      return Promise.resolve(save(path, body));
    },
    deleteIfExists: (path: string) => {
      writes.push({ path, body: { kind: 'DELETE' } });
      stored.delete(path);
      return Promise.resolve(true);
    },
    post: () => Promise.resolve({}),
    get: () => Promise.resolve({}),
  } as unknown as KubeApi;
  const published: [string, Map<string, number>][] = [];
  const c = new VigilController({
    api,
    cache,
    rules: ALL_RULES,
    operatorNamespace: 'vigil-system',
    subjects,
    policies,
    clock,
    logger: noopLogger,
    hooks: { policyFindings: (p, counts) => published.push([p, new Map(counts)]) },
    ...over,
  });
  const policy: KubeObject = {
    apiVersion: 'security.vigil.dev/v1alpha1',
    kind: 'SecurityPolicy',
    metadata: { name: 'p', generation: 1, uid: 'uid-p' },
    spec: spec ?? { profile: 'recommended' },
  };
  cache.put('SecurityPolicy', policy);
  c.onEvent('SecurityPolicy', 'ADDED', policy);
  c.resyncAll();
  const drain = async (): Promise<void> => {
    while (subjects.len() > 0) {
      const key = await subjects.get();
      if (key === undefined) return;
      await c.reconcileSubject(key);
      subjects.done(key);
    }
  };
  return { clock, c, cache, subjects, policies, writes, published, drain };
}

function add(s: ReturnType<typeof setup>, obj: KubeObject): void {
  const old = s.cache.put('Pod', obj);
  s.c.onEvent('Pod', old ? 'MODIFIED' : 'ADDED', obj, old);
}

describe('runtime/VigilController', () => {
  it('tells the image scanner the images of subjects an opted-in policy matches, and only those', async () => {
    const calls: string[] = [];
    const images: ImageDemand = {
      want: (subject, imgs, w) =>
        calls.push(
          `want ${subject} ${imgs.map((i) => i.reference).join(',')} ${w.pullSecrets} ${w.secretNames.join(',')}`,
        ),
      forget: (subject) => calls.push(`forget ${subject}`),
    };
    const s = setup({
      images,
      spec: {
        profile: 'recommended',
        match: { namespaces: ['team'] },
        images: { analyse: true, pullSecrets: 'allow' },
      },
    });
    s.cache.cluster = { ...s.cache.cluster, images: { lookup: () => undefined } };
    s.c.setClusterVersion({ gitVersion: 'v1.35.0' });
    // Both facts stay side by side.
    expect(s.cache.cluster.serverVersion).to.equal('v1.35.0');
    expect(s.cache.cluster.images).to.not.equal(undefined);
    const withSecret = pod('a');
    (withSecret['spec'] as Record<string, unknown>)['imagePullSecrets'] = [{ name: 'regcred' }];
    add(s, withSecret);
    add(s, { ...pod('b'), metadata: { name: 'b', namespace: 'elsewhere', uid: 'uid-b' } });
    await s.drain();
    expect(calls).to.include('want Pod/team/a registry.example/app:1.0 allow regcred');
    expect(calls.some((c) => c.startsWith('want Pod/elsewhere/b'))).to.equal(false);
    expect(calls).to.include('forget Pod/elsewhere/b');
    // Deleted: its images are no longer wanted.
    s.cache.remove('Pod', 'team/a');
    s.c.onEvent('Pod', 'DELETED', withSecret);
    calls.length = 0;
    await s.drain();
    expect(calls).to.include('forget Pod/team/a');
    // The scanner's requeue is the controller's enqueue path.
    s.c.requeueSubjects(['Pod/team/x']);
    expect(s.subjects.len()).to.equal(1);
  });

  it('a policy without spec.images.analyse wants no image read', async () => {
    const calls: string[] = [];
    const s = setup({
      images: { want: (subject) => calls.push(`want ${subject}`), forget: () => undefined },
      spec: { profile: 'recommended', images: { analyse: false } },
    });
    add(s, pod('a'));
    await s.drain();
    expect(calls).to.deep.equal([]);
  });

  it('keeps per-policy totals equal to a recount through adds, updates and deletes', async () => {
    const s = setup();
    const check = (): void => {
      const t = s.c.policyTotals('p');
      const r = s.c.recomputedTotals('p');
      expect(t.evaluated).to.equal(r.evaluated);
      expect(t.summary).to.deep.equal(r.summary);
      expect([...t.labels].sort()).to.deep.equal([...r.labels].sort());
    };
    add(s, pod('a', { privileged: true }));
    add(s, pod('b'));
    add(s, pod('c', { image: 'registry.example/app:latest' }));
    await s.drain();
    check();
    // The three pods and the policy itself (policies are evaluated too: expired exceptions).
    const evaluated = s.c.policyTotals('p').evaluated;
    expect(evaluated).to.equal(4);
    const critical = s.c.policyTotals('p').summary.critical;
    expect(critical).to.be.greaterThan(0);

    add(s, { ...pod('a'), metadata: { ...pod('a').metadata, resourceVersion: '2' } });
    await s.drain();
    check();
    expect(s.c.policyTotals('p').summary.critical).to.be.lessThan(critical);

    const gone = s.cache.remove('Pod', 'team/b');
    expect(gone).to.not.equal(undefined);
    if (gone) s.c.onEvent('Pod', 'DELETED', gone);
    await s.drain();
    check();
    expect(s.c.policyTotals('p').evaluated).to.equal(evaluated - 1);

    // Deleting the policy drops its totals.
    s.c.onEvent('SecurityPolicy', 'DELETED', { kind: 'SecurityPolicy', metadata: { name: 'p' } });
    expect(s.c.policyTotals('p').evaluated).to.equal(0);
    expect(s.c.recomputedTotals('p').evaluated).to.equal(0);
  });

  it('publishes finding metrics and the status summary from the totals on the policy reconcile', async () => {
    const s = setup();
    add(s, pod('a', { privileged: true }));
    add(s, pod('b'));
    await s.drain();
    expect(s.published).to.have.length(0); // not once per subject
    await s.c.reconcilePolicy('p');
    expect(s.published).to.have.length(1);
    const [policy, counts] = s.published[0] ?? ['', new Map<string, number>()];
    expect(policy).to.equal('p');
    expect([...counts].sort()).to.deep.equal([...s.c.policyTotals('p').labels].sort());
    const status = s.writes.find((w) => w.path.endsWith('/securitypolicies/p/status'))?.body['status'] as {
      summary: Record<string, number>;
      resourcesEvaluated: number;
    };
    expect(status.summary).to.deep.equal(s.c.policyTotals('p').summary);
    expect(status.resourcesEvaluated).to.equal(3); // two pods and the policy
  });

  it('ignores the watch echo of its own report writes but reconciles after anyone else’s edit', async () => {
    const s = setup();
    add(s, pod('a', { privileged: true }));
    await s.drain();
    const reportWrites = s.writes.filter((w) => w.path.includes('/scanreports/pod-a'));
    // One request per new report: created with its findings (no status subresource).
    expect(reportWrites.map((w) => [w.path.endsWith('/status'), w.created ?? false])).to.deep.equal([
      [false, true],
    ]);
    const report = (rv: string): KubeObject => ({
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'ScanReport',
      metadata: { name: 'pod-a', namespace: 'team', resourceVersion: rv },
      spec: { subject: { apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'team' } },
    });
    // The API returned resourceVersion 101 (the create).
    s.c.onEvent('ScanReport', 'ADDED', report('101'));
    expect(s.subjects.len()).to.equal(0);
    // The same version again (a relist) and a new version (someone's edit) are not echoes.
    s.c.onEvent('ScanReport', 'MODIFIED', report('101'));
    expect(s.subjects.len()).to.equal(1);
    await s.drain();
    s.c.onEvent('ScanReport', 'MODIFIED', report('250'));
    expect(s.subjects.len()).to.equal(1);
    await s.drain();
    s.c.onEvent('ScanReport', 'DELETED', report('251'));
    expect(s.subjects.len()).to.equal(1);
    expect(subjectKey('Pod', 'team', 'a')).to.equal('Pod/team/a');
  });

  it("re-evaluates a namespace's Services when a workload behind them comes or changes (not on status writes)", async () => {
    const s = setup({ spec: { profile: 'all' } });
    await s.drain();
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'team', uid: 'uid-web', resourceVersion: '1' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] },
    };
    s.cache.put('Service', svc);
    s.c.onEvent('Service', 'ADDED', svc);
    await s.drain();
    type Body = { status?: { findings?: { ruleId: string; severity: string }[] } };
    const exposure = (): string | undefined =>
      (
        s.writes.filter((w) => w.path.includes('/scanreports/service-web')).pop()?.body as Body | undefined
      )?.status?.findings?.find((f) => f.ruleId === 'network-service-exposed')?.severity;
    expect(exposure()).to.equal('low');
    // A privileged pod behind it arrives: the exposure is raised without waiting for a resync.
    const behind = pod('a', { privileged: true });
    behind.metadata = { ...behind.metadata, labels: { app: 'web' } };
    add(s, behind);
    await s.drain();
    expect(exposure()).to.equal('medium');
    // A status-only write of that pod does not re-evaluate the Service.
    add(s, {
      ...behind,
      metadata: { ...behind.metadata, resourceVersion: '2' },
      status: { phase: 'Running' },
    });
    expect(s.subjects.len()).to.equal(1); // the pod itself
    await s.drain();
    // Its labels change: it is no longer behind the Service, which falls back to low.
    add(s, { ...behind, metadata: { ...behind.metadata, resourceVersion: '3', labels: { app: 'other' } } });
    await s.drain();
    expect(exposure()).to.equal('low');
  });

  it('re-evaluates a Role when a binding to it comes or goes (its grant is latent only while unbound)', async () => {
    const s = setup({ spec: { profile: 'all' } });
    await s.drain();
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'r0', namespace: 'team', uid: 'uid-r0', resourceVersion: '1' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }],
    };
    s.cache.put('Role', role);
    s.c.onEvent('Role', 'ADDED', role);
    await s.drain();
    type Body = { kind?: string; status?: { findings?: { ruleId: string }[] } };
    const roleFinds = (): string[] => {
      const last = s.writes.filter((w) => w.path.includes('/scanreports/role-r0')).pop()?.body as
        Body | undefined;
      return last?.kind === 'DELETE' ? [] : (last?.status?.findings ?? []).map((f) => f.ruleId);
    };
    expect(roleFinds()).to.include('rbac-create-pods');
    const binding: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb0', namespace: 'team', uid: 'uid-rb0', resourceVersion: '1' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r0' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'team' }],
    };
    s.cache.put('RoleBinding', binding);
    s.c.onEvent('RoleBinding', 'ADDED', binding);
    await s.drain();
    // Bound: the grant is reported on the binding, no longer as the Role's latent one.
    expect(roleFinds()).to.not.include('rbac-create-pods');
    s.cache.remove('RoleBinding', 'team/rb0');
    s.c.onEvent('RoleBinding', 'DELETED', binding);
    await s.drain();
    expect(roleFinds()).to.include('rbac-create-pods');
  });

  it('creates a new report with a plain create, and applies when it exists after all (stale cache)', async () => {
    const s = setup();
    await s.drain();
    add(s, pod('a', { privileged: true }));
    await s.drain();
    const reportPath = '/apis/security.vigil.dev/v1alpha1/namespaces/team/scanreports/pod-a';
    const first = s.writes.filter((w) => w.path.startsWith(reportPath));
    expect(first.map((w) => [w.path.slice(reportPath.length), w.created ?? false])).to.deep.equal([
      ['', true],
    ]);
    // The report vanishes from the cache (as if its watch event had not arrived yet) but not
    // from the server: the create is refused, the same write is applied instead.
    s.cache.remove('ScanReport', 'team/pod-a');
    s.writes.length = 0;
    s.subjects.add('Pod/team/a');
    await s.drain();
    expect(s.writes.map((w) => [w.path.slice(reportPath.length), w.created ?? false])).to.deep.equal([
      ['', false],
    ]);
  });

  it("restores a report someone deleted or edited with the findings' original firstSeen", async () => {
    const s = setup();
    add(s, pod('a', { privileged: true }));
    await s.drain();
    type Status = { findings?: { ruleId: string; firstSeen?: string }[] };
    const statusOf = (o: KubeObject | undefined): Status => o?.['status'] ?? {};
    const cached = (): KubeObject | undefined => s.cache.get('ScanReport', 'team', 'pod-a');
    const firstSeen = statusOf(cached()).findings?.map((f) => [f.ruleId, f.firstSeen]);
    expect(firstSeen).to.have.length.greaterThan(0);
    await s.clock.advance(3_600_000);
    const lastStatusWrite = (): Status =>
      statusOf([...s.writes].reverse().find((w) => w.path.endsWith('/scanreports/pod-a'))?.body);

    // Deleted: recreated, every finding with the firstSeen it had.
    const before = cached();
    if (!before) throw new Error('no cached report');
    s.cache.remove('ScanReport', 'team/pod-a');
    s.c.onEvent('ScanReport', 'DELETED', before);
    await s.drain();
    expect(lastStatusWrite().findings?.map((f) => [f.ruleId, f.firstSeen])).to.deep.equal(firstSeen);

    // Edited (findings emptied): rewritten, same firstSeen again.
    const current = cached();
    if (!current) throw new Error('no cached report');
    const edited = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: '9999' },
      status: { findings: [] },
    };
    s.cache.put('ScanReport', edited);
    s.c.onEvent('ScanReport', 'MODIFIED', edited, current);
    await s.drain();
    expect(lastStatusWrite().findings?.map((f) => [f.ruleId, f.firstSeen])).to.deep.equal(firstSeen);

    // A finding that is really new gets the current time.
    add(s, {
      ...pod('a', { privileged: true }),
      spec: {
        hostNetwork: true,
        containers: [
          { name: 'app', image: 'registry.example/app:1.0', securityContext: { privileged: true } },
        ],
      },
    });
    await s.drain();
    const later = lastStatusWrite().findings ?? [];
    expect(later.filter((f) => f.firstSeen !== firstSeen?.[0]?.[1]).length).to.be.greaterThan(0);
  });

  it('folds a burst of workloads coming and going into one namespace re-evaluation, at most 5 s later', async () => {
    const s = setup();
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', uid: 'uid-ns' } };
    s.cache.put('Namespace', ns);
    await s.drain(); // the policy's own evaluation
    for (const n of ['a', 'b', 'c']) add(s, pod(n));
    expect(s.subjects.len()).to.equal(3); // the pods themselves, at once
    expect(s.subjects.delayedLen()).to.equal(1); // their namespace, once
    await s.drain();
    await s.clock.advance(4999);
    expect(s.subjects.len()).to.equal(0);
    await s.clock.advance(1);
    expect(s.subjects.len()).to.equal(1);
    const key = await s.subjects.get();
    expect(key).to.equal('Namespace//team');
  });

  describe('sharding', () => {
    const inNs = (name: string, ns: string): KubeObject => {
      const p = pod(name, { privileged: true });
      return { ...p, metadata: { ...p.metadata, namespace: ns, uid: `uid-${ns}-${name}` } };
    };

    it('evaluates, counts and writes only owned subjects; a handover adopts, never deletes', async () => {
      let mine = 'a';
      const s = setup({ owns: (key) => key.includes(`/${mine}/`) || key.startsWith(`Namespace//${mine}`) });
      add(s, inNs('x', 'a'));
      add(s, inNs('y', 'b'));
      await s.drain();
      for (const key of ['Pod/a/x', 'Pod/b/y']) await s.c.persistReport(key);
      const reportPaths = (): string[] =>
        s.writes
          .filter((w) => w.path.includes('/scanreports/') && w.body['kind'] !== 'DELETE')
          .map((w) => w.path);
      expect(reportPaths().some((p) => p.includes('/namespaces/a/'))).to.equal(true);
      expect(reportPaths().some((p) => p.includes('/namespaces/b/'))).to.equal(false);
      expect(s.c.shareStatus()['p']?.evaluated).to.equal(s.c.policyTotals('p').evaluated);
      const before = s.c.policyTotals('p').evaluated;
      expect(before).to.be.greaterThan(0);

      // b moves here, a moves away: a's contributions go, b is evaluated; nothing is deleted.
      mine = 'b';
      s.c.reassigned();
      await s.drain();
      await s.c.persistReport('Pod/b/y');
      await s.c.persistReport('Pod/a/x');
      expect(reportPaths().some((p) => p.includes('/namespaces/b/'))).to.equal(true);
      expect(s.writes.some((w) => w.body['kind'] === 'DELETE')).to.equal(false);
      expect(s.c.policyTotals('p')).to.deep.equal(s.c.recomputedTotals('p'));
      expect(s.subjects.len()).to.equal(0);
    });

    it('the writer sums the other members’ published figures into the status; others do not write it', async () => {
      const peer: ShareStatus = {
        p: { evaluated: 7, summary: { critical: 2, high: 1, medium: 0, low: 0, info: 0 }, pending: 0 },
      };
      let writer = false;
      const s = setup({ writesPolicyStatus: () => writer, peerStatus: () => [peer] });
      add(s, inNs('x', 'a'));
      await s.drain();
      await s.c.reconcilePolicy('p');
      const statusWrites = (): Write[] =>
        s.writes.filter((w) => w.path.endsWith('/securitypolicies/p/status'));
      expect(statusWrites()).to.have.length(0);
      writer = true;
      await s.c.reconcilePolicy('p');
      const st = statusWrites()[0]?.body['status'] as {
        resourcesEvaluated: number;
        summary: Record<string, number>;
      };
      const own = s.c.policyTotals('p');
      expect(st.resourcesEvaluated).to.equal(own.evaluated + 7);
      expect(st.summary['critical']).to.equal(own.summary.critical + 2);
      expect(st.summary['high']).to.equal(own.summary.high + 1);
      // A member not heard from yet keeps the policy from being Ready.
      delete peer['p'];
      await s.c.reconcilePolicy('p');
      const last = statusWrites().at(-1)?.body['status'] as {
        conditions: { type: string; status: string }[];
      };
      expect(last.conditions.find((c) => c.type === 'Ready')?.status).to.equal('False');
    });
  });
});
