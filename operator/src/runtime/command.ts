/**
 * `vigil operator`: runs the controller against the cluster in --kubeconfig
 * (or KUBECONFIG, or in-cluster config). Flags mirror controller-runtime's.
 */
import { parseArgs } from 'node:util';
import winston from 'winston';
import type { CliIO } from '../cli/io.ts';
import { EXIT_ERROR, EXIT_OK } from '../cli/io.ts';
import type { Logger } from '../controller/logger.ts';
import { DEFAULTS, Operator, type AuditWebhookConfig, type OperatorConfig } from './manager.ts';
import { DEFAULT_AUDIT_MAX_BODY_BYTES, DEFAULT_AUDIT_QUEUE_SIZE } from '../audit/receiver.ts';
import { parseBindAddress } from '../observability/metrics.ts';
import { loadKubeAuth } from '../adapters/kubeconfig.ts';
import { existsSync } from 'node:fs';

export const HELP = `Usage: vigil operator [options]

Watches the cluster, evaluates every object against the SecurityPolicies and
keeps ScanReports, policy status, events and metrics up to date.

Options:
  --kubeconfig PATH                 kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace NS                    namespace for reports about cluster-scoped objects and the
                                    leader Lease (default: $POD_NAMESPACE or vigil-system)
  --metrics-bind-address ADDR       /metrics address, 0 to disable (default :8080)
  --health-probe-bind-address ADDR  /healthz and /readyz address (default :8081)
  --leader-elect                    elect a leader on a Lease; standbys wait (for >1 replica)
  --sharding                        share the work across every replica (for large clusters; not
                                    with --leader-elect): each holds a member Lease
                                    <lease-name>-member-<identity>, namespaces are assigned by
                                    rendezvous hashing over the live members and move when one
                                    joins or leaves; pods and namespaced kinds are cached only
                                    for the replica's namespaces; the member owning the
                                    cluster-scoped work writes policy status (docs/sharding.md).
                                    Uses the lease timings below.
  --lease-name NAME                 the leader Lease in --namespace (default vigil-leader; the
                                    shipped Role may update only that name: change both, or set
                                    the chart's leaderElection.leaseName, which does)
  --leader-elect-lease-duration SEC how long a standby waits before taking over an unrenewed
                                    Lease (default 15)
  --leader-elect-renew-deadline SEC how long the leader keeps trying to renew before it gives
                                    up and exits (default 10; below the lease duration)
  --leader-elect-retry-period SEC   between acquire and renew attempts (default 2; the renew
                                    deadline must exceed 1.2 times it)
  --workers N                       concurrent subject reconciles, and as many report writes
                                    (default 16)
  --policy-status-delay MS          debounce of a policy's status and finding metrics after its
                                    findings change (default 250)
  --namespace-delay MS              longest wait before a namespace is re-evaluated after
                                    workloads in it come or go (default 5000)
  --version-poll-seconds N          how often the API server's /version is read for the
                                    platform rules (default 60)
  --event-qps N                     Kubernetes Events posted per second at most (default 10)
  --resync-seconds N                periodic full re-evaluation (default 600)
  --metrics-rule-label              add the rule label to vigil_findings (more series)
  --openreports                     also write each ScanReport as an OpenReports
                                    (openreports.io/v1alpha1) Report or ClusterReport; needs
                                    their CRDs and RBAC (docs/openreports.md)
  --report-budget-bytes N           largest serialized ScanReport (default 524288)
  --watch-inactivity-timeout SEC    restart a watch that delivers nothing, not even a
                                    bookmark, for this long (default 90)
  --log-level LEVEL                 error|warn|info|debug (default info)
  --log-format FORMAT               json|text (default json)

Images (read for the workloads of policies with spec.images.analyse: true; docs/images.md):
  --image-workers N                 image analyses at a time (default 2)
  --image-cache-size N              analysed images kept in memory, as package lists (default 256)
  --advisories SOURCE               OSV advisories: a file, directory or zip (e.g. a mounted
                                    ConfigMap or volume, for air-gapped clusters) or an http(s)
                                    URL of one (osv.dev's per-ecosystem all.zip); none: images
                                    are inventoried without vulnerabilities
  --advisories-refresh DURATION     re-read SOURCE this often (default 6h; 0: never); a failed
                                    read keeps the data in force and is counted
  --advisories-max-age DURATION     advisory data older than this is stale (default 3d)
  --image-recheck DURATION          how long a tag's digest and a failed analysis are trusted
                                    before an image asked for again is read again (default 10m)
  --registry-ca-file F              extra CA certificates (PEM) for TLS registries
                                    DURATION: seconds, or a number with s, m, h or d

Audit webhook (off unless --audit-webhook-bind-address is set; docs/audit.md):
  --audit-webhook-bind-address ADDR HTTPS address for the API server's audit webhook backend
                                    (POST /audit, audit.k8s.io/v1 EventList), e.g. :8443
  --audit-webhook-tls-cert-file F   serving certificate (PEM)
  --audit-webhook-tls-key-file F    its private key (PEM)
  --audit-webhook-client-ca-file F  accept senders whose client certificate verifies against F
  --audit-webhook-token-file F      accept 'Authorization: Bearer' with the token in F (a
                                    mounted Secret; re-read when it changes). At least one of
                                    the two is required; anything else gets 401 and is counted
  --audit-queue-size N              events received and not yet judged, at most; a batch that
                                    does not fit gets 429 and the API server retries it
                                    (default 20000)
  --audit-max-body-bytes N          largest request body; larger gets 413 (default 8388608)
`;

export function createLogger(level: string, format: string): winston.Logger {
  return winston.createLogger({
    level,
    format:
      format === 'text'
        ? winston.format.combine(
            winston.format.timestamp(),
            winston.format.errors({ stack: false }),
            winston.format.simple(),
          )
        : winston.format.combine(
            winston.format.timestamp(),
            winston.format.errors({ stack: false }),
            winston.format.json(),
          ),
    defaultMeta: { component: 'vigil' },
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's own Console transport
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** The flags `vigil operator` takes; each is documented in HELP (a test checks). */
export const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'metrics-bind-address': { type: 'string' },
  'health-probe-bind-address': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  sharding: { type: 'boolean' },
  'lease-name': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'policy-status-delay': { type: 'string' },
  'namespace-delay': { type: 'string' },
  'version-poll-seconds': { type: 'string' },
  workers: { type: 'string' },
  'resync-seconds': { type: 'string' },
  'report-budget-bytes': { type: 'string' },
  'watch-inactivity-timeout': { type: 'string' },
  'metrics-rule-label': { type: 'boolean' },
  openreports: { type: 'boolean' },
  'event-qps': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'image-workers': { type: 'string' },
  'image-cache-size': { type: 'string' },
  advisories: { type: 'string' },
  'advisories-refresh': { type: 'string' },
  'advisories-max-age': { type: 'string' },
  'image-recheck': { type: 'string' },
  'registry-ca-file': { type: 'string' },
  'audit-webhook-bind-address': { type: 'string' },
  'audit-webhook-tls-cert-file': { type: 'string' },
  'audit-webhook-tls-key-file': { type: 'string' },
  'audit-webhook-client-ca-file': { type: 'string' },
  'audit-webhook-token-file': { type: 'string' },
  'audit-queue-size': { type: 'string' },
  'audit-max-body-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type AuditFlags = Partial<
  Record<
    | 'audit-webhook-bind-address'
    | 'audit-webhook-tls-cert-file'
    | 'audit-webhook-tls-key-file'
    | 'audit-webhook-client-ca-file'
    | 'audit-webhook-token-file'
    | 'audit-queue-size'
    | 'audit-max-body-bytes',
    string
  >
>;

/** client-go's rules for the leader-election timings; throws naming the flags. */
export function leaderTimingsValid(
  c: Pick<OperatorConfig, 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>,
): void {
  if (!(c.leaseDurationSeconds > c.renewDeadlineSeconds))
    throw new Error(
      `--leader-elect-lease-duration (${String(c.leaseDurationSeconds)}) must be greater than --leader-elect-renew-deadline (${String(c.renewDeadlineSeconds)})`,
    );
  if (!(c.renewDeadlineSeconds > 1.2 * c.retryPeriodSeconds))
    throw new Error(
      `--leader-elect-renew-deadline (${String(c.renewDeadlineSeconds)}) must be greater than 1.2 × --leader-elect-retry-period (${String(c.retryPeriodSeconds)})`,
    );
}

/** The audit webhook's configuration from the flags: undefined when off; throws on a bad combination. */
export function auditWebhookConfig(v: AuditFlags): AuditWebhookConfig | undefined {
  const bind = v['audit-webhook-bind-address'];
  const others = Object.entries(v).filter(
    ([k, x]) => k.startsWith('audit-') && k !== 'audit-webhook-bind-address' && x !== undefined,
  );
  if (bind === undefined || bind === '0') {
    if (others.length > 0)
      throw new Error(`--${others[0]?.[0] ?? ''} needs --audit-webhook-bind-address (the webhook is off)`);
    return undefined;
  }
  const cert = v['audit-webhook-tls-cert-file'];
  const key = v['audit-webhook-tls-key-file'];
  if (!cert || !key)
    throw new Error(
      '--audit-webhook-bind-address needs --audit-webhook-tls-cert-file and --audit-webhook-tls-key-file',
    );
  const ca = v['audit-webhook-client-ca-file'];
  const token = v['audit-webhook-token-file'];
  if (!ca && !token)
    throw new Error(
      '--audit-webhook-bind-address needs --audit-webhook-client-ca-file or --audit-webhook-token-file to authenticate the API server',
    );
  const int = (name: keyof AuditFlags, dflt: number): number => {
    const raw = v[name];
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    bindAddress: bind,
    tlsCertFile: cert,
    tlsKeyFile: key,
    ...(ca ? { clientCaFile: ca } : {}),
    ...(token ? { tokenFile: token } : {}),
    queueSize: int('audit-queue-size', DEFAULT_AUDIT_QUEUE_SIZE),
    maxBodyBytes: int('audit-max-body-bytes', DEFAULT_AUDIT_MAX_BODY_BYTES),
  };
}

/** Seconds of a DURATION flag: a number of seconds, or with an s, m, h or d suffix. */
export function parseDuration(raw: string, flag: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(raw.trim());
  const n = m ? Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ''] ?? 1) : NaN;
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
    throw new Error(
      `--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} duration (seconds, or 30m, 6h, 3d)`,
    );
  return n;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
    }));
  } catch (e) {
    io.stderr.write(`vigil operator: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_ERROR;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const num = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const level = values['log-level'] ?? 'info';
  const format = values['log-format'] ?? 'json';
  if (!['error', 'warn', 'info', 'debug'].includes(level) || !['json', 'text'].includes(format)) {
    io.stderr.write('vigil operator: --log-level must be error|warn|info|debug and --log-format json|text\n');
    return EXIT_ERROR;
  }
  let cfg: OperatorConfig;
  try {
    cfg = {
      ...DEFAULTS,
      kubeconfig: values.kubeconfig ?? process.env['KUBECONFIG'],
      namespace: values.namespace ?? process.env['POD_NAMESPACE'] ?? 'vigil-system',
      metricsBindAddress: values['metrics-bind-address'] ?? DEFAULTS.metricsBindAddress,
      probeBindAddress: values['health-probe-bind-address'] ?? DEFAULTS.probeBindAddress,
      leaderElect: values['leader-elect'] ?? false,
      sharding: values.sharding ?? false,
      leaseName: values['lease-name'] ?? DEFAULTS.leaseName,
      workers: num(values.workers, 'workers', DEFAULTS.workers),
      resyncSeconds: num(values['resync-seconds'], 'resync-seconds', DEFAULTS.resyncSeconds),
      findingsRuleLabel: values['metrics-rule-label'] ?? false,
      openReports: values.openreports ?? false,
      eventQps: num(values['event-qps'], 'event-qps', DEFAULTS.eventQps),
      leaseDurationSeconds: num(
        values['leader-elect-lease-duration'],
        'leader-elect-lease-duration',
        DEFAULTS.leaseDurationSeconds,
      ),
      renewDeadlineSeconds: num(
        values['leader-elect-renew-deadline'],
        'leader-elect-renew-deadline',
        DEFAULTS.renewDeadlineSeconds,
      ),
      retryPeriodSeconds: num(
        values['leader-elect-retry-period'],
        'leader-elect-retry-period',
        DEFAULTS.retryPeriodSeconds,
      ),
      policyStatusDelayMs: num(
        values['policy-status-delay'],
        'policy-status-delay',
        DEFAULTS.policyStatusDelayMs,
      ),
      namespaceDelayMs: num(values['namespace-delay'], 'namespace-delay', DEFAULTS.namespaceDelayMs),
      versionPollSeconds: num(
        values['version-poll-seconds'],
        'version-poll-seconds',
        DEFAULTS.versionPollSeconds,
      ),
    };
    leaderTimingsValid(cfg);
    if (cfg.sharding && cfg.leaderElect)
      throw new Error(
        '--sharding and --leader-elect exclude each other: with --sharding every replica works and the coordinator does the cluster-wide writes',
      );
    const int = (v: string | undefined, name: string, dflt: number): number => {
      const n = num(v, name, dflt);
      if (!Number.isInteger(n)) throw new Error(`--${name} must be a positive integer`);
      return n;
    };
    cfg.images = {
      concurrency: int(values['image-workers'], 'image-workers', DEFAULTS.images.concurrency),
      cacheSize: int(values['image-cache-size'], 'image-cache-size', DEFAULTS.images.cacheSize),
      advisoriesRefreshSeconds:
        values['advisories-refresh'] === undefined
          ? DEFAULTS.images.advisoriesRefreshSeconds
          : parseDuration(values['advisories-refresh'], 'advisories-refresh', true),
      recheckSeconds:
        values['image-recheck'] === undefined
          ? DEFAULTS.images.recheckSeconds
          : parseDuration(values['image-recheck'], 'image-recheck'),
      advisoriesMaxAgeSeconds:
        values['advisories-max-age'] === undefined
          ? DEFAULTS.images.advisoriesMaxAgeSeconds
          : parseDuration(values['advisories-max-age'], 'advisories-max-age'),
    };
    if (values.advisories !== undefined) {
      if (values.advisories.trim() === '') throw new Error('--advisories must name a file, directory or URL');
      cfg.images.advisories = values.advisories;
    }
    const ca = values['registry-ca-file'];
    if (ca !== undefined) {
      if (!existsSync(ca)) throw new Error(`--registry-ca-file ${ca}: no such file`);
      cfg.images.registryCaFile = ca;
    }
    if (values['report-budget-bytes'] !== undefined)
      cfg.reportBudgetBytes = num(values['report-budget-bytes'], 'report-budget-bytes', 0);
    const audit = auditWebhookConfig(values);
    if (audit) {
      parseBindAddress(audit.bindAddress);
      cfg.audit = audit;
    }
    const inactivity = values['watch-inactivity-timeout']?.replace(/s$/, '');
    if (inactivity !== undefined)
      cfg.watchInactivityTimeoutMs = num(inactivity, 'watch-inactivity-timeout', 0) * 1000;
  } catch (e) {
    io.stderr.write(`vigil operator: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_ERROR;
  }
  const logger = createLogger(level, format) as unknown as Logger;
  let kc;
  try {
    const loaded = await loadKubeAuth(cfg.kubeconfig);
    kc = loaded.auth;
    logger.debug('credentials loaded', { source: loaded.source });
  } catch (e) {
    io.stderr.write(
      `vigil operator: cannot load kubeconfig: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return EXIT_ERROR;
  }
  const op = new Operator(cfg, logger, kc);
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const shutdown = (signal: string): void => {
    logger.info('shutting down', { signal });
    void op.stop().then(() => {
      resolveExit(EXIT_OK);
      // Keep-alive sockets of the API client must not hold the process open.
      setTimeout(() => process.exit(process.exitCode ?? EXIT_OK), 200).unref();
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  logger.info('starting', {
    namespace: cfg.namespace,
    metrics: cfg.metricsBindAddress,
    probes: cfg.probeBindAddress,
    leaderElect: cfg.leaderElect,
    auditWebhook: cfg.audit?.bindAddress ?? 'off',
    advisories: cfg.images.advisories ?? 'none',
  });
  op.start().catch((e: unknown) => {
    logger.error('operator failed to start', { error: e instanceof Error ? e.message : String(e) });
    void op.stop().then(() => resolveExit(EXIT_ERROR));
  });
  return exited;
}
