import { expect } from 'chai';
import { hostAliases, shareProcessNamespace } from './pod-settings.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from './_testkit.ts';

const base: Spec = { containers: [ctr()] };

describe('rule pod-host-aliases', () => {
  const cases: { name: string; spec: Spec; hits: number }[] = [
    { name: 'none', spec: base, hits: 0 },
    { name: 'empty list', spec: { ...base, hostAliases: [] }, hits: 0 },
    {
      name: 'one alias',
      spec: { ...base, hostAliases: [{ ip: '10.0.0.5', hostnames: ['api.internal'] }] },
      hits: 1,
    },
    { name: 'junk entries only', spec: { ...base, hostAliases: ['x', 3] }, hits: 0 },
  ];
  for (const c of cases)
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → ${c.hits}`, () => {
        expect(runRule(hostAliases, w.wrap(c.spec))).to.have.length(c.hits);
      });
  it('names the hostnames, addresses and the field', () => {
    const [h] = runRule(
      hostAliases,
      deploymentOf({ ...base, hostAliases: [{ ip: '10.0.0.5', hostnames: ['api.internal', 'db'] }] }),
    );
    expect(h?.message).to.equal('pod sets spec.template.spec.hostAliases: api.internal, db → 10.0.0.5');
  });
  it('never throws on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(hostAliases, m)).not.to.throw();
    expect(() =>
      runRule(hostAliases, deploymentOf({ hostAliases: [{ ip: 7, hostnames: 'x' }] })),
    ).not.to.throw();
  });
});

describe('rule pod-share-process-namespace', () => {
  const cases: { name: string; spec: Spec; hits: number }[] = [
    { name: 'unset', spec: base, hits: 0 },
    { name: 'false', spec: { ...base, shareProcessNamespace: false }, hits: 0 },
    { name: 'true', spec: { ...base, shareProcessNamespace: true }, hits: 1 },
    {
      name: 'string "true" (invalid, rejected by the API)',
      spec: { ...base, shareProcessNamespace: 'true' },
      hits: 0,
    },
  ];
  for (const c of cases)
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → ${c.hits}`, () => {
        expect(runRule(shareProcessNamespace, w.wrap(c.spec))).to.have.length(c.hits);
      });
  it('names the field path', () => {
    const [h] = runRule(shareProcessNamespace, deploymentOf({ ...base, shareProcessNamespace: true }));
    expect(h?.message).to.equal('pod sets spec.template.spec.shareProcessNamespace=true');
  });
  it('never throws on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(shareProcessNamespace, m)).not.to.throw();
  });
});
