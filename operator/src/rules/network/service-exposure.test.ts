import { expect } from 'chai';
import type { KubeObject, Severity } from '../../engine/types.ts';
import { runRule } from '../testing.ts';
import { serviceExposed } from './service-exposure.ts';
import { service, workload } from './_testkit.ts';

const ports = [{ port: 443, targetPort: 8443, nodePort: 30443 }];

describe('rule network-service-exposed', () => {
  const cases: { name: string; obj: KubeObject; expect: Severity[]; contains?: string }[] = [
    { name: 'ClusterIP', obj: service('a', 's', { type: 'ClusterIP', ports }), expect: [] },
    { name: 'type omitted (ClusterIP)', obj: service('a', 's', { ports }), expect: [] },
    {
      name: 'NodePort',
      obj: service('a', 's', { type: 'NodePort', ports }),
      expect: ['low'],
      contains: '30443',
    },
    {
      name: 'NodePort without allocated ports',
      obj: service('a', 's', { type: 'NodePort' }),
      expect: ['low'],
      contains: 'apply time',
    },
    {
      name: 'public LoadBalancer',
      obj: service('a', 's', { type: 'LoadBalancer', ports }),
      expect: ['medium'],
      contains: 'without spec.loadBalancerSourceRanges',
    },
    {
      name: 'LoadBalancer with source ranges',
      obj: service('a', 's', { type: 'LoadBalancer', ports, loadBalancerSourceRanges: ['203.0.113.0/24'] }),
      expect: ['low'],
    },
    {
      name: 'LoadBalancer with an open source range',
      obj: service('a', 's', {
        type: 'LoadBalancer',
        ports,
        loadBalancerSourceRanges: ['10.0.0.0/8', '0.0.0.0/0'],
      }),
      expect: ['medium'],
      contains: 'open to any address',
    },
    {
      name: 'LoadBalancer with source ranges in the annotation',
      obj: service(
        'a',
        's',
        { type: 'LoadBalancer', ports },
        {
          annotations: {
            'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8, 192.168.0.0/16',
          },
        },
      ),
      expect: ['low'],
    },
    {
      name: 'internal AWS load balancer',
      obj: service(
        'a',
        's',
        { type: 'LoadBalancer', ports },
        { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' } },
      ),
      expect: ['low'],
      contains: 'internal',
    },
    {
      name: 'AWS internal annotation set to false',
      obj: service(
        'a',
        's',
        { type: 'LoadBalancer', ports },
        { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'false' } },
      ),
      expect: ['medium'],
    },
    {
      name: 'internal GKE load balancer',
      obj: service(
        'a',
        's',
        { type: 'LoadBalancer', ports },
        { annotations: { 'networking.gke.io/load-balancer-type': 'Internal' } },
      ),
      expect: ['low'],
    },
    {
      name: 'malformed spec',
      obj: { kind: 'Service', metadata: { name: 's' }, spec: { type: 'NodePort', ports: 'x' } },
      expect: ['low'],
    },
    { name: 'no spec', obj: { kind: 'Service', metadata: { name: 's' } }, expect: [] },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.expect.join(', ') || 'pass'}`, () => {
      const hits = runRule(serviceExposed, c.obj);
      expect(hits.map((h) => h.severity ?? serviceExposed.severity)).to.deep.equal(c.expect);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }

  describe('raised when it fronts privileged pods (issue 19 item 5)', () => {
    const lb = service('a', 'web', { type: 'LoadBalancer', ports, selector: { app: 'web' } });
    const np = service('a', 'web', { type: 'NodePort', ports, selector: { app: 'web' } });
    const privileged = (ns = 'a', labels = { app: 'web' }): KubeObject => {
      const w = workload('Deployment', ns, 'web', labels);
      const tpl = (w['spec'] as { template: { spec: Record<string, unknown> } }).template;
      tpl.spec = {
        hostPID: true,
        containers: [
          { name: 'app', image: 'registry.example/app:1.0', securityContext: { privileged: true } },
        ],
      };
      return w;
    };
    const cases: {
      name: string;
      obj: KubeObject;
      others: KubeObject[];
      expect: Severity[];
      contains?: string[];
    }[] = [
      {
        name: 'public LoadBalancer in front of a privileged Deployment',
        obj: lb,
        others: [privileged()],
        expect: ['high'],
        contains: [
          'raised to high',
          'Deployment/web (privileged container "app", hostPID)',
          'take over its node',
        ],
      },
      { name: 'NodePort in front of it', obj: np, others: [privileged()], expect: ['medium'] },
      {
        name: 'an unprivileged workload behind it',
        obj: lb,
        others: [workload('Deployment', 'a', 'web', { app: 'web' })],
        expect: ['medium'],
      },
      {
        name: 'a privileged workload the selector does not pick',
        obj: lb,
        others: [privileged('a', { app: 'db' })],
        expect: ['medium'],
      },
      {
        name: 'a privileged workload in another namespace',
        obj: lb,
        others: [privileged('b')],
        expect: ['medium'],
      },
    ];
    for (const c of cases)
      it(`${c.name} → ${c.expect.join(', ')}`, () => {
        const hits = runRule(serviceExposed, c.obj, { others: c.others });
        expect(hits.map((h) => h.severity ?? serviceExposed.severity)).to.deep.equal(c.expect);
        for (const t of c.contains ?? []) expect(hits[0]?.message).to.contain(t);
        // Every severity reported is one vigil rules lists (issue 19 item 8).
        const listed = [serviceExposed.severity, ...(serviceExposed.raisedTo ?? []).map((x) => x.severity)];
        for (const sev of c.expect) expect(listed).to.include(sev);
      });
  });
});
