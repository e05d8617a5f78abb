/**
 * Run settings shared by the property tests.
 *
 * `make test` runs them with a fixed seed, so a CI result depends only on the
 * code (a property test whose verdict changes from run to run is a flaky test,
 * not a safety net). `make test-faults` (FAULTS_FULL=1) runs ten times as many
 * cases from a fresh seed each time, to keep exploring; `FUZZ_SEED=<n>` replays
 * any run. fast-check prints the seed and the shrunk counterexample on failure.
 */
export const FULL = process.env['FAULTS_FULL'] === '1';

/** Seed of every property in this process. */
export const SEED: number = (() => {
  const given = process.env['FUZZ_SEED'];
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n))
      throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(given)}`);
    return n;
  }
  return FULL ? (Date.now() ^ (process.pid << 8)) | 0 : 20261123;
})();

if (FULL) console.error(`fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED})`);

/** fast-check parameters: `base` runs (ten times that under FAULTS_FULL), the process's seed. */
export function runs(base: number): { numRuns: number; seed: number } {
  return { numRuns: base * (FULL ? 10 : 1), seed: SEED };
}
