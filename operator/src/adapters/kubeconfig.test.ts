import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FILE_REFRESH_MS,
  StaticKubeAuth,
  credentialsFromKubeconfig,
  inClusterCredentials,
  loadKubeAuth,
} from './kubeconfig.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    clusters: [
      { name: 'other', cluster: { server: 'https://wrong:1' } },
      { name: 'c', cluster },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  });
}

async function apply(auth: StaticKubeAuth): Promise<RequestOptions> {
  const o: RequestOptions = { headers: { 'X-Keep': '1' } };
  await auth.applyToHTTPSOptions(o);
  return o;
}

describe('adapters/kubeconfig', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-kubeconfig-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the current context: server, inline CA, client certificate and key, token', async () => {
    const c = credentialsFromKubeconfig(
      kubeconfig(
        {
          server: 'https://127.0.0.1:6443/',
          'certificate-authority-data': b64('CA'),
          'tls-server-name': 'api',
        },
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY'), token: 'tok' },
      ),
      dir,
    );
    if (typeof c === 'string') throw new Error(c);
    const auth = new StaticKubeAuth(c);
    expect(auth.getCurrentCluster()).to.deep.equal({ server: 'https://127.0.0.1:6443' });
    const o = await apply(auth);
    expect(String(o.ca)).to.equal('CA');
    expect(String(o.cert)).to.equal('CERT');
    expect(o.key).to.deep.equal(Buffer.from('KEY'));
    expect(o.servername).to.equal('api');
    expect(o.rejectUnauthorized).to.equal(undefined);
    expect(o.headers).to.deep.equal({ 'X-Keep': '1', Authorization: 'Bearer tok' });
  });

  it('resolves files against the kubeconfig directory and re-reads them after a minute', async () => {
    writeFileSync(join(dir, 'ca.crt'), 'CA1');
    writeFileSync(join(dir, 'token'), 'one\n');
    const c = credentialsFromKubeconfig(
      kubeconfig(
        { server: 'https://h:1', 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true },
        { 'token-file': join(dir, 'token') },
      ),
      dir,
    );
    if (typeof c === 'string') throw new Error(c);
    let now = 1_000;
    const auth = new StaticKubeAuth(c, () => now);
    let o = await apply(auth);
    expect(String(o.ca)).to.equal('CA1');
    expect(o.rejectUnauthorized).to.equal(false);
    expect(o.headers).to.include({ Authorization: 'Bearer one' });
    writeFileSync(join(dir, 'ca.crt'), 'CA2');
    writeFileSync(join(dir, 'token'), 'two');
    now += FILE_REFRESH_MS;
    o = await apply(auth);
    expect(String(o.ca)).to.equal('CA1');
    expect(o.headers).to.include({ Authorization: 'Bearer one' });
    now += 1;
    o = await apply(auth);
    expect(String(o.ca)).to.equal('CA2');
    expect(o.headers).to.include({ Authorization: 'Bearer two' });
  });

  it('leaves exec plugins, auth providers, basic auth, impersonation, proxies and odd files to client-node', () => {
    const server = { server: 'https://h:1' };
    for (const [cluster, user, reason] of [
      [server, { exec: { command: 'aws' } }, 'user uses exec'],
      [server, { 'auth-provider': { name: 'oidc' } }, 'user uses auth-provider'],
      [server, { username: 'a', password: 'b' }, 'user uses username'],
      [server, { token: 't', as: 'admin' }, 'user uses as'],
      [{ ...server, 'proxy-url': 'http://proxy:3128' }, {}, 'cluster uses proxy-url'],
      [{ 'certificate-authority-data': b64('CA') }, {}, 'no cluster server'],
    ] as const)
      expect(credentialsFromKubeconfig(kubeconfig(cluster, user), dir)).to.equal(reason);
    expect(credentialsFromKubeconfig('current-context: nope\ncontexts: []\n', dir)).to.equal(
      'no current context',
    );
    expect(credentialsFromKubeconfig('{', dir)).to.equal('not parseable here');
    expect(credentialsFromKubeconfig('- a\n', dir)).to.equal('not a kubeconfig');
  });

  it('builds in-cluster credentials like client-node (IPv6 brackets, http on 8080)', () => {
    expect(
      inClusterCredentials({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/sa'),
    ).to.deep.equal({
      server: 'https://10.0.0.1:443',
      ca: { file: '/sa/ca.crt' },
      token: { file: '/sa/token' },
    });
    const v6 = inClusterCredentials(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8080' },
      '/sa',
    );
    expect(typeof v6 === 'string' ? v6 : v6.server).to.equal('http://[fd00::1]:8080');
    expect(inClusterCredentials({}, '/sa')).to.be.a('string');
  });

  it('loads simple kubeconfigs and the in-cluster account itself, everything else through client-node', async () => {
    const simple = join(dir, 'simple.yaml');
    writeFileSync(simple, kubeconfig({ server: 'https://h:1' }, { token: 't' }));
    const a = await loadKubeAuth(simple, {}, join(dir, 'sa'), dir);
    expect(a.auth).to.be.instanceOf(StaticKubeAuth);
    expect(a.source).to.equal(`kubeconfig ${simple}`);

    const exec = join(dir, 'exec.yaml');
    writeFileSync(
      exec,
      kubeconfig(
        { server: 'https://h:2' },
        { exec: { command: 'true', apiVersion: 'client.authentication.k8s.io/v1' } },
      ),
    );
    const b = await loadKubeAuth(exec, {}, join(dir, 'sa'), dir);
    expect(b.auth).not.to.be.instanceOf(StaticKubeAuth);
    expect(b.auth.getCurrentCluster()?.server).to.equal('https://h:2');
    expect(b.source).to.include('client-node (user uses exec)');

    mkdirSync(join(dir, 'sa'));
    writeFileSync(join(dir, 'sa', 'token'), 'sa-token');
    writeFileSync(join(dir, 'sa', 'ca.crt'), 'SACA');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const c = await loadKubeAuth(undefined, env, join(dir, 'sa'), dir);
    expect(c.source).to.equal('in-cluster service account');
    expect(c.auth.getCurrentCluster()?.server).to.equal('https://10.0.0.1:443');
    const o: RequestOptions = {};
    await c.auth.applyToHTTPSOptions(o);
    expect(String(o.ca)).to.equal('SACA');
    expect(o.headers).to.deep.equal({ Authorization: 'Bearer sa-token' });

    // A KUBECONFIG variable, or ~/.kube/config, wins over the service account (as in client-node).
    const d = await loadKubeAuth(undefined, { ...env, KUBECONFIG: simple }, join(dir, 'sa'), dir);
    expect(d.source).to.equal('default kubeconfig through client-node');
  });
});
