/**
 * Issue 17 point 5 on the real control plane: three `vigil operator --sharding` processes share
 * the namespaces (rendezvous hashing over their member Leases). Every namespace's subjects are
 * evaluated and reported by exactly one replica, the one the assignment names; reports are
 * written once (ScanReports have no status subresource, so any content write bumps
 * metadata.generation) and stay put; a killed replica's namespaces are taken over within the
 * lease duration and its reports adopted, not rewritten; a joining replica takes its share.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { waitFor } from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { metricSum, parseExposition } from '../../operator/src/observability/exposition.ts';
import { ownerOf } from '../../operator/src/runtime/sharding.ts';

interface Report {
  metadata: { name: string; namespace: string; resourceVersion: string; generation?: number };
  spec: { subject: { kind: string; name: string; namespace?: string } };
}

const k = (args: string[], input?: string): string => cluster().kubectl(args, input);
const allReports = (): Report[] =>
  (JSON.parse(k(['get', 'scanreports', '-A', '-o', 'json'])) as { items: Report[] }).items;
const NAMESPACES = Array.from({ length: 12 }, (_, i) => `shard-${i}`);
// Short lease timings: a dead member is dropped after 4 s.
const ARGS = [
  '--sharding',
  '--leader-elect-lease-duration',
  '4',
  '--leader-elect-renew-deadline',
  '3',
  '--leader-elect-retry-period',
  '1',
  '--namespace-delay',
  '300',
  '--policy-status-delay',
  '100',
];

const privilegedPod = (ns: string, name: string): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  containers:
  - name: app
    image: registry.example/app:1.0
    securityContext: {privileged: true}
`;

interface Replica {
  name: string;
  op: OperatorProcess;
  identity: string;
}

async function startReplica(name: string): Promise<Replica> {
  const op = await startOperator({
    kubeconfig: cluster().kubeconfig,
    args: ARGS,
    env: { POD_NAME: name },
    logLevel: 'info',
  });
  return { name, op, identity: `${name}-${String(op.child.pid)}` };
}

async function metric(r: Replica, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricSum(parseExposition(await r.op.metrics()).samples, name, labels) ?? 0;
}

/** Namespaces for which this replica exports findings. */
async function findingNamespaces(r: Replica): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of parseExposition(await r.op.metrics()).samples)
    if (s.name === 'vigil_findings' && s.value > 0 && s.labels['namespace']?.startsWith('shard-'))
      out.add(s.labels['namespace']);
  return out;
}

async function membersSeen(rs: Replica[], n: number): Promise<void> {
  await waitFor(
    `every replica sees ${String(n)} shard members`,
    async () => (await Promise.all(rs.map((r) => metric(r, 'vigil_shard_members')))).every((v) => v === n),
    20_000,
  );
}

async function podReports(names: { ns: string; pod: string }[]): Promise<Map<string, Report>> {
  let found = new Map<string, Report>();
  await waitFor(
    `${String(names.length)} pod reports`,
    () => {
      const want = new Set(names.map((x) => `${x.ns}/${x.pod}`));
      found = new Map();
      for (const r of allReports()) {
        const s = r.spec.subject;
        const key = `${r.metadata.namespace}/${s.name}`;
        if (s.kind === 'Pod' && want.has(key)) found.set(key, r);
      }
      return Promise.resolve(found.size === want.size);
    },
    30_000,
  );
  return found;
}

/** The findings of every shard namespace come from exactly its owner, and from nobody else. */
async function findingsOnlyFromOwners(rs: Replica[]): Promise<void> {
  const ids = rs.map((r) => r.identity);
  let last = '';
  await waitFor(
    'findings of each namespace exported by its owner alone',
    async () => {
      const seen = await Promise.all(rs.map((r) => findingNamespaces(r)));
      const problems: string[] = [];
      for (const ns of NAMESPACES) {
        const from = rs.filter((_, i) => seen[i]?.has(ns)).map((r) => r.identity);
        if (from.length !== 1 || from[0] !== ownerOf(ns, ids))
          problems.push(`${ns}: from [${from.join(',')}], owner ${String(ownerOf(ns, ids))}`);
      }
      last = problems.join('; ');
      return problems.length === 0;
    },
    30_000,
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}: ${last}`);
  });
}

interface PolicyStatus {
  resourcesEvaluated?: number;
  summary?: Record<string, number>;
  conditions?: { type: string; status: string }[];
}

/**
 * The SecurityPolicy status, written by the coordinator alone, counts every member's share: its
 * summary equals the findings all replicas export together, and it is Ready.
 */
async function statusCountsAllShares(rs: Replica[]): Promise<PolicyStatus> {
  let last = '';
  let status: PolicyStatus = {};
  await waitFor(
    'policy status summing every share',
    async () => {
      status =
        (
          JSON.parse(k(['get', 'securitypolicy', 'shards-restricted', '-o', 'json'])) as {
            status?: PolicyStatus;
          }
        ).status ?? {};
      const exported: Record<string, number> = {};
      for (const r of rs)
        for (const s of parseExposition(await r.op.metrics()).samples)
          if (s.name === 'vigil_findings' && s.labels['policy'] === 'shards-restricted') {
            const sev = s.labels['severity'] ?? '';
            exported[sev] = (exported[sev] ?? 0) + s.value;
          }
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const same = Object.entries(exported).every(([sev, n]) => (status.summary?.[sev] ?? 0) === n);
      last = JSON.stringify({ status: status.summary, exported, ready });
      return ready && same && Object.values(exported).some((n) => n > 0);
    },
    20_000,
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}: ${last}`);
  });
  return status;
}

const versions = (): Map<string, string> =>
  new Map(
    allReports().map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r.metadata.resourceVersion]),
  );

describe('vigil operator --sharding on a real control plane', function () {
  const replicas: Replica[] = [];
  const live = (): Replica[] =>
    replicas.filter((r) => r.op.child.exitCode === null && r.op.child.signalCode === null);

  before(async () => {
    cluster().installCrds();
    for (const ns of ['vigil-system', ...NAMESPACES])
      k(['apply', '-f', '-'], `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${ns}"}}`);
    k(
      ['apply', '-f', '-'],
      `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: shards-restricted}
spec:
  profile: pss-restricted
  match: {namespaces: ["shard-*"]}
`,
    );
    replicas.push(...(await Promise.all(['vigil-a', 'vigil-b', 'vigil-c'].map((n) => startReplica(n)))));
    await membersSeen(replicas, 3);
  });

  after(async () => {
    const codes = await Promise.all(live().map((r) => r.op.stop()));
    expect(codes, 'exit codes after SIGTERM').to.deep.equal(codes.map(() => 0));
  });

  it('holds one member Lease per replica', () => {
    const leases = (
      JSON.parse(k(['get', 'leases', '-n', 'vigil-system', '-o', 'json'])) as {
        items: { metadata: { name: string }; spec: { holderIdentity?: string } }[];
      }
    ).items.filter((l) => l.metadata.name.startsWith('vigil-leader-member-'));
    expect(leases.map((l) => l.spec.holderIdentity).sort()).to.deep.equal(
      replicas.map((r) => r.identity).sort(),
    );
  });

  it('evaluates and reports every namespace once, by its owner, and the reports stay put', async () => {
    for (const ns of NAMESPACES) k(['apply', '-f', '-'], privilegedPod(ns, 'priv'));
    const reports = await podReports(NAMESPACES.map((ns) => ({ ns, pod: 'priv' })));
    await findingsOnlyFromOwners(replicas);
    // Written once: created with its findings, never rewritten by another replica.
    for (const [key, r] of reports) expect(r.metadata.generation, key).to.equal(1);
    const written = await Promise.all(replicas.map((r) => metric(r, 'vigil_reports_written_total')));
    const ids = replicas.map((r) => r.identity);
    replicas.forEach((r, i) => {
      const owned = NAMESPACES.filter((ns) => ownerOf(ns, ids) === r.identity).length;
      // Its pod reports at least; none of another shard's.
      expect(written[i], `${r.name} writes for ${String(owned)} namespaces`).to.be.at.least(owned);
    });
    const status = await statusCountsAllShares(replicas);
    // At least the 12 Pods and their 12 Namespaces.
    expect(status.resourcesEvaluated).to.be.at.least(24);
    // Settled: no replica rewrites anything (3 lease retry periods and more than a namespace delay).
    const policyVersion = (): string =>
      k(['get', 'securitypolicy', 'shards-restricted', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const before = versions();
    const policyBefore = policyVersion();
    await new Promise((r) => setTimeout(r, 4000));
    expect(versions()).to.deep.equal(before);
    expect(policyVersion(), 'policy status not fought over').to.equal(policyBefore);
  });

  it('takes over the namespaces of a killed replica within the lease duration, adopting its reports', async () => {
    const ids = replicas.map((r) => r.identity);
    const owned = (r: Replica): string[] => NAMESPACES.filter((ns) => ownerOf(ns, ids) === r.identity);
    const victim = [...replicas].sort((a, b) => owned(b).length - owned(a).length)[0];
    if (!victim) throw new Error('no replica');
    const lost = owned(victim);
    expect(lost.length, 'the victim owns namespaces').to.be.greaterThan(0);
    const reportsBefore = versions();
    const t0 = performance.now();
    await victim.op.kill();
    const survivors = live();
    await membersSeen(survivors, 2);
    const takeoverMs = performance.now() - t0;
    // Lease duration 4 s, plus a retry period to notice.
    expect(takeoverMs, 'members updated').to.be.below(4000 + 3000);
    for (const ns of lost) k(['apply', '-f', '-'], privilegedPod(ns, 'late'));
    const late = await podReports(lost.map((ns) => ({ ns, pod: 'late' })));
    for (const [key, r] of late) expect(r.metadata.generation, key).to.equal(1);
    await findingsOnlyFromOwners(survivors);
    // The old reports were neither deleted nor rewritten by the new owners.
    const after = versions();
    for (const [key, rv] of reportsBefore)
      if (key.startsWith('shard-')) expect(after.get(key), key).to.equal(rv);
  });

  it('gives a joining replica its share, which it alone reports from then on', async () => {
    const reportsBefore = versions();
    const joiner = await startReplica('vigil-d');
    replicas.push(joiner);
    const members = live();
    await membersSeen(members, 3);
    const ids = members.map((r) => r.identity);
    const mine = NAMESPACES.filter((ns) => ownerOf(ns, ids) === joiner.identity);
    await findingsOnlyFromOwners(members);
    for (const ns of mine) k(['apply', '-f', '-'], privilegedPod(ns, 'joined'));
    const joined = await podReports(mine.map((ns) => ({ ns, pod: 'joined' })));
    for (const [key, r] of joined) expect(r.metadata.generation, key).to.equal(1);
    expect(await findingNamespaces(joiner)).to.deep.equal(new Set(mine));
    // Its share moved to it from the others: together they still cover every namespace once,
    // and the reports it took over were adopted, not rewritten.
    await findingsOnlyFromOwners(members);
    const after = versions();
    for (const [key, rv] of reportsBefore)
      if (key.startsWith('shard-')) expect(after.get(key), key).to.equal(rv);
    await statusCountsAllShares(members);
  });
});
