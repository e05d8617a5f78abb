import { expect } from 'chai';
import type { ImageFacts, ImageVulnerability, KubeObject } from '../../engine/types.ts';
import { ImageFactsMap, notAnalysed } from '../../images/facts.ts';
import { DENY_ALL_INGRESS, networkPolicy, service, ingress, workload } from '../network/_testkit.ts';
import { clusterVersion } from '../platform/_testkit.ts';
import { deployment, pod, runRule } from '../testing.ts';
import {
  imageAdvisoriesStale,
  imageNotAnalysed,
  imageSuspiciousContent,
  imageVulnerabilities,
} from './image-contents.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REF = 'registry.example/app:1.0';

const lodash: ImageVulnerability = {
  id: 'GHSA-35jh-r3h4-6jhm',
  aliases: ['CVE-2021-23337'],
  summary: 'Command Injection in lodash',
  package: 'lodash',
  ecosystem: 'npm',
  installed: '4.17.15',
  fixed: '4.17.21',
  severity: 'high',
};
const yaml: ImageVulnerability = {
  id: 'GO-2022-0956',
  aliases: ['CVE-2022-3064', 'GHSA-6q6q-88xp-6f2r'],
  package: 'gopkg.in/yaml.v2',
  ecosystem: 'Go',
  installed: 'v2.2.1',
  fixed: '2.2.4',
};

function facts(digest: string, vulns: ImageVulnerability[], extra: Partial<ImageFacts> = {}): ImageFacts {
  return {
    reference: `registry.example/app@${digest}`,
    digest,
    status: 'analysed',
    os: 'debian 12',
    packages: 10,
    vulnerabilities: vulns,
    suspicious: [],
    ...extra,
  };
}

const vulnerable = facts(D1, [lodash, yaml]);
const fixed = facts(D2, []);
const images = new ImageFactsMap().set(vulnerable, REF).set(fixed);

const labelled = (obj: KubeObject, labels: Record<string, string>): KubeObject => {
  const spec = obj['spec'] as { template: { metadata: { labels: Record<string, string> } } };
  spec.template.metadata.labels = labels;
  return obj;
};

describe('rules/supply-chain/image-contents', () => {
  describe('without image facts', () => {
    it('yields nothing, whatever the workload', () => {
      for (const r of [imageVulnerabilities, imageSuspiciousContent, imageNotAnalysed])
        expect(runRule(r, pod())).to.deep.equal([]);
      expect(runRule(imageAdvisoriesStale, clusterVersion('v1.33.1'))).to.deep.equal([]);
    });
  });

  describe('image-vulnerabilities', () => {
    it('reports one finding per advisory with ids, installed and fixed versions, severity from the advisory', () => {
      const hits = runRule(imageVulnerabilities, deployment({ containers: [{ name: 'app', image: REF }] }), {
        images,
      });
      expect(hits).to.deep.equal([
        {
          container: 'app',
          severity: 'high',
          message:
            'container "app" image "registry.example/app:1.0" (debian 12): lodash 4.17.15 has GHSA-35jh-r3h4-6jhm / CVE-2021-23337, fixed in 4.17.21 (Command Injection in lodash) (spec.template.spec.containers[0].image)',
        },
        {
          container: 'app',
          severity: 'medium',
          message:
            'container "app" image "registry.example/app:1.0" (debian 12): gopkg.in/yaml.v2 v2.2.1 has GO-2022-0956 / CVE-2022-3064 / GHSA-6q6q-88xp-6f2r, fixed in 2.2.4 (the advisory gives no severity: medium) (spec.template.spec.containers[0].image)',
        },
      ]);
    });

    it('reports an advisory once for the binary packages of one source package', () => {
      const dsa = (pkg: string): ImageVulnerability => ({
        id: 'DSA-5764-1',
        aliases: ['CVE-2024-5535'],
        package: pkg,
        ecosystem: 'Debian:12',
        installed: '3.0.11-1~deb12u2',
        fixed: '3.0.14-1~deb12u1',
        severity: 'low',
      });
      const m = new ImageFactsMap().set(
        facts(D1, [dsa('libssl3'), dsa('openssl'), { ...dsa('openssl'), severity: 'high' }]),
        REF,
      );
      expect(runRule(imageVulnerabilities, pod(), { images: m })).to.deep.equal([
        {
          container: 'app',
          severity: 'low',
          message:
            'container "app" image "registry.example/app:1.0" (debian 12): libssl3, openssl 3.0.11-1~deb12u2 have DSA-5764-1 / CVE-2024-5535, fixed in 3.0.14-1~deb12u1 (spec.containers[0].image)',
        },
      ]);
    });

    it('checks init and ephemeral containers too, and nothing for a clean or unknown image', () => {
      const hits = runRule(
        imageVulnerabilities,
        pod({
          initContainers: [{ name: 'init', image: REF }],
          containers: [
            { name: 'app', image: `registry.example/app@${D2}` },
            { name: 'other', image: 'other:1' },
          ],
          ephemeralContainers: [{ name: 'debug', image: REF }],
        }),
        { images },
      );
      expect(hits.map((h) => `${h.container} ${h.severity}`)).to.deep.equal([
        'init high',
        'init medium',
        'debug high',
        'debug medium',
      ]);
    });

    it('raises the priority of a privileged pod and says why', () => {
      const hits = runRule(
        imageVulnerabilities,
        pod({
          containers: [{ name: 'app', image: REF, securityContext: { privileged: true } }],
          hostPID: true,
        }),
        { images },
      );
      expect(hits.map((h) => h.severity)).to.deep.equal(['critical', 'high']);
      expect(hits[0]?.message).to.contain(
        '; priority raised from high to critical: the pod runs with hostPID, privileged container "app"',
      );
    });

    it('raises it for pods reachable from outside with no NetworkPolicy, not once a policy isolates them', () => {
      const web = labelled(deployment({ containers: [{ name: 'app', image: REF }] }), { app: 'web' });
      const lb = service('default', 'web', { type: 'LoadBalancer', selector: { app: 'web' } });
      const exposed = runRule(imageVulnerabilities, web, { images, others: [lb] });
      expect(exposed.map((h) => h.severity)).to.deep.equal(['critical', 'high']);
      expect(exposed[0]?.message).to.contain(
        'the pod is reachable from outside the cluster (Service "web" (LoadBalancer)) and no NetworkPolicy isolates it',
      );
      const viaIngress = runRule(imageVulnerabilities, web, {
        images,
        others: [
          service('default', 'web', { type: 'NodePort', selector: { app: 'web' } }),
          ingress('default', 'web', { defaultBackend: { service: { name: 'web', port: { number: 80 } } } }),
        ],
      });
      expect(viaIngress[0]?.message).to.contain('Ingress "web" via Service "web"');
      const isolated = runRule(imageVulnerabilities, web, {
        images,
        others: [lb, networkPolicy('default', 'deny', DENY_ALL_INGRESS)],
      });
      expect(isolated.map((h) => h.severity)).to.deep.equal(['high', 'medium']);
      expect(isolated[0]?.message).not.to.contain('priority');
      // A ClusterIP Service is not a way in from outside.
      const internal = runRule(imageVulnerabilities, web, {
        images,
        others: [service('default', 'web', { selector: { app: 'web' } })],
      });
      expect(internal.map((h) => h.severity)).to.deep.equal(['high', 'medium']);
    });

    it('keeps critical advisories critical and says the pod is exposed', () => {
      const crit = new ImageFactsMap().set(facts(D1, [{ ...lodash, severity: 'critical' }]), REF);
      const hits = runRule(
        imageVulnerabilities,
        pod({ containers: [{ name: 'app', image: REF }], hostNetwork: true }),
        { images: crit },
      );
      expect(hits.map((h) => h.severity)).to.deep.equal(['critical']);
      expect(hits[0]?.message).to.contain('; the pod runs with hostNetwork');
    });

    it('lowers the priority of an isolated batch job', () => {
      const job = workload('CronJob', 'default', 'nightly', { app: 'nightly' });
      const hits = runRule(imageVulnerabilities, job, { images });
      expect(hits.map((h) => h.severity)).to.deep.equal(['medium', 'low']);
      expect(hits[0]?.message).to.contain(
        'priority lowered from high to medium: the pod belongs to a batch CronJob that runs unprivileged and is not reachable from outside the cluster',
      );
    });

    it("uses the digest the kubelet ran over the pod's reference", () => {
      const running = pod({ containers: [{ name: 'app', image: REF }] }, {});
      running['status'] = { containerStatuses: [{ name: 'app', imageID: `registry.example/app@${D2}` }] };
      expect(runRule(imageVulnerabilities, running, { images })).to.deep.equal([]);
    });

    it('reports on the workload, with the digests its pods run, and not again on the pods', () => {
      const d = labelled(deployment({ containers: [{ name: 'app', image: 'registry.example/app:2.0' }] }), {
        app: 'd',
      });
      const rs: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'd-1',
          namespace: 'default',
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u1', controller: true },
          ],
        },
        spec: {
          template: {
            metadata: { labels: { app: 'd' } },
            spec: { containers: [{ name: 'app', image: 'registry.example/app:2.0' }] },
          },
        },
      };
      const p: KubeObject = {
        ...pod(
          { containers: [{ name: 'app', image: 'registry.example/app:2.0' }] },
          {
            name: 'd-1-x',
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'd-1', uid: 'u2', controller: true },
            ],
          },
        ),
        status: {
          containerStatuses: [{ name: 'app', imageID: `docker-pullable://registry.example/app@${D1}` }],
        },
      };
      // app:2.0 is not known by reference: only the pod's imageID leads to the vulnerable digest.
      expect(runRule(imageVulnerabilities, d, { images, others: [rs, p] }).length).to.equal(2);
      expect(runRule(imageVulnerabilities, d, { images })).to.deep.equal([]);
      expect(runRule(imageVulnerabilities, p, { images, others: [rs, d] })).to.deep.equal([]);
    });

    it('lists every raised severity in raisedTo', () => {
      const listed = [
        imageVulnerabilities.severity,
        ...(imageVulnerabilities.raisedTo ?? []).map((x) => x.severity),
      ];
      expect(listed).to.deep.equal(['medium', 'critical', 'high']);
    });
  });

  describe('image-suspicious-content', () => {
    it('reports one finding per item, with its severity', () => {
      const m = new ImageFactsMap().set(
        facts(D1, [], {
          suspicious: [
            {
              kind: 'miner',
              path: '/usr/local/bin/xmrig',
              detail: 'executable named like the cryptominer xmrig (layer 2 of 3)',
              severity: 'critical',
            },
            {
              kind: 'private-key',
              path: '/app/deploy.key',
              detail: 'PEM private key (layer 2 of 3)',
              severity: 'high',
            },
          ],
        }),
        REF,
      );
      expect(runRule(imageSuspiciousContent, pod(), { images: m })).to.deep.equal([
        {
          container: 'app',
          severity: 'critical',
          message:
            'container "app" image "registry.example/app:1.0" (debian 12): miner at /usr/local/bin/xmrig: executable named like the cryptominer xmrig (layer 2 of 3) (spec.containers[0].image)',
        },
        {
          container: 'app',
          severity: 'high',
          message:
            'container "app" image "registry.example/app:1.0" (debian 12): private-key at /app/deploy.key: PEM private key (layer 2 of 3) (spec.containers[0].image)',
        },
      ]);
      expect(runRule(imageSuspiciousContent, pod(), { images })).to.deep.equal([]);
    });
  });

  describe('image-not-analysed', () => {
    it('names the reason, and says nothing of analysed images', () => {
      const m = new ImageFactsMap().set(
        notAnalysed(REF, 'the pull secret "regcred" is not readable under the policy'),
      );
      expect(runRule(imageNotAnalysed, pod(), { images: m })).to.deep.equal([
        {
          container: 'app',
          message:
            'container "app" image "registry.example/app:1.0" was not analysed: the pull secret "regcred" is not readable under the policy (spec.containers[0].image)',
        },
      ]);
      expect(runRule(imageNotAnalysed, pod(), { images })).to.deep.equal([]);
    });
  });

  describe('image-advisories-stale', () => {
    const now = new Date('2026-12-04T10:00:00Z');
    const cv = clusterVersion('v1.33.1');

    it('reports missing advisory data while images are analysed', () => {
      expect(runRule(imageAdvisoriesStale, cv, { images, now })).to.deep.equal([
        {
          message:
            'images are analysed but no vulnerability advisory data is loaded: their known vulnerabilities are not reported',
        },
      ]);
    });

    it("reports data older than the allowed age, the scanner's age winning over the param", () => {
      const at = (updated: string, maxAge?: number): ImageFactsMap =>
        new ImageFactsMap({
          advisoriesUpdatedAt: updated,
          ...(maxAge !== undefined ? { advisoriesMaxAgeSeconds: maxAge } : {}),
        });
      expect(runRule(imageAdvisoriesStale, cv, { images: at('2026-12-01T10:00:00Z'), now })).to.deep.equal(
        [],
      );
      expect(runRule(imageAdvisoriesStale, cv, { images: at('2026-11-01T10:00:00Z'), now })).to.deep.equal([
        {
          message:
            'the vulnerability advisory data was last refreshed at 2026-11-01T10:00:00Z, 33 days ago (more than the 7 days allowed): vulnerabilities published since are not reported',
        },
      ]);
      expect(
        runRule(imageAdvisoriesStale, cv, { images: at('2026-12-04T04:00:00Z', 3600), now })[0]?.message,
      ).to.contain('6 hours ago (more than the 60 minutes allowed)');
      expect(
        runRule(imageAdvisoriesStale, cv, {
          images: at('2026-12-01T10:00:00Z'),
          now,
          params: { maxAgeSeconds: 86400 },
        }),
      ).to.have.length(1);
      expect(runRule(imageAdvisoriesStale, cv, { images: at('yesterday'), now })[0]?.message).to.contain(
        'is not a date',
      );
    });
  });
});
