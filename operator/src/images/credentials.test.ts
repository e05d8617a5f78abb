import { expect } from 'chai';
import { credentialsFromDockerConfig, registryHost } from './credentials.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('images/credentials', () => {
  const config = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub-user:hub:pass') },
      'registry.example:5443': { username: 'u', password: 'p' },
      'ghcr.io': { registrytoken: 'tok' },
      'quay.io': { identitytoken: 'refresh' },
      'broken.example': { auth: b64('nocolon') },
    },
  };
  it('finds entries by host whatever the key spelling; Docker Hub under any of its names', () => {
    expect(registryHost('https://index.docker.io/v1/')).to.equal('docker.io');
    expect(registryHost('registry-1.docker.io')).to.equal('docker.io');
    expect(registryHost('HTTPS://Registry.Example:5443/v2/')).to.equal('registry.example:5443');
    expect(credentialsFromDockerConfig(config, 'docker.io')).to.deep.equal({
      username: 'hub-user',
      password: 'hub:pass',
    });
    expect(credentialsFromDockerConfig(config, 'registry.example:5443')).to.deep.equal({
      username: 'u',
      password: 'p',
    });
    expect(credentialsFromDockerConfig(config, 'ghcr.io')).to.deep.equal({ token: 'tok' });
    expect(credentialsFromDockerConfig(config, 'registry.example')).to.equal(undefined);
    expect(credentialsFromDockerConfig({}, 'ghcr.io')).to.equal(undefined);
  });
  it('names an entry it cannot use', () => {
    expect(() => credentialsFromDockerConfig(config, 'quay.io')).to.throw(/only an identity token/);
    expect(() => credentialsFromDockerConfig(config, 'broken.example')).to.throw(
      /not base64 of user:password/,
    );
  });
});
