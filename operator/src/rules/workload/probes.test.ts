import { expect } from 'chai';
import { livenessProbeMissing, readinessProbeMissing } from './probes.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, cronJobOf, ctr, deploymentOf, jobOf, podOf, type Spec } from './_testkit.ts';
import type { KubeObject } from '../../engine/types.ts';

const probe = { httpGet: { path: '/healthz', port: 8080 } };

function service(selector: unknown, extra: Record<string, unknown> = {}, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace },
    spec: { selector, ports: [{ port: 80 }], ...extra },
  };
}

const svc = service({ app: 'web' });

interface Case {
  name: string;
  obj: KubeObject;
  others?: KubeObject[];
  params?: Record<string, unknown>;
  readiness: number;
  liveness: number;
}

const withPorts = (fields: Spec = {}, name = 'app'): Spec =>
  ctr({ ports: [{ containerPort: 8080 }], ...fields }, name);

const cases: Case[] = [
  {
    name: 'Deployment with both probes behind a Service',
    obj: deploymentOf({ containers: [withPorts({ readinessProbe: probe, livenessProbe: probe })] }),
    others: [svc],
    readiness: 0,
    liveness: 0,
  },
  {
    name: 'Deployment without probes behind a Service',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [svc],
    readiness: 1,
    liveness: 1,
  },
  {
    name: 'Deployment without probes, no Service in scope',
    obj: deploymentOf({ containers: [withPorts()] }),
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'Service selecting other labels',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [service({ app: 'api' })],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'Service selector is a subset of the labels',
    obj: deploymentOf({ containers: [withPorts()] }, {}, { app: 'web', tier: 'front' }),
    others: [svc],
    readiness: 1,
    liveness: 1,
  },
  {
    name: 'Service without selector',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [service(undefined)],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'Service with empty selector',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [service({})],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'ExternalName Service',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [service({ app: 'web' }, { type: 'ExternalName', externalName: 'x.example.com' })],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'Service in another namespace',
    obj: deploymentOf({ containers: [withPorts()] }),
    others: [service({ app: 'web' }, {}, 'other')],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'sidecar without probe next to a probed server',
    obj: deploymentOf({
      containers: [withPorts({ readinessProbe: probe, livenessProbe: probe }), ctr({}, 'log-shipper')],
    }),
    others: [svc],
    readiness: 0,
    liveness: 1,
  },
  {
    name: 'two containers, only the one with ports is named',
    obj: deploymentOf({ containers: [withPorts(), ctr({}, 'log-shipper')] }),
    others: [svc],
    readiness: 1,
    liveness: 2,
  },
  {
    name: 'no container declares ports: all are named',
    obj: deploymentOf({ containers: [ctr(), ctr({}, 'b')] }),
    others: [svc],
    readiness: 2,
    liveness: 2,
  },
  {
    name: 'init and ephemeral containers need no probes',
    obj: podOf(
      {
        initContainers: [ctr({}, 'init')],
        containers: [withPorts({ readinessProbe: probe, livenessProbe: probe })],
        ephemeralContainers: [ctr({}, 'dbg')],
      },
      { labels: { app: 'web' } },
    ),
    others: [svc],
    readiness: 0,
    liveness: 0,
  },
  {
    name: 'exempt containers',
    obj: deploymentOf({
      containers: [withPorts({ readinessProbe: probe, livenessProbe: probe }), ctr({}, 'istio-proxy')],
    }),
    others: [svc],
    params: { exemptContainers: ['istio-*'] },
    readiness: 0,
    liveness: 0,
  },
  {
    name: 'CronJob',
    obj: cronJobOf({ containers: [ctr()] }),
    others: [service({ app: 'web' })],
    readiness: 0,
    liveness: 0,
  },
  { name: 'Job', obj: jobOf({ containers: [ctr()] }), readiness: 0, liveness: 0 },
  {
    name: 'Pod owned by a Job',
    obj: podOf(
      { containers: [ctr()] },
      {
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: '1' }],
      },
    ),
    others: [svc],
    readiness: 0,
    liveness: 0,
  },
  {
    name: 'bare Pod behind a Service',
    obj: podOf({ containers: [ctr()] }, { labels: { app: 'web' } }),
    others: [svc],
    readiness: 1,
    liveness: 1,
  },
];

describe('rules container-readiness-probe-missing / container-liveness-probe-missing', () => {
  for (const c of cases) {
    it(`${c.name} → readiness ${c.readiness}, liveness ${c.liveness}`, () => {
      expect(
        runRule(readinessProbeMissing, c.obj, { others: c.others, params: c.params }),
        'readiness',
      ).to.have.length(c.readiness);
      expect(
        runRule(livenessProbeMissing, c.obj, { others: c.others, params: c.params }),
        'liveness',
      ).to.have.length(c.liveness);
    });
  }

  it('names the container, the field and the Service', () => {
    const [hit] = runRule(readinessProbeMissing, deploymentOf({ containers: [withPorts()] }), {
      others: [svc],
    });
    expect(hit?.container).to.equal('app');
    expect(hit?.message).to.equal(
      'container "app" has no readinessProbe (spec.template.spec.containers[0].readinessProbe) but Service "web" selects the pod',
    );
    const [l] = runRule(livenessProbeMissing, deploymentOf({ containers: [withPorts()] }));
    expect(l?.message).to.equal(
      'container "app" has no livenessProbe (spec.template.spec.containers[0].livenessProbe)',
    );
  });

  it('does not evaluate Jobs and CronJobs at all', () => {
    for (const r of [readinessProbeMissing, livenessProbeMissing]) {
      expect(r.kinds).not.to.include('Job');
      expect(r.kinds).not.to.include('CronJob');
      expect(r.kinds).to.include('Deployment');
    }
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED)
      for (const r of [readinessProbeMissing, livenessProbeMissing])
        expect(() => runRule(r, m, { others: [service('x'), svc] })).not.to.throw();
  });
});
