import { expect } from 'chai';
import { containerRuntimeCve, parseRuntime } from './container-runtime-cve.ts';
import { runRule } from '../testing.ts';
import { DATASET_NOW, node } from './_testkit.ts';

const now = DATASET_NOW;
const runtimeIds = (crv: unknown) =>
  runRule(containerRuntimeCve, node({ containerRuntimeVersion: crv }), { now }).flatMap(
    (h) => h.controls ?? [],
  );
const RUNC_2025 = ['CVE-2025-31133', 'CVE-2025-52565', 'CVE-2025-52881'];
const CONTAINERD_2025 = ['CVE-2024-25621', 'CVE-2025-64329'];

describe('rule platform-container-runtime-cve', () => {
  const cases: { crv: unknown; has: string[]; hasNot: string[]; none?: boolean }[] = [
    { crv: 'containerd://1.7.12', has: ['CVE-2024-21626', ...RUNC_2025, ...CONTAINERD_2025], hasNot: [] },
    { crv: 'containerd://1.7.13', has: [...RUNC_2025, ...CONTAINERD_2025], hasNot: ['CVE-2024-21626'] },
    { crv: 'containerd://1.6.27', has: ['CVE-2024-21626', 'CVE-2024-25621'], hasNot: RUNC_2025 },
    { crv: 'containerd://1.6.28', has: ['CVE-2024-25621'], hasNot: ['CVE-2024-21626'] },
    { crv: 'containerd://1.7.29', has: [], hasNot: [], none: true },
    { crv: 'containerd://2.0.6', has: [...RUNC_2025, ...CONTAINERD_2025], hasNot: ['CVE-2024-21626'] },
    { crv: 'containerd://2.1.4', has: [...RUNC_2025, ...CONTAINERD_2025], hasNot: [] },
    { crv: 'containerd://2.1.5', has: [], hasNot: [], none: true },
    { crv: 'containerd://2.2.0-rc.1', has: CONTAINERD_2025, hasNot: RUNC_2025 },
    { crv: 'containerd://2.2.0', has: [], hasNot: [], none: true },
    { crv: 'containerd://1.6.0', has: ['CVE-2022-23648', 'CVE-2024-21626'], hasNot: [] },
    { crv: 'containerd://1.4.2', has: ['CVE-2020-15257', 'CVE-2022-23648'], hasNot: ['CVE-2024-21626'] },
    { crv: 'containerd://1.7.12-k3s1', has: ['CVE-2024-21626'], hasNot: [] },
    { crv: 'containerd://v1.7.12', has: ['CVE-2024-21626'], hasNot: [] },
    { crv: 'cri-o://1.23.1', has: ['CVE-2022-0811'], hasNot: ['CVE-2024-21626'] },
    { crv: 'cri-o://1.23.2', has: [], hasNot: [], none: true },
    { crv: 'cri-o://1.28.1', has: [], hasNot: [], none: true },
    { crv: 'docker://20.10.7', has: [], hasNot: [], none: true },
    { crv: 'containerd://', has: [], hasNot: [], none: true },
    { crv: '1.7.12', has: [], hasNot: [], none: true },
    { crv: 'containerd://garbage', has: [], hasNot: [], none: true },
    { crv: 42, has: [], hasNot: [], none: true },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.crv)} → ${c.none ? 'no finding' : c.has.join(', ')}`, () => {
      const got = runtimeIds(c.crv);
      if (c.none) expect(got).to.deep.equal([]);
      for (const id of c.has) expect(got, id).to.include(id);
      for (const id of c.hasNot) expect(got, id).not.to.include(id);
    });
  }

  it('explains that runc is matched through the containerd release builds', () => {
    const [hit] = runRule(
      containerRuntimeCve,
      node({ containerRuntimeVersion: 'containerd://1.7.12' }, 'n1'),
      { now },
    ).filter((h) => h.controls?.includes('CVE-2024-21626'));
    expect(hit?.severity).to.equal('high');
    expect(hit?.message)
      .to.contain('node "n1" container runtime containerd 1.7.12 (status.nodeInfo.containerRuntimeVersion)')
      .and.contain('bundle a runc affected by CVE-2024-21626')
      .and.contain('upgrade containerd to 1.7.13 or later')
      .and.contain('runc --version')
      .and.contain('backported fixes');
  });

  it('parses runtime strings defensively', () => {
    expect(parseRuntime('containerd://1.7.12')).to.include({ runtime: 'containerd' });
    expect(parseRuntime('CRI-O://1.28.1')?.runtime).to.equal('cri-o');
    expect(parseRuntime('nonsense')).to.equal(undefined);
    expect(parseRuntime(undefined)).to.equal(undefined);
  });

  it('malformed nodes → no finding, no crash', () => {
    expect(runRule(containerRuntimeCve, { kind: 'Node' }, { now })).to.deep.equal([]);
    expect(runRule(containerRuntimeCve, node(null), { now })).to.deep.equal([]);
  });
});
