/**
 * The operator's image scanner against a real registry: Debian's docker-registry, started by this
 * test on a free loopback port with its own storage (and stopped by its pid), serving small
 * images built with scripts/image/oci.ts (GNU tar, gzip) and pushed over the distribution API.
 * Advisories are the real OSV fixture (operator/src/images/testdata/advisories.json).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerFromDir, push, writeImage } from '../../../scripts/image/oci.ts';
import { freePort } from '../../../e2e/controlplane/controlplane.ts';
import { realClock } from '../controller/clock.ts';
import { noopLogger } from '../controller/logger.ts';
import type { KubeObject } from '../engine/types.ts';
import { analyseImage } from '../images/analyse.ts';
import { createMetrics } from '../observability/metrics.ts';
import {
  ImageScanner,
  needsCredentials,
  pullSecretNames,
  serviceAccountOf,
  workloadImages,
  type ImageScannerOptions,
} from './images.ts';

const FIXTURE = new URL('../images/testdata/advisories.json', import.meta.url).pathname;
const D1 = `sha256:${'1'.repeat(64)}`;

describe('runtime/images: the images of a workload', () => {
  it('every container of a Pod, with the imageID its status reports, deduplicated', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: {
        imagePullSecrets: [{ name: 'regcred' }, {}],
        initContainers: [{ name: 'init', image: 'reg.example/init:1' }],
        containers: [
          { name: 'a', image: 'reg.example/app:1' },
          { name: 'b', image: 'reg.example/app:1' },
        ],
        ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
      },
      status: {
        containerStatuses: [
          { name: 'a', image: 'reg.example/app:1', imageID: `docker-pullable://reg.example/app@${D1}` },
          { name: 'b', image: 'reg.example/app:1', imageID: '' },
        ],
      },
    } as KubeObject;
    expect(workloadImages(pod)).to.deep.equal([
      { reference: 'reg.example/init:1' },
      { reference: 'reg.example/app:1', imageID: `docker-pullable://reg.example/app@${D1}` },
      { reference: 'reg.example/app:1' },
      { reference: 'busybox' },
    ]);
    expect(pullSecretNames(pod)).to.deep.equal(['regcred']);
  });

  it("pull secrets: the template's own, else its ServiceAccount's (as the admission plugin fills pods)", () => {
    const deploy = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'ns' },
      spec: { template: { spec: { containers: [{ name: 'a', image: 'r.example/a:1' }], ...spec } } },
    });
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'puller', namespace: 'ns' },
      imagePullSecrets: [{ name: 'from-sa' }, {}, { name: '' }],
    } as KubeObject;
    expect(serviceAccountOf(deploy({ serviceAccountName: 'puller' }))).to.equal('puller');
    expect(serviceAccountOf(deploy({ serviceAccount: 'legacy' }))).to.equal('legacy');
    expect(serviceAccountOf(deploy({}))).to.equal('default');
    expect(serviceAccountOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } })).to.equal(
      undefined,
    );
    // None of its own: the ServiceAccount's (names only).
    expect(pullSecretNames(deploy({ serviceAccountName: 'puller' }), sa)).to.deep.equal(['from-sa']);
    // Its own win: the admission plugin adds the ServiceAccount's only to pods that name none.
    expect(pullSecretNames(deploy({ imagePullSecrets: [{ name: 'own' }] }), sa)).to.deep.equal(['own']);
    // The ServiceAccount unknown (not cached yet): the template's, none.
    expect(pullSecretNames(deploy({}))).to.deep.equal([]);
  });

  it('the pod template of workloads (a CronJob two levels down); nothing for other kinds', () => {
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c', namespace: 'ns' },
      spec: {
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: 'x', image: 'r.example/job:2' }] } } },
        },
      },
    } as KubeObject;
    expect(workloadImages(cron)).to.deep.equal([{ reference: 'r.example/job:2' }]);
    expect(workloadImages({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } })).to.deep.equal([]);
  });

  it('knows the registry errors that mean "credentials are needed" (the RegistryClient wording)', () => {
    expect(needsCredentials('127.0.0.1:5443 asks for basic auth and no credentials were given')).to.equal(
      true,
    );
    expect(needsCredentials('r/x: access denied (401) anonymously; credentials are needed')).to.equal(true);
    expect(needsCredentials('127.0.0.1:5444: the token endpoint 127.0.0.1:5445 answered 401')).to.equal(true);
    expect(needsCredentials('r/x: access denied (401) with the credentials given')).to.equal(false);
    expect(needsCredentials('r/x:1: manifest 1 answered 404: …')).to.equal(false);
  });
});

describe('runtime/images: ImageScanner against a real docker-registry', function () {
  this.timeout(120_000);
  let dir: string;
  let registry: ChildProcess | undefined;
  let addr: string;
  /** tag → digest of what was pushed. */
  const pushed = new Map<string, string>();

  /** An image whose only package is lodash at `version` (npm: node_modules + lock). */
  async function pushLodash(repo: string, tag: string, version: string, extra = ''): Promise<string> {
    const root = join(dir, `${repo.replace('/', '_')}-${tag}`);
    const tree = join(root, 'tree');
    mkdirSync(join(tree, 'app/node_modules/lodash'), { recursive: true });
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\n');
    writeFileSync(
      join(tree, 'app/node_modules/lodash/package.json'),
      JSON.stringify({ name: 'lodash', version, description: extra }),
    );
    const layout = join(root, 'oci');
    mkdirSync(layout, { recursive: true });
    const img = writeImage(
      layout,
      [layerFromDir(layout, tree, 'app')],
      { user: '', env: [], entrypoint: [], cmd: [], workingDir: '/', exposedPorts: [], labels: {} },
      `${repo}:${tag}`,
    );
    const p = await push(img, addr, repo, tag);
    pushed.set(`${repo}:${tag}`, p.digest);
    return p.digest;
  }

  before(async () => {
    const bin = '/usr/bin/docker-registry';
    if (!existsSync(bin)) throw new Error(`this test needs ${bin} (scripts/setup.sh image installs it)`);
    dir = mkdtempSync(join(tmpdir(), 'vigil-scanner-'));
    addr = `127.0.0.1:${await freePort()}`;
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}\nhttp: {addr: "${addr}"}\n`,
    );
    registry = spawn(bin, ['serve', config], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://${addr}/v2/`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline || registry.exitCode !== null)
        throw new Error(`docker-registry did not answer on ${addr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await pushLodash('team/app', '1', '4.17.15');
    await pushLodash('team/app', '2', '4.17.21');
    for (let i = 0; i < 5; i++) await pushLodash('team/many', String(i), '4.17.15', `copy ${i}`);
  });

  after(() => {
    if (registry?.pid) process.kill(registry.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  function scanner(extra: Partial<ImageScannerOptions> = {}): {
    s: ImageScanner;
    requeued: string[];
    analyses: () => number;
    idle: () => Promise<void>;
  } {
    const requeued: string[] = [];
    let analyses = 0;
    const s: ImageScanner = new ImageScanner({
      clock: realClock,
      logger: noopLogger,
      requeue: (keys) => requeued.push(...keys),
      analyse: (ref, client) => {
        analyses++;
        return analyseImage(ref, client);
      },
      ...extra,
    });
    const idle = async (): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (s.pending() > 0) {
        if (Date.now() > deadline) throw new Error('analyses did not finish');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { s, requeued, analyses: () => analyses, idle };
  }

  const deny = { namespace: 'ns', pullSecrets: 'deny' as const, secretNames: [] };

  it('one analysis per digest however many subjects want it; each is enqueued again when it ends', async () => {
    const { s, requeued, analyses, idle } = scanner({ advisories: FIXTURE, advisoriesRefreshMs: 0 });
    await s.start();
    const ref = `${addr}/team/app:1`;
    expect(s.lookup(ref)).to.equal(undefined);
    s.want('Deployment/ns/a', [{ reference: ref }], deny);
    s.want('Pod/ns/b', [{ reference: ref }], deny);
    s.want(
      'Pod/ns/c',
      [{ reference: ref, imageID: `${addr}/team/app@${pushed.get('team/app:1') ?? ''}` }],
      deny,
    );
    await idle();
    // The tag and the digest the kubelet reported are the same image: read once.
    expect(analyses()).to.equal(1);
    expect(new Set(requeued)).to.deep.equal(new Set(['Deployment/ns/a', 'Pod/ns/b', 'Pod/ns/c']));
    const facts = s.lookup(ref);
    expect(facts?.status).to.equal('analysed');
    expect(facts?.digest).to.equal(pushed.get('team/app:1'));
    expect(facts?.reference).to.equal(`${addr}/team/app@${pushed.get('team/app:1') ?? ''}`);
    expect(facts?.packages).to.equal(1);
    expect(facts?.os).to.equal('debian 12');
    expect(facts?.vulnerabilities.map((v) => [v.id, v.package, v.installed, v.fixed])).to.deep.equal([
      ['GHSA-35jh-r3h4-6jhm', 'lodash', '4.17.15', '4.17.21'],
      ['GHSA-p6mc-m468-83gw', 'lodash', '4.17.15', '4.17.20'],
    ]);
    expect(s.lookup('other', `x@${pushed.get('team/app:1') ?? ''}`)).to.equal(facts);
    expect(s.advisoriesUpdatedAt).to.be.a('string');
    // Asked again: known, nothing read.
    s.want('Pod/ns/b', [{ reference: ref }], deny);
    await idle();
    expect(analyses()).to.equal(1);
    // The fixed image (another tag, a new digest) has no match.
    s.want('Deployment/ns/a', [{ reference: `${addr}/team/app:2` }], deny);
    await idle();
    expect(s.lookup(`${addr}/team/app:2`)?.vulnerabilities).to.deep.equal([]);
    s.stop();
  });

  it('runs at most `concurrency` analyses at a time and keeps at most `cacheSize` images', async () => {
    const { s, analyses, idle } = scanner({ concurrency: 2, cacheSize: 3 });
    const refs = [0, 1, 2, 3, 4].map((i) => ({ reference: `${addr}/team/many:${i}` }));
    s.want('Deployment/ns/many', refs, deny);
    expect(s.pending()).to.equal(5);
    await idle();
    expect(analyses()).to.equal(5);
    expect(s.stats.maxRunning).to.equal(2);
    expect(s.cached()).to.equal(3);
    // The least recently used went first.
    expect(s.lookup(`${addr}/team/many:0`)).to.equal(undefined);
    expect(s.lookup(`${addr}/team/many:4`)?.status).to.equal('analysed');
  });

  it('an image it cannot read is not analysed, with the registry’s reason; not retried before its re-check', async () => {
    const { s, requeued, analyses, idle } = scanner();
    const ref = `${addr}/team/absent:1`;
    s.want('Pod/ns/x', [{ reference: ref }], deny);
    await idle();
    const f = s.lookup(ref);
    expect(f?.status).to.equal('not-analysed');
    expect(f?.reason).to.match(/team\/absent:1: manifest 1 answered 404/);
    expect(requeued).to.deep.equal(['Pod/ns/x']);
    expect(s.stats.failures).to.equal(1);
    s.want('Pod/ns/x', [{ reference: ref }], deny);
    await idle();
    expect(s.stats.failures).to.equal(1);
    expect(analyses()).to.equal(0);
  });

  it('new advisories re-match the cached inventories without reading a layer; a failed refresh keeps them', async () => {
    const source = join(dir, 'advisories.json');
    writeFileSync(source, '[]');
    const { s, requeued, analyses, idle } = scanner({ advisories: source, advisoriesRefreshMs: 0 });
    await s.start();
    const ref = `${addr}/team/app:1`;
    s.want('Deployment/ns/a', [{ reference: ref }], deny);
    await idle();
    expect(s.lookup(ref)?.vulnerabilities).to.deep.equal([]);
    const firstLoad = s.advisoriesUpdatedAt;
    await new Promise((r) => setTimeout(r, 5));
    writeFileSync(source, JSON.stringify(JSON.parse(readFixture())));
    requeued.length = 0;
    expect(await s.refresh()).to.equal(true);
    expect(analyses()).to.equal(1);
    expect(s.stats.rematches).to.equal(1);
    expect(requeued).to.deep.equal(['Deployment/ns/a']);
    expect(s.lookup(ref)?.vulnerabilities.map((v) => v.id)).to.deep.equal([
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-p6mc-m468-83gw',
    ]);
    expect(s.advisoriesUpdatedAt).to.not.equal(firstLoad);
    const loaded = s.advisoriesUpdatedAt;
    writeFileSync(source, '{not json');
    expect(await s.refresh()).to.equal(false);
    expect(s.stats.refreshErrors).to.equal(1);
    expect(s.advisoriesUpdatedAt).to.equal(loaded);
    expect(s.lookup(ref)?.vulnerabilities).to.have.length(2);
    expect(s.advisoriesAgeSeconds()).to.be.within(0, 60);
  });

  it('a subject that no longer wants an image is not enqueued when it ends', async () => {
    const { s, requeued, idle } = scanner();
    s.want('Pod/ns/gone', [{ reference: `${addr}/team/app:2` }], deny);
    s.forget('Pod/ns/gone');
    await idle();
    expect(requeued).to.deep.equal([]);
    expect(s.subjects()).to.equal(0);
  });

  it('pull secrets are not read when the policy denies it', async () => {
    const reads: string[] = [];
    const { s, idle } = scanner({
      readSecret: (ns, name) => {
        reads.push(`${ns}/${name}`);
        return Promise.reject(new Error('not to be read'));
      },
    });
    s.want('Pod/ns/x', [{ reference: `${addr}/team/app:2` }], {
      namespace: 'ns',
      pullSecrets: 'deny',
      secretNames: ['regcred'],
    });
    await idle();
    expect(reads).to.deep.equal([]);
    expect(s.lookup(`${addr}/team/app:2`)?.status).to.equal('analysed');
  });

  it('counts analyses and their time in the operator’s metrics registry', async () => {
    const m = createMetrics({ ruleLabel: false, version: 't' });
    const { s, idle } = scanner({
      hooks: { analysed: (r, sec) => m.imageAnalysed(r, sec) },
      advisories: FIXTURE,
      advisoriesRefreshMs: 0,
    });
    m.observeAdvisoriesAge(() => s.advisoriesAgeSeconds());
    expect(await m.registry.metrics()).to.match(/^vigil_advisories_age_seconds -1$/m);
    await s.start();
    s.want('Pod/ns/a', [{ reference: `${addr}/team/app:2` }, { reference: `${addr}/team/absent:3` }], deny);
    await idle();
    const text = await m.registry.metrics();
    expect(text).to.match(/^vigil_images_analysed_total\{result="analysed"\} 1$/m);
    expect(text).to.match(/^vigil_images_analysed_total\{result="failed"\} 1$/m);
    expect(text).to.match(/^vigil_image_analysis_seconds_count\{result="analysed"\} 1$/m);
    expect(text).to.match(/^vigil_advisories_age_seconds \d/m);
    s.stop();
  });
});

function readFixture(): string {
  return readFileSync(FIXTURE, 'utf8');
}
