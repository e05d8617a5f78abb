import { expect } from 'chai';
import type { KubeObject } from '../../engine/types.ts';
import { runRule } from '../testing.ts';
import { serviceExternalIPs } from './service-external-ips.ts';
import { service } from './_testkit.ts';

describe('rule network-service-external-ips', () => {
  const cases: {
    name: string;
    obj: KubeObject;
    params?: Record<string, unknown>;
    hits: number;
    contains?: string;
  }[] = [
    { name: 'no externalIPs', obj: service('a', 's', { ports: [{ port: 80 }] }), hits: 0 },
    { name: 'empty list', obj: service('a', 's', { externalIPs: [] }), hits: 0 },
    {
      name: 'claims an address',
      obj: service('a', 's', { externalIPs: ['203.0.113.10'] }),
      hits: 1,
      contains: '203.0.113.10',
    },
    {
      name: 'allowed address',
      obj: service('a', 's', { externalIPs: ['203.0.113.10'] }),
      params: { allowedExternalIPs: ['203.0.113.10'] },
      hits: 0,
    },
    {
      name: 'one allowed, one not',
      obj: service('a', 's', { externalIPs: ['203.0.113.10', '8.8.8.8'] }),
      params: { allowedExternalIPs: ['203.0.113.10'] },
      hits: 1,
      contains: '8.8.8.8',
    },
    { name: 'malformed', obj: { kind: 'Service', spec: { externalIPs: 'x' } }, hits: 0 },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.hits}`, () => {
      const hits = runRule(serviceExternalIPs, c.obj, c.params ? { params: c.params } : {});
      expect(hits).to.have.length(c.hits);
      if (c.contains) expect(hits[0]?.message).to.contain(c.contains);
    });
  }
  it('does not name allowed addresses', () => {
    const [hit] = runRule(serviceExternalIPs, service('a', 's', { externalIPs: ['1.1.1.1', '2.2.2.2'] }), {
      params: { allowedExternalIPs: ['1.1.1.1'] },
    });
    expect(hit?.message).not.to.contain('1.1.1.1');
  });
});
