import { expect } from 'chai';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { zstdCompressSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerFromDir, writeImage, sha256, type BuiltImage, type Layer } from '../../../scripts/image/oci.ts';
import { analyseImage } from './analyse.ts';
import { RegistryClient, parseChallenge, parseReference } from './registry.ts';

/**
 * A distribution API server in the test process, serving one image built with scripts/image/oci.ts
 * (GNU tar layers, gzip) under an index with an arm64 decoy, behind the chosen auth.
 */
interface FakeOptions {
  auth: 'none' | 'basic' | 'bearer';
  /** Serve this blob with one byte changed. */
  corrupt?: string;
  /** Answer the first requests with these statuses (429, 503…) before serving. */
  flaky?: number[];
}

function blobFile(img: BuiltImage, digest: string): string {
  return join(img.layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

async function fakeRegistry(
  img: BuiltImage,
  opts: FakeOptions,
): Promise<{ addr: string; log: string[]; close: () => Promise<void> }> {
  const log: string[] = [];
  const manifest = readFileSync(blobFile(img, img.manifest.digest));
  const decoy = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: img.config,
      layers: [],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(decoy),
          size: decoy.length,
          platform: { os: 'linux', architecture: 'arm64' },
        },
        { ...img.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );
  const manifests = new Map<string, Buffer>([
    ['1', index],
    [sha256(index), index],
    [img.manifest.digest, manifest],
    [sha256(decoy), decoy],
  ]);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(
      `${req.method} ${url.pathname}${req.headers.authorization ? ` (${req.headers.authorization.split(' ')[0]})` : ''}`,
    );
    if (url.pathname === '/token') {
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) {
        res.writeHead(401).end();
        return;
      }
      expect(url.searchParams.get('scope')).to.equal('repository:team/app:pull');
      expect(url.searchParams.get('service')).to.equal('fake');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-123' }));
      return;
    }
    const want =
      opts.auth === 'basic'
        ? `Basic ${Buffer.from('alice:s3cret').toString('base64')}`
        : opts.auth === 'bearer'
          ? 'Bearer tok-123'
          : undefined;
    if (want && req.headers.authorization !== want) {
      const addr = server.address() as AddressInfo;
      res
        .writeHead(401, {
          'www-authenticate':
            opts.auth === 'basic'
              ? 'Basic realm="fake"'
              : `Bearer realm="http://127.0.0.1:${addr.port}/token",service="fake",scope="repository:team/app:pull"`,
        })
        .end();
      return;
    }
    const flaky = opts.flaky?.shift();
    if (flaky !== undefined) {
      res.writeHead(flaky, flaky === 429 ? { 'retry-after': '0' } : {}).end('try later');
      return;
    }
    const m = /^\/v2\/team\/app\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (m?.[1] === 'manifests') {
      const body = manifests.get(m[2] ?? '');
      if (!body) {
        res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
        return;
      }
      const mediaType = (JSON.parse(body.toString('utf8')) as { mediaType: string }).mediaType;
      res.writeHead(200, { 'content-type': mediaType, 'docker-content-digest': sha256(body) }).end(body);
      return;
    }
    if (m?.[1] === 'blobs') {
      let body: Buffer;
      try {
        body = readFileSync(blobFile(img, m[2] ?? ''));
      } catch {
        res.writeHead(404).end();
        return;
      }
      if (opts.corrupt === m[2]) {
        body = Buffer.from(body);
        body[body.length - 20] = (body[body.length - 20] ?? 0) ^ 0xff;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Small writes so that the client sees many chunks.
      for (let i = 0; i < body.length; i += 1000) res.write(body.subarray(i, i + 1000));
      res.end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as AddressInfo;
  return { addr: `127.0.0.1:${addr.port}`, log, close: () => new Promise((r) => server.close(() => r())) };
}

describe('images/registry', function () {
  this.timeout(30_000);
  let dir: string;
  let img: BuiltImage;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-reg-'));
    const put = (root: string, path: string, text: string): void => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    const l1 = join(dir, 'l1');
    put(l1, 'etc/os-release', 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n');
    put(
      l1,
      'lib/apk/db/installed',
      'C:Q1x\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\n',
    );
    put(
      l1,
      'app/node_modules/a/package.json',
      '{"name":"a","version":"1.0.0","description":"gone by whiteout"}',
    );
    put(l1, 'app/node_modules/b/package.json', '{"name":"b","version":"2.0.0"}');
    put(l1, 'opt/x/node_modules/c/package.json', '{"name":"c","version":"3.0.0"}');
    const deep = `srv/${'very-long-directory-name/'.repeat(6)}node_modules/@scope/deep/package.json`;
    put(l1, deep, '{"name":"@scope/deep","version":"0.1.0-beta.1"}');
    const l2 = join(dir, 'l2');
    put(l2, 'app/node_modules/.wh.a', '');
    put(l2, 'opt/x/.wh..wh..opq', '');
    put(l2, 'opt/x/node_modules/d/package.json', '{"name":"d","version":"4.0.0"}');
    put(
      l2,
      'usr/lib/python3.12/site-packages/Foo_Bar-1.0.post1.dist-info/METADATA',
      'Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0.post1\n\nlong description\n',
    );
    const layout = join(dir, 'oci');
    mkdirSync(layout);
    img = writeImage(
      layout,
      [layerFromDir(layout, l1, 'l1'), layerFromDir(layout, l2, 'l2')],
      { user: '', env: [], entrypoint: [], cmd: [], workingDir: '/', exposedPorts: [], labels: {} },
      'app:1',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses references as container runtimes do', () => {
    expect(parseReference('nginx')).to.deep.equal({
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: 'latest',
    });
    expect(parseReference('localhost:5000/a/b:1')).to.deep.equal({
      registry: 'localhost:5000',
      repository: 'a/b',
      tag: '1',
    });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`ghcr.io/x/y@${d}`)).to.deep.equal({
      registry: 'ghcr.io',
      repository: 'x/y',
      digest: d,
    });
    expect(() => parseReference('ghcr.io/X/y')).to.throw(/not a repository name/);
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).to.deep.equal({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull',
      },
    });
  });

  it('anonymous: picks linux/amd64 from the index and applies whiteouts and opaque directories', async () => {
    const reg = await fakeRegistry(img, { auth: 'none' });
    try {
      const a = await analyseImage(`${reg.addr}/team/app:1`, new RegistryClient());
      expect(a.digest).to.equal(img.manifest.digest);
      expect(a.indexDigest).to.match(/^sha256:/);
      expect(
        a.inventory.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version} ${p.locations.join(',')}`),
      ).to.deep.equal([
        'Alpine:v3.19 libcrypto3 3.1.4-r5 /lib/apk/db/installed',
        'Alpine:v3.19 musl 1.2.4_git20230717-r4 /lib/apk/db/installed',
        `npm @scope/deep 0.1.0-beta.1 /srv/${'very-long-directory-name/'.repeat(6)}node_modules/@scope/deep/package.json`,
        'npm b 2.0.0 /app/node_modules/b/package.json',
        'npm d 4.0.0 /opt/x/node_modules/d/package.json',
        'PyPI Foo_Bar 1.0.post1 /usr/lib/python3.12/site-packages/Foo_Bar-1.0.post1.dist-info/METADATA',
      ]);
      const crypto = a.inventory.packages.find((p) => p.name === 'libcrypto3');
      expect([crypto?.source, crypto?.purl]).to.deep.equal([
        'openssl',
        'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1',
      ]);
      expect(a.inventory.packages.find((p) => p.name === '@scope/deep')?.purl).to.equal(
        'pkg:npm/%40scope/deep@0.1.0-beta.1',
      );
      expect(a.inventory.packages.find((p) => p.name === 'Foo_Bar')?.purl).to.equal(
        'pkg:pypi/foo-bar@1.0.post1',
      );
      expect(a.layers.map((l) => l.whiteouts)).to.deep.equal([0, 2]);
      expect(reg.log.filter((l) => l.includes('(')).length).to.equal(0);
    } finally {
      await reg.close();
    }
  });

  it('a loopback registry without TLS: concurrent first requests all fall back to plain HTTP', async () => {
    const reg = await fakeRegistry(img, { auth: 'none' });
    try {
      const client = new RegistryClient();
      const all = await Promise.all([1, 2, 3, 4].map(() => analyseImage(`${reg.addr}/team/app:1`, client)));
      expect(all.map((a) => a.digest)).to.deep.equal(Array(4).fill(img.manifest.digest));
    } finally {
      await reg.close();
    }
  });

  it('oci:DIR reads the same image from its OCI layout on disk, blobs digest-checked', async () => {
    const a = await analyseImage(`oci:${img.layout}`);
    expect(a.digest).to.equal(img.manifest.digest);
    expect(a.inventory.packages.map((p) => `${p.name}@${p.version}`)).to.have.members([
      'libcrypto3@3.1.4-r5',
      'musl@1.2.4_git20230717-r4',
      '@scope/deep@0.1.0-beta.1',
      'b@2.0.0',
      'd@4.0.0',
      'Foo_Bar@1.0.post1',
    ]);
    expect(a.bytes).to.equal(img.config.size + img.layers.reduce((n, l) => n + l.size, 0));
    const copy = join(dir, 'tampered');
    cpSync(img.layout, copy, { recursive: true });
    const l = img.layers[0]?.digest.slice('sha256:'.length) ?? '';
    const blob = join(copy, 'blobs', 'sha256', l);
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    writeFileSync(blob, bytes);
    let err: unknown;
    await analyseImage(`oci:${copy}`).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(
      /layer sha256:[0-9a-f]{64}: (blob .* hashes to|.*(incorrect|invalid|unexpected))/,
    );
  });

  it('zstd layers (Node zlib) and uncompressed tar layers are read like gzip ones', async () => {
    const src = join(dir, 'zstd-src');
    mkdirSync(join(src, 'app/node_modules/zz'), { recursive: true });
    writeFileSync(join(src, 'app/node_modules/zz/package.json'), '{"name":"zz","version":"9.9.9"}');
    mkdirSync(join(src, 'app/node_modules/plain'), { recursive: true });
    const tar = execFileSync('tar', ['--create', '--format=posix', '-C', src, 'app/node_modules/zz']);
    writeFileSync(join(src, 'app/node_modules/plain/package.json'), '{"name":"plain","version":"1.0.0"}');
    const plainTar = execFileSync('tar', ['--create', '--format=posix', '-C', src, 'app/node_modules/plain']);
    const layout = join(dir, 'zstd-oci');
    cpSync(img.layout, layout, { recursive: true });
    const blob = (data: Buffer, mediaType: string, comment: string): Layer => {
      const digest = sha256(data);
      writeFileSync(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
      return { mediaType, digest, size: data.length, diffId: sha256(tar), comment };
    };
    const zstdLayer = blob(zstdCompressSync(tar), 'application/vnd.oci.image.layer.v1.tar+zstd', 'zstd');
    const tarLayer = blob(plainTar, 'application/vnd.oci.image.layer.v1.tar', 'tar');
    const built = writeImage(
      layout,
      [...img.layers, zstdLayer, tarLayer],
      { user: '', env: [], entrypoint: [], cmd: [], workingDir: '/', exposedPorts: [], labels: {} },
      'zstd:1',
    );
    const a = await analyseImage(`oci:${built.layout}`);
    expect(a.layers.map((l) => l.mediaType.split('.').pop())).to.deep.equal([
      'tar+gzip',
      'tar+gzip',
      'tar+zstd',
      'tar',
    ]);
    expect(a.inventory.packages.map((p) => `${p.name}@${p.version}`)).to.include.members([
      'zz@9.9.9',
      'plain@1.0.0',
      'b@2.0.0',
    ]);
  });

  it('retries 429 (Retry-After) and 503 answers, then gives up with the status', async () => {
    const reg = await fakeRegistry(img, { auth: 'none', flaky: [429, 503, 429] });
    try {
      const client = new RegistryClient({ maxRetryDelayMs: 10 });
      const a = await analyseImage(`${reg.addr}/team/app:1`, client);
      expect(a.digest).to.equal(img.manifest.digest);
      expect(client.stats.retries).to.equal(3);
    } finally {
      await reg.close();
    }
    const down = await fakeRegistry(img, { auth: 'none', flaky: [503, 503, 503] });
    try {
      let err: unknown;
      await analyseImage(
        `${down.addr}/team/app:1`,
        new RegistryClient({ retries: 2, maxRetryDelayMs: 10 }),
      ).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/manifest 1 answered 503: try later/);
    } finally {
      await down.close();
    }
  });

  it('bearer: answers the challenge at the token endpoint with the credentials, once per repository', async () => {
    const reg = await fakeRegistry(img, { auth: 'bearer' });
    try {
      const client = new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
      const a = await analyseImage(`${reg.addr}/team/app:1`, client);
      expect(a.digest).to.equal(img.manifest.digest);
      expect(client.stats.tokenRequests).to.equal(1);
      expect(reg.log.filter((l) => l.startsWith('GET /token'))).to.deep.equal(['GET /token (Basic)']);
      const denied = new RegistryClient({ credentials: () => ({ username: 'alice', password: 'wrong' }) });
      let err: unknown;
      await analyseImage(`${reg.addr}/team/app:1`, denied).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/the token endpoint 127\.0\.0\.1:\d+ answered 401/);
    } finally {
      await reg.close();
    }
  });

  it('basic: sends the credentials after the challenge; without them says credentials are needed', async () => {
    const reg = await fakeRegistry(img, { auth: 'basic' });
    try {
      const a = await analyseImage(
        `${reg.addr}/team/app:1`,
        new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) }),
      );
      expect(a.inventory.packages).to.have.length(6);
      let err: unknown;
      await analyseImage(`${reg.addr}/team/app:1`, new RegistryClient()).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/asks for basic auth and no credentials were given/);
    } finally {
      await reg.close();
    }
  });

  it('fails a layer or config whose bytes do not hash to their digest', async () => {
    const layer = img.layers[1]?.digest ?? '';
    const reg = await fakeRegistry(img, { auth: 'none', corrupt: layer });
    try {
      let err: unknown;
      await analyseImage(`${reg.addr}/team/app:1`, new RegistryClient()).catch((e: unknown) => (err = e));
      expect(String(err)).to.contain(`layer ${layer}`);
      // gunzip's CRC check or the digest check, whichever sees the changed byte first
      expect(String(err)).to.match(/hashes to sha256:|incorrect header check|invalid|unexpected end/);
    } finally {
      await reg.close();
    }
    const reg2 = await fakeRegistry(img, { auth: 'none', corrupt: img.config.digest });
    try {
      let err: unknown;
      await analyseImage(`${reg2.addr}/team/app:1`, new RegistryClient()).catch((e: unknown) => (err = e));
      expect(String(err)).to.equal(
        `Error: blob ${img.config.digest}: the content hashes to ${sha256(
          (() => {
            const b = Buffer.from(readFileSync(blobFile(img, img.config.digest)));
            b[b.length - 20] = (b[b.length - 20] ?? 0) ^ 0xff;
            return b;
          })(),
        )}`,
      );
    } finally {
      await reg2.close();
    }
  });
});
