/**
 * Issue 19 item 10: findings of `vigil scan` point at the offending field (line and column),
 * or at its nearest existing ancestor when the field is absent, in JSON and SARIF.
 */
import { expect } from 'chai';
import { compilePolicy } from '../engine/policy.ts';
import type { Subject } from '../engine/types.ts';
import { ALL_RULES } from '../rules/index.ts';
import { FIXED_NOW } from '../rules/testing.ts';
import { parseManifests, type InputError } from './load.ts';
import { fieldPathIn, parseFieldPath } from './locate.ts';
import { toJsonReport } from './output/json.ts';
import type { ScanResult } from './output/result.ts';
import { toSarif } from './output/sarif.ts';
import { evaluateAll } from './scan.ts';
import { VERSION } from './version.ts';

function scanText(text: string, profile = 'all'): ScanResult {
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  parseManifests(text, 'm.yaml', subjects, errors);
  expect(errors).to.deep.equal([]);
  const { policy } = compilePolicy({ profile }, ALL_RULES);
  if (!policy) throw new Error(`${profile} compiles`);
  return { ...evaluateAll(subjects, policy, FIXED_NOW), policy, inputErrors: [], toolVersion: VERSION };
}

/** `ruleId line:column field` of the JSON findings of one rule. */
function where(text: string, ruleId: string, profile = 'all'): string[] {
  return toJsonReport(scanText(text, profile))
    .findings.filter((f) => f.ruleId === ruleId)
    .map((f) => `${f.location.line}:${f.location.column} ${f.location.field}`);
}

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: default
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        privileged: true
    - name: bare
      image: registry.example/app:1.0
  volumes:
    - name: host
      hostPath:
        path: /etc
`;

describe('cli/locate: findings point at the offending field', () => {
  it('an existing field: the line and column of its key', () => {
    expect(where(POD, 'pss-privileged')).to.deep.equal([
      '11:9 spec.containers[0].securityContext.privileged',
    ]);
    expect(where(POD, 'pss-host-path-volumes')).to.deep.equal(['16:7 spec.volumes[0].hostPath']);
  });

  it('an absent field: its nearest existing ancestor (no securityContext → the container)', () => {
    expect(where(POD, 'pod-security-context-missing')).to.deep.equal([
      '12:7 spec.containers[1].securityContext',
    ]);
    // The first container has a securityContext but no allowPrivilegeEscalation: the securityContext key.
    expect(where(POD, 'pss-allow-privilege-escalation')).to.deep.equal([
      '10:7 spec.containers[0].securityContext.allowPrivilegeEscalation',
      '12:7 spec.containers[1].securityContext.allowPrivilegeEscalation',
    ]);
  });

  it('keeps the object line in objectLine, and the object line where a finding names no field', () => {
    const text = `# leading comment\n---\n${POD}`;
    const findings = toJsonReport(scanText(text)).findings;
    const priv = findings.find((f) => f.ruleId === 'pss-privileged');
    expect(priv?.location).to.deep.equal({
      file: 'm.yaml',
      line: 13,
      column: 9,
      field: 'spec.containers[0].securityContext.privileged',
      objectLine: 3,
    });
    const unnamed = findings.find((f) => f.ruleId === 'network-workload-not-isolated');
    expect(unnamed?.message).to.not.match(/spec\./);
    expect(unnamed?.location).to.deep.equal({
      file: 'm.yaml',
      line: 3,
      column: null,
      field: null,
      objectLine: 3,
    });
  });

  it('the second document of a stream, flow style and a pod template', () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: default}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: app, image: x, securityContext: {privileged: true}}]
`;
    // POD is 17 lines, so the Deployment starts at line 19; findings are sorted by kind.
    expect(where(`${POD}---\n${deploy}`, 'pss-privileged')).to.deep.equal([
      '27:60 spec.template.spec.containers[0].securityContext.privileged',
      '11:9 spec.containers[0].securityContext.privileged',
    ]);
  });

  it('a document after an explicit end (...) and a %YAML directive: lines count from the file start', () => {
    const text = `# first
apiVersion: v1
kind: Namespace
metadata: {name: a}
...
%YAML 1.1
---
# the pod
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: a}
spec:
  hostPID: true
  containers: [{name: app, image: x}]
`;
    expect(where(text, 'pss-host-namespaces')).to.deep.equal(['13:3 spec.hostPID']);
  });

  it('items of a kind: List are located inside their item', () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: default}
    spec:
      containers:
        - name: app
          image: x
  - apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: default}
    spec:
      hostNetwork: true
      containers: [{name: app, image: x}]
`;
    expect(where(list, 'pss-host-namespaces')).to.deep.equal(['15:7 spec.hostNetwork']);
    expect(where(list, 'pod-security-context-missing')).to.deep.equal([
      '9:11 spec.containers[0].securityContext',
      '16:20 spec.containers[0].securityContext',
    ]);
  });

  it('JSON input: the line and column of the quoted key', () => {
    const json = JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'j', namespace: 'default' },
        spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] },
      },
      null,
      2,
    );
    const lines = json.split('\n');
    const line = lines.findIndex((l) => l.includes('"privileged"')) + 1;
    const column = (lines[line - 1] ?? '').indexOf('"privileged"') + 1;
    expect(where(json, 'pss-privileged')).to.deep.equal([
      `${line}:${column} spec.containers[0].securityContext.privileged`,
    ]);
  });

  it('a field that comes from a merge key (<<: *anchor) is located where it is written', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: m, namespace: default}
spec:
  containers:
    - name: base
      image: x
      securityContext: &sc
        privileged: true
    - name: merged
      image: x
      securityContext:
        <<: *sc
        runAsUser: 1000
`;
    expect(where(text, 'pss-privileged')).to.deep.equal([
      '9:9 spec.containers[0].securityContext.privileged',
      '9:9 spec.containers[1].securityContext.privileged',
    ]);
  });

  it('SARIF: region.startLine and startColumn are the field', () => {
    const sarif = toSarif(scanText(POD), '/') as {
      runs: { results: { ruleId: string; locations: { physicalLocation: { region: unknown } }[] }[] }[];
    };
    const results = sarif.runs[0]?.results ?? [];
    const regions = (id: string): unknown[] =>
      results.filter((r) => r.ruleId === id).map((r) => r.locations[0]?.physicalLocation.region);
    expect(regions('pss-privileged')).to.deep.equal([{ startLine: 11, startColumn: 9 }]);
    expect(regions('pod-security-context-missing')).to.deep.equal([{ startLine: 12, startColumn: 7 }]);
    expect(regions('network-workload-not-isolated')).to.deep.equal([{ startLine: 1 }]);
  });

  it('every pod-template finding of the example names a field that is located', () => {
    const findings = scanText(POD).findings;
    expect(findings.length).to.be.greaterThan(10);
    const located = findings.filter((f) => f.field !== undefined);
    const unlocated = findings.filter((f) => f.field === undefined).map((f) => f.ruleId);
    // Findings about the namespace or the cluster, not a field of the pod, stay on the object.
    expect(unlocated.sort()).to.deep.equal(['network-workload-not-isolated']);
    for (const f of located) expect(f.field?.line, f.ruleId).to.be.within(1, 17);
  });
});

describe('cli/locate: field paths in messages', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', spec: {}, metadata: {}, data: {} };

  it('takes the first path that starts at a top-level field of the object', () => {
    expect(
      fieldPathIn(
        'container "app" has no securityContext (spec.containers[0].securityContext) and the pod sets none (spec.securityContext)',
        pod,
      ),
    ).to.equal('spec.containers[0].securityContext');
    expect(fieldPathIn('spec.type=NodePort opens port(s) 30000 on every node', pod)).to.equal('spec.type');
    expect(fieldPathIn('missing label(s) a on metadata.labels and the pod template', pod)).to.equal(
      'metadata.labels',
    );
    expect(fieldPathIn('ConfigMap data["app.conf"] line 3 contains a literal secret', pod)).to.equal(
      'data["app.conf"]',
    );
  });

  it('ignores prose and quoted values that look like paths', () => {
    expect(fieldPathIn('kernel.org no longer maintains it', pod)).to.equal(undefined);
    expect(
      fieldPathIn('pod sets forbidden sysctl "spec.x" in spec.securityContext.sysctls[0]', pod),
    ).to.equal('spec.securityContext.sysctls[0]');
    expect(fieldPathIn('image "registry.example/spec.app:1" is fine', pod)).to.equal(undefined);
    expect(fieldPathIn('does not set securityContext.readOnlyRootFilesystem=true', pod)).to.equal(undefined);
  });

  it('parses keys, indexes and quoted keys', () => {
    expect(parseFieldPath('spec.containers[0].securityContext')).to.deep.equal([
      'spec',
      'containers',
      0,
      'securityContext',
    ]);
    expect(parseFieldPath('data["a.b"]')).to.deep.equal(['data', 'a.b']);
    expect(parseFieldPath('spec..x')).to.equal(undefined);
  });
});
