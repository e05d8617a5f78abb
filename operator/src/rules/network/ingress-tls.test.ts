import { expect } from 'chai';
import type { KubeObject } from '../../engine/types.ts';
import { runRule } from '../testing.ts';
import { ingressWithoutTls } from './ingress-tls.ts';
import { ingress, service, workload } from './_testkit.ts';

const backend = { service: { name: 'web', port: { number: 80 } } };
const rule = (host?: string): Record<string, unknown> => ({
  ...(host ? { host } : {}),
  http: { paths: [{ path: '/', pathType: 'Prefix', backend }] },
});

describe('rule network-ingress-without-tls', () => {
  const cases: { name: string; obj: KubeObject; hits: number; contains?: string }[] = [
    {
      name: 'no tls',
      obj: ingress('a', 'i', { rules: [rule('shop.example.com')] }),
      hits: 1,
      contains: 'has no spec.tls: shop.example.com',
    },
    {
      name: 'tls covers the host',
      obj: ingress('a', 'i', {
        rules: [rule('shop.example.com')],
        tls: [{ hosts: ['shop.example.com'], secretName: 't' }],
      }),
      hits: 0,
    },
    {
      name: 'tls covers one of two hosts',
      obj: ingress('a', 'i', {
        rules: [rule('shop.example.com'), rule('admin.example.com')],
        tls: [{ hosts: ['shop.example.com'], secretName: 't' }],
      }),
      hits: 1,
      contains: 'does not cover admin.example.com',
    },
    {
      name: 'wildcard certificate covers one label',
      obj: ingress('a', 'i', {
        rules: [rule('shop.example.com')],
        tls: [{ hosts: ['*.example.com'], secretName: 't' }],
      }),
      hits: 0,
    },
    {
      name: 'wildcard certificate does not cover two labels',
      obj: ingress('a', 'i', {
        rules: [rule('a.shop.example.com')],
        tls: [{ hosts: ['*.example.com'], secretName: 't' }],
      }),
      hits: 1,
    },
    {
      name: 'hostless rule needs a hostless tls entry',
      obj: ingress('a', 'i', { rules: [rule()], tls: [{ hosts: ['shop.example.com'], secretName: 't' }] }),
      hits: 1,
      contains: '(any host)',
    },
    {
      name: 'hostless tls entry covers all',
      obj: ingress('a', 'i', { rules: [rule(), rule('x.example.com')], tls: [{ secretName: 't' }] }),
      hits: 0,
    },
    { name: 'default backend only, no tls', obj: ingress('a', 'i', { defaultBackend: backend }), hits: 1 },
    {
      name: 'TLS terminated at an AWS load balancer',
      obj: ingress(
        'a',
        'i',
        { rules: [rule('shop.example.com')] },
        { annotations: { 'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws:acm:x' } },
      ),
      hits: 0,
    },
    { name: 'no rules, no backend', obj: ingress('a', 'i', {}), hits: 0 },
    { name: 'malformed', obj: { kind: 'Ingress', spec: { rules: 'x', tls: [null] } }, hits: 0 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.hits}`, () => {
      const hits = runRule(ingressWithoutTls, c.obj);
      expect(hits, hits.map((h) => h.message).join('\n')).to.have.length(c.hits);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }

  it('is raised to high when the Ingress fronts privileged pods (issue 19 item 5)', () => {
    const ing = ingress('a', 'i', { rules: [rule('shop.example.com')] });
    const svc = service('a', 'web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    const web = workload('Deployment', 'a', 'web', { app: 'web' });
    const priv = structuredClone(web);
    const tpl = (priv['spec'] as { template: { spec: Record<string, unknown> } }).template;
    tpl.spec['hostNetwork'] = true;
    const plain = runRule(ingressWithoutTls, ing, { others: [svc, web] });
    expect(plain.map((h) => h.severity ?? ingressWithoutTls.severity)).to.deep.equal(['medium']);
    const raised = runRule(ingressWithoutTls, ing, { others: [svc, priv] });
    expect(raised.map((h) => h.severity)).to.deep.equal(['high']);
    // vigil rules lists the raise (issue 19 item 8: one source for the severities a scan reports).
    expect(ingressWithoutTls.raisedTo?.map((x) => x.severity)).to.deep.equal(['high']);
    expect(raised[0]?.message).to.contain('fronts privileged pods of Deployment/web (hostNetwork)');
    // The same privileged workload behind a Service the Ingress does not use: not raised.
    const other = service('a', 'other', { selector: { app: 'web' } });
    expect(runRule(ingressWithoutTls, ing, { others: [other, priv] })[0]?.severity).to.equal(undefined);
  });
});
