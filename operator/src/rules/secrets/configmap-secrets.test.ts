import { expect } from 'chai';
import { configMapSecret } from './configmap-secrets.ts';
import { runRule } from '../testing.ts';
import { MALFORMED } from '../workload/_testkit.ts';
import { FAKE, FORBIDDEN_IN_MESSAGES } from './_fakes.ts';
import type { KubeObject, RuleHit } from '../../engine/types.ts';

function cm(data: unknown): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data };
}

const allHits: RuleHit[] = [];

const cases: { name: string; data: unknown; params?: Record<string, unknown>; hits: number }[] = [
  {
    name: 'plain settings',
    data: { LOG_LEVEL: 'info', 'nginx.conf': 'server {\n  listen 8080;\n}\n' },
    hits: 0,
  },
  { name: 'secret-named key with a password', data: { DB_PASSWORD: FAKE.password }, hits: 1 },
  { name: 'secret-named key with changeme', data: { DB_PASSWORD: 'changeme' }, hits: 1 },
  { name: 'secret-named key with a reference', data: { DB_PASSWORD: '${DB_PASSWORD}' }, hits: 0 },
  { name: 'secret-named key, file path', data: { DB_PASSWORD_FILE: '/etc/secrets/db' }, hits: 0 },
  { name: 'GitHub token under any key', data: { settings: `token ${FAKE.github}` }, hits: 1 },
  { name: 'PEM private key', data: { 'tls.key': FAKE.pem }, hits: 1 },
  {
    name: 'certificate only',
    data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
    hits: 0,
  },
  {
    name: 'properties file with a password and a URL password',
    data: {
      'application.properties': `db.url=postgres://app:s3cr3t-pw@db/app\ndb.password=${FAKE.password}\nlog=info\n`,
    },
    hits: 2,
  },
  {
    name: 'AWS credentials file',
    data: {
      credentials: `[default]\naws_access_key_id = ${FAKE.awsKeyId}\naws_secret_access_key = ${FAKE.awsSecret}\n`,
    },
    hits: 2,
  },
  {
    name: 'AWS key id and secret under neutral keys',
    data: { KEY: FAKE.awsKeyId, SIGN: FAKE.awsSecret },
    hits: 2,
  },
  { name: 'single-line key=value under a neutral key', data: { dsn: 'password=hunter2' }, hits: 1 },
  {
    name: 'ignoreNames on the data key',
    data: { TEST_PASSWORD: 'changeme' },
    params: { ignoreNames: ['TEST_*'] },
    hits: 0,
  },
  {
    name: 'ignoreNames on an inner key',
    data: { 'app.env': 'TEST_PASSWORD=changeme\nDB_PASSWORD=changeme\n' },
    params: { ignoreNames: ['TEST_*'] },
    hits: 1,
  },
  { name: 'binaryData is not scanned', data: {}, hits: 0 },
  { name: 'no data', data: undefined, hits: 0 },
  { name: 'junk data', data: ['x'], hits: 0 },
];

describe('rule configmap-contains-secret', () => {
  for (const c of cases)
    it(`${c.name} → ${c.hits}`, () => {
      const hits = runRule(configMapSecret, cm(c.data), { params: c.params });
      allHits.push(...hits);
      expect(hits).to.have.length(c.hits);
    });

  it('messages name the key, line, inner key and type', () => {
    const hits = runRule(
      configMapSecret,
      cm({
        DB_PASSWORD: 'changeme',
        'app.yaml': `a: 1\nclient_secret: ${FAKE.randomToken}\n`,
        x: FAKE.stripe,
      }),
    );
    allHits.push(...hits);
    expect(hits.map((h) => h.message)).to.deep.equal([
      'ConfigMap data["DB_PASSWORD"] contains a literal secret: well-known default password',
      'ConfigMap data["app.yaml"] (line 2, via client_secret) contains a literal secret: high-entropy value in a secret-named field',
      'ConfigMap data["x"] contains a literal credential: Stripe live secret key',
    ]);
  });

  it('only evaluates ConfigMaps', () => {
    expect(configMapSecret.kinds).to.deep.equal(['ConfigMap']);
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(configMapSecret, m)).not.to.throw();
  });

  it('no message contains a secret value or a fragment of one', () => {
    expect(allHits.length).to.be.greaterThan(10);
    for (const h of allHits)
      for (const f of FORBIDDEN_IN_MESSAGES) expect(h.message, h.message).not.to.contain(f);
  });
});
