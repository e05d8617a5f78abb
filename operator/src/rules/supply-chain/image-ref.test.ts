import { expect } from 'chai';
import { parseImageRef, registryAllowed, type ImageRef } from './image-ref.ts';

const SHA = 'sha256:' + 'a'.repeat(64);

function ok(s: string): ImageRef {
  const r = parseImageRef(s);
  if (!r.ok) throw new Error(`expected ${s} to parse: ${r.error}`);
  return r.ref;
}

describe('parseImageRef', () => {
  const valid: [string, Partial<ImageRef>][] = [
    [
      'nginx',
      {
        registry: 'docker.io',
        repository: 'library/nginx',
        tag: undefined,
        digest: undefined,
        implicitRegistry: true,
      },
    ],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['bitnami/redis:7.2', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7.2' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', implicitRegistry: false }],
    [
      'index.docker.io/library/nginx:latest',
      { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
    ],
    [
      'ghcr.io/acme/app:v1.2.3',
      { registry: 'ghcr.io', repository: 'acme/app', name: 'ghcr.io/acme/app', tag: 'v1.2.3' },
    ],
    [
      'registry.local:5000/team/app',
      { registry: 'registry.local:5000', repository: 'team/app', tag: undefined },
    ],
    ['registry.local:5000/team/app:2', { registry: 'registry.local:5000', repository: 'team/app', tag: '2' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app:dev', { registry: 'localhost:5000', repository: 'app', tag: 'dev' }],
    ['Registry/app', { registry: 'Registry', repository: 'app' }],
    ['10.0.0.1:5000/app', { registry: '10.0.0.1:5000', repository: 'app' }],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x' }],
    [`nginx@${SHA}`, { registry: 'docker.io', repository: 'library/nginx', tag: undefined, digest: SHA }],
    [`nginx:1.27@${SHA}`, { tag: '1.27', digest: SHA }],
    [
      `gcr.io/p/a/b/c:t_1.x-y@${SHA}`,
      { registry: 'gcr.io', repository: 'p/a/b/c', tag: 't_1.x-y', digest: SHA },
    ],
    ['a__b/c---d.e_f', { repository: 'a__b/c---d.e_f' }],
    // The same corner as the docker reference library: a single element is never a host.
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }],
  ];
  for (const [s, want] of valid)
    it(`parses ${s}`, () => {
      const ref = ok(s);
      for (const [k, v] of Object.entries(want)) expect(ref[k as keyof ImageRef], k).to.equal(v);
    });

  const invalid: unknown[] = [
    '',
    ' nginx',
    'nginx ',
    'NGINX',
    'Nginx:1',
    'ghcr.io/Acme/app',
    'nginx:',
    'nginx:-bad',
    'nginx:' + 'x'.repeat(129),
    'nginx@sha256:abc',
    `nginx@md5:${'a'.repeat(32)}`,
    `nginx@sha256:${'A'.repeat(64)}`,
    'a'.repeat(64),
    'registry.local:port/app',
    'bad_host.example.com/app',
    '-x.example.com/app',
    'example.com/',
    '/app',
    'a//b',
    'a/b/',
    'app..x',
    '{{ .Values.image }}',
    `${'a'.repeat(250)}/${'b'.repeat(10)}`,
    42,
    null,
    undefined,
    ['nginx'],
  ];
  for (const s of invalid)
    it(`rejects ${JSON.stringify(s)?.slice(0, 40)}`, () => {
      const r = parseImageRef(s);
      expect(r.ok).to.equal(false);
    });

  it('never throws on odd strings', () => {
    for (const s of [
      '@',
      ':',
      '@@',
      '::',
      '/:@',
      '[',
      '[::1',
      '[::1]x/a',
      'x@y@z',
      'a:b:c',
      '\u0000',
      '💥/💥',
    ])
      expect(() => parseImageRef(s)).not.to.throw();
  });
});

describe('registryAllowed', () => {
  const cases: [string, string, boolean][] = [
    ['nginx', 'docker.io', true],
    ['nginx', 'index.docker.io', true],
    ['nginx', 'registry-1.docker.io', true],
    ['nginx', 'ghcr.io', false],
    ['nginx', 'docker.io/library', true],
    ['bitnami/redis', 'docker.io/library', false],
    ['bitnami/redis', 'docker.io/bitnami', true],
    ['ghcr.io/acme/app', 'ghcr.io/acme', true],
    ['ghcr.io/acme/app', 'GHCR.IO/acme/', true],
    ['ghcr.io/acme-evil/app', 'ghcr.io/acme', false],
    ['ghcr.io/acme', 'ghcr.io/acme', true],
    ['registry.local:5000/app', 'registry.local', false],
    ['registry.local:5000/app', 'registry.local:5000', true],
    ['123.dkr.ecr.eu-west-1.amazonaws.com/app', '*.dkr.ecr.eu-west-1.amazonaws.com', true],
    ['123.dkr.ecr.eu-west-1.amazonaws.com.evil.io/app', '*.dkr.ecr.eu-west-1.amazonaws.com', false],
    ['ghcr.io/acme/app', 'https://ghcr.io/acme', true],
    ['ghcr.io/acme/app', '', false],
    ['ghcr.io.evil.com/app', 'ghcr.io', false],
  ];
  for (const [image, entry, want] of cases)
    it(`${image} vs ${JSON.stringify(entry)} → ${want}`, () => {
      expect(registryAllowed(ok(image), entry)).to.equal(want);
    });
});
