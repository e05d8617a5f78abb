import { weaveScope } from './weave-scope.ts';
import { exposingService, runCases, tool } from './_testkit.ts';

describe('rule weave-scope-deployed', () => {
  runCases(weaveScope, [
    {
      name: 'scope app',
      obj: tool([{ name: 'app', image: 'docker.io/weaveworks/scope:1.13.2', args: ['--mode=app'] }], {
        ns: 'weave',
      }),
      expect: ['high'],
      contains: ['unauthenticated web UI'],
    },
    {
      name: 'scope app behind a LoadBalancer',
      obj: tool([{ name: 'app', image: 'weaveworks/scope:1.13.2', args: ['--mode', 'app'] }], {
        ns: 'weave',
      }),
      others: [exposingService('weave', 'LoadBalancer')],
      expect: ['critical'],
    },
    {
      name: 'scope probe DaemonSet',
      obj: tool(
        [{ name: 'agent', image: 'weaveworks/scope:1.13.2', args: ['--mode=probe', '--probe.docker=true'] }],
        { kind: 'DaemonSet', ns: 'weave' },
      ),
      expect: ['medium'],
    },
    {
      name: 'unrelated weaveworks image',
      obj: tool([{ name: 'x', image: 'weaveworks/weave-kube:2.8.1' }]),
      expect: [],
    },
  ]);
});
