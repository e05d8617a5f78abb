/**
 * Smoke test of the offline benchmark harness (bench/): the corpus generator, one
 * timed Vigil run on 200 resources, the result shape, and the findings comparison on
 * synthetic hits (Vigil, kube-score and trivy output shapes). No peers, no BENCHMARKS.md: `make bench` runs the real thing.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKS,
  compare,
  documentLines,
  kubeScoreHits,
  trivyHits,
  trivyId,
  vigilHits,
} from '../../bench/checks.ts';
import { fileCount, generateCorpus } from '../../bench/corpus.ts';
import { defaultOptions, median, runOffline } from '../../bench/offline.ts';

describe('offline benchmark harness (smoke)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-bench-smoke-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates exactly N resources, deterministically, across files', function () {
    this.timeout(30_000); // about 1 s alone; more on a busy machine
    const a = generateCorpus(200, 7);
    const b = generateCorpus(200, 7);
    const c = generateCorpus(200, 8);
    expect(a.resources).to.equal(200);
    expect(a.objects).to.have.length(200);
    expect([...a.files.entries()]).to.deep.equal([...b.files.entries()]);
    expect([...a.files.values()].join('')).not.to.equal([...c.files.values()].join(''));
    expect(Object.values(a.kinds).reduce((x, y) => x + y, 0)).to.equal(200);
    expect(a.kinds).to.include.keys('Deployment', 'Service');
    expect(fileCount(10_000)).to.be.within(24, 48);
    const big = generateCorpus(1_000);
    expect(big.files.size).to.equal(fileCount(1_000));
    for (const kind of ['Pod', 'CronJob', 'DaemonSet', 'RoleBinding', 'ClusterRole', 'NetworkPolicy'])
      expect(big.kinds[kind], kind).to.be.greaterThan(0);
  });

  it('times Vigil on 200 resources and writes offline.json in the documented shape', async function () {
    this.timeout(60_000);
    const opts = {
      ...defaultOptions(true),
      peers: false,
      compare: false,
      markdown: false,
      outDir: join(dir, 'results'),
      workDir: join(dir, 'work'),
      log: () => undefined,
    };
    const { result, details } = await runOffline(opts);
    const written: unknown = JSON.parse(readFileSync(join(dir, 'results', 'offline.json'), 'utf8'));
    expect(written).to.deep.equal(result);
    expect(Object.keys(result)).to.deep.equal(['resources', 'tools']);
    expect(result.resources).to.equal(200);
    expect(result.tools).to.have.length(1);
    const [vigil] = result.tools;
    expect(Object.keys(vigil ?? {})).to.deep.equal([
      'tool',
      'version',
      'seconds',
      'resourcesPerSecond',
      'maxRssMiB',
    ]);
    expect(vigil?.tool).to.equal('vigil');
    expect(vigil?.version).to.match(/^\d+\.\d+\.\d+/);
    expect(vigil?.seconds).to.be.greaterThan(0);
    // seconds is rounded to 3 decimals and the rate to 1: the rate lies between what the
    // rounded seconds' bounds give (a 0.3 s run is 0.2995..0.3005 s, i.e. 665.6..667.8/s).
    const secs = vigil?.seconds ?? 1;
    expect(vigil?.resourcesPerSecond).to.be.within(
      200 / (secs + 0.0005) - 0.05,
      200 / (secs - 0.0005) + 0.05,
    );
    expect(vigil?.maxRssMiB).to.be.greaterThan(10);
    // Vigil found something in a corpus that mixes good and bad, and read every resource.
    expect(details.runs[0]?.samples[0]?.exitCode).to.equal(1);
    expect(details.runs[0]?.resourcesReported).to.be.greaterThan(100);
    expect(details.peersMissing).to.deep.equal(['kube-score', 'trivy']);
    expect(details.runs[0]?.samples[0]?.maxRssKiB).to.be.greaterThan(0);
    expect(existsSync(join(dir, 'work', 'corpus-200'))).to.equal(true);
  });

  it('compares findings per resource and check, against the generated truth', () => {
    const corpus = generateCorpus(200, 7);
    const dep = corpus.objects.find((o) => o.object['kind'] === 'Deployment');
    const meta = (dep?.object['metadata'] ?? {}) as { name: string; namespace: string };
    const vigil = vigilHits({
      findings: [
        {
          ruleId: 'pss-host-namespaces',
          message: 'sets spec.hostNetwork=true',
          resource: { kind: 'Deployment', namespace: meta.namespace, name: meta.name },
        },
      ],
    });
    // trivy names a file and lines: the hit belongs to the document those lines are in.
    const key = `Deployment/${meta.namespace}/${meta.name}`;
    const docs = documentLines(corpus.files);
    const [file, inFile] = [...docs].find(([, ds]) => ds.some((d) => d.key === key)) ?? ['', []];
    const at = inFile.findIndex((d) => d.key === key);
    const line = (inFile[at]?.line ?? 0) + 20;
    expect(inFile[at + 1]?.line ?? Infinity).to.be.greaterThan(line);
    const trivy = trivyHits(
      {
        Results: [
          {
            Target: file,
            Misconfigurations: [
              { ID: 'KSV010', Status: 'FAIL', Message: 'hostPID', CauseMetadata: { StartLine: line } },
              { ID: 'KSV-0017', Status: 'PASS', CauseMetadata: { StartLine: line } },
              // The message's kind and name win over trivy's line numbers, which run early.
              {
                ID: 'KSV-0014',
                Status: 'FAIL',
                Message: `Container 'c' of Deployment '${meta.name}' should set readOnlyRootFilesystem`,
                CauseMetadata: { StartLine: 1 },
              },
              { ID: 'KSV-0999', Status: 'FAIL', CauseMetadata: { StartLine: line } },
            ],
          },
        ],
      },
      docs,
    );
    expect(trivy.map((h) => [h.key, h.id])).to.deep.equal([
      [key, 'KSV010'],
      [key, 'KSV-0014'],
      [key, 'KSV-0999'],
    ]);
    expect(trivyId('AVD-KSV-0010')).to.equal(trivyId('KSV010'));
    const ks = kubeScoreHits([
      {
        type_meta: { kind: 'Deployment' },
        object_meta: { namespace: meta.namespace, name: meta.name },
        checks: [
          {
            check: { id: 'container-resources' },
            grade: 1,
            skipped: false,
            comments: [{ summary: 'CPU limit is not set' }],
          },
          { check: { id: 'service-type' }, grade: 10, skipped: false, comments: [] },
        ],
      },
    ]);
    expect(ks.map((h) => h.id)).to.deep.equal(['container-resources']);
    const cmp = compare(
      corpus.objects,
      { vigil, trivy, 'kube-score': ks },
      new Set(['pss-host-namespaces']),
      'all',
    );
    const byId = (id: string) => cmp.checks.find((c) => c.id === id);
    expect(byId('host-network')?.tools.vigil?.flagged).to.equal(1);
    expect(byId('host-network')?.pairs[0]?.sampleOnlyFirst).to.deep.equal([key]);
    expect(byId('host-pid')?.tools.trivy?.flagged).to.equal(1);
    expect(byId('privileged')?.tools.trivy?.flagged).to.equal(0);
    expect(byId('read-only-root-fs')?.tools.trivy?.flagged).to.equal(1);
    expect(cmp.unmapped.trivy).to.deep.equal({ 'KSV-0999': 1 });
    expect(byId('cpu-limit')?.tools['kube-score']?.flagged).to.equal(1);
    expect(byId('host-network')?.truth).to.be.a('number');
    expect(cmp.vigilRulesMissing).to.include('pss-privileged');
    expect(cmp.checks).to.have.length(CHECKS.length);
  });

  it('takes the median of an odd or even number of samples', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
  });
});
