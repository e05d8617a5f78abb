import { expect } from 'chai';
import { HELP, OPTIONS, auditWebhookConfig, leaderTimingsValid, parseDuration } from './command.ts';

describe('vigil operator --help', () => {
  it('documents every flag the command takes', () => {
    const flags = Object.keys(OPTIONS).filter((f) => f !== 'help');
    expect(flags).to.include.members([
      'lease-name',
      'sharding',
      'event-qps',
      'leader-elect-lease-duration',
      'leader-elect-renew-deadline',
      'leader-elect-retry-period',
      'policy-status-delay',
      'namespace-delay',
      'version-poll-seconds',
    ]);
    for (const f of flags) expect(HELP, `--${f}`).to.match(new RegExp(`^  --${f}\\b`, 'm'));
  });
});

describe('vigil operator audit webhook flags (auditWebhookConfig)', () => {
  const base = {
    'audit-webhook-bind-address': ':8443',
    'audit-webhook-tls-cert-file': '/tls/tls.crt',
    'audit-webhook-tls-key-file': '/tls/tls.key',
  };

  it('is off without a bind address, and refuses its other flags then', () => {
    expect(auditWebhookConfig({})).to.equal(undefined);
    expect(auditWebhookConfig({ 'audit-webhook-bind-address': '0' })).to.equal(undefined);
    // It is given every flag of the command: the others are not its business.
    expect(
      auditWebhookConfig({ kubeconfig: '/k', namespace: 'vigil-system' } as Parameters<
        typeof auditWebhookConfig
      >[0]),
    ).to.equal(undefined);
    expect(() => auditWebhookConfig({ 'audit-queue-size': '10' })).to.throw(
      /--audit-queue-size needs --audit-webhook-bind-address/,
    );
  });

  it('needs a serving certificate and a way to authenticate the API server', () => {
    expect(() => auditWebhookConfig({ 'audit-webhook-bind-address': ':8443' })).to.throw(/tls-cert-file/);
    expect(() => auditWebhookConfig(base)).to.throw(/client-ca-file or --audit-webhook-token-file/);
  });

  it('reads the flags, with defaults for the queue and the body limit', () => {
    expect(auditWebhookConfig({ ...base, 'audit-webhook-token-file': '/token/token' })).to.deep.equal({
      bindAddress: ':8443',
      tlsCertFile: '/tls/tls.crt',
      tlsKeyFile: '/tls/tls.key',
      tokenFile: '/token/token',
      queueSize: 20_000,
      maxBodyBytes: 8 * 1024 * 1024,
    });
    const c = auditWebhookConfig({
      ...base,
      'audit-webhook-client-ca-file': '/ca.crt',
      'audit-queue-size': '500',
      'audit-max-body-bytes': '1024',
    });
    expect(c).to.deep.include({ clientCaFile: '/ca.crt', queueSize: 500, maxBodyBytes: 1024 });
    expect(() =>
      auditWebhookConfig({ ...base, 'audit-webhook-token-file': '/t', 'audit-queue-size': '0' }),
    ).to.throw(/positive integer/);
  });
});

describe('vigil operator leader-election timings (leaderTimingsValid)', () => {
  it("accepts client-go's defaults and refuses inconsistent timings, naming the flags", () => {
    expect(() =>
      leaderTimingsValid({ leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 }),
    ).to.not.throw();
    expect(() =>
      leaderTimingsValid({ leaseDurationSeconds: 10, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 }),
    ).to.throw(
      /--leader-elect-lease-duration \(10\) must be greater than --leader-elect-renew-deadline \(10\)/,
    );
    expect(() =>
      leaderTimingsValid({ leaseDurationSeconds: 15, renewDeadlineSeconds: 2, retryPeriodSeconds: 2 }),
    ).to.throw(
      /--leader-elect-renew-deadline \(2\) must be greater than 1\.2 × --leader-elect-retry-period \(2\)/,
    );
  });
});

describe('vigil operator image flags (parseDuration)', () => {
  it('reads seconds or a number with s, m, h, d; refuses anything else, naming the flag', () => {
    expect(parseDuration('90', 'advisories-refresh')).to.equal(90);
    expect(parseDuration('30m', 'advisories-refresh')).to.equal(1800);
    expect(parseDuration('6h', 'advisories-refresh')).to.equal(21600);
    expect(parseDuration('3d', 'advisories-max-age')).to.equal(259200);
    expect(parseDuration('0', 'advisories-refresh', true)).to.equal(0);
    expect(() => parseDuration('0', 'advisories-max-age')).to.throw(
      /--advisories-max-age must be a positive duration/,
    );
    expect(() => parseDuration('1w', 'image-recheck')).to.throw(/--image-recheck/);
    expect(() => parseDuration('-5', 'image-recheck')).to.throw(/--image-recheck/);
  });
});
