import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import type { Subject } from '../engine/types.ts';
import { RegistryClient } from '../images/registry.ts';
import {
  advisoriesModifiedAt,
  analyseReferences,
  imageReferences,
  registryClientFromFlags,
} from './images.ts';
import type { CliIO } from './io.ts';

const io = (env: Record<string, string> = {}): CliIO => ({
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: (async function* () {})(),
  env,
  cwd: process.cwd(),
});

describe('cli/images', () => {
  it('lists the images of every container kind once, as written', () => {
    const subjects: Subject[] = [
      {
        object: {
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: {
            initContainers: [{ name: 'i', image: 'init:1' }],
            containers: [{ name: 'a', image: 'app:1' }, { name: 'b', image: 'app:1' }, { name: 'c' }],
            ephemeralContainers: [{ name: 'd', image: 'debug:1' }],
          },
        },
      },
      {
        object: {
          kind: 'CronJob',
          metadata: { name: 'c' },
          spec: {
            jobTemplate: { spec: { template: { spec: { containers: [{ name: 'j', image: 'job:2' }] } } } },
          },
        },
      },
      { object: { kind: 'ConfigMap', metadata: { name: 'x' }, data: { image: 'not:me' } } },
    ];
    expect(imageReferences(subjects)).to.deep.equal(['init:1', 'app:1', 'debug:1', 'job:2']);
  });

  it('dates advisory data by its newest record', () => {
    expect(
      advisoriesModifiedAt([
        { id: 'a', modified: '2024-01-02T00:00:00Z' },
        { id: 'b', modified: '2025-03-04T05:06:07.5Z' },
        { id: 'c' },
        { id: 'd', modified: 'garbage' },
      ]),
    ).to.equal('2025-03-04T05:06:07.500Z');
    expect(advisoriesModifiedAt([{ id: 'a' }])).to.equal(undefined);
  });

  it('reads the registry flags: a password only from the environment, files named in errors', () => {
    expect(registryClientFromFlags({ username: 'u' }, io())).to.deep.equal({
      error: '--username needs the password in VIGIL_REGISTRY_PASSWORD',
      usage: true,
    });
    expect(registryClientFromFlags({ username: 'u' }, io({ VIGIL_REGISTRY_PASSWORD: 'p' }))).to.be.instanceOf(
      RegistryClient,
    );
    const missing = registryClientFromFlags({ 'registry-config': 'no/such/config.json' }, io());
    expect(missing).to.have.property('usage', false);
    expect((missing as { error: string }).error).to.match(
      /^--registry-config: ENOENT.*no\/such\/config\.json/,
    );
    expect((registryClientFromFlags({ ca: 'no/such/ca.pem' }, io()) as { error: string }).error).to.match(
      /^--ca: ENOENT/,
    );
  });

  describe('an image that cannot be read', () => {
    let server: Server;
    let port = 0;
    before(async () => {
      // A loopback port that accepts and closes at once: a registry that never answers.
      server = createServer((s) => s.destroy());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('becomes a not-analysed fact under every spelling, and the others go on', async () => {
      const refs = [`127.0.0.1:${port}/team/app:1`, 'Not A Reference'];
      const r = await analyseReferences(
        refs,
        new RegistryClient({ plainHttp: () => true, retries: 0 }),
        undefined,
      );
      expect([r.analysed, r.failed]).to.deep.equal([0, 2]);
      const app = r.facts.lookup(`127.0.0.1:${port}/team/app:1`);
      expect(app?.status).to.equal('not-analysed');
      expect(app?.reason).to.be.a('string').and.not.equal('');
      expect(r.facts.lookup('Not A Reference')?.reason).to.contain('is not a repository name');
      expect(r.facts.advisoriesUpdatedAt).to.equal(undefined);
    });
  });
});
