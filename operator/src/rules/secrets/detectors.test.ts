import { expect } from 'chai';
import {
  DEFAULT_SCAN_OPTIONS as O,
  containsJwt,
  containsUrlPassword,
  detectKnown,
  isRuntimeReference,
  printableName,
  scanArgv,
  scanNamed,
  scanText,
  secretNameKind,
  shannonEntropy,
  splitShellWords,
} from './detectors.ts';
import { FAKE } from './_fakes.ts';

describe('secret detectors', () => {
  describe('known formats', () => {
    const cases: [string, string[]][] = [
      [FAKE.awsKeyId, ['AWS access key ID']],
      ['ASIAIOSFODNN7EXAMPLE', ['AWS access key ID']],
      [`key=${FAKE.awsKeyId};`, ['AWS access key ID']],
      ['XAKIAIOSFODNN7EXAMPLE', []],
      ['AKIAIOSFODNN7EXAMPL', []],
      [FAKE.github, ['GitHub token']],
      [FAKE.githubPat, ['GitHub token']],
      ['ghp_short', []],
      [FAKE.gitlab, ['GitLab token']],
      [FAKE.slack, ['Slack token']],
      [
        'https://hooks.slack.com/services/T00000000/B00000000/EXAMPLEfakeXXXXXXXXXXXXX',
        ['Slack webhook URL'],
      ],
      [FAKE.stripe, ['Stripe live secret key']],
      ['sk_test_EXAMPLEfake0000000000000000', []],
      [FAKE.google, ['Google API key']],
      [FAKE.npm, ['npm access token']],
      [FAKE.pem, ['private key (PEM)']],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', ['private key (PEM)']],
      ['-----BEGIN PRIVATE KEY-----', ['private key (PEM)']],
      ['-----BEGIN ENCRYPTED PRIVATE KEY-----', ['private key (PEM)']],
      ['-----BEGIN PGP PRIVATE KEY BLOCK-----', ['private key (PEM)']],
      ['-----BEGIN CERTIFICATE-----', []],
      ['-----BEGIN PUBLIC KEY-----', []],
      [`${FAKE.awsKeyId} and ${FAKE.github}`, ['AWS access key ID', 'GitHub token']],
      ['just some configuration text', []],
    ];
    for (const [text, want] of cases)
      it(`${JSON.stringify(text.slice(0, 30))} → ${want.join(', ') || 'nothing'}`, () => {
        expect(detectKnown(text)).to.deep.equal(want);
      });
  });

  it('entropy', () => {
    expect(shannonEntropy('')).to.equal(0);
    expect(shannonEntropy('aaaa')).to.equal(0);
    expect(shannonEntropy('abcd')).to.equal(2);
    expect(shannonEntropy(FAKE.randomToken)).to.be.greaterThan(4);
    expect(shannonEntropy('hashicorp-vault')).to.be.lessThan(shannonEntropy(FAKE.randomToken));
  });

  it('JWTs need a JOSE header', () => {
    expect(containsJwt(FAKE.jwt)).to.equal(true);
    expect(containsJwt(`Authorization: Bearer ${FAKE.jwt}`)).to.equal(true);
    expect(containsJwt('eyJub3RhbGciOiJ4In0.eyJzdWIiOiJ4eHh4eHgifQ.sig')).to.equal(false);
    expect(containsJwt('eyJ!!!!!!!!.eyJ????????.x')).to.equal(false);
    expect(containsJwt('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9')).to.equal(false);
  });

  it('URL passwords', () => {
    expect(containsUrlPassword('postgres://app:s3cr3t-pw@db:5432/app')).to.equal(true);
    expect(containsUrlPassword('--dsn=mysql://root:hunter2@127.0.0.1/x')).to.equal(true);
    expect(containsUrlPassword('postgres://app@db:5432/app')).to.equal(false);
    expect(containsUrlPassword('postgres://app:$(DB_PASSWORD)@db/app')).to.equal(false);
    expect(containsUrlPassword('redis://:${REDIS_PASSWORD}@redis:6379')).to.equal(false);
    expect(containsUrlPassword('https://user:****@example.com')).to.equal(false);
    expect(containsUrlPassword('https://example.com/a:b@c')).to.equal(false);
    expect(containsUrlPassword('http://localhost:8080/')).to.equal(false);
  });

  it('runtime references are not literals', () => {
    for (const v of [
      '$(DB_PASSWORD)',
      '${DB_PASSWORD}',
      '$DB_PASSWORD',
      '{{ .Values.password }}',
      '<your-password>',
      'vault:secret/data/db#password',
      'ref+awssecrets://x',
      'arn:aws:secretsmanager:eu-west-1:1:secret:x',
      '__DB_PASSWORD__',
      '#{DbPassword}#',
      '$(cat /run/secrets/pw)',
    ])
      expect(isRuntimeReference(v), v).to.equal(true);
    for (const v of ['changeme', 'p$ssword', FAKE.password]) expect(isRuntimeReference(v), v).to.equal(false);
  });

  describe('secret names', () => {
    const cases: [string, string | undefined][] = [
      ['DB_PASSWORD', 'password'],
      ['MYSQL_ROOT_PASSWORD', 'password'],
      ['dbPassword', 'password'],
      ['spring.datasource.password', 'password'],
      ['REDIS_PASS', 'password'],
      ['DBPASSWORD', 'password'],
      ['PASSWORD_FILE', undefined],
      ['POSTGRES_PASSWORD_FILE', undefined],
      ['PASSWORD_MIN_LENGTH', undefined],
      ['MYSQL_ALLOW_EMPTY_PASSWORD', 'password'],
      ['AWS_SECRET_ACCESS_KEY', 'aws-secret'],
      ['aws_secret_access_key', 'aws-secret'],
      ['AWS_ACCESS_KEY_ID', undefined],
      ['GITHUB_TOKEN', 'secret'],
      ['authToken', 'secret'],
      ['API_KEY', 'secret'],
      ['STRIPE_API_KEY', 'secret'],
      ['apiKey', 'secret'],
      ['CLIENT_SECRET', 'secret'],
      ['JWT_SIGNING_KEY', 'secret'],
      ['CACHE_KEY', undefined],
      ['PARTITION_KEY', undefined],
      ['PUBLIC_KEY', undefined],
      ['SECRET_NAME', undefined],
      ['TOKEN_TTL', undefined],
      ['TOKEN_ENDPOINT', undefined],
      ['TOKENIZER_MODEL', undefined],
      ['CLIENT_ID', undefined],
      ['LOG_LEVEL', undefined],
      ['', undefined],
    ];
    for (const [n, want] of cases)
      it(`${JSON.stringify(n)} → ${want ?? 'not secret'}`, () => {
        expect(secretNameKind(n)).to.equal(want);
      });
  });

  describe('named values', () => {
    const cases: [string, string, string[]][] = [
      ['DB_PASSWORD', FAKE.password, ['hardcoded password']],
      ['DB_PASSWORD', 'changeme', ['well-known default password']],
      ['DB_PASSWORD', 'CHANGEME', ['well-known default password']],
      ['DB_PASSWORD', '', []],
      ['DB_PASSWORD', '$(PW)', []],
      ['DB_PASSWORD', '/run/secrets/db', []],
      ['MYSQL_ALLOW_EMPTY_PASSWORD', 'yes', []],
      ['DB_PASSWORD', '********', []],
      ['API_TOKEN', FAKE.randomToken, ['high-entropy value in a secret-named field']],
      ['API_TOKEN', FAKE.hexSecret, ['high-entropy value in a secret-named field']],
      ['API_TOKEN', 'changeme', ['well-known default secret']],
      ['API_TOKEN', 'short1', []],
      ['SECRET_BACKEND_KIND', 'hashicorp-vault', []],
      ['VAULT_SECRET', 'hashicorp-vault', []],
      ['OAUTH_CLIENT_SECRET', 'https://idp.example.com/secret', []],
      ['SECRET_MESSAGE', 'hello there general kenobi 1', []],
      ['AWS_SECRET_ACCESS_KEY', FAKE.awsSecret, ['AWS secret access key']],
      ['ANYTHING', FAKE.github, ['GitHub token']],
      ['GITHUB_TOKEN', FAKE.github, ['GitHub token']],
      ['SESSION', FAKE.jwt, ['JSON Web Token']],
      ['DATABASE_URL', 'postgres://app:s3cr3t-pw@db/app', ['password embedded in a URL']],
      ['LOG_LEVEL', FAKE.randomToken, []],
    ];
    for (const [n, v, want] of cases)
      it(`${n}=${JSON.stringify(v.slice(0, 12))}… → ${want.join(', ') || 'nothing'}`, () => {
        expect(scanNamed(n, v, O).map((d) => d.type)).to.deep.equal(want);
      });
    it('entropy and length thresholds are tunable', () => {
      expect(scanNamed('API_TOKEN', FAKE.randomToken, { minEntropy: 5, minLength: 8 })).to.deep.equal([]);
      expect(scanNamed('API_TOKEN', FAKE.randomToken, { minEntropy: 3, minLength: 40 })).to.deep.equal([]);
    });
  });

  describe('free text', () => {
    it('finds key/value lines in configuration files, with line numbers and keys', () => {
      const text = [
        '# application.properties',
        'spring.datasource.url=jdbc:postgresql://db:5432/app',
        `spring.datasource.password=${FAKE.password}`,
        'spring.datasource.username=app',
        'logging.level=INFO',
        `export API_TOKEN="${FAKE.randomToken}"`,
        `  "client_secret": "${FAKE.hexSecret}",`,
        'password: |',
        `<password>${FAKE.password}</password>`,
        'Server=db;Database=app;User Id=app;Password=hunter2;',
        'password: ${DB_PASSWORD}',
        'admin_password: changeme # default',
      ].join('\n');
      const got = scanText(text, O).map((d) => `${d.line ?? 0}:${d.key ?? ''}:${d.type}`);
      expect(got).to.deep.equal([
        '3:spring.datasource.password:hardcoded password',
        '6:API_TOKEN:high-entropy value in a secret-named field',
        '7:client_secret:high-entropy value in a secret-named field',
        '9:password:hardcoded password',
        '10:Password:well-known default password',
        '12:admin_password:well-known default password',
      ]);
    });
    it('finds known formats anywhere and does not repeat them per line', () => {
      const text = `[default]\naws_access_key_id = ${FAKE.awsKeyId}\naws_secret_access_key = ${FAKE.awsSecret}\n`;
      expect(scanText(text, O).map((d) => `${d.line ?? 0}:${d.type}`)).to.deep.equal([
        '0:AWS access key ID',
        '3:AWS secret access key',
      ]);
    });
    it('splits shell words with quotes', () => {
      expect(splitShellWords(`mysql -u app '--password=a b' ""`)).to.deep.equal([
        'mysql',
        '-u',
        'app',
        '--password=a b',
        '',
      ]);
    });
  });

  describe('command lines', () => {
    const cases: [unknown[], string[]][] = [
      [['--password=hunter2'], ['0:password:well-known default password']],
      [['--db-password', FAKE.password], ['1:db-password:hardcoded password']],
      [['--token', FAKE.randomToken, '--verbose'], ['1:token:high-entropy value in a secret-named field']],
      [['--password-file', '/run/secrets/pw'], []],
      [['--password', '$(DB_PASSWORD)'], []],
      [['--password', '--verbose'], []],
      [['--port', '8080'], []],
      [[`--github-token=${FAKE.github}`], ['0:github-token:GitHub token']],
      [['--database-url=postgres://app:s3cr3t-pw@db/app'], ['0:database-url:password embedded in a URL']],
      [['sh', '-c', `curl -H "Authorization: Bearer ${FAKE.jwt}" https://api`], ['2::JSON Web Token']],
      [['sh', '-c', `export DB_PASSWORD=${FAKE.password} && ./run`], ['2:DB_PASSWORD:hardcoded password']],
      [['sh', '-c', `mysql --password ${FAKE.password} app`], ['2:password:hardcoded password']],
      [['sh', '-c', 'exec app --password="$DB_PASSWORD"'], []],
      [[7, null, { a: 1 }, ''], []],
    ];
    for (const [argv, want] of cases)
      it(`${JSON.stringify(argv).slice(0, 60)} → ${want.join(', ') || 'nothing'}`, () => {
        expect(scanArgv(argv, O).map((d) => `${d.index}:${d.key ?? ''}:${d.type}`)).to.deep.equal(want);
      });
  });

  it('withholds names that look like credentials', () => {
    expect(printableName('DB_PASSWORD')).to.equal('DB_PASSWORD');
    expect(printableName(FAKE.github)).to.equal('<name withheld>');
    expect(printableName('x'.repeat(100))).to.have.length(81);
  });

  it('is fast on large adversarial input', () => {
    const big = `${'a:'.repeat(200_000)}\n${'://'.repeat(50_000)}\n${'eyJ' + 'A'.repeat(100_000)}\n${'x='.repeat(100_000)}`;
    const t0 = performance.now();
    scanText(big, O);
    scanArgv([big, big], O);
    expect(performance.now() - t0).to.be.lessThan(2000);
  });
});
