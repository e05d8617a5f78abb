import { expect } from 'chai';
import { registryNotAllowed } from './allowed-registries.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf } from '../workload/_testkit.ts';

const SHA = 'sha256:' + 'f'.repeat(64);

const cases: { name: string; images: unknown[]; allowed: string[]; hits: number }[] = [
  {
    name: 'empty allow-list passes everything',
    images: ['nginx', 'evil.example/x:1', 'NOT VALID'],
    allowed: [],
    hits: 0,
  },
  { name: 'blank entries count as empty', images: ['nginx'], allowed: ['', '  '], hits: 0 },
  { name: 'familiar name is Docker Hub', images: ['nginx:1.27'], allowed: ['docker.io'], hits: 0 },
  { name: 'familiar name is not ghcr', images: ['nginx:1.27'], allowed: ['ghcr.io'], hits: 1 },
  {
    name: 'user repo on Docker Hub',
    images: ['bitnami/redis:7.2.4'],
    allowed: ['docker.io/library'],
    hits: 1,
  },
  {
    name: 'host with port',
    images: ['registry.local:5000/team/app:1.0.0'],
    allowed: ['registry.local:5000'],
    hits: 0,
  },
  {
    name: 'host without port does not cover port',
    images: ['registry.local:5000/team/app:1.0.0'],
    allowed: ['registry.local'],
    hits: 1,
  },
  { name: 'digest reference', images: [`ghcr.io/acme/app@${SHA}`], allowed: ['ghcr.io/acme'], hits: 0 },
  { name: 'prefix boundary', images: ['ghcr.io/acme-evil/app:1.0.0'], allowed: ['ghcr.io/acme'], hits: 1 },
  {
    name: 'one allowed, one not',
    images: ['ghcr.io/acme/app:1.0.0', 'quay.io/x/y:1.0.0'],
    allowed: ['ghcr.io'],
    hits: 1,
  },
  { name: 'unparseable image fails closed', images: ['{{ .Values.image }}'], allowed: ['ghcr.io'], hits: 1 },
  { name: 'missing image fails closed', images: [undefined], allowed: ['ghcr.io'], hits: 1 },
  {
    name: 'ECR glob',
    images: ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.0.0'],
    allowed: ['*.dkr.ecr.eu-west-1.amazonaws.com'],
    hits: 0,
  },
];

describe('rule image-registry-not-allowed', () => {
  for (const c of cases)
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → ${c.hits}`, () => {
        const spec = { containers: c.images.map((image, i) => ctr({ image }, `c${i}`)) };
        expect(
          runRule(registryNotAllowed, w.wrap(spec), { params: { allowedRegistries: c.allowed } }),
        ).to.have.length(c.hits);
      });

  it('checks init and ephemeral containers', () => {
    const obj = deploymentOf({
      initContainers: [ctr({ image: 'busybox:1.36.1' }, 'init')],
      containers: [ctr({ image: 'ghcr.io/acme/app:1.0.0' })],
      ephemeralContainers: [ctr({ image: 'docker.io/nicolaka/netshoot:v0.13' }, 'dbg')],
    });
    expect(
      runRule(registryNotAllowed, obj, { params: { allowedRegistries: ['ghcr.io'] } }).map(
        (h) => h.container,
      ),
    ).to.deep.equal(['init', 'dbg']);
  });

  it('message names the container, image, normalised registry and field', () => {
    const [h] = runRule(registryNotAllowed, deploymentOf({ containers: [ctr({ image: 'nginx:1.27' })] }), {
      params: { allowedRegistries: ['ghcr.io'] },
    });
    expect(h?.message).to.equal(
      'container "app" image "nginx:1.27" comes from registry "docker.io" (docker.io/library/nginx), which is not in allowedRegistries (spec.template.spec.containers[0].image)',
    );
  });

  it('never throws on malformed input or params', () => {
    for (const m of MALFORMED) {
      expect(() =>
        runRule(registryNotAllowed, m, { params: { allowedRegistries: ['ghcr.io'] } }),
      ).not.to.throw();
      expect(() =>
        runRule(registryNotAllowed, m, { params: { allowedRegistries: 'ghcr.io' } }),
      ).not.to.throw();
    }
  });
});
