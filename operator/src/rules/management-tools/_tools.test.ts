import { expect } from 'chai';
import { boolFlag, flagValue, imageBase, imageRepo } from './_tools.ts';

describe('management-tools helpers', () => {
  const repos: [string, string][] = [
    ['kubernetesui/dashboard:v2.7.0', 'kubernetesui/dashboard'],
    ['docker.io/kubernetesui/dashboard-web:1.6.0', 'kubernetesui/dashboard-web'],
    ['registry.example:5000/team/tiller:v2@sha256:abc', 'team/tiller'],
    ['localhost/tiller', 'tiller'],
    ['tiller', 'tiller'],
    ['', ''],
  ];
  for (const [image, repo] of repos)
    it(`imageRepo(${image}) = ${repo}`, () => expect(imageRepo(image)).to.equal(repo));
  it('imageBase is the last path segment', () =>
    expect(imageBase('gcr.io/kubernetes-helm/tiller:v2.16.12')).to.equal('tiller'));

  it('flagValue reads --f=v, -f=v and (for value flags) --f v', () => {
    expect(flagValue(['--address=0.0.0.0'], 'address', true)).to.equal('0.0.0.0');
    expect(flagValue(['-address=1.2.3.4'], 'address', true)).to.equal('1.2.3.4');
    expect(flagValue(['--address', '0.0.0.0'], 'address', true)).to.equal('0.0.0.0');
    expect(flagValue(['--address'], 'address', true)).to.equal('');
    expect(flagValue(['--addresses=x'], 'address', true)).to.equal(undefined);
  });
  it('boolFlag treats bare flags as true and =false as false', () => {
    expect(boolFlag(['--enable-skip-login'], 'enable-skip-login')).to.equal(true);
    expect(boolFlag(['--enable-skip-login=false'], 'enable-skip-login')).to.equal(false);
    expect(boolFlag(['--enable-skip-login=0'], 'enable-skip-login')).to.equal(false);
    expect(boolFlag([], 'enable-skip-login')).to.equal(false);
  });
});
