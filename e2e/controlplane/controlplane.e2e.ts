import { expect } from 'chai';
import { cluster } from '../harness.ts';

describe('local control plane', () => {
  it('serves /readyz and reports the pinned version', () => {
    const k = cluster();
    expect(k.kubectl(['get', '--raw', '/readyz'])).to.equal('ok');
    const v = JSON.parse(k.kubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
    expect(v.serverVersion.gitVersion).to.match(/^v1\.37\.\d+$/);
  });

  it('runs kube-controller-manager: a Deployment gets a ReplicaSet and Pods, and namespaces delete', async () => {
    const k = cluster();
    k.kubectl(['create', 'namespace', 'cp-check']);
    k.kubectl([
      'create',
      'deployment',
      'web',
      '-n',
      'cp-check',
      '--image=registry.example/web:1',
      '--replicas=2',
    ]);
    let pods = 0;
    for (let i = 0; i < 100 && pods < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pods = (JSON.parse(k.kubectl(['get', 'pods', '-n', 'cp-check', '-o', 'json'])) as { items: unknown[] })
        .items.length;
    }
    expect(pods).to.equal(2);
    k.kubectl(['delete', 'namespace', 'cp-check', '--wait=true', '--timeout=60s']);
    expect(() => k.kubectl(['get', 'namespace', 'cp-check'])).to.throw(/NotFound/);
  });

  it('enforces RBAC: an unprivileged identity is forbidden', () => {
    const k = cluster();
    // kubectl auth can-i answers "no" with exit code 1.
    let out: string;
    try {
      out = k.kubectl(['auth', 'can-i', 'list', 'secrets', '--as=system:serviceaccount:default:default']);
    } catch (e) {
      out = (e as { stdout?: string }).stdout ?? '';
    }
    expect(out.trim()).to.equal('no');
    expect(k.kubectl(['auth', 'can-i', 'list', 'secrets']).trim()).to.equal('yes');
  });
});
