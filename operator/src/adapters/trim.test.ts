import { expect } from 'chai';
import type { KubeObject } from '../engine/types.ts';
import {
  StringPool,
  blankSecretData,
  cacheForm,
  deepFreeze,
  internStrings,
  trimFor,
  trimMetadata,
  withTypeMeta,
} from './trim.ts';

function withMeta(extra: Record<string, unknown> = {}): KubeObject {
  const obj: unknown = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'ns',
      creationTimestamp: '2030-01-01T00:00:00Z',
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
        keep: 'me',
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          time: '2030-01-01T00:00:00Z',
          apiVersion: 'v1',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:containers': {} } },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          subresource: 'status',
          time: '2030-01-01T00:00:01Z',
          fieldsV1: {},
        },
        'garbage',
      ],
    },
    ...extra,
  };
  return obj as KubeObject;
}

describe('trimMetadata', () => {
  it('keeps a managedFields summary and drops field sets and last-applied-configuration', () => {
    const input = deepFreeze(withMeta());
    const out = trimMetadata(input);
    expect(out.metadata?.managedFields).to.deep.equal([
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        time: '2030-01-01T00:00:00Z',
        apiVersion: 'v1',
      },
      { manager: 'kubelet', operation: 'Update', time: '2030-01-01T00:00:01Z', subresource: 'status' },
    ]);
    expect(out.metadata?.annotations).to.deep.equal({ keep: 'me' });
    expect(out.metadata?.creationTimestamp).to.equal('2030-01-01T00:00:00Z');
  });

  it('does not mutate its input and tolerates odd metadata', () => {
    const input = deepFreeze(withMeta());
    expect(() => trimMetadata(input)).to.not.throw();
    expect(trimMetadata({ kind: 'X' })).to.deep.equal({ kind: 'X' });
    expect(trimMetadata({ metadata: 'nope' } as unknown as KubeObject)).to.deep.equal({ metadata: 'nope' });
    const odd = trimMetadata({ metadata: { managedFields: 'x' as unknown as [] } });
    expect(odd.metadata?.managedFields).to.deep.equal([]);
  });
});

describe('trimFor', () => {
  it('reduces Pod status to phase and container image ids', () => {
    const pod = withMeta({
      status: {
        phase: 'Running',
        qosClass: 'Burstable',
        conditions: [{ type: 'Ready' }],
        podIP: '10.0.0.1',
        containerStatuses: [
          {
            name: 'app',
            image: 'nginx:1',
            imageID: 'docker.io/nginx@sha256:abc',
            ready: true,
            state: { running: {} },
            lastState: {},
          },
        ],
      },
    });
    const out = trimFor('Pod')(deepFreeze(pod));
    expect(out.status).to.deep.equal({
      phase: 'Running',
      qosClass: 'Burstable',
      containerStatuses: [
        { name: 'app', image: 'nginx:1', imageID: 'docker.io/nginx@sha256:abc', ready: true },
      ],
    });
    expect(out.metadata?.annotations).to.deep.equal({ keep: 'me' });
  });

  it('keeps only replica counts of controllers and drops Job status', () => {
    const d = trimFor('Deployment')({
      kind: 'Deployment',
      status: { replicas: 3, readyReplicas: 2, conditions: [{}] },
    });
    expect(d.status).to.deep.equal({ replicas: 3, readyReplicas: 2 });
    const j = trimFor('Job')({ kind: 'Job', spec: {}, status: { succeeded: 1 } });
    expect(j).to.not.have.property('status');
  });

  it('blanks Secret values but keeps keys and type', () => {
    const s = trimFor('Secret')({
      kind: 'Secret',
      type: 'Opaque',
      data: { password: 'c2VjcmV0' },
      stringData: { x: 'y' },
    });
    expect(s).to.deep.include({ type: 'Opaque', data: { password: '' }, stringData: { x: '' } });
    expect(JSON.stringify(s)).to.not.include('c2VjcmV0');
    expect(blankSecretData({ kind: 'Secret' })).to.deep.equal({ kind: 'Secret' });
  });

  it('applies only metadata trimming to other kinds', () => {
    const cm = trimFor('ConfigMap')(withMeta({ kind: 'ConfigMap', data: { a: 'b' } }));
    expect(cm['data']).to.deep.equal({ a: 'b' });
    expect(cm.metadata?.annotations).to.deep.equal({ keep: 'me' });
  });
});

describe('withTypeMeta', () => {
  it('fills in apiVersion and kind of list items, keeping existing values', () => {
    expect(withTypeMeta({ metadata: { name: 'a' } }, 'apps/v1', 'Deployment')).to.deep.include({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
    });
    const same = { apiVersion: 'v1', kind: 'Pod' };
    expect(withTypeMeta(same, 'v1', 'Pod')).to.equal(same);
  });
});

describe('StringPool and internStrings', () => {
  it('holds one entry per distinct value and copies objects without mutating them', () => {
    const pool = new StringPool();
    pool.intern(['recommended', 'x'].join('-'));
    pool.intern(['recommended', 'x'].join('-'));
    expect(pool.size).to.equal(1);
    const input = {
      metadata: { name: 'p', labels: { app: 'web' } },
      spec: { containers: [{ image: 'a:1' }] },
    };
    const frozen = deepFreeze(structuredClone(input));
    const out = internStrings(frozen, pool);
    expect(out).to.deep.equal(input);
    expect(out).not.to.equal(frozen);
    expect(out.spec.containers).not.to.equal(frozen.spec.containers);
    expect(pool.has('web') && pool.has('a:1') && pool.has('p')).to.equal(true);
    expect(pool.size).to.equal(4);
  });

  it('stays bounded in two generations; values hit since the last rotation survive it', () => {
    const pool = new StringPool(3);
    for (const s of ['a', 'b', 'c']) pool.intern(s);
    pool.intern('d'); // rotation: {a, b, c} becomes the older generation
    pool.intern('a'); // hit in the older generation: moves to the newer one
    pool.intern('e');
    pool.intern('f'); // rotation: {d, a, e} older, {f} newer; b and c are gone
    expect(pool.has('a')).to.equal(true);
    expect(pool.has('b')).to.equal(false);
    expect(pool.has('c')).to.equal(false);
    expect(pool.size).to.equal(4);
    for (let i = 0; i < 100; i++) pool.intern(`u${i}`);
    expect(pool.size).to.be.at.most(6);
  });

  it('does not pool strings longer than maxLength and keeps primitives and nulls', () => {
    const pool = new StringPool(10, 4);
    expect(pool.intern('abcdef')).to.equal('abcdef');
    expect(pool.size).to.equal(0);
    expect(internStrings({ a: null, b: true, c: 1.5, d: [null, 'ab'] }, pool)).to.deep.equal({
      a: null,
      b: true,
      c: 1.5,
      d: [null, 'ab'],
    });
    expect(pool.has('ab')).to.equal(true);
  });
});

describe('cacheForm', () => {
  it('is what the reflector caches: managedFields summarized, annotations trimmed, strings from the pool', () => {
    const pool = new StringPool();
    const remediation = ['Set', 'readOnlyRootFilesystem'].join(' ');
    pool.intern(remediation);
    const answer = {
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'ScanReport',
      metadata: {
        name: 'pod-p',
        namespace: 'ns',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'yes' },
        managedFields: [
          {
            manager: 'vigil',
            operation: 'Apply',
            time: 't',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:status': {} },
          },
        ],
      },
      status: { findings: [{ ruleId: 'r', remediation: ['Set', 'readOnlyRootFilesystem'].join(' ') }] },
    } as unknown as KubeObject;
    const before = structuredClone(answer);
    const cached = cacheForm('ScanReport', answer, pool);
    expect(answer).to.deep.equal(before);
    expect(cached.metadata?.managedFields).to.deep.equal([
      { manager: 'vigil', operation: 'Apply', time: 't' },
    ]);
    expect(cached.metadata?.annotations).to.deep.equal({ keep: 'yes' });
    expect(cached).to.deep.equal(internStrings(trimFor('ScanReport')(answer), new StringPool()));
    expect(pool.has('pod-p')).to.equal(true);
  });
});
