/**
 * The Helm chart charts/vigil (make chart-test): helm lint and the values schema, the chart
 * rendering exactly manifests/install.yaml with default values (and the drift check naming any
 * difference), non-default values validated by the real API server (server-side dry run), and
 * helm install / upgrade / uninstall on the harness's control plane (no kubelet: pods stay Pending).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cluster } from '../harness.ts';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import {
  CHART_DIR,
  INSTALL_YAML,
  compareObjects,
  helmBin,
  helmTemplateArgs,
  managerImage,
  parseImageRef,
  parseObjects,
  readObjects,
  renderChart,
  type K8sObject,
} from '../../scripts/chart.ts';
import {
  helmInstallSuite,
  helmOn,
  helmRun,
  kubectlOn,
  must,
  removeTempDirs,
  tempDir,
  type HelmTarget,
} from './helm.ts';

const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const DIGEST = `sha256:${'1'.repeat(64)}`;

function find(objs: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return o;
}

interface PodTemplate {
  replicas: number;
  template: {
    spec: {
      containers: {
        image: string;
        args: string[];
        env: { name: string; value?: string }[];
        resources: unknown;
      }[];
    };
  };
}

describe('Helm chart charts/vigil', function () {
  let helm = '';
  const target = (): HelmTarget => ({
    helm,
    kubeconfig: cluster().kubeconfig,
    kubectl: cluster().kubectlPath,
    namespace: 'vigil-system',
    release: 'vigil',
  });

  before(function () {
    this.timeout(30 * 60_000); // the first run on a machine builds helm (scripts/helm-build.sh)
    helm = helmBin();
  });

  after(() => removeTempDirs());

  describe('helm lint and the values schema', function () {
    it('helm lint --strict passes with the default values', () => {
      const r = helmRun(helm, ['lint', '--strict', '--namespace', 'vigil-system', CHART_DIR]);
      expect(r.ok, r.out).to.equal(true);
      expect(r.out).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      // helm lint only logs a template's fail(); none may fire.
      expect(r.stderr).to.not.include('fail');
    });

    const bad: [string, string[], RegExp][] = [
      [
        'a port that is not a number',
        ['--set-json', 'networkPolicy.apiServerPorts=["8443"]'],
        /\/networkPolicy\/apiServerPorts\/0': got string, want integer/,
      ],
      [
        'no API server port',
        ['--set-json', 'networkPolicy.apiServerPorts=[]'],
        /apiServerPorts'.*minItems|at least 1/,
      ],
      ['a misspelt key', ['--set-json', 'replica=1'], /additional properties 'replica' not allowed/],
      ['an unknown log level', ['--set', 'logLevel=verbose'], /\/logLevel'.*(enum|must be one of)/],
      [
        'a digest that is not sha256',
        ['--set', 'image.digest=sha256:abc'],
        /\/image\/digest'.*does not match pattern/,
      ],
      [
        'a policy without a spec',
        ['--set-json', 'policies=[{"name":"p"}]'],
        /\/policies\/0'.*missing propert(y|ies) 'spec'/,
      ],
      [
        'a policy name with capitals',
        ['--set-json', 'policies=[{"name":"P","spec":{}}]'],
        /\/policies\/0\/name'.*pattern/,
      ],
    ];
    for (const [what, args, message] of bad) {
      it(`rejects ${what}, naming the value`, () => {
        const r = helmRun(helm, ['lint', '--strict', '--namespace', 'vigil-system', CHART_DIR, ...args]);
        expect(r.ok, r.out).to.equal(false);
        expect(r.out).to.match(message);
      });
    }

    it('rejects several replicas without leader election (every replica would write)', () => {
      const r = helmRun(helm, helmTemplateArgs({ helm }).concat(['--set', 'leaderElection.enabled=false']));
      expect(r.ok).to.equal(false);
      expect(r.out).to.match(/replicas > 1 needs leaderElection.enabled=true/);
      const one = helmRun(
        helm,
        helmTemplateArgs({ helm, setJson: ['replicas=1', 'leaderElection.enabled=false'] }),
      );
      expect(one.ok, one.out).to.equal(true);
      const objs = parseObjects(one.out, 'helm template');
      const args = (find(objs, 'Deployment').spec as PodTemplate).template.spec.containers[0]?.args;
      expect(args).to.not.include('--leader-elect');
      expect(objs.filter((o) => o.kind === 'Role')).to.deep.equal([]);
    });

    it('leaderElection.leaseName sets --lease-name and the only Lease the Role may update', () => {
      const r = helmRun(helm, helmTemplateArgs({ helm, setJson: ['leaderElection.leaseName="vigil-a"'] }));
      expect(r.ok, r.out).to.equal(true);
      const objs = parseObjects(r.out, 'helm template');
      const args = (find(objs, 'Deployment').spec as PodTemplate).template.spec.containers[0]?.args;
      expect(args).to.include('--lease-name=vigil-a');
      const rules = (find(objs, 'Role').rules ?? []) as { verbs: string[]; resourceNames?: string[] }[];
      expect(rules.find((x) => x.verbs.includes('update'))?.resourceNames).to.deep.equal(['vigil-a']);
    });

    it('auditWebhook.enabled runs the receiver: flags, Secret mounts, port, Service and NetworkPolicy ingress', () => {
      const missing = helmRun(helm, helmTemplateArgs({ helm, setJson: ['auditWebhook.enabled=true'] }));
      expect(missing.ok).to.equal(false);
      expect(missing.out).to.match(/auditWebhook.enabled needs auditWebhook.tlsSecretName/);
      const noAuth = helmRun(
        helm,
        helmTemplateArgs({
          helm,
          setJson: ['auditWebhook.enabled=true', 'auditWebhook.tlsSecretName="tls"'],
        }),
      );
      expect(noAuth.out).to.match(/needs auditWebhook.clientCASecretName or auditWebhook.tokenSecretName/);
      const r = helmRun(
        helm,
        helmTemplateArgs({
          helm,
          setJson: [
            'auditWebhook.enabled=true',
            'auditWebhook.tlsSecretName="audit-tls"',
            'auditWebhook.clientCASecretName="audit-ca"',
          ],
        }),
      );
      expect(r.ok, r.out).to.equal(true);
      const objs = parseObjects(r.out, 'helm template');
      const pod = (find(objs, 'Deployment').spec as PodTemplate).template.spec as unknown as {
        containers: { args: string[]; ports: { name: string; containerPort: number }[] }[];
        volumes: { name: string; secret?: { secretName: string } }[];
      };
      const c = pod.containers[0];
      expect(c?.args).to.include.members([
        '--audit-webhook-bind-address=:8443',
        '--audit-webhook-tls-cert-file=/etc/vigil/audit-tls/tls.crt',
        '--audit-webhook-tls-key-file=/etc/vigil/audit-tls/tls.key',
        '--audit-webhook-client-ca-file=/etc/vigil/audit-client-ca/ca.crt',
      ]);
      expect(c?.args.some((a) => a.startsWith('--audit-webhook-token-file'))).to.equal(false);
      expect(c?.ports.find((p) => p.name === 'audit-webhook')?.containerPort).to.equal(8443);
      expect(
        pod.volumes.filter((v) => v.secret).map((v) => `${v.name}:${v.secret?.secretName ?? ''}`),
      ).to.deep.equal(['audit-tls:audit-tls', 'audit-client-ca:audit-ca']);
      const svc = find(objs, 'Service', 'vigil-audit-webhook').spec as {
        ports: { port: number; targetPort: string }[];
      };
      expect(svc.ports).to.deep.equal([
        { name: 'audit-webhook', port: 443, targetPort: 'audit-webhook', protocol: 'TCP' },
      ]);
      const np = find(objs, 'NetworkPolicy', 'vigil').spec as { ingress: { ports: { port: string }[] }[] };
      expect(np.ingress.some((i) => i.ports.some((p) => p.port === 'audit-webhook'))).to.equal(true);
    });

    it('openReports.enabled adds --openreports and the OpenReports RBAC, and nothing else', () => {
      const r = helmRun(helm, helmTemplateArgs({ helm, setJson: ['openReports.enabled=true'] }));
      expect(r.ok, r.out).to.equal(true);
      const objs = parseObjects(r.out, 'helm template');
      const args = (find(objs, 'Deployment').spec as PodTemplate).template.spec.containers[0]?.args;
      expect(args).to.include('--openreports');
      const rules = (find(objs, 'ClusterRole', 'vigil').rules ?? []) as {
        apiGroups: string[];
        resources: string[];
      }[];
      expect(rules.filter((x) => x.apiGroups.includes('openreports.io'))).to.deep.equal([
        {
          apiGroups: ['openreports.io'],
          resources: ['reports', 'clusterreports'],
          verbs: ['create', 'delete', 'get', 'patch', 'update'],
        },
      ]);
      const off = parseObjects(helmRun(helm, helmTemplateArgs({ helm })).out, 'helm template');
      const offRules = (find(off, 'ClusterRole', 'vigil').rules ?? []) as { apiGroups: string[] }[];
      expect(offRules.some((x) => x.apiGroups.includes('openreports.io'))).to.equal(false);
    });

    it('refuses to take over a namespace Vigil does not own (default, kube-system)', () => {
      for (const namespace of ['default', 'kube-system']) {
        const r = helmRun(helm, helmTemplateArgs({ helm, namespace }));
        expect(r.ok).to.equal(false);
        expect(r.out).to.include(`namespace.create=true would take over namespace ${namespace}`);
        const own = helmRun(helm, helmTemplateArgs({ helm, namespace, setJson: ['namespace.create=false'] }));
        expect(own.ok, own.out).to.equal(true);
        expect(parseObjects(own.out, 'helm template').filter((o) => o.kind === 'Namespace')).to.deep.equal(
          [],
        );
      }
    });

    it('rejects a ServiceMonitor without the metrics Service it scrapes', () => {
      const r = helmRun(
        helm,
        helmTemplateArgs({ helm, setJson: ['serviceMonitor.enabled=true', 'metrics.service.enabled=false'] }),
      );
      expect(r.ok).to.equal(false);
      expect(r.out).to.match(/serviceMonitor.enabled=true needs metrics.service.enabled=true/);
    });
  });

  describe('one source with install.yaml', function () {
    it('scripts/chart-drift.ts (make lint) passes: default values render install.yaml', () => {
      const out = execFileSync(NODE, [join(REPO_ROOT, 'scripts', 'chart-drift.ts'), '--helm', helm], {
        encoding: 'utf8',
      });
      const n = readObjects(INSTALL_YAML).length;
      expect(n).to.be.greaterThan(10);
      expect(out).to.include(
        `renders the ${n} objects of manifests/install.yaml and the 2 of config/prometheus`,
      );
    });

    it('the comparison names every difference, object and field', () => {
      const got = renderChart({
        helm,
        setJson: ['replicas=1', 'networkPolicy.apiServerPorts=[8443]', 'namespace.create=false'],
      });
      expect(compareObjects(readObjects(INSTALL_YAML), got)).to.deep.equal([
        'Namespace vigil-system: in install.yaml, not rendered by the chart',
        'Deployment vigil-system/vigil: spec.replicas: install.yaml 2, chart 1',
        'NetworkPolicy vigil-system/vigil: spec.egress[0].ports: 2 items in install.yaml, 1 in the chart',
        'NetworkPolicy vigil-system/vigil: spec.egress[0].ports[0].port: install.yaml 443, chart 8443',
      ]);
    });

    it('ignores only the four Helm labels and helm.sh/resource-policy, and only in metadata', () => {
      const want = readObjects(INSTALL_YAML);
      const got = renderChart({ helm });
      const sa = (objs: K8sObject[]): K8sObject => find(objs, 'ServiceAccount');
      const deployment = (
        objs: K8sObject[],
      ): PodTemplate & { template: { metadata: { labels: Record<string, string> } } } =>
        find(objs, 'Deployment').spec as never;
      expect(sa(got).metadata.labels).to.include.keys('helm.sh/chart', 'app.kubernetes.io/managed-by');
      expect(compareObjects(want, got)).to.deep.equal([]);

      sa(got).metadata.labels = { ...sa(got).metadata.labels, 'app.kubernetes.io/part-of': 'other' };
      sa(got).metadata.annotations = { 'helm.sh/resource-policy': 'keep', note: 'x' };
      deployment(got).template.metadata.labels['helm.sh/chart'] = 'vigil-0.1.0';
      expect(compareObjects(want, got)).to.deep.equal([
        'ServiceAccount vigil-system/vigil: metadata.annotations: install.yaml (absent), chart {"note":"x"}',
        'ServiceAccount vigil-system/vigil: metadata.labels.app.kubernetes.io/part-of: install.yaml "vigil", chart "other"',
        'Deployment vigil-system/vigil: spec.template.metadata.labels.helm.sh/chart: install.yaml (absent), chart "vigil-0.1.0"',
      ]);
    });

    it("the default image is install.yaml's; the reference is repository[:tag][@digest]", () => {
      const installed = managerImage(readObjects(INSTALL_YAML));
      const image = (setJson: string[]): string =>
        (find(renderChart({ helm, setJson }), 'Deployment').spec as PodTemplate).template.spec.containers[0]
          ?.image ?? '';
      expect(image([])).to.equal(installed);
      const repo = '"repository":"localhost:5000/vigil"';
      expect(image([`image={${repo},"tag":"","digest":"${DIGEST}","pullPolicy":"Never"}`])).to.equal(
        `localhost:5000/vigil@${DIGEST}`,
      );
      expect(image([`image={${repo},"tag":"dev","digest":"","pullPolicy":"Never"}`])).to.equal(
        'localhost:5000/vigil:dev',
      );
      expect(image([`image={${repo},"tag":"dev","digest":"${DIGEST}","pullPolicy":"Never"}`])).to.equal(
        `localhost:5000/vigil:dev@${DIGEST}`,
      );
      const none = helmRun(
        helm,
        helmTemplateArgs({ helm, setJson: [`image={${repo},"tag":"","digest":"","pullPolicy":"Never"}`] }),
      );
      expect(none.ok).to.equal(false);
      expect(parseImageRef(`localhost:5000/vigil@${DIGEST}`)).to.deep.equal({
        repository: 'localhost:5000/vigil',
        tag: '',
        digest: DIGEST,
      });
      expect(() => parseImageRef('localhost:5000/vigil')).to.throw(/not an image reference/);
    });
  });

  describe("Vigil's own rules", function () {
    function scan(setJson: string[]): string[] {
      const r = helmRun(helm, helmTemplateArgs({ helm, setJson }));
      if (!r.ok) throw new Error(`helm template: ${r.out}`);
      const file = join(tempDir('vigil-chart-scan-'), 'chart.yaml');
      writeFileSync(file, r.out);
      const out = execFileSync(
        NODE,
        [
          join(REPO_ROOT, 'bin', 'vigil.js'),
          'scan',
          '--profile',
          'all',
          '--output',
          'json',
          '--fail-on',
          'never',
          file,
        ],
        { encoding: 'utf8' },
      );
      return (JSON.parse(out) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId);
    }

    it('the rendered chart passes the strictest profile; one replica is reported', () => {
      expect(scan([])).to.deep.equal([]);
      expect(scan(['replicas=1'])).to.deep.equal(['deployment-single-replica']);
    });
  });

  // First, so that Helm, not a test, installs the CRDs.
  helmInstallSuite(target);
  // As a real node's test runs it: another image and API server ports (over the namespace and
  // CRDs the first release left behind).
  helmInstallSuite(
    () => ({ ...target(), image: `localhost:5000/vigil@${DIGEST}`, apiServerPorts: [6443, 8443] }),
    ' with an image and API server ports',
  );

  describe('moving from install.yaml to the chart', function () {
    it('helm install --take-ownership adopts what kubectl applied, without rolling the pods', () => {
      const t = target();
      const replicaSets = (): string[] =>
        must(kubectlOn(t, ['get', 'rs', '-n', t.namespace, '-o', 'name']), 'kubectl get rs')
          .split('\n')
          .filter((l) => l !== '');
      must(kubectlOn(t, ['apply', '--server-side', '-f', INSTALL_YAML]), 'kubectl apply install.yaml');
      const before = replicaSets();
      expect(before).to.have.length(1);
      // Without --take-ownership Helm refuses objects it did not create.
      const refused = helmOn(t, ['install', t.release, CHART_DIR, '-n', t.namespace, '--dry-run=server']);
      expect(refused.ok).to.equal(false);
      expect(refused.out).to.match(/cannot be imported into the current release: invalid ownership metadata/);
      // --force-conflicts: kubectl's field manager owns the same values (atomic fieldRefs, defaulted).
      must(
        helmOn(t, [
          'install',
          t.release,
          CHART_DIR,
          '-n',
          t.namespace,
          '--take-ownership',
          '--force-conflicts',
        ]),
        'helm install --take-ownership',
      );
      expect(replicaSets()).to.deep.equal(before); // same pod template hash: no rollout
      must(kubectlOn(t, ['diff', '--server-side', '--force-conflicts', '-f', INSTALL_YAML]), 'kubectl diff');
      must(helmOn(t, ['uninstall', t.release, '-n', t.namespace, '--wait']), 'helm uninstall');
      expect(
        must(
          kubectlOn(t, ['get', 'clusterrole', 'vigil', '--ignore-not-found', '-o', 'name']),
          'get clusterrole',
        ),
      ).to.equal('');
    });
  });

  describe('non-default values on the real API server', function () {
    const namespace = 'chart-e2e';
    let valuesFile = '';
    let rendered = '';
    let objs: K8sObject[] = [];
    const samples = readdirSync(join(REPO_ROOT, 'config', 'samples'))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .flatMap((f) => readObjects(join(REPO_ROOT, 'config', 'samples', f)));

    before(function () {
      this.timeout(120_000);
      const k = cluster();
      k.installCrds();
      const crds = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'prometheus-operator-crds.sh')], {
        encoding: 'utf8',
      }).trim();
      k.kubectl([
        'apply',
        '--server-side',
        '-f',
        join(crds, 'monitoring.coreos.com_servicemonitors.yaml'),
        '-f',
        join(crds, 'monitoring.coreos.com_prometheusrules.yaml'),
      ]);
      k.kubectl([
        'wait',
        '--for=condition=established',
        '--timeout=60s',
        'crd/servicemonitors.monitoring.coreos.com',
        'crd/prometheusrules.monitoring.coreos.com',
      ]);
      k.kubectl(['create', 'namespace', namespace]);
      const values = {
        image: { repository: 'registry.example.com/vigil', tag: '', digest: DIGEST, pullPolicy: 'Always' },
        replicas: 1,
        logLevel: 'debug',
        logFormat: 'text',
        extraArgs: ['--workers=8'],
        nodeOptions: { maxOldSpaceSizeMiB: 400, maxSemiSpaceSizeMiB: 16, extra: '--enable-source-maps' },
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '2', memory: '640Mi' } },
        podAnnotations: { 'example.com/team': 'security' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
        networkPolicy: {
          apiServerPorts: [8443],
          metricsFrom: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          ],
        },
        serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' }, interval: '1m' },
        prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
        policies: samples.map((p) => ({ name: p.metadata.name, spec: p['spec'] })),
      };
      valuesFile = join(tempDir('vigil-chart-values-'), 'values.json');
      writeFileSync(valuesFile, JSON.stringify(values));
      const r = helmRun(
        helm,
        helmTemplateArgs({ helm, namespace, valuesFiles: [valuesFile] }).filter(
          (a) => a !== '--include-crds',
        ),
      );
      if (!r.ok) throw new Error(`helm template: ${r.out}`);
      rendered = r.out;
      objs = parseObjects(rendered, 'helm template');
    });

    it('helm lint --strict passes with them', () => {
      const r = helmRun(helm, [
        'lint',
        '--strict',
        '--namespace',
        'vigil-system',
        CHART_DIR,
        '--values',
        valuesFile,
      ]);
      expect(r.ok, r.out).to.equal(true);
    });

    it('the API server accepts every object (server-side dry run, strict field validation)', () => {
      const r = kubectlOn(target(), ['apply', '--dry-run=server', '--validate=strict', '-f', '-'], rendered);
      expect(r.ok, r.out).to.equal(true);
      expect(r.out.match(/\(server dry run\)/g)).to.have.length(objs.length);
      // install.yaml's objects but the CRDs (crds/ is not templated), the policies, ServiceMonitor and PrometheusRule
      const installed = readObjects(INSTALL_YAML).filter((o) => o.kind !== 'CustomResourceDefinition');
      expect(samples.length).to.be.greaterThan(0);
      expect(objs.length).to.equal(installed.length + samples.length + 2);
    });

    it('renders the values: API server ports, replicas, image, flags, heap, policies, monitoring', () => {
      const np = find(objs, 'NetworkPolicy', 'vigil').spec as {
        egress: { ports: { port: number }[] }[];
        ingress: { from?: unknown[]; ports: { port: string }[] }[];
      };
      expect(np.egress).to.deep.equal([{ ports: [{ port: 8443, protocol: 'TCP' }] }]);
      expect(np.ingress.map((r) => [r.from?.length ?? 0, r.ports.map((p) => p.port)])).to.deep.equal([
        [1, ['metrics']],
        [0, ['probes']],
      ]);
      const d = find(objs, 'Deployment').spec as PodTemplate;
      expect(d.replicas).to.equal(1);
      const c = d.template.spec.containers[0];
      expect(c?.image).to.equal(`registry.example.com/vigil@${DIGEST}`);
      expect(c?.args).to.include.members([
        '--log-level=debug',
        '--log-format=text',
        '--workers=8',
        '--leader-elect',
      ]);
      expect(c?.env.find((e) => e.name === 'NODE_OPTIONS')?.value).to.equal(
        '--max-old-space-size=400 --max-semi-space-size=16 --enable-source-maps',
      );
      expect(objs.filter((o) => o.kind === 'SecurityPolicy').map((o) => o.metadata.name)).to.deep.equal(
        samples.map((s) => s.metadata.name),
      );
      expect(find(objs, 'ServiceMonitor').metadata.labels?.['release']).to.equal('kube-prometheus-stack');
      expect(
        (find(objs, 'ServiceMonitor').spec as { namespaceSelector: unknown }).namespaceSelector,
      ).to.deep.equal({
        matchNames: [namespace],
      });
      const groups = (find(objs, 'PrometheusRule').spec as { groups: unknown[] }).groups;
      const source = readObjects(join(REPO_ROOT, 'config', 'prometheus', 'prometheus-rule.yaml'))[0];
      expect(groups).to.deep.equal((source?.['spec'] as { groups: unknown[] }).groups);
    });

    it('a policy the API server rejects fails the dry run, naming the field', () => {
      const r = helmRun(
        helm,
        helmTemplateArgs({
          helm,
          namespace,
          setJson: ['policies=[{"name":"typo","spec":{"profile":"pss-strict"}}]'],
        }),
      );
      expect(r.ok, r.out).to.equal(true);
      const policy = parseObjects(r.out, 'helm template').filter((o) => o.kind === 'SecurityPolicy');
      expect(policy).to.have.length(1);
      const apply = kubectlOn(target(), ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(policy[0]));
      expect(apply.ok).to.equal(false);
      expect(apply.out).to.match(/spec\.profile/);
    });
  });
});
