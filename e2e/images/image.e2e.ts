/**
 * Image analysis end to end: the test images of scripts/image/test-image.ts (real Debian, npm,
 * PyPI and Go packages at chosen versions) built here, pushed to the local registry (Debian's
 * docker-registry on 127.0.0.1:5000, started if none answers), read back over the distribution
 * API, and matched against the real advisory fixture.
 *
 *   E2E_SPEC=e2e/images/image.e2e.ts bash scripts/test-e2e.sh   (part of make test-e2e)
 *
 * REGISTRY, VIGIL_AUTH_REGISTRY, VIGIL_TOKEN_REGISTRY and VIGIL_TOKEN_SERVER (host:port) move the
 * registries from their default ports, for a worktree beside one whose registries hold them.
 *
 * The auth path: a second docker-registry over TLS with htpasswd basic auth (auth-registry.ts) on
 * 127.0.0.1:5443 serves the same storage read-only; a third (token-registry.ts) on 127.0.0.1:5444 uses
 * the distribution token protocol with a token server on 127.0.0.1:5445 run by this test.
 *
 * Needs: /usr/bin/docker-registry, npm, pip, go, unzip, openssl, apt-get (scripts/setup.sh image); network
 * to the npm registry, PyPI and the Go module proxy on the first build (then cached).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAuthRegistry, type AuthRegistry } from '../../scripts/image/auth-registry.ts';
import {
  pushSuspiciousImage,
  pushTestImages,
  type PushedTestImages,
  type TestImage,
} from '../../scripts/image/test-image.ts';
import {
  TOKEN_SERVER,
  ensureTokenRegistry,
  startTokenServer,
  type TokenRegistry,
  type TokenServer,
} from '../../scripts/image/token-registry.ts';
import { main } from '../../operator/src/cli/main.ts';
import type { CliIO } from '../../operator/src/cli/io.ts';
import type { JsonReport } from '../../operator/src/cli/output/json.ts';
import { analyseImage } from '../../operator/src/images/analyse.ts';
import { AdvisoryIndex, loadAdvisories } from '../../operator/src/images/osv.ts';
import { RegistryClient } from '../../operator/src/images/registry.ts';
import { findVulnerabilities } from '../../operator/src/images/vulns.ts';

const FIXTURE = new URL('../../operator/src/images/testdata/advisories.json', import.meta.url).pathname;

/**
 * What the fixture says about the vulnerable image, read off the records by hand: advisory, the
 * package it names, and the first fixed version above the installed one.
 */
const EXPECTED = [
  ['GHSA-35jh-r3h4-6jhm', 'lodash', '4.17.21'],
  ['GHSA-p6mc-m468-83gw', 'lodash', '4.17.20'],
  ['GHSA-vh95-rmgr-6w4m', 'minimist', '1.2.3'],
  ['GHSA-xvch-5gv4-984h', 'minimist', '1.2.6'],
  ['GHSA-mh33-7rrq-662w', 'urllib3', '1.24.2'],
  ['GO-2021-0113', 'golang.org/x/text', '0.3.7'],
  ['GO-2022-0956', 'gopkg.in/yaml.v2', '2.2.4'],
];

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin: (async function* () {})(),
      env: {},
      cwd: process.cwd(),
    },
    out: () => out,
    err: () => err,
  };
}

describe('images e2e: test images in a real registry', function () {
  this.timeout(300_000);
  let images: PushedTestImages;
  const index = new AdvisoryIndex(loadAdvisories(FIXTURE));

  before(async () => {
    images = await pushTestImages();
  });

  it('lists the packages of every layer, minus what a whiteout deleted', async () => {
    const a = await analyseImage(images.vulnerable.reference, new RegistryClient());
    expect(a.digest).to.equal(images.vulnerable.image.manifest.digest);
    const got = a.inventory.packages.map((p) => `${p.type} ${p.name} ${p.version}`);
    const debs = ['zlib1g', 'liblz4-1'].map(
      (p) =>
        `deb ${p} ${execFileSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' }).trim()}`,
    );
    const goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' })
      .trim()
      .replace(/^go/, '');
    expect(got.sort()).to.deep.equal(
      [
        ...debs,
        'npm lodash 4.17.15',
        'npm minimist 1.2.0',
        'pypi urllib3 1.24.1',
        'golang golang.org/x/text v0.3.6',
        'golang gopkg.in/yaml.v2 v2.2.2',
        `golang stdlib ${goVersion}`,
      ].sort(),
    );
    expect(got.some((p) => p.includes('left-pad'))).to.equal(false);
    expect(a.inventory.os?.id).to.equal('debian');
    expect(a.layers.map((l) => l.whiteouts)).to.deep.equal([0, 0, 0, 0, 1]);
    process.stderr.write(
      `      vulnerable image: ${a.layers.length} layers, ${a.bytes} bytes read, ${a.keptBytes} bytes kept, ${a.inventory.packages.length} packages\n`,
    );
  });

  it('matches the fixture: the expected advisories and fixed versions, no false positive or negative', async () => {
    const a = await analyseImage(images.vulnerable.reference, new RegistryClient());
    const vulns = findVulnerabilities(a.inventory, index);
    const got = vulns.map((v) => [v.id, v.package.name, v.fixed ?? '']);
    const key = (r: string[]): string => r.join(' ');
    const falsePositives = got.filter((g) => !EXPECTED.some((e) => key(e) === key(g)));
    const falseNegatives = EXPECTED.filter((e) => !got.some((g) => key(e) === key(g)));
    process.stderr.write(
      `      ${new Set(vulns.map((v) => v.id)).size} of ${index.size} advisory records matched; ${falsePositives.length} false positives, ${falseNegatives.length} false negatives\n`,
    );
    expect(falsePositives).to.deep.equal([]);
    expect(falseNegatives).to.deep.equal([]);
    const lodash = vulns.find((v) => v.id === 'GHSA-35jh-r3h4-6jhm');
    expect(lodash?.aliases).to.deep.equal(['CVE-2021-23337']);
    expect(lodash?.installed).to.equal('4.17.15');
  });

  it('the fixed image has a new digest and no match', async () => {
    const a = await analyseImage(images.fixed.reference, new RegistryClient());
    expect(a.digest).to.not.equal(images.vulnerable.image.manifest.digest);
    expect(findVulnerabilities(a.inventory, index)).to.deep.equal([]);
    expect(a.inventory.packages.find((p) => p.name === 'lodash')?.version).to.equal('4.17.21');
  });

  it('vigil sbom -o json prints a CycloneDX 1.5 BOM with purls and the vulnerabilities', async () => {
    const c = capture();
    const code = await main(
      ['sbom', images.vulnerable.reference, '-o', 'json', '--advisories', FIXTURE],
      c.io,
    );
    expect(c.err()).to.equal('');
    expect(code).to.equal(1);
    const bom = JSON.parse(c.out()) as {
      bomFormat: string;
      specVersion: string;
      metadata: { component: { version: string } };
      components: { purl?: string; type: string }[];
      vulnerabilities: { id: string; affects: { ref: string }[] }[];
    };
    expect([bom.bomFormat, bom.specVersion]).to.deep.equal(['CycloneDX', '1.5']);
    expect(bom.metadata.component.version).to.equal(images.vulnerable.image.manifest.digest);
    const purls = bom.components.map((x) => x.purl);
    expect(purls).to.include.members([
      'pkg:npm/lodash@4.17.15',
      'pkg:pypi/urllib3@1.24.1',
      'pkg:golang/golang.org/x/text@v0.3.6',
      'pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12',
    ]);
    expect(bom.components.filter((x) => x.type === 'operating-system')).to.have.length(1);
    expect(bom.vulnerabilities.map((v) => v.id).sort()).to.deep.equal(EXPECTED.map((e) => e[0]).sort());
    expect(bom.vulnerabilities.find((v) => v.id === 'GO-2021-0113')?.affects).to.deep.equal([
      { ref: 'pkg:golang/golang.org/x/text@v0.3.6' },
    ]);
    // The same image gives the same bytes (no timestamp, serial from the digest).
    const again = capture();
    await main(['sbom', images.vulnerable.reference, '-o', 'json', '--advisories', FIXTURE], again.io);
    expect(again.out()).to.equal(c.out());
  });

  it('vigil sbom (table) names the packages and counts the matches', async () => {
    const c = capture();
    const code = await main(['sbom', images.vulnerable.reference, '--advisories', FIXTURE], c.io);
    expect(code).to.equal(1);
    expect(c.out()).to.match(/^npm\s+lodash\s+4\.17\.15\s+\/app\/node_modules\/lodash\/package\.json$/m);
    expect(c.out()).to.match(
      /^high\s+urllib3\s+1\.24\.1\s+1\.24\.2\s+GHSA-mh33-7rrq-662w\s+CVE-2019-11324$/m,
    );
    expect(c.out()).to.contain('7 vulnerabilities (7 advisories) in 5 packages; 14 advisory records loaded');
    const missing = capture();
    expect(await main(['sbom', '127.0.0.1:5000/vigil-test/absent:1'], missing.io)).to.equal(2);
    expect(missing.err()).to.match(
      /vigil sbom: 127\.0\.0\.1:5000\/vigil-test\/absent:1: manifest 1 answered 404/,
    );
  });

  describe('vigil scan --images', () => {
    let suspicious: TestImage & { reference: string };
    let dir: string;
    const IMAGE_RULES = ['image-vulnerabilities', 'image-suspicious-content', 'image-not-analysed'];

    /** Manifests naming the test images: vulnerable behind a LoadBalancer, fixed, suspicious, absent. */
    function manifests(): string {
      const deployment = (name: string, image: string, labels: string): string =>
        [
          'apiVersion: apps/v1',
          'kind: Deployment',
          `metadata: {name: ${name}, namespace: shop}`,
          'spec:',
          `  selector: {matchLabels: {app: ${labels}}}`,
          '  template:',
          `    metadata: {labels: {app: ${labels}}}`,
          '    spec:',
          '      containers:',
          `      - {name: app, image: "${image}"}`,
        ].join('\n');
      return [
        deployment('web', images.vulnerable.reference, 'web'),
        // The same image under another spelling of the digest it resolves to: analysed once.
        deployment(
          'web-pinned',
          `${images.vulnerable.reference.replace(/:1$/, '')}@${images.vulnerable.image.manifest.digest}`,
          'pinned',
        ),
        deployment('api', images.fixed.reference, 'api'),
        deployment('odd', suspicious.reference, 'odd'),
        deployment('gone', images.fixed.reference.replace('/fixed:1', '/absent:1'), 'gone'),
        'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}',
      ].join('\n---\n');
    }

    before(async () => {
      suspicious = await pushSuspiciousImage();
      dir = mkdtempSync(join(tmpdir(), 'vigil-scan-images-'));
      writeFileSync(join(dir, 'shop.yaml'), `${manifests()}\n`);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function scanJson(args: string[]): Promise<{ code: number; report: JsonReport; err: string }> {
      const c = capture();
      const code = await main(['scan', '-o', 'json', ...args, join(dir, 'shop.yaml')], c.io);
      return { code, report: JSON.parse(c.out()) as JsonReport, err: c.err() };
    }

    it('reports the vulnerable image’s advisories with fixed versions, raised for the exposed workload; none for the fixed image', async () => {
      const { code, report, err } = await scanJson(['--images', '--advisories', FIXTURE]);
      expect(err).to.equal(
        'vigil scan: note: 3 images analysed, 1 could not be (reported as image-not-analysed)\n',
      );
      expect(code).to.equal(1);
      const vulns = (name: string): string[][] =>
        report.findings
          .filter((f) => f.ruleId === 'image-vulnerabilities' && f.resource.name === name)
          .map((f) => {
            const m = /: (\S+) \S+ has ([^ ,]+)[^,]*, fixed in (\S+)/.exec(f.message);
            return [m?.[2] ?? f.message, m?.[1] ?? '', m?.[3] ?? ''];
          });
      const sorted = (rows: string[][]): string[] => rows.map((r) => r.join(' ')).sort();
      const want = sorted(EXPECTED.map(([id, pkg, fixed]) => [id ?? '', pkg ?? '', fixed ?? '']));
      expect(sorted(vulns('web'))).to.deep.equal(want);
      expect(sorted(vulns('web-pinned'))).to.deep.equal(want);
      expect(vulns('api')).to.deep.equal([]);
      expect(vulns('odd')).to.deep.equal([]);
      const web = report.findings.filter(
        (f) => f.ruleId === 'image-vulnerabilities' && f.resource.name === 'web',
      );
      const pinned = report.findings.filter(
        (f) => f.ruleId === 'image-vulnerabilities' && f.resource.name === 'web-pinned',
      );
      // Reachable through the LoadBalancer with no NetworkPolicy: one step above the same advisory elsewhere.
      for (const f of web)
        expect(f.message).to.contain(
          'reachable from outside the cluster (Service "web" (LoadBalancer)) and no NetworkPolicy isolates it',
        );
      const rank = ['info', 'low', 'medium', 'high', 'critical'];
      const level = (fs: typeof web): number[] => fs.map((f) => rank.indexOf(f.severity)).sort();
      expect(level(web)).to.deep.equal(level(pinned).map((l) => Math.min(4, l + 1)));
      expect(web.find((f) => f.message.includes('GHSA-35jh-r3h4-6jhm'))?.message).to.contain(
        'GHSA-35jh-r3h4-6jhm / CVE-2021-23337, fixed in 4.17.21',
      );
      expect(web.every((f) => f.location.field === 'spec.template.spec.containers[0].image')).to.equal(true);
      const counts = new Map<string, number>();
      for (const f of report.findings)
        if (IMAGE_RULES.includes(f.ruleId)) counts.set(f.ruleId, (counts.get(f.ruleId) ?? 0) + 1);
      process.stderr.write(`      scan --images: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    });

    it('reports the suspicious image’s miner, pools, setuid file and keys, the deleted key too', async () => {
      const { report } = await scanJson(['--images']);
      const got = report.findings
        .filter((f) => f.ruleId === 'image-suspicious-content')
        .map(
          (f) => `${f.resource.name} ${f.severity} ${/: (\S+ at \S+):/.exec(f.message)?.[1] ?? f.message}`,
        );
      expect(got.sort()).to.deep.equal(
        [
          'odd critical miner at /usr/local/bin/xmrig',
          'odd critical mining-pool at /opt/start.sh',
          'odd critical mining-pool at entrypoint',
          'odd high private-key at /app/deploy.pem',
          'odd high private-key at /root/.ssh/id_ed25519',
          'odd medium setuid at /usr/local/bin/helper',
        ].sort(),
      );
      const deleted = report.findings.find((f) => f.message.includes('/app/deploy.pem'));
      expect(deleted?.message).to.contain('deleted by layer 3 but still in the earlier layer');
    });

    it('reports an image that cannot be read as not analysed, with the registry’s answer', async () => {
      const { report } = await scanJson(['--images']);
      const gone = report.findings.filter((f) => f.ruleId === 'image-not-analysed');
      expect(gone.map((f) => f.resource.name)).to.deep.equal(['gone']);
      expect(gone[0]?.severity).to.equal('low');
      expect(gone[0]?.message).to.match(/was not analysed: .*manifest 1 answered 404/);
    });

    it('reads the images through a TLS registry with --registry-config and --ca', async () => {
      const auth = await ensureAuthRegistry();
      const cfgDir = mkdtempSync(join(tmpdir(), 'vigil-scan-cfg-'));
      try {
        const cfg = join(cfgDir, 'config.json');
        writeFileSync(
          cfg,
          JSON.stringify({
            auths: {
              [auth.addr]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') },
            },
          }),
        );
        writeFileSync(
          join(cfgDir, 'app.yaml'),
          `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - {name: app, image: "${auth.addr}/vigil-test/vulnerable:1"}\n`,
        );
        const c = capture();
        const code = await main(
          [
            'scan',
            '-o',
            'json',
            '--images',
            '--advisories',
            FIXTURE,
            '--registry-config',
            cfg,
            '--ca',
            auth.caFile,
            join(cfgDir, 'app.yaml'),
          ],
          c.io,
        );
        expect(code).to.equal(1);
        const report = JSON.parse(c.out()) as JsonReport;
        expect(report.findings.filter((f) => f.ruleId === 'image-vulnerabilities')).to.have.length(
          EXPECTED.length,
        );
        const denied = capture();
        await main(
          ['scan', '-o', 'json', '--images', '--ca', auth.caFile, join(cfgDir, 'app.yaml')],
          denied.io,
        );
        const na = (JSON.parse(denied.out()) as JsonReport).findings.filter(
          (f) => f.ruleId === 'image-not-analysed',
        );
        expect(na.map((f) => f.message)).to.have.length(1);
        expect(na[0]?.message).to.contain('asks for basic auth and no credentials were given');
      } finally {
        rmSync(cfgDir, { recursive: true, force: true });
      }
    });

    it('without --images, the same manifests give no image content finding and no note', async () => {
      const { report, err } = await scanJson([]);
      expect(err).to.equal('');
      expect(report.findings.filter((f) => IMAGE_RULES.includes(f.ruleId))).to.deep.equal([]);
      const c = capture();
      expect(await main(['scan', '--advisories', FIXTURE, join(dir, 'shop.yaml')], c.io)).to.equal(2);
      expect(c.err()).to.contain('vigil scan: --advisories needs --images');
    });
  });

  describe('through a TLS registry with basic auth (docker-registry htpasswd)', () => {
    let auth: AuthRegistry;
    before(async () => {
      auth = await ensureAuthRegistry();
    });

    it('reads the same image with credentials and the CA; refuses without them', async () => {
      const ref = `${auth.addr}/vigil-test/vulnerable:1`;
      const ok = await analyseImage(
        ref,
        new RegistryClient({
          ca: auth.ca,
          credentials: () => ({ username: auth.username, password: auth.password }),
        }),
      );
      expect(ok.digest).to.equal(images.vulnerable.image.manifest.digest);
      expect(findVulnerabilities(ok.inventory, index)).to.have.length(EXPECTED.length);
      const errorOf = (client: RegistryClient): Promise<string> =>
        analyseImage(ref, client).then(
          () => 'no error',
          (e: unknown) => String(e),
        );
      expect(await errorOf(new RegistryClient({ ca: auth.ca }))).to.equal(
        `Error: ${auth.addr} asks for basic auth and no credentials were given`,
      );
      expect(
        await errorOf(
          new RegistryClient({
            ca: auth.ca,
            credentials: () => ({ username: auth.username, password: 'wrong' }),
          }),
        ),
      ).to.equal(`Error: ${auth.addr}/vigil-test/vulnerable: access denied (401) with the credentials given`);
      expect(
        await errorOf(
          new RegistryClient({ credentials: () => ({ username: auth.username, password: auth.password }) }),
        ),
      ).to.match(/self-signed certificate/);
    });

    it('vigil sbom --username with VIGIL_REGISTRY_PASSWORD and --ca', async () => {
      const c = capture();
      const io = { ...c.io, env: { VIGIL_REGISTRY_PASSWORD: auth.password } };
      const code = await main(
        [
          'sbom',
          `${auth.addr}/vigil-test/fixed:1`,
          '--username',
          auth.username,
          '--ca',
          auth.caFile,
          '--advisories',
          FIXTURE,
        ],
        io,
      );
      expect(c.err()).to.equal('');
      expect(code).to.equal(0);
      expect(c.out()).to.contain(
        '0 vulnerabilities (0 advisories) in 0 packages; 14 advisory records loaded',
      );
    });

    it('vigil sbom --registry-config takes the credentials from a Docker config (pull secret shape)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-dockercfg-'));
      try {
        const file = join(dir, 'config.json');
        const config = (user: string, password: string): string =>
          JSON.stringify({
            auths: {
              [`https://${auth.addr}/v2/`]: { auth: Buffer.from(`${user}:${password}`).toString('base64') },
            },
          });
        writeFileSync(file, config(auth.username, auth.password));
        const ok = capture();
        const args = [
          'sbom',
          `${auth.addr}/vigil-test/vulnerable:1`,
          '--registry-config',
          file,
          '--ca',
          auth.caFile,
          '-o',
          'json',
        ];
        expect(await main(args, ok.io)).to.equal(0);
        const bom = JSON.parse(ok.out()) as { metadata: { component: { version: string } } };
        expect(bom.metadata.component.version).to.equal(images.vulnerable.image.manifest.digest);
        writeFileSync(file, config(auth.username, 'wrong'));
        const denied = capture();
        expect(await main(args, denied.io)).to.equal(2);
        expect(denied.err()).to.contain('access denied (401) with the credentials given');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('through a TLS registry with bearer tokens (docker-registry auth: token)', () => {
    let reg: TokenRegistry;
    let tokens: TokenServer;
    before(async () => {
      reg = await ensureTokenRegistry();
      tokens = await startTokenServer(reg);
    });
    after(async () => {
      await tokens.close();
    });

    it('follows the challenge to the token endpoint, one token per repository, and reads the image', async () => {
      const client = new RegistryClient({
        ca: reg.ca,
        credentials: () => ({ username: reg.username, password: reg.password }),
      });
      const a = await analyseImage(`${reg.addr}/vigil-test/vulnerable:1`, client);
      expect(a.digest).to.equal(images.vulnerable.image.manifest.digest);
      expect(findVulnerabilities(a.inventory, index)).to.have.length(EXPECTED.length);
      expect(client.stats.tokenRequests).to.equal(1);
      expect(tokens.log).to.deep.include([reg.username, 'repository:vigil-test/vulnerable:pull', 200]);
    });

    it('a wrong password or none is refused by the token endpoint, and said so', async () => {
      const errorOf = (client: RegistryClient): Promise<string> =>
        analyseImage(`${reg.addr}/vigil-test/fixed:1`, client).then(
          () => 'no error',
          (e: unknown) => String(e),
        );
      const wrong = await errorOf(
        new RegistryClient({
          ca: reg.ca,
          credentials: () => ({ username: reg.username, password: 'wrong' }),
        }),
      );
      expect(wrong).to.equal(`Error: ${reg.addr}: the token endpoint ${TOKEN_SERVER} answered 401`);
      expect(await errorOf(new RegistryClient({ ca: reg.ca }))).to.equal(wrong);
    });
  });
});
