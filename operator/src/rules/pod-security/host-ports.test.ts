import { expect } from 'chai';
import { pssHostPorts } from './host-ports.ts';
import { ctr, malformedSweep, runTable, wrap } from './_testkit.ts';
import { runRule } from '../testing.ts';

const ports = (...p: unknown[]) => ({ containers: [ctr('app', undefined, { ports: p })] });

describe('rule pss-host-ports', () => {
  runTable(pssHostPorts, [
    { name: 'no ports', spec: { containers: [ctr('app')] }, hits: 0 },
    { name: 'containerPort only', spec: ports({ containerPort: 8080 }), hits: 0 },
    { name: 'hostPort 0', spec: ports({ containerPort: 8080, hostPort: 0 }), hits: 0 },
    { name: 'hostPort null', spec: ports({ containerPort: 8080, hostPort: null }), hits: 0 },
    {
      name: 'hostPort set',
      spec: ports({ containerPort: 8080, hostPort: 80 }, { containerPort: 9090 }),
      hits: 1,
      containers: ['app'],
      messages: ['container "app" sets @.containers[0].ports[0].hostPort=80'],
    },
    {
      name: 'init and ephemeral containers',
      spec: {
        initContainers: [ctr('init', undefined, { ports: [{ containerPort: 1, hostPort: 1 }] })],
        containers: [ctr('app')],
        ephemeralContainers: [ctr('dbg', undefined, { ports: [{ containerPort: 2, hostPort: 2 }] })],
      },
      hits: 2,
      containers: ['init', 'dbg'],
    },
    {
      name: 'malformed hostPort string fails closed',
      spec: ports({ containerPort: 1, hostPort: '8080' }),
      hits: 1,
    },
  ]);
  malformedSweep(pssHostPorts);

  describe('hostNetwork defaulting (API server sets hostPort = containerPort on Pods)', () => {
    const spec = {
      hostNetwork: true,
      initContainers: [ctr('init', undefined, { ports: [{ containerPort: 53 }] })],
      containers: [
        ctr('app', undefined, { ports: [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 9090 }] }),
      ],
    };
    it('reports defaulted host ports on a Pod', () => {
      const hits = runRule(pssHostPorts, wrap('Pod', spec));
      expect(hits.map((h) => h.message)).to.deep.equal([
        'init container "init" gets spec.initContainers[0].ports[0].hostPort=53 (defaulted from containerPort because hostNetwork=true)',
        'container "app" gets spec.containers[0].ports[0].hostPort=8080 (defaulted from containerPort because hostNetwork=true)',
        'container "app" sets spec.containers[0].ports[1].hostPort=9090',
      ]);
    });
    it('does not default pod templates (since Kubernetes 1.28)', () => {
      expect(runRule(pssHostPorts, wrap('Deployment', spec))).to.have.length(1);
      expect(runRule(pssHostPorts, wrap('CronJob', spec))).to.have.length(1);
    });
    it('does not default without hostNetwork', () => {
      expect(runRule(pssHostPorts, wrap('Pod', { ...spec, hostNetwork: false }))).to.have.length(1);
    });
  });
});
