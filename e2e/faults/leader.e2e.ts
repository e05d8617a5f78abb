/**
 * Fault 5: two replicas with --leader-elect. Only the leader writes (the
 * standby's vigil_reports_written_total stays 0 and every Vigil event names
 * the leader as reportingInstance); after the leader is killed with SIGKILL
 * (no lease release), the standby takes over within the lease duration
 * (15 s) plus a little, and the reports stay equal to the truth.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  Kube,
  cleanup,
  eventually,
  expectConverged,
  listYaml,
  measured,
  metricValue,
  podYaml,
  policyYaml,
  sleep,
} from './lib.ts';

const NS = ['f5-a'];
const LEASE = 'vigil-f5';

describe('fault: leader election with two replicas, leader killed', function () {
  this.timeout(240_000);
  let k: Kube;
  let a: OperatorProcess | undefined;
  let b: OperatorProcess | undefined;

  const leading = async (op: OperatorProcess): Promise<boolean> =>
    metricValue(await op.metrics(), 'vigil_leader') === 1;
  const written = async (op: OperatorProcess): Promise<number> =>
    metricValue(await op.metrics(), 'vigil_reports_written_total');

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f5', NS));
    k.apply(listYaml([0, 1, 2].map((i) => podYaml(`seed-${i}`, 'f5-a', { privileged: true }))));
    const args = ['--leader-elect', '--lease-name', LEASE];
    a = await startOperator({ kubeconfig: cluster().kubeconfig, args, env: { POD_NAME: 'vigil-a' } });
    await eventually('replica a leads', () => leading(a as OperatorProcess), 30_000);
    b = await startOperator({ kubeconfig: cluster().kubeconfig, args, env: { POD_NAME: 'vigil-b' } });
    await expectConverged(k, NS);
  });

  after(async () => {
    const codes = [await a?.stop(), await b?.stop()];
    cleanup(k, ['f5'], NS);
    k.try(['delete', 'lease', LEASE, '-n', 'vigil-system', '--ignore-not-found']);
    expect(codes[1], 'replica b exit code after SIGTERM').to.equal(0);
  });

  it('only the leader writes', async () => {
    const leader = a as OperatorProcess;
    const standby = b as OperatorProcess;
    k.apply(podYaml('while-a-leads', 'f5-a', { privileged: true }));
    await eventually('report by the leader', () => k.report('f5-a', 'pod-while-a-leads'), 20_000);
    await expectConverged(k, NS);
    await sleep(1000);
    expect(await leading(leader)).to.equal(true);
    expect(await leading(standby)).to.equal(false);
    expect(await written(leader)).to.be.greaterThan(0);
    expect(await written(standby), 'reports written by the standby').to.equal(0);
    const lease = k.json<{ spec: { holderIdentity: string } }>(['get', 'lease', LEASE, '-n', 'vigil-system']);
    expect(lease.spec.holderIdentity).to.match(/^vigil-a-/);
    const instances = new Set(
      k
        .json<{ items: { reportingController?: string; reportingInstance?: string }[] }>([
          'get',
          'events.events.k8s.io',
          '-n',
          'f5-a',
        ])
        .items.filter((e) => e.reportingController === 'vigil')
        .map((e) => e.reportingInstance),
    );
    expect([...instances]).to.deep.equal(['vigil-a']);
  });

  it('the standby takes over within the lease duration after kill -9, and the reports stay right', async () => {
    const standby = b as OperatorProcess;
    await (a as OperatorProcess).kill();
    const t0 = Date.now();
    k.apply(podYaml('after-kill', 'f5-a', { privileged: true }));
    k.run(['delete', 'pod', 'seed-0', '-n', 'f5-a', '--wait=false']);
    const took = await eventually('standby leads', () => leading(standby), 30_000);
    measured('leader killed → standby leads', took.ms);
    // Lease 15 s; the standby polls every 2 s × (1 + 1.2·rand) (client-go's jitter) and counts the
    // lease from when it last saw it change, so the worst case is 15 + 4.4 + 4.4 s.
    expect(took.ms, 'takeover within the 15 s lease + two jittered retry periods').to.be.lessThan(25_000);
    await expectConverged(k, NS, 30_000);
    measured('leader killed → reports equal the truth', Date.now() - t0);
    expect(await written(standby)).to.be.greaterThan(0);
    const lease = k.json<{ spec: { holderIdentity: string; leaseTransitions?: number } }>([
      'get',
      'lease',
      LEASE,
      '-n',
      'vigil-system',
    ]);
    expect(lease.spec.holderIdentity).to.match(/^vigil-b-/);
  });
});
