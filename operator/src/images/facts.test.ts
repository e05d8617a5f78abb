import { expect } from 'chai';
import type { ImageAnalysis } from './analyse.ts';
import { ImageFactsMap, digestOf, imageFacts, normaliseReference, notAnalysed } from './facts.ts';
import type { Package } from './packages.ts';
import type { Vulnerability } from './vulns.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

const lodash: Package = {
  type: 'npm',
  name: 'lodash',
  version: '4.17.15',
  ecosystem: 'npm',
  purl: 'pkg:npm/lodash@4.17.15',
  locations: ['/app/package-lock.json'],
};

function analysis(reference: string, digest: string): ImageAnalysis {
  return {
    reference,
    ref: { registry: 'docker.io', repository: 'library/app', digest },
    digest,
    layers: [],
    bytes: 0,
    keptBytes: 0,
    inventory: {
      os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      packages: [lodash],
      legacyGoBinaries: [],
      problems: [],
    },
    suspicious: [{ kind: 'setuid', path: '/x', detail: 'setuid file', severity: 'medium' }],
    image: {
      ref: { registry: 'docker.io', repository: 'library/app', digest },
      digest,
      manifest: { schemaVersion: 2, config: { mediaType: '', digest, size: 0 }, layers: [] },
      config: {},
    },
  };
}

const vuln: Vulnerability = {
  id: 'GHSA-35jh-r3h4-6jhm',
  aliases: ['CVE-2021-23337'],
  summary: 'Command Injection in lodash',
  package: lodash,
  installed: '4.17.15',
  fixed: '4.17.21',
  severity: 'high',
};

describe('images/facts', () => {
  it('turns an analysis and its vulnerabilities into ImageFacts', () => {
    const f = imageFacts(analysis(`docker.io/library/app@${D1}`, D1), [vuln]);
    expect(f).to.deep.equal({
      reference: `docker.io/library/app@${D1}`,
      digest: D1,
      status: 'analysed',
      packages: 1,
      os: 'debian 12',
      vulnerabilities: [
        {
          id: 'GHSA-35jh-r3h4-6jhm',
          aliases: ['CVE-2021-23337'],
          summary: 'Command Injection in lodash',
          package: 'lodash',
          ecosystem: 'npm',
          installed: '4.17.15',
          fixed: '4.17.21',
          severity: 'high',
        },
      ],
      suspicious: [{ kind: 'setuid', path: '/x', detail: 'setuid file', severity: 'medium' }],
    });
    expect(imageFacts(analysis('r', D1), [], []).suspicious).to.deep.equal([]);
  });

  it('says why an image was not analysed', () => {
    expect(notAnalysed('reg.example/app:1', 'pull secret not readable')).to.deep.equal({
      reference: 'reg.example/app:1',
      status: 'not-analysed',
      reason: 'pull secret not readable',
      vulnerabilities: [],
      suspicious: [],
    });
  });

  it('reads digests from imageIDs and normalises Docker Hub short names', () => {
    expect(digestOf(`docker-pullable://app@${D1}`)).to.equal(D1);
    expect(digestOf('app:1')).to.equal(undefined);
    expect(normaliseReference('nginx')).to.equal('docker.io/library/nginx:latest');
    expect(normaliseReference('docker.io/nginx:latest')).to.equal('docker.io/library/nginx:latest');
    expect(normaliseReference('Not A Ref')).to.equal('Not A Ref');
  });

  it('looks facts up by the pod status digest first, then the reference digest, then the reference', () => {
    const a = imageFacts(analysis(`docker.io/library/app@${D1}`, D1), [vuln]);
    const b = imageFacts(analysis(`docker.io/library/app@${D2}`, D2), []);
    const m = new ImageFactsMap({
      advisoriesUpdatedAt: '2026-12-01T00:00:00Z',
      advisoriesMaxAgeSeconds: 86400,
    });
    m.set(a, 'app:1').set(b, 'app:2');
    expect(m.lookup('app:1')).to.equal(a);
    expect(m.lookup('docker.io/library/app:1')).to.equal(a);
    // The kubelet ran D2 for a container that names app:1 (the tag moved): the digest wins.
    expect(m.lookup('app:1', `docker.io/library/app@${D2}`)).to.equal(b);
    expect(m.lookup(`app@${D2}`)).to.equal(b);
    expect(m.lookup('app:3')).to.equal(undefined);
    expect(m.lookup('app:3', `sha256:${'c'.repeat(64)}`)).to.equal(undefined);
    expect(m.advisoriesUpdatedAt).to.equal('2026-12-01T00:00:00Z');
    expect(m.advisoriesMaxAgeSeconds).to.equal(86400);
    expect(m.size).to.equal(2);
  });

  it('keeps analysed facts of a digest when another reference to it could not be read', () => {
    const a = imageFacts(analysis(`docker.io/library/app@${D1}`, D1), [vuln]);
    const m = new ImageFactsMap().set(a, 'app:1');
    m.set(notAnalysed('other/app:1', 'unauthorized', D1), 'other/app:1');
    expect(m.lookup('x', D1)).to.equal(a);
    expect(m.lookup('other/app:1')?.status).to.equal('not-analysed');
    expect(new ImageFactsMap().advisoriesUpdatedAt).to.equal(undefined);
  });
});
