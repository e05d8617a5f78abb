/**
 * Vigil as users run it: manifests/install.yaml, rendered with the image `make image` built and
 * pushed to the local registry (the only change), applied to a cluster with a real node. The
 * kubelet pulls the image by digest, runs both replicas under the manifest's securityContext and
 * probes them; the operator talks to the API server through the kubernetes Service with its own
 * ServiceAccount token and only the shipped RBAC; a SecurityPolicy gives ScanReports, events and
 * metrics scraped through the metrics Service; deleting the leader hands over to the standby; the
 * pod's cgroup memory after a full scan stays under its limit.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cluster, node } from '../harness.ts';
import { REPO_ROOT, waitFor } from '../controlplane/controlplane.ts';
import { NODE_NAME } from './node.ts';
import { builtImage, renderInstall } from './image.ts';

const NS = 'vigil-system';
const SELECTOR = 'app.kubernetes.io/name=vigil,app.kubernetes.io/component=operator';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: {
    phase: string;
    podIP?: string;
    containerStatuses?: { ready: boolean; imageID: string; restartCount: number; containerID?: string }[];
  };
}

const json = (args: string[]): unknown => JSON.parse(cluster().kubectl([...args, '-o', 'json']));
const pods = (): Pod[] =>
  (json(['get', 'pods', '-n', NS, '-l', SELECTOR]) as { items: Pod[] }).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
/** The pod holding the leader lease (its identity is the pod name and a per-process suffix). */
const leaderPod = (): Pod | undefined => {
  const holder = leaseHolder();
  return pods().find((p) => holder === p.metadata.name || holder.startsWith(`${p.metadata.name}-`));
};
const leaseHolder = (): string => {
  try {
    return cluster()
      .kubectl(['get', 'lease', 'vigil-leader', '-n', NS, '-o', 'jsonpath={.spec.holderIdentity}'])
      .trim();
  } catch {
    return '';
  }
};

/** The host pids of a pod's containers (not the pause sandbox), from its cgroups. */
function containerPids(podUid: string): number[] {
  const base = '/sys/fs/cgroup/pids/kubepods';
  const pids: number[] = [];
  for (const qos of ['', 'burstable', 'besteffort']) {
    const pod = join(base, qos, `pod${podUid}`);
    if (!existsSync(pod)) continue;
    for (const c of readdirSync(pod, { withFileTypes: true })) {
      if (!c.isDirectory()) continue;
      for (const pid of readFileSync(join(pod, c.name, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)) {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes('vigil.js')) pids.push(Number(pid));
      }
    }
  }
  return pids;
}

/** Prometheus text of a pod's /metrics through the vigil-metrics Service (API server's proxy). */
function scrapeService(): string {
  return cluster().kubectl([
    'get',
    '--raw',
    `/api/v1/namespaces/${NS}/services/vigil-metrics:metrics/proxy/metrics`,
  ]);
}

describe('Vigil installed from install.yaml on a real node', function () {
  const timings: Record<string, number | string> = {};
  let image = '';

  after(() => {
    console.log(`  node timings: ${JSON.stringify(timings)}`);
  });

  it('the node is Ready and runs pods through containerd', () => {
    const status = cluster()
      .kubectl([
        'get',
        'node',
        NODE_NAME,
        '-o',
        'jsonpath={.status.nodeInfo.containerRuntimeVersion} {.status.nodeInfo.kubeletVersion}',
      ])
      .trim();
    expect(status).to.match(/^containerd:\/\/v?2\.\d+\.\d+ v1\.37\.\d+$/);
  });

  it('applies install.yaml with only the image changed; the Deployment becomes Available', async function () {
    image = builtImage();
    const rendered = renderInstall(image);
    const shipped = readFileSync(join(REPO_ROOT, 'manifests', 'install.yaml'), 'utf8');
    const ours = readFileSync(rendered, 'utf8');
    const strip = (s: string): string[] =>
      s.split('\n').filter((l) => !/^\s*image: /.test(l) && !l.startsWith('#'));
    expect(strip(ours)).to.deep.equal(strip(shipped));
    expect(ours).to.include(`image: ${image}`);

    const t0 = Date.now();
    cluster().kubectl(['apply', '--server-side', '-f', rendered]);
    cluster().kubectl([
      'wait',
      '--for=condition=established',
      '--timeout=60s',
      'crd/securitypolicies.security.vigil.dev',
    ]);
    await waitFor(
      'Deployment vigil Available with 2 ready replicas',
      () => {
        const d = json(['get', 'deployment', 'vigil', '-n', NS]) as {
          status: { readyReplicas?: number; conditions?: { type: string; status: string }[] };
        };
        const available = d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
        return Promise.resolve(available === true && d.status.readyReplicas === 2);
      },
      240_000,
      () =>
        `\npods: ${cluster().kubectl(['get', 'pods', '-n', NS, '-o', 'wide'])}\nevents: ${cluster().kubectl(['get', 'events', '-n', NS]).slice(-3000)}${node().logTail('kubelet')}`,
    );
    timings['deploymentAvailableSeconds'] = (Date.now() - t0) / 1000;
    const ps = pods();
    expect(ps).to.have.length(2);
    const digest = image.slice(image.indexOf('@') + 1);
    for (const p of ps) {
      expect(p.spec.nodeName).to.equal(NODE_NAME);
      expect(p.status.phase).to.equal('Running');
      const cs = p.status.containerStatuses?.[0];
      expect(cs?.ready).to.equal(true);
      // The kubelet ran what the registry holds under that digest.
      expect(cs?.imageID).to.include(digest);
    }
  });

  it('the kubelet probes the pods: readiness and liveness answer on :8081', () => {
    const ev = cluster().kubectl([
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'reason=Unhealthy',
      '-o',
      'name',
    ]);
    expect(ev.trim(), 'no failed probes').to.equal('');
    for (const p of pods()) expect(p.status.containerStatuses?.[0]?.restartCount).to.equal(0);
  });

  it('runs under the manifest securityContext: uid 65532, read-only root, no capabilities, restricted namespace', () => {
    const labels = cluster().kubectl(['get', 'namespace', NS, '-o', 'jsonpath={.metadata.labels}']);
    expect(labels).to.include('"pod-security.kubernetes.io/enforce":"restricted"');
    for (const p of pods()) {
      const pids = containerPids(p.metadata.uid);
      expect(pids, `operator process of ${p.metadata.name}`).to.have.length.greaterThan(0);
      for (const pid of pids) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1, 3)).to.deep.equal(['65532', '65532']);
        expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).to.equal('65532');
        expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).to.equal('0000000000000000');
        expect(/^CapBnd:\s+(\w+)/m.exec(status)?.[1]).to.equal('0000000000000000');
        expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).to.equal('1');
        expect(/^Seccomp:\s+(\d)/m.exec(status)?.[1]).to.equal('2');
        // The container's / is mounted read-only; only /tmp (emptyDir) and the token are mounted besides.
        const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
          .split('\n')
          .find((l) => l.split(' ')[4] === '/');
        expect(root?.split(' ')[5]?.split(',')).to.include('ro');
      }
    }
  });

  it('uses its in-cluster ServiceAccount with the shipped RBAC: holds the lease, no request denied', async () => {
    await waitFor(
      'a leader',
      () => Promise.resolve(leaderPod() !== undefined),
      60_000,
      () =>
        `\nlease holder: "${leaseHolder()}"\n${pods()
          .map(
            (p) =>
              `--- ${p.metadata.name}\n${cluster().kubectl(['logs', '-n', NS, p.metadata.name]).slice(-1500)}`,
          )
          .join('\n')}`,
    );
    for (const p of pods()) {
      const logs = cluster().kubectl(['logs', '-n', NS, p.metadata.name]);
      expect(logs, `${p.metadata.name} logs`).to.not.match(/forbidden|Unauthorized/i);
      // Its only credential is the projected ServiceAccount token (no kubeconfig in the image).
      expect(logs).to.match(/caches synced/);
    }
  });

  it('a SecurityPolicy gives ScanReports, events and metrics scraped through the Service', async () => {
    const k = cluster();
    k.kubectl(['create', 'namespace', 'node-e2e']);
    k.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: privileged, namespace: node-e2e}
spec:
  # Never scheduled (no node has the label), so nothing tries to pull its image.
  nodeSelector: {vigil.dev/unschedulable: "true"}
  containers: [{name: c, image: registry.invalid/none@sha256:${'1'.repeat(64)}, securityContext: {privileged: true}}]
---
apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: node-e2e}
spec:
  profile: pss-baseline
  action: audit
  match: {namespaces: [node-e2e]}
  events: {minSeverity: high}
`,
    );
    const t0 = Date.now();
    await waitFor(
      'a ScanReport naming pss-privileged',
      () =>
        Promise.resolve(
          k.kubectl(['get', 'scanreports', '-n', 'node-e2e', '-o', 'yaml']).includes('pss-privileged'),
        ),
      60_000,
    );
    timings['policyToReportSeconds'] = (Date.now() - t0) / 1000;
    await waitFor(
      'a Warning event on the privileged pod',
      () =>
        Promise.resolve(
          k
            .kubectl([
              'get',
              'events',
              '-n',
              'node-e2e',
              '--field-selector',
              'involvedObject.name=privileged',
              '-o',
              'yaml',
            ])
            .includes('pss-privileged'),
        ),
      60_000,
    );
    await waitFor(
      "vigil_findings for the policy in the leader's metrics",
      () => Promise.resolve(/vigil_findings\{[^}]*policy="node-e2e"[^}]*\} [1-9]/.test(scrapeService())),
      60_000,
    );
    const status = k.kubectl([
      'get',
      'securitypolicy',
      'node-e2e',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    expect(status.trim()).to.equal('True');
  });

  it('the pod cgroup memory after a full scan stays under the limit (cold start, read-only root)', () => {
    const leader = leaderPod();
    expect(leader, 'leader pod').to.not.equal(undefined);
    if (!leader) return;
    const m = node().podMemory(leader.metadata.uid);
    timings['leaderCgroupMiB'] = Math.round(m.usage / 1048576);
    timings['leaderCgroupPeakMiB'] = Math.round(m.peak / 1048576);
    expect(m.limit).to.equal(256 * 1024 * 1024);
    expect(m.peak).to.be.lessThan(m.limit);
  });

  it('deleting the leader pod hands over to the other replica', async () => {
    const before = leaderPod()?.metadata.name ?? '';
    const standby = pods().find((p) => p.metadata.name !== before)?.metadata.name ?? '';
    expect(before).to.not.equal('');
    expect(standby).to.not.equal('');
    const t0 = Date.now();
    cluster().kubectl(['delete', 'pod', '-n', NS, before, '--wait=false']);
    // The leader gives the lease up as it stops; the standby and the ReplicaSet's replacement race
    // for it (the standby usually wins: it is already synced and retrying).
    let holder = '';
    await waitFor(
      'a live pod other than the deleted leader holds the lease',
      () => {
        holder = leaderPod()?.metadata.name ?? '';
        return Promise.resolve(holder !== '' && holder !== before);
      },
      60_000,
      () =>
        `\nlease holder: "${leaseHolder()}", pods: ${pods()
          .map((p) => p.metadata.name)
          .join(' ')}`,
    );
    timings['leaderHandoverTo'] = holder === standby ? 'standby' : 'replacement';
    timings['leaderHandoverSeconds'] = (Date.now() - t0) / 1000;
    // The new leader reports from the policy it found in place: metrics through the Service again.
    await waitFor(
      'vigil_leader 1 behind the Service',
      () => Promise.resolve(/^vigil_leader(\{[^}]*\})? 1$/m.test(scrapeService())),
      60_000,
    );
    await waitFor(
      'the ReplicaSet replaces the deleted pod',
      () => Promise.resolve(pods().length === 2),
      120_000,
    );
  });
});
