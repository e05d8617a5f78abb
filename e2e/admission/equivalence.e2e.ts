/**
 * One semantics (issue 14 point 6): the ValidatingAdmissionPolicies `renderAdmission` generates
 * for an enforce policy at pss-baseline and pss-restricted are created on the real API server;
 * every official Pod Security fixture (the pinned k8s.io/pod-security-admission module) is then
 * created with server-side dry-run and the admission verdict must equal the engine's verdict for
 * the same object and level. The namespace carries no PSA labels (the harness's PodSecurity
 * plugin defaults to privileged), so only the generated policies can reject.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseYaml } from '../../operator/src/yaml.ts';
import { evaluateSubjects } from '../../operator/src/engine/evaluate.ts';
import type { KubeObject } from '../../operator/src/engine/types.ts';
import { upstreamFixtures } from '../../operator/src/testing/pss-fixtures.ts';
import { waitFor } from '../controlplane/controlplane.ts';
import {
  NOW,
  compile,
  dryRun,
  inForce as inForceWith,
  install,
  kubectl,
  mustKubectl,
  namespace,
  placed,
} from './lib.ts';

const privilegedPod = (ns: string): string => `apiVersion: v1
kind: Pod
metadata: {name: sentinel, namespace: ${ns}}
spec:
  containers: [{name: app, image: registry.k8s.io/pause:3.10, securityContext: {privileged: true}}]
`;

/** The policy is in force once a privileged pod is refused by it (policies load asynchronously). */
const inForce = (ns: string, policyPrefix: string): Promise<void> =>
  inForceWith(policyPrefix, privilegedPod(ns));

describe('generated ValidatingAdmissionPolicies on a real API server', function () {
  this.timeout(900_000);

  for (const level of ['baseline', 'restricted'] as const) {
    it(`agree with the engine on every official Pod Security fixture at ${level}`, async () => {
      const policy = compile(`eq-${level}`, {
        profile: `pss-${level}`,
        action: 'enforce',
        match: { namespaces: [`adm-eq-${level}`] },
      });
      const ns = `adm-eq-${level}`;
      namespace(ns);
      await install(policy);
      await inForce(ns, `vigil-eq-${level}-`);
      const fixtures = upstreamFixtures();
      expect(fixtures.length, 'official fixtures').to.equal(148);
      const disagreements: string[] = [];
      let agree = 0;
      const refusedByValidation: string[] = [];
      for (const f of fixtures) {
        const obj = placed(
          parseYaml(readFileSync(f.file, 'utf8')) as KubeObject,
          ns,
          f.path
            .replace(/\.yaml$/, '')
            .replace(/[^a-z0-9]+/gi, '-')
            .toLowerCase(),
        );
        const res = evaluateSubjects([{ object: obj }], policy, { now: NOW });
        expect(res.errors, `${f.path}: engine rule errors`).to.deep.equal([]);
        const engineDenies = res.findings.length > 0;
        const r = dryRun(obj);
        const byPolicy = !r.ok && r.stderr.includes(`ValidatingAdmissionPolicy 'vigil-eq-${level}-`);
        // Object validation runs before validating admission: a few fixtures (procMount Unmasked
        // without hostUsers: false) are refused by it, so the API server does not admit them either.
        const invalid = !r.ok && !byPolicy && r.stderr.includes(' is invalid: ');
        if (!r.ok && !byPolicy && !invalid)
          throw new Error(`${f.path}: rejected for another reason: ${r.stderr}`);
        if (invalid) refusedByValidation.push(f.path);
        const admitted = r.ok;
        if (admitted !== engineDenies) agree++;
        else
          disagreements.push(
            `${f.path}: API server ${admitted ? 'admits' : `refuses (${r.stderr.trim()})`}, engine ${engineDenies ? `finds ${res.findings.map((x) => x.ruleId).join(', ')}` : 'finds nothing'}`,
          );
      }
      console.log(
        `      ${level}: API server and engine agree on ${String(agree)}/${String(fixtures.length)} fixtures ` +
          `(${String(refusedByValidation.length)} refused by object validation before admission: ${refusedByValidation.join(', ') || 'none'})`,
      );
      expect(disagreements.join('\n')).to.equal('');
    });
  }

  describe('workloads and actions', () => {
    before(async () => {
      namespace('adm-enforce');
      await install(
        compile('enforce', {
          profile: 'pss-baseline',
          action: 'enforce',
          match: { namespaces: ['adm-enforce'] },
        }),
      );
      await inForce('adm-enforce', 'vigil-enforce-');
    });

    it('rejects a Deployment with hostNetwork, naming the rule and the field', () => {
      const r = kubectl(
        ['create', '--dry-run=server', '-f', '-'],
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: adm-enforce}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`,
      );
      expect(r.ok, r.stdout).to.equal(false);
      expect(r.stderr).to.include('vigil-enforce-workloads');
      expect(r.stderr).to.include('pss-host-namespaces: pod sets spec.template.spec.hostNetwork=true');
    });

    it('rejects a CronJob whose container is privileged, naming the container', () => {
      const r = kubectl(
        ['create', '--dry-run=server', '-f', '-'],
        `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: adm-enforce}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: registry.k8s.io/pause:3.10, securityContext: {privileged: true}}]
`,
      );
      expect(r.ok, r.stdout).to.equal(false);
      expect(r.stderr).to.include(
        'pss-privileged: container "job" sets spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged=true',
      );
    });

    it('admits a compliant Pod', () => {
      const r = kubectl(
        ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
        `apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: adm-enforce}
spec:
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`,
      );
      expect(r.stderr).to.equal('');
      expect(r.ok).to.equal(true);
      expect(r.stdout.trim()).to.equal('pod/fine');
    });

    it('checks ephemeral containers added to a running Pod (kubectl debug)', () => {
      mustKubectl(
        ['create', '-f', '-'],
        `apiVersion: v1
kind: Pod
metadata: {name: target, namespace: adm-enforce}
spec:
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`,
      );
      const denied = kubectl([
        'debug',
        '-n',
        'adm-enforce',
        'target',
        '--image=registry.k8s.io/pause:3.10',
        '--container=dbg',
        '--profile=sysadmin',
        '--attach=false',
      ]);
      expect(denied.ok, denied.stdout).to.equal(false);
      expect(denied.stderr).to.include(
        'pss-privileged: ephemeral container "dbg" sets spec.ephemeralContainers[0].securityContext.privileged=true',
      );
      const allowed = kubectl([
        'debug',
        '-n',
        'adm-enforce',
        'target',
        '--image=registry.k8s.io/pause:3.10',
        '--container=dbg2',
        '--profile=restricted',
        '--attach=false',
      ]);
      expect(allowed.ok, allowed.stderr).to.equal(true);
    });

    it('a warn policy admits with a kubectl warning naming the rule', async () => {
      namespace('adm-warn');
      await install(
        compile('warn', { profile: 'pss-baseline', action: 'warn', match: { namespaces: ['adm-warn'] } }),
      );
      await waitFor(
        'warn policy in force',
        () =>
          Promise.resolve(
            kubectl(['create', '--dry-run=server', '-f', '-'], privilegedPod('adm-warn')).stderr.includes(
              'Warning:',
            ),
          ),
        60_000,
      );
      const r = kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], privilegedPod('adm-warn'));
      expect(r.ok, r.stderr).to.equal(true);
      expect(r.stdout.trim()).to.equal('pod/sentinel');
      expect(r.stderr).to.match(
        /Warning: .*pss-privileged: container "app" sets spec\.containers\[0\]\.securityContext\.privileged=true/,
      );
    });
  });
});
