import { expect } from 'chai';
import { rootFilesystemWritable } from './read-only-root-filesystem.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from './_testkit.ts';

const ro = { securityContext: { readOnlyRootFilesystem: true } };

const cases: { name: string; spec: Spec; params?: Record<string, unknown>; hits: number }[] = [
  { name: 'read-only', spec: { containers: [ctr(ro)] }, hits: 0 },
  { name: 'unset', spec: { containers: [ctr()] }, hits: 1 },
  {
    name: 'explicit false',
    spec: { containers: [ctr({ securityContext: { readOnlyRootFilesystem: false } })] },
    hits: 1,
  },
  {
    name: 'string "true" is not true',
    spec: { containers: [ctr({ securityContext: { readOnlyRootFilesystem: 'true' } })] },
    hits: 1,
  },
  {
    name: 'init container writable',
    spec: { initContainers: [ctr({}, 'init')], containers: [ctr(ro)] },
    hits: 1,
  },
  {
    name: 'ephemeral container ignored',
    spec: { containers: [ctr(ro)], ephemeralContainers: [ctr({}, 'debug')] },
    hits: 0,
  },
  {
    name: 'exempt container',
    spec: { containers: [ctr(ro), ctr({}, 'legacy')] },
    params: { exemptContainers: ['legacy'] },
    hits: 0,
  },
  { name: 'Windows pod', spec: { os: { name: 'windows' }, containers: [ctr()] }, hits: 0 },
  {
    name: 'pod-level field does not exist',
    spec: { securityContext: { readOnlyRootFilesystem: true }, containers: [ctr()] },
    hits: 1,
  },
];

describe('rule container-root-filesystem-writable', () => {
  for (const c of cases)
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → ${c.hits}`, () => {
        expect(runRule(rootFilesystemWritable, w.wrap(c.spec), { params: c.params })).to.have.length(c.hits);
      });

  it('messages distinguish explicit false from unset and name the path', () => {
    const hits = runRule(
      rootFilesystemWritable,
      deploymentOf({ containers: [ctr(), ctr({ securityContext: { readOnlyRootFilesystem: false } }, 'b')] }),
    );
    expect(hits.map((h) => h.message)).to.deep.equal([
      'container "app" does not set securityContext.readOnlyRootFilesystem=true (spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem)',
      'container "b" sets securityContext.readOnlyRootFilesystem=false (spec.template.spec.containers[1].securityContext.readOnlyRootFilesystem)',
    ]);
    expect(hits.map((h) => h.container)).to.deep.equal(['app', 'b']);
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(rootFilesystemWritable, m)).not.to.throw();
  });
});
