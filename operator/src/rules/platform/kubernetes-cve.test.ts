import { expect } from 'chai';
import { kubernetesCve, kubernetesUnfixedCve } from './kubernetes-cve.ts';
import { runRule } from '../testing.ts';
import { clusterVersion, DATASET_NOW, node } from './_testkit.ts';
import type { KubeObject, RuleHit } from '../../engine/types.ts';

const now = DATASET_NOW;
const ids = (hits: RuleHit[]) => hits.flatMap((h) => h.controls ?? []);
const hitFor = (hits: RuleHit[], id: string) => hits.find((h) => h.controls?.includes(id));

describe('rule platform-kubernetes-cve', () => {
  const cases: { name: string; obj: KubeObject; has: string[]; hasNot: string[] }[] = [
    {
      name: 'API server 1.12.2',
      obj: clusterVersion('v1.12.2'),
      has: ['CVE-2018-1002105', 'CVE-2019-1002100'],
      hasNot: [],
    },
    {
      name: 'API server 1.12.3',
      obj: clusterVersion('v1.12.3'),
      has: ['CVE-2019-1002100'],
      hasNot: ['CVE-2018-1002105'],
    },
    { name: 'API server 1.10.11', obj: clusterVersion('v1.10.11'), has: [], hasNot: ['CVE-2018-1002105'] },
    { name: 'API server 1.11.5', obj: clusterVersion('v1.11.5'), has: [], hasNot: ['CVE-2018-1002105'] },
    {
      name: 'API server 1.13.0',
      obj: clusterVersion('v1.13.0'),
      has: ['CVE-2019-1002100'],
      hasNot: ['CVE-2018-1002105'],
    },
    {
      name: 'API server 1.18.0 (controller-manager CVE too)',
      obj: clusterVersion('v1.18.0'),
      has: ['CVE-2020-8555', 'CVE-2020-8559'],
      hasNot: [],
    },
    {
      name: 'API server 1.34.1',
      obj: clusterVersion('v1.34.1'),
      has: ['CVE-2025-13281'],
      hasNot: ['CVE-2025-5187'],
    },
    {
      name: 'API server 1.37.2 (newest)',
      obj: clusterVersion('v1.37.2'),
      has: [],
      hasNot: ['CVE-2020-8554'],
    },
    {
      name: 'API server EKS 1.28.3',
      obj: clusterVersion('v1.28.3-eks-8ccc7ba'),
      has: ['CVE-2024-3177', 'CVE-2025-5187'],
      hasNot: ['CVE-2023-2727'],
    },
    {
      name: 'kubelet 1.21.4',
      obj: node({ kubeletVersion: 'v1.21.4', operatingSystem: 'linux' }),
      has: ['CVE-2021-25741'],
      hasNot: ['CVE-2023-3676'],
    },
    {
      name: 'kubelet 1.21.5',
      obj: node({ kubeletVersion: 'v1.21.5', operatingSystem: 'linux' }),
      has: [],
      hasNot: ['CVE-2021-25741'],
    },
    {
      name: 'Windows kubelet 1.27.4',
      obj: node({ kubeletVersion: 'v1.27.4', operatingSystem: 'windows' }),
      has: ['CVE-2023-3676', 'CVE-2023-3955', 'CVE-2023-5528'],
      hasNot: [],
    },
    {
      name: 'Windows kubelet via label',
      obj: node({ kubeletVersion: 'v1.27.4' }, 'win-1', { 'kubernetes.io/os': 'windows' }),
      has: ['CVE-2023-3676'],
      hasNot: [],
    },
    {
      name: 'Linux kubelet 1.27.4 skips Windows CVEs',
      obj: node({ kubeletVersion: 'v1.27.4', operatingSystem: 'linux' }),
      has: ['CVE-2024-10220'],
      hasNot: ['CVE-2023-3676', 'CVE-2023-5528'],
    },
    {
      name: 'kubelet with unknown OS skips Windows CVEs',
      obj: node({ kubeletVersion: 'v1.27.4' }),
      has: ['CVE-2024-10220'],
      hasNot: ['CVE-2023-3676'],
    },
    {
      name: 'k3s kubelet 1.30.2',
      obj: node({ kubeletVersion: 'v1.30.2+k3s1', operatingSystem: 'linux' }),
      has: ['CVE-2024-10220', 'CVE-2025-0426'],
      hasNot: [],
    },
    {
      name: 'kubelet 1.37.2',
      obj: node({ kubeletVersion: 'v1.37.2', kubeProxyVersion: 'v1.37.2', operatingSystem: 'linux' }),
      has: [],
      hasNot: ['CVE-2025-1767'],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: reports ${c.has.join(', ') || 'nothing expected'}`, () => {
      const hits = runRule(kubernetesCve, c.obj, { now });
      const got = ids(hits);
      for (const id of c.has) expect(got, id).to.include(id);
      for (const id of c.hasNot) expect(got, id).not.to.include(id);
      if (c.name.includes('newest') || c.name === 'kubelet 1.37.2') expect(hits).to.deep.equal([]);
    });
  }

  it('names the field, the severity, the fix for the minor and the advisory', () => {
    const hit = hitFor(runRule(kubernetesCve, clusterVersion('v1.12.2'), { now }), 'CVE-2018-1002105');
    expect(hit?.severity).to.equal('critical');
    // vigil rules lists it: the raise comes from the dataset (issue 19 item 8).
    expect(kubernetesCve.raisedTo).to.deep.equal([
      { severity: 'critical', when: 'a CVE the bundled dataset rates critical' },
    ]);
    expect(hit?.message)
      .to.contain('kube-apiserver v1.12.2 (status.gitVersion)')
      .and.contain('CVSS 9.8')
      .and.contain('upgrade kube-apiserver to 1.12.3 or later')
      .and.contain('https://github.com/kubernetes/kubernetes/issues/71411');
    expect(hit?.message).not.to.contain('vendor build');
  });

  it('says a vendor build may carry backports', () => {
    const hit = hitFor(
      runRule(kubernetesCve, clusterVersion('v1.28.3-eks-8ccc7ba'), { now }),
      'CVE-2024-3177',
    );
    expect(hit?.message)
      .to.contain('vendor build (v1.28.3-eks-8ccc7ba)')
      .and.contain("provider's security bulletin");
  });

  it('marks controller-manager findings as assumed from the API server version', () => {
    const hit = hitFor(runRule(kubernetesCve, clusterVersion('v1.18.0'), { now }), 'CVE-2020-8555');
    expect(hit?.message).to.contain('kube-controller-manager is assumed');
  });

  it('reports a CVE once per node, on the kubelet, even when kube-proxy is listed too', () => {
    const hits = runRule(
      kubernetesCve,
      node({ kubeletVersion: 'v1.18.3', kubeProxyVersion: 'v1.18.3', operatingSystem: 'linux' }),
      { now },
    );
    const c = hits.filter((h) => h.controls?.includes('CVE-2020-8558'));
    expect(c).to.have.length(1);
    expect(c[0]?.message).to.contain('kubelet v1.18.3 (status.nodeInfo.kubeletVersion)');
  });

  it('uses the cluster facts when the ClusterVersion carries no gitVersion', () => {
    expect(ids(runRule(kubernetesCve, clusterVersion(), { now, serverVersion: 'v1.12.2' }))).to.include(
      'CVE-2018-1002105',
    );
    expect(runRule(kubernetesCve, clusterVersion(), { now })).to.deep.equal([]);
  });

  const malformed: [string, KubeObject][] = [
    ['gitVersion not a string', clusterVersion(42)],
    ['gitVersion garbage', clusterVersion('latest')],
    ['status not an object', { kind: 'ClusterVersion', metadata: { name: 'kube-apiserver' }, status: 'x' }],
    ['node without status', { kind: 'Node', metadata: { name: 'n' } }],
    ['nodeInfo not an object', node('oops')],
    ['kubeletVersion a number', node({ kubeletVersion: 1.27 })],
    ['metadata missing', { kind: 'Node', status: { nodeInfo: { kubeletVersion: null } } }],
  ];
  for (const [name, obj] of malformed) {
    it(`malformed input (${name}) → no finding, no crash`, () => {
      expect(runRule(kubernetesCve, obj, { now })).to.deep.equal([]);
      expect(runRule(kubernetesUnfixedCve, obj, { now })).to.deep.equal([]);
    });
  }
});

describe('rule platform-kubernetes-unfixed-cve', () => {
  it('reports design flaws without a fix on the newest API server, with the mitigation', () => {
    const hits = runRule(kubernetesUnfixedCve, clusterVersion('v1.37.2'), { now });
    expect(ids(hits)).to.include.members([
      'CVE-2020-8554',
      'CVE-2020-8561',
      'CVE-2020-8562',
      'CVE-2021-25740',
      'CVE-2024-7598',
    ]);
    const h = hitFor(hits, 'CVE-2020-8554');
    expect(h?.severity).to.equal('medium');
    expect(h?.message).to.contain('No release fixes it').and.contain('DenyServiceExternalIPs');
  });
  it('reports the gitRepo CVE on every kubelet and nothing fixable', () => {
    const hits = runRule(
      kubernetesUnfixedCve,
      node({ kubeletVersion: 'v1.37.2', operatingSystem: 'linux' }),
      { now },
    );
    expect(ids(hits)).to.deep.equal(['CVE-2025-1767']);
  });
  it('does not report CVE-2024-7598 before its introduced version', () => {
    expect(ids(runRule(kubernetesUnfixedCve, clusterVersion('v1.2.0'), { now }))).not.to.include(
      'CVE-2024-7598',
    );
  });
  it('is only in the all profile', () => {
    expect(kubernetesUnfixedCve.profiles).to.deep.equal([]);
  });
});
