import { kubectlProxyExposed } from './kubectl-proxy.ts';
import { adminBinding, exposingService, runCases, tool } from './_testkit.ts';

const proxy = (cmd: string[]): Record<string, unknown> => ({
  name: 'proxy',
  image: 'bitnami/kubectl:1.30',
  command: cmd,
});

describe('rule kubectl-proxy-exposed', () => {
  runCases(kubectlProxyExposed, [
    {
      name: 'proxy on all interfaces',
      obj: tool([proxy(['kubectl', 'proxy', '--address=0.0.0.0', '--accept-hosts=.*'])], { sa: 'api-proxy' }),
      expect: ['high'],
      contains: ['--address=0.0.0.0', 'service account "api-proxy"'],
    },
    {
      name: 'in a shell wrapper, behind a NodePort',
      obj: tool([proxy(['sh', '-c', '/usr/local/bin/kubectl proxy --address 0.0.0.0 --port 8001'])]),
      others: [exposingService('tools', 'NodePort')],
      expect: ['critical'],
    },
    {
      name: 'filter disabled on localhost, cluster-admin account',
      obj: tool([proxy(['kubectl', 'proxy', '--disable-filter=true'])], { sa: 'ops' }),
      others: [adminBinding('tools', 'ops')],
      expect: ['critical'],
      contains: ['--disable-filter'],
    },
    { name: 'localhost sidecar', obj: tool([proxy(['kubectl', 'proxy', '--port=8001'])]), expect: [] },
    {
      name: 'explicit localhost',
      obj: tool([proxy(['kubectl', 'proxy', '--address=127.0.0.1'])]),
      expect: [],
    },
    {
      name: 'kubectl but not proxy',
      obj: tool([proxy(['kubectl', 'get', 'pods', '--address=0.0.0.0'])]),
      expect: [],
    },
  ]);
});
