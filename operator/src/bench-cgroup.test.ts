/**
 * The benchmark's memory-cgroup helper (bench/cgroup.ts): parsing only; creating
 * a cgroup needs privileges and is exercised by `make bench`.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownCgroups, quantityBytes, shippedMemoryLimit, shippedNodeOptions } from '../../bench/cgroup.ts';

const REPO = join(import.meta.dirname, '..', '..');

describe('bench/cgroup', () => {
  it('reads Kubernetes memory quantities', () => {
    expect(quantityBytes('256Mi')).to.equal(256 * 2 ** 20);
    expect(quantityBytes('1Gi')).to.equal(2 ** 30);
    expect(quantityBytes('1.5Gi')).to.equal(1.5 * 2 ** 30);
    expect(quantityBytes('500M')).to.equal(5e8);
    expect(quantityBytes('1024')).to.equal(1024);
    expect(() => quantityBytes('256 MiB')).to.throw(/not a memory quantity/);
    expect(() => quantityBytes('-1Mi')).to.throw(/not a memory quantity/);
  });

  it('finds the memory limit the shipped Deployment sets', () => {
    const limit = shippedMemoryLimit(readFileSync(join(REPO, 'config', 'manager', 'manager.yaml'), 'utf8'));
    expect(quantityBytes(limit)).to.be.greaterThan(0);
    expect(() => shippedMemoryLimit('kind: Deployment\nspec: {}\n')).to.throw(/no memory limit/);
    const nodeOptions = shippedNodeOptions(
      readFileSync(join(REPO, 'config', 'manager', 'manager.yaml'), 'utf8'),
    );
    // The old generation is capped inside the container limit (or the kernel kills first).
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions ?? '')?.[1]);
    expect(oldSpace * 2 ** 20).to.be.lessThan(quantityBytes(limit) * 0.75);
    expect(
      shippedNodeOptions('spec: {template: {spec: {containers: [{env: [{name: X, value: y}]}]}}}'),
    ).to.equal(undefined);
  });

  it('finds its own v1 memory and v2 cgroups', () => {
    const hybrid = '9:name=systemd:/\n4:memory:/process_api/abc\n3:cpu,cpuacct:/x\n0::/\n';
    expect(ownCgroups(hybrid)).to.deep.equal({ v1Memory: '/process_api/abc', v2: '/' });
    expect(ownCgroups('0::/user.slice/session-1.scope\n')).to.deep.equal({
      v2: '/user.slice/session-1.scope',
    });
    expect(ownCgroups('5:cpu,memory:/k\n')).to.deep.equal({ v1Memory: '/k' });
  });
});
