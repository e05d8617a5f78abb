// E2E suites against a real control plane started by e2e/harness.ts.
// E2E_SPEC narrows the run (a glob or file), e.g. E2E_SPEC=e2e/operator/*.e2e.ts make test-e2e.
module.exports = {
  spec: process.env.E2E_SPEC ? process.env.E2E_SPEC.split(',') : ['e2e/**/*.e2e.ts'],
  extension: ['ts'],
  require: ['e2e/harness.ts'],
  reporter: 'spec',
  timeout: 180000,
  slow: 10000,
};
