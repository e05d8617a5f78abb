/**
 * The Helm chart on a real node: helm install with the image make image built runs the operator
 * as Pods (rollout complete, policy Ready), helm upgrade applies changed values, helm uninstall
 * removes the release. Same suite as on the bare control plane (e2e/chart/helm.ts).
 */
import { cluster } from '../harness.ts';
import { helmBin } from '../../scripts/chart.ts';
import { builtImage } from '../node/image.ts';
import { helmInstallSuite } from './helm.ts';

helmInstallSuite(
  () => ({
    helm: helmBin(),
    kubeconfig: cluster().kubeconfig,
    kubectl: cluster().kubectlPath,
    namespace: 'vigil-system',
    release: 'vigil',
    image: builtImage(),
    expectReady: true,
  }),
  ' on a real node',
);
