// Suites that need a real node (kubelet, containerd, kube-proxy) beside the control plane:
// e2e/**/*.node.ts, run by make test-node. E2E_SPEC narrows the run.
process.env.VIGIL_E2E_NODE = '1';
module.exports = {
  spec: process.env.E2E_SPEC ? process.env.E2E_SPEC.split(',') : ['e2e/**/*.node.ts'],
  extension: ['ts'],
  require: ['e2e/harness.ts'],
  reporter: 'spec',
  timeout: 300000,
  slow: 20000,
};
