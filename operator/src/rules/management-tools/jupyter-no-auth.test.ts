import { jupyterWithoutAuth } from './jupyter-no-auth.ts';
import { exposingService, runCases, tool } from './_testkit.ts';

const nb = (cmd: string[], args: string[] = []): Record<string, unknown> => ({
  name: 'notebook',
  image: 'quay.io/jupyter/scipy-notebook:2024-05-27',
  command: cmd,
  args,
});

describe('rule jupyter-without-authentication', () => {
  runCases(jupyterWithoutAuth, [
    {
      name: 'empty token, no password',
      obj: tool([nb(['start-notebook.py'], ["--IdentityProvider.token=''"])], { ns: 'ds' }),
      expect: ['high'],
      contains: ["--IdentityProvider.token=''"],
    },
    {
      name: 'classic NotebookApp flags in a shell, behind a LoadBalancer',
      obj: tool(
        [nb(['sh', '-c', "jupyter notebook --ip=0.0.0.0 --NotebookApp.token='' --NotebookApp.password=''"])],
        { ns: 'ds' },
      ),
      others: [exposingService('ds', 'LoadBalancer')],
      expect: ['critical'],
    },
    {
      name: 'empty token with a password set',
      obj: tool(
        [nb(['jupyter', 'lab'], ['--ServerApp.token=', '--ServerApp.password=argon2:$argon2id$v=19$...'])],
        { ns: 'ds' },
      ),
      expect: [],
    },
    {
      name: 'default token',
      obj: tool([nb(['jupyter', 'lab'], ['--ip=0.0.0.0'])], { ns: 'ds' }),
      expect: [],
    },
    {
      name: 'not jupyter',
      obj: tool([{ name: 'x', image: 'example/app:1', args: ['--ServerApp.token='] }]),
      expect: [],
    },
  ]);
});
