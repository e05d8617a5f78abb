import { expect } from 'chai';
import { hardcodedSecret, knownCredential } from './container-secrets.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from '../workload/_testkit.ts';
import { FAKE, FORBIDDEN_IN_MESSAGES } from './_fakes.ts';
import type { RuleHit } from '../../engine/types.ts';

const env = (pairs: Record<string, unknown>): { name: string; value: unknown }[] =>
  Object.entries(pairs).map(([name, value]) => ({ name, value }));

interface Case {
  name: string;
  container: Spec;
  params?: Record<string, unknown>;
  known: number;
  hardcoded: number;
}

const cases: Case[] = [
  { name: 'no env', container: {}, known: 0, hardcoded: 0 },
  {
    name: 'harmless env',
    container: { env: env({ LOG_LEVEL: 'debug', PORT: '8080', FEATURE_X: 'true' }) },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'AWS key id + secret by name',
    container: { env: env({ AWS_ACCESS_KEY_ID: FAKE.awsKeyId, AWS_SECRET_ACCESS_KEY: FAKE.awsSecret }) },
    known: 2,
    hardcoded: 0,
  },
  {
    name: 'AWS secret next to key id under another name',
    container: { env: env({ S3_KEY: FAKE.awsKeyId, S3_SIGN: FAKE.awsSecret }) },
    known: 2,
    hardcoded: 0,
  },
  {
    name: '40-char value without key id is not an AWS secret',
    container: { env: env({ S3_SIGN: FAKE.awsSecret }) },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'GitHub token under a neutral name',
    container: { env: env({ CONFIG: FAKE.github }) },
    known: 1,
    hardcoded: 0,
  },
  {
    name: 'GitHub token under a secret name is reported once, as known',
    container: { env: env({ GITHUB_TOKEN: FAKE.github }) },
    known: 1,
    hardcoded: 0,
  },
  {
    name: 'every provider format',
    container: {
      env: env({
        A: FAKE.githubPat,
        B: FAKE.gitlab,
        C: FAKE.slack,
        D: FAKE.stripe,
        E: FAKE.google,
        F: FAKE.npm,
        G: FAKE.pem,
      }),
    },
    known: 7,
    hardcoded: 0,
  },
  {
    name: 'hardcoded password',
    container: { env: env({ DB_PASSWORD: FAKE.password }) },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'changeme password',
    container: { env: env({ POSTGRES_PASSWORD: 'changeme' }) },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'high-entropy token',
    container: { env: env({ API_TOKEN: FAKE.randomToken }) },
    known: 0,
    hardcoded: 1,
  },
  { name: 'JWT', container: { env: env({ SESSION: FAKE.jwt }) }, known: 0, hardcoded: 1 },
  {
    name: 'password in a URL',
    container: { env: env({ DATABASE_URL: 'postgres://app:s3cr3t-pw@db/app' }) },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'references are fine',
    container: {
      env: [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'DATABASE_URL', value: 'postgres://app:$(DB_PASSWORD)@db/app' },
        { name: 'API_TOKEN_FILE', value: '/var/run/secrets/api/token' },
      ],
    },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'password flag in args',
    container: { args: ['--db-password', FAKE.password] },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'password flag with = in command',
    container: { command: ['/app', '--password=hunter2'] },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'token in a shell script',
    container: { command: ['sh', '-c', `git clone https://x:${FAKE.github}@github.com/a/b`] },
    known: 1,
    hardcoded: 0,
  },
  {
    name: 'exec probe with password',
    container: { livenessProbe: { exec: { command: ['mysqladmin', 'ping', '--password=hunter2'] } } },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'preStop hook with token',
    container: { lifecycle: { preStop: { exec: { command: ['curl', '-H', `X-Token: ${FAKE.slack}`] } } } },
    known: 1,
    hardcoded: 0,
  },
  {
    name: 'probe header with JWT',
    container: {
      readinessProbe: {
        httpGet: {
          path: '/',
          port: 80,
          httpHeaders: [{ name: 'Authorization', value: `Bearer ${FAKE.jwt}` }],
        },
      },
    },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'multi-line env value (config file)',
    container: { env: env({ APP_CONFIG: `db:\n  password: ${FAKE.password}\n  host: db\n` }) },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'password inside an options string',
    container: {
      env: env({ JAVA_OPTS: `-Xmx512m -Djavax.net.ssl.keyStorePassword=${FAKE.password} -Dx=y` }),
    },
    known: 0,
    hardcoded: 1,
  },
  {
    name: 'options string without secrets',
    container: { env: env({ JAVA_OPTS: '-Xmx512m -Dfile.encoding=UTF-8 -Dpassword.policy=strict' }) },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'ignoreNames',
    container: { env: env({ TEST_PASSWORD: 'changeme', TEST_KEY: FAKE.github }) },
    params: { ignoreNames: ['TEST_*'] },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'exempt container',
    container: { env: env({ DB_PASSWORD: 'changeme', X: FAKE.github }) },
    params: { exemptContainers: ['app'] },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'entropy threshold raised',
    container: { env: env({ API_TOKEN: FAKE.randomToken }) },
    params: { minEntropy: 6 },
    known: 0,
    hardcoded: 0,
  },
  {
    name: 'non-string values',
    container: { env: env({ DB_PASSWORD: 12345, X: null, Y: { a: 1 } }), args: [1, true] },
    known: 0,
    hardcoded: 0,
  },
];

const allHits: RuleHit[] = [];

function run(rule: typeof knownCredential, spec: Spec, params?: Record<string, unknown>): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const w of WRAPPERS) hits.push(...runRule(rule, w.wrap(spec), { params }));
  allHits.push(...hits);
  return hits;
}

describe('rules container-known-credential / container-hardcoded-secret', () => {
  for (const c of cases) {
    for (const w of WRAPPERS)
      it(`${c.name} (${w.kind}) → known ${c.known}, hardcoded ${c.hardcoded}`, () => {
        const obj = w.wrap({ containers: [ctr(c.container)] });
        const k = runRule(knownCredential, obj, { params: c.params });
        const h = runRule(hardcodedSecret, obj, { params: c.params });
        allHits.push(...k, ...h);
        expect(k, 'known').to.have.length(c.known);
        expect(h, 'hardcoded').to.have.length(c.hardcoded);
      });
    for (const where of ['initContainers', 'ephemeralContainers'] as const)
      it(`${c.name} (${where}) → known ${c.known}, hardcoded ${c.hardcoded}`, () => {
        const spec = { containers: [ctr({}, 'main')], [where]: [ctr(c.container)] };
        expect(run(knownCredential, spec, c.params).length, 'known').to.equal(c.known * WRAPPERS.length);
        expect(run(hardcodedSecret, spec, c.params).length, 'hardcoded').to.equal(
          c.hardcoded * WRAPPERS.length,
        );
      });
  }

  it('messages name the container, the variable, the path and the type', () => {
    const obj = deploymentOf({
      containers: [
        ctr({
          env: env({ AWS_ACCESS_KEY_ID: FAKE.awsKeyId, DB_PASSWORD: 'changeme' }),
          args: ['--api-token', FAKE.randomToken],
        }),
      ],
    });
    const k = runRule(knownCredential, obj).map((h) => h.message);
    const h = runRule(hardcodedSecret, obj).map((x) => x.message);
    allHits.push(...runRule(knownCredential, obj), ...runRule(hardcodedSecret, obj));
    expect(k).to.deep.equal([
      'container "app" env AWS_ACCESS_KEY_ID (spec.template.spec.containers[0].env[0].value) contains a literal credential: AWS access key ID',
    ]);
    expect(h).to.deep.equal([
      'container "app" env DB_PASSWORD (spec.template.spec.containers[0].env[1].value) contains a literal secret: well-known default password',
      'container "app" args[1] (spec.template.spec.containers[0].args[1], via api-token) contains a literal secret: high-entropy value in a secret-named field',
    ]);
  });

  it('reports lines and keys inside multi-line values', () => {
    const obj = deploymentOf({
      containers: [ctr({ env: env({ APP_CONFIG: `a: 1\ndb_password: ${FAKE.password}\n` }) })],
    });
    const [h] = runRule(hardcodedSecret, obj);
    allHits.push(...runRule(hardcodedSecret, obj));
    expect(h?.message).to.equal(
      'container "app" env APP_CONFIG (spec.template.spec.containers[0].env[0].value, line 2, via db_password) contains a literal secret: hardcoded password',
    );
  });

  it('withholds env var names that are themselves credentials', () => {
    const obj = deploymentOf({ containers: [ctr({ env: [{ name: FAKE.github, value: FAKE.github }] })] });
    const hits = runRule(knownCredential, obj);
    allHits.push(...hits);
    expect(hits).to.have.length(1);
    expect(hits[0]?.message).to.contain('<name withheld>');
  });

  it('never throws on malformed input', () => {
    for (const m of MALFORMED) {
      expect(() => runRule(knownCredential, m)).not.to.throw();
      expect(() =>
        runRule(hardcodedSecret, m, { params: { minEntropy: 'x', ignoreNames: 'y' } }),
      ).not.to.throw();
    }
  });

  it('no message contains a secret value or a fragment of one', () => {
    expect(allHits.length).to.be.greaterThan(50);
    for (const h of allHits)
      for (const f of FORBIDDEN_IN_MESSAGES) expect(h.message, h.message).not.to.contain(f);
  });
});
