import { helmTiller } from './helm-tiller.ts';
import { adminBinding, exposingService, runCases, tool } from './_testkit.ts';

const tiller = (image = 'gcr.io/kubernetes-helm/tiller:v2.16.12'): Record<string, unknown> => ({
  name: 'tiller',
  image,
});

describe('rule helm-tiller-deployed', () => {
  runCases(helmTiller, [
    {
      name: 'tiller-deploy in kube-system',
      obj: tool([tiller()], { ns: 'kube-system', name: 'tiller-deploy', sa: 'tiller' }),
      expect: ['high'],
      contains: ['runs Tiller (gcr.io/kubernetes-helm/tiller:v2.16.12)'],
      container: 'tiller',
    },
    {
      name: 'with the classic cluster-admin binding',
      obj: tool([tiller()], { ns: 'kube-system', name: 'tiller-deploy', sa: 'tiller' }),
      others: [adminBinding('kube-system', 'tiller')],
      expect: ['critical'],
    },
    {
      name: 'exposed by a LoadBalancer',
      obj: tool([tiller('ghcr.io/helm/tiller:v2.17.0')], { ns: 'kube-system', name: 'tiller-deploy' }),
      others: [exposingService('kube-system', 'LoadBalancer')],
      expect: ['critical'],
    },
    {
      name: 'mirrored image',
      obj: tool([tiller('registry.example:5000/mirror/tiller@sha256:abc')]),
      expect: ['high'],
    },
    {
      name: 'helm 3 client image is not tiller',
      obj: tool([{ name: 'helm', image: 'alpine/helm:3.14.0' }]),
      expect: [],
    },
    {
      name: 'something named tiller-ish',
      obj: tool([{ name: 'x', image: 'example/tillerman:1' }]),
      expect: [],
    },
  ]);
});
