import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { ControlPlane } from './controlplane.ts';

/**
 * The container path of the control plane: the same binaries in a locally built
 * FROM-scratch image, started through testcontainers (reaper disabled). make
 * test installs and starts a Docker engine (scripts/setup.sh docker) for it.
 */
describe('control plane in containers (testcontainers)', function () {
  let cp: ControlPlane | undefined;
  after(async () => {
    await cp?.stop();
  });

  it('starts etcd, kube-apiserver and kube-controller-manager as containers and serves the API', async () => {
    cp = await ControlPlane.start({ runtime: 'docker' });
    const running = execFileSync('docker', ['ps', '--format', '{{.Image}} {{.Command}}'], {
      encoding: 'utf8',
    });
    expect(running).to.match(/vigil-controlplane:\S+ "\/kube-apiserver/);
    expect(running).to.match(/vigil-controlplane:\S+ "\/etcd/);
    expect(cp.kubectl(['get', '--raw', '/readyz'])).to.equal('ok');
    cp.kubectl(['create', 'namespace', 'in-docker']);
    expect(cp.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name']).trim()).to.equal(
      'serviceaccount/default',
    );
  });

  it('removes its containers when stopped', async () => {
    await cp?.stop();
    cp = undefined;
    const left = execFileSync('docker', ['ps', '-a', '--format', '{{.Image}}'], { encoding: 'utf8' });
    expect(left).not.to.match(/vigil-controlplane/);
  });
});
