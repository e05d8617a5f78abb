/**
 * Smoke test of the image analysis benchmark (bench/images.ts): two small generated images
 * pushed to a real docker-registry the bench starts (and stops), each analysed in a fresh
 * process, then both in one process at concurrency 1 and 2; the result's shape and consistency.
 * No BENCHMARKS.md: `make bench` runs the real thing (50 images of 100–470 MiB).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultOptions,
  operatorNodeOptions,
  percentile,
  runImages,
  subsetsWithin,
} from '../../bench/images.ts';

describe('image analysis benchmark harness (smoke)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-bench-images-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('analyses 2 distinct images and writes images.json in the documented shape', async function () {
    this.timeout(60_000); // about 3 s alone
    const opts = {
      ...defaultOptions(true),
      outDir: join(dir, 'results'),
      workDir: join(dir, 'work'),
      log: () => undefined,
    };
    const result = await runImages(opts);
    const written: unknown = JSON.parse(readFileSync(join(dir, 'results', 'images.json'), 'utf8'));
    expect(written).to.deep.equal(result);
    expect(Object.keys(result)).to.deep.equal([
      'date',
      'node',
      'machine',
      'loadAverage',
      'registry',
      'nodeOptions',
      'images',
      'distinctDigests',
      'totalCompressedMiB',
      'registryStorageMiB',
      'rows',
      'oneProcess',
      'summary',
    ]);
    expect(result.images).to.equal(2);
    expect(result.distinctDigests).to.equal(2);
    expect(result.loadAverage.start).to.have.length(3);
    const [a, b] = result.rows;
    expect(a?.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(a?.digest).not.to.equal(b?.digest);
    // Sizes spread over the smoke range (3–5 MiB), every row measured.
    expect(a?.compressedMiB).to.be.within(2.5, 3.5);
    expect(b?.compressedMiB).to.be.within(4.5, 5.5);
    for (const r of result.rows) {
      expect(r.seconds).to.be.greaterThan(0);
      expect(r.MiBPerSecond).to.be.greaterThan(0);
      expect(r.baseRssMiB).to.be.greaterThan(10);
      expect(r.peakRssMiB).to.be.at.least(r.baseRssMiB);
      expect(r.extraMiB).to.be.closeTo(r.peakRssMiB - r.baseRssMiB, 0.11);
      expect(r.operatorExtraMiB).to.be.at.least(0);
      expect(r.keptKiB).to.be.greaterThan(0);
    }
    // Each image has a package set of its own: npm, PyPI and dpkg entries at versions of its own.
    expect(a?.packages).to.be.greaterThan(20);
    expect(b?.packages).to.not.equal(a?.packages);
    // The operator's NODE_OPTIONS come from the Deployment as shipped.
    expect(result.nodeOptions).to.equal(operatorNodeOptions());
    expect(result.nodeOptions).to.match(/--max-semi-space-size=\d+/);
    expect(
      result.oneProcess.map((o) => [o.concurrency, o.nodeOptions, o.images, o.analysed, o.failed]),
    ).to.deep.equal([
      [1, '', 2, 2, 0],
      [2, '', 2, 2, 0],
      [2, result.nodeOptions, 2, 2, 0],
    ]);
    for (const o of result.oneProcess) {
      expect(o.peakRssMiB).to.be.at.least(o.baseRssMiB);
      expect(o.retainedRssMiB).to.be.at.most(o.extraMiB);
      expect(Number.isFinite(o.retainedHeapMiB)).to.equal(true);
    }
    expect(result.summary.maxExtraMiB).to.equal(Math.max(...result.rows.map((r) => r.extraMiB)));
    expect(result.summary.operatorMaxExtraMiB).to.equal(
      Math.max(...result.rows.map((r) => r.operatorExtraMiB)),
    );
    expect(result.summary.oneProcessMaxExtraMiB).to.equal(
      Math.max(...result.oneProcess.map((o) => o.extraMiB)),
    );
    expect(result.registryStorageMiB).to.be.greaterThan(0);
    // The bench's own registry is stopped and its storage gone.
    expect(existsSync(join(dir, 'work'))).to.equal(false);
    const port = a?.image.split('/')[0];
    const answered = await fetch(`http://${port}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    expect(answered, `registry at ${port} still answers`).to.equal(false);
  });

  it('spreads sizes with subsets of the shared pool and takes nearest-rank percentiles', () => {
    const pool = [24, 48, 72, 96, 128, 160];
    for (let target = 60; target <= 440; target += 10) {
      const fits = subsetsWithin(pool, target - 40, target - 4);
      expect(fits.length, `target ${target}`).to.be.greaterThan(0);
      for (const m of fits) {
        const sum = pool.reduce((s, x, i) => (m & (1 << i) ? s + x : s), 0);
        expect(sum).to.be.within(target - 40, target - 4);
      }
    }
    expect(percentile([5, 1, 4, 2, 3], 95)).to.equal(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).to.equal(95);
  });
});
