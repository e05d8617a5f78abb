/**
 * The operator process: watches (reflectors feeding one ClusterCache), work
 * queues and workers, leader election, the /version poll, periodic resync,
 * metrics and probe servers, events, graceful shutdown. One class owns the
 * watches, status writes and lifecycle — the shape @dot-i/k8s-operator made
 * familiar, on the current @kubernetes/client-node.
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { ALL_RULES } from '../rules/index.ts';
import { realClock, sleep, type Clock } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import { WorkQueue } from '../controller/workqueue.ts';
import { FindingEventPlanner, CLUSTER_EVENT_NAMESPACE, type EventFinding } from '../controller/events.ts';
import { KubeClient } from '../adapters/k8s-client.ts';
import type { KubeAuth } from '../adapters/kubeconfig.ts';
import { createMetrics, listenOn, startMetricsServer, type VigilMetrics } from '../observability/metrics.ts';
import type { Finding, KubeObject, Severity } from '../engine/types.ts';
import { KubeApi } from './api.ts';
import { ClusterCache } from './cache.ts';
import {
  FIELD_MANAGER,
  NAMESPACE_DELAY_MS,
  VigilController,
  type PreviousFinding,
  type ShareStatus,
} from './controller.ts';
import { AdmissionSync } from './admission.ts';
import { POLICY_KIND, REPORT_KIND, SUBJECT_KINDS, apiVersionOf, type WatchedKind } from './kinds.ts';
import { startWatches, type Watches } from './watches.ts';
import { KubeLeaseClient, LeaderElector } from '../adapters/leader.ts';
import { parseSubjectKey } from './cache.ts';
import { KubeMemberLister, Membership, ShardAssignment, memberLeaseName, shardKeyOf } from './sharding.ts';

/**
 * Kinds cached only for this replica's namespaces when sharding: rules read them only within
 * their own namespace. The API cannot filter by a hash of the namespace, so every replica still
 * receives every event of these kinds and drops the others' before caching (memory scales with
 * the share, network and decoding do not). RoleBindings, ServiceAccounts (referenced across
 * namespaces), Namespaces and cluster-scoped kinds stay whole; ScanReports are filtered too, but
 * the operator namespace's (cluster-scoped subjects, Namespaces) are kept by everyone.
 */
/** Member lease annotation carrying the member's per-policy figures (controller.shareStatus()). */
export const SHARE_STATUS_ANNOTATION = 'security.vigil.dev/share-status';

export const SHARDED_KINDS: ReadonlySet<string> = new Set([
  ...WORKLOAD_KINDS,
  'Role',
  'NetworkPolicy',
  'Service',
  'Ingress',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'LimitRange',
  REPORT_KIND.kind,
]);
import { VERSION } from '../cli/version.ts';
import { WORKLOAD_KINDS } from '../engine/podspec.ts';
import { EventSink, KubeEventPoster } from '../adapters/event-sink.ts';
import { AuditService } from '../audit/service.ts';
import { ImageScanner } from './images.ts';
import { readFileSync } from 'node:fs';

export interface OperatorConfig {
  kubeconfig?: string;
  namespace: string;
  metricsBindAddress: string;
  probeBindAddress: string;
  leaderElect: boolean;
  /**
   * Share the work across replicas (runtime/sharding.ts): each holds a member Lease
   * `<leaseName>-member-<identity>`, namespaces are assigned by rendezvous hashing over the live
   * members, the coordinator (owner of the cluster-scoped work) writes policy status.
   */
  sharding: boolean;
  leaseName: string;
  /** Leader election timings (client-go's meanings and defaults). */
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  workers: number;
  /** Debounce of a policy's status after its findings change (ms). */
  policyStatusDelayMs: number;
  /** Longest delay before a namespace is re-evaluated after workloads in it come or go (ms). */
  namespaceDelayMs: number;
  resyncSeconds: number;
  versionPollSeconds: number;
  findingsRuleLabel: boolean;
  /** Write OpenReports copies of the ScanReports (openreports.io/v1alpha1). */
  openReports: boolean;
  reportBudgetBytes?: number;
  /** Restart a watch silent for this long (default: the reflector's 90 s). */
  watchInactivityTimeoutMs?: number;
  /** Events per second and burst for the global event budget. */
  eventQps: number;
  eventBurst: number;
  /** The audit webhook receiver; off when undefined. */
  audit?: AuditWebhookConfig;
  /** Image analysis (for policies with spec.images.analyse). */
  images: ImagesConfig;
}

export interface ImagesConfig {
  /** Analyses at a time. */
  concurrency: number;
  /** Analysed images kept in memory (inventories only). */
  cacheSize: number;
  /** OSV advisories: a path (file, directory, zip; a mounted ConfigMap) or an http(s) URL. */
  advisories?: string;
  advisoriesRefreshSeconds: number;
  advisoriesMaxAgeSeconds: number;
  /** How long a tag's digest and a failure are trusted before being read again. */
  recheckSeconds: number;
  /** Extra CA certificates (PEM file) for TLS registries. */
  registryCaFile?: string;
}

export interface AuditWebhookConfig {
  bindAddress: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  clientCaFile?: string;
  tokenFile?: string;
  /** Events received and not yet judged, at most. */
  queueSize: number;
  maxBodyBytes: number;
}

export const DEFAULTS: Omit<OperatorConfig, 'namespace'> = {
  metricsBindAddress: ':8080',
  probeBindAddress: ':8081',
  leaderElect: false,
  sharding: false,
  leaseName: 'vigil-leader',
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
  policyStatusDelayMs: 250,
  namespaceDelayMs: NAMESPACE_DELAY_MS,
  // A reconcile is a few ms of evaluation and then waits on the API server; at 10k pods,
  // 16 concurrent reconciles wrote the first reports 17% faster than 4 and halved the
  // time to finding under 50 changes/s (BENCHMARKS.md).
  workers: 16,
  resyncSeconds: 600,
  versionPollSeconds: 60,
  findingsRuleLabel: false,
  openReports: false,
  eventQps: 10,
  eventBurst: 50,
  images: {
    concurrency: 2,
    cacheSize: 256,
    advisoriesRefreshSeconds: 6 * 3600,
    advisoriesMaxAgeSeconds: 3 * 24 * 3600,
    recheckSeconds: 600,
  },
};

export class Operator {
  readonly cfg: OperatorConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly api: KubeApi;
  readonly cache = new ClusterCache();
  readonly metrics: VigilMetrics;
  readonly subjects: WorkQueue;
  readonly policies: WorkQueue;
  /** Subjects evaluated whose ScanReport is to be converged (written apart from evaluation). */
  readonly reports: WorkQueue;
  readonly controller: VigilController;
  /** Reads the images of opted-in workloads; the `images` facts the rules see. */
  readonly images: ImageScanner;
  private readonly planner: FindingEventPlanner;
  /** The audit webhook pipeline, when configured. */
  readonly audit: AuditService | undefined;
  private watches: Watches | undefined;
  private servers: Server[] = [];
  private timers: NodeJS.Timeout[] = [];
  private leader: LeaderElector | undefined;
  /** Sharding: this replica's member lease, the member set it sees, and who owns what. */
  private member: LeaderElector | undefined;
  private membership: Membership | undefined;
  readonly shards: ShardAssignment | undefined;
  /**
   * The assignment work follows: the member set as of the last completed relist. A replica works
   * on a key only while both assignments give it the key: one it loses is dropped at once, one
   * it gains only once its objects and reports are cached (else it would take the existing
   * reports for missing, and rewrite or delete them).
   */
  private readonly workShards: ShardAssignment | undefined;
  readonly identity = `${process.env['POD_NAME'] ?? hostname()}-${process.pid}`;
  private workersDone: Promise<unknown> | undefined;
  private cachesSynced = false;
  /** Set by every full resync; cleared (and the timestamp metric set) once it has been worked off. */
  private awaitingFullEvaluation = false;
  /** Set by every full resync; cleared once every subject is evaluated (reports may still be pending). */
  private awaitingFindingsKnown = false;
  /** CVEs per platform subject (Nodes, the API server), for the vigil_cluster_vulnerable gauges. */
  private readonly vulnerabilities = new Map<
    string,
    { cve: string; component: 'control-plane' | 'node' }[]
  >();
  private stopping = false;
  /** Requests made to the API server, by verb (benchmarks read it). */
  readonly requestCounts = new Map<string, number>();

  constructor(cfg: OperatorConfig, logger: Logger, kc: KubeAuth, clock: Clock = realClock) {
    this.cfg = cfg;
    this.logger = logger;
    this.clock = clock;
    const shards = cfg.sharding ? new ShardAssignment(this.identity) : undefined;
    const work = cfg.sharding ? new ShardAssignment(this.identity) : undefined;
    this.shards = shards;
    this.workShards = work;
    const owns = (shardKey: string): boolean =>
      shards !== undefined && work !== undefined && shards.owns(shardKey) && work.owns(shardKey);
    this.api = new KubeApi(new KubeClient(kc, { userAgent: `vigil/${VERSION}` }));
    this.api.onRequest((verb) => {
      this.requestCounts.set(verb, (this.requestCounts.get(verb) ?? 0) + 1);
      this.metrics.apiRequest(verb);
    });
    this.metrics = createMetrics({
      ruleLabel: cfg.findingsRuleLabel,
      version: VERSION,
      leaderElection: cfg.leaderElect,
      leaseName: cfg.leaseName,
    });
    this.subjects = new WorkQueue({
      name: 'subjects',
      clock,
      logger,
      metrics: this.metrics.workQueueMetrics('subjects', 'subject'),
    });
    this.policies = new WorkQueue({
      name: 'securitypolicies',
      clock,
      logger,
      metrics: this.metrics.workQueueMetrics('securitypolicies', 'securitypolicy'),
    });
    this.reports = new WorkQueue({
      name: 'scanreports',
      clock,
      logger,
      metrics: this.metrics.workQueueMetrics('scanreports', 'scanreport'),
    });
    this.metrics.observeQueue('subjects', this.subjects, 'subject');
    this.metrics.observeQueue('securitypolicies', this.policies, 'securitypolicy');
    this.metrics.observeQueue('scanreports', this.reports, 'scanreport');
    this.metrics.registerController('subject', cfg.workers);
    this.metrics.registerController('securitypolicy', 1);
    this.metrics.registerController('scanreport', cfg.workers);
    this.planner = new FindingEventPlanner({
      clock,
      reportingInstance: (process.env['POD_NAME'] ?? hostname()).slice(0, 128),
      qps: cfg.eventQps,
      burst: cfg.eventBurst,
      onSuppressed: (_r, cause) => {
        if (cause === 'rate_limited') this.metrics.eventsDropped(1);
      },
    });
    const m = this.metrics;
    if (cfg.audit) {
      const a = cfg.audit;
      this.audit = new AuditService({
        receiver: {
          bindAddress: a.bindAddress,
          tlsCertFile: a.tlsCertFile,
          tlsKeyFile: a.tlsKeyFile,
          maxBodyBytes: a.maxBodyBytes,
          ...(a.clientCaFile !== undefined ? { clientCaFile: a.clientCaFile } : {}),
          ...(a.tokenFile !== undefined ? { tokenFile: a.tokenFile } : {}),
        },
        queueSize: a.queueSize,
        clock,
        logger,
        metrics: m,
        events: new EventSink({ poster: new KubeEventPoster(this.api.client), logger }),
        policies: () => this.cache.ofKind(POLICY_KIND.kind),
        uidOf: (kind, ns, name) => this.cache.get(kind, ns, name)?.metadata?.uid,
        reportingInstance: (process.env['POD_NAME'] ?? hostname()).slice(0, 128),
        eventQps: cfg.eventQps,
        eventBurst: cfg.eventBurst,
        responses: { api: this.api, fieldManager: FIELD_MANAGER },
        identityReports: { api: this.api, fieldManager: FIELD_MANAGER, namespace: cfg.namespace },
      });
    }
    const imgs = cfg.images;
    this.images = new ImageScanner({
      clock,
      logger: logger.child({ component: 'images' }),
      requeue: (keys) => this.controller.requeueSubjects(keys),
      concurrency: imgs.concurrency,
      cacheSize: imgs.cacheSize,
      ...(imgs.advisories ? { advisories: imgs.advisories } : {}),
      advisoriesRefreshMs: imgs.advisoriesRefreshSeconds * 1000,
      advisoriesMaxAgeSeconds: imgs.advisoriesMaxAgeSeconds,
      recheckMs: imgs.recheckSeconds * 1000,
      ...(imgs.registryCaFile ? { registryCa: readFileSync(imgs.registryCaFile) } : {}),
      readSecret: (ns, name) =>
        this.api.get<KubeObject>(
          `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`,
        ),
      hooks: {
        analysed: (result, seconds) => m.imageAnalysed(result, seconds),
        advisoriesRefreshed: (ok) => {
          if (!ok) m.advisoriesRefreshFailed();
        },
      },
    });
    if (imgs.advisories) m.observeAdvisoriesAge(() => this.images.advisoriesAgeSeconds());
    this.cache.cluster = { ...this.cache.cluster, images: this.images };
    this.controller = new VigilController({
      images: this.images,
      api: this.api,
      cache: this.cache,
      rules: ALL_RULES,
      operatorNamespace: cfg.namespace,
      subjects: this.subjects,
      policies: this.policies,
      reports: this.reports,
      openReports: cfg.openReports,
      ...(shards
        ? {
            owns: (key: string) => {
              const { kind, namespace, name } = parseSubjectKey(key);
              return owns(shardKeyOf(kind, namespace, name));
            },
            writesPolicyStatus: () => owns(''),
            peerStatus: () =>
              (this.membership?.peers() ?? []).map((v) => {
                if (v === undefined) return undefined;
                try {
                  return JSON.parse(v) as ShareStatus;
                } catch {
                  return undefined;
                }
              }),
          }
        : {}),
      clock,
      logger,
      reportBudgetBytes: cfg.reportBudgetBytes,
      policyStatusDelayMs: cfg.policyStatusDelayMs,
      namespaceDelayMs: cfg.namespaceDelayMs,
      admission: new AdmissionSync(this.api, FIELD_MANAGER, logger),
      hooks: {
        reportWritten: () => m.reportWritten(),
        reportWriteSkipped: () => m.reportWriteSkipped(),
        reportTruncated: () => m.reportTruncated(),
        timeToFinding: (s) => m.observeTimeToFinding(s),
        policyFindings: (p, counts) => m.setFindings(p, counts),
        policyReady: (p, ready) => m.setPolicyReady(p, ready),
        policyRemoved: (p) => m.unregisterPolicy(p),
        exceptionsExpiring: (p, n) => m.setExceptionsExpiring(p, n),
        findingsChanged: (subject, prev, next, minSev) => this.emitFindingEvents(subject, prev, next, minSev),
        exceptionExpired: (policy, index, owner) => this.emitExceptionExpired(policy, index, owner),
        platformVulnerable: (subject, findings) => this.setVulnerabilities(subject, findings),
        policyErrors: (p, n) => m.setPolicyErrors(p, n),
      },
    });
  }

  get ready(): boolean {
    return this.cachesSynced && !this.stopping;
  }

  async start(): Promise<void> {
    await this.startServers();
    if (this.shards) await this.joinShards(this.shards);
    const shards = this.shards;
    const ns = this.cfg.namespace;
    this.watches = startWatches({
      ...(shards
        ? {
            keep: (kind: string) =>
              SHARDED_KINDS.has(kind)
                ? (o: KubeObject) => {
                    const n = o.metadata?.namespace ?? '';
                    return (kind === REPORT_KIND.kind && n === ns) || shards.owns(n);
                  }
                : undefined,
          }
        : {}),
      client: this.api,
      cache: this.cache,
      kinds: [...SUBJECT_KINDS, POLICY_KIND, REPORT_KIND],
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      onEvent: (kind, type, obj, old) => this.controller.onEvent(kind, type, obj, old),
      ...(this.cfg.watchInactivityTimeoutMs === undefined
        ? {}
        : { inactivityTimeoutMs: this.cfg.watchInactivityTimeoutMs }),
    });
    await this.pollVersion();
    this.timers.push(setInterval(() => void this.pollVersion(), this.cfg.versionPollSeconds * 1000));
    await this.watches.synced;
    this.cachesSynced = true;
    this.logger.info('caches synced', { kinds: SUBJECT_KINDS.length + 2 });
    // After the sync, so the first events are judged with the SecurityPolicies' audit settings.
    // Every replica receives (the API server reaches whichever a Service picks), leader or not.
    await this.audit?.start();
    if (this.shards) {
      // Every member works and exports the findings of its share (Prometheus sums the replicas).
      this.metrics.setLeader(true);
      this.metrics.shardMembers(this.shards.live.length);
      this.membership?.start();
      this.lead();
    } else if (this.cfg.leaderElect) {
      // Standbys keep their caches warm and take over as soon as the lease is theirs.
      this.leader = new LeaderElector({
        client: new KubeLeaseClient(this.api.client),
        namespace: this.cfg.namespace,
        name: this.cfg.leaseName,
        leaseDurationMs: this.cfg.leaseDurationSeconds * 1000,
        renewDeadlineMs: this.cfg.renewDeadlineSeconds * 1000,
        retryPeriodMs: this.cfg.retryPeriodSeconds * 1000,
        identity: `${process.env['POD_NAME'] ?? hostname()}-${process.pid}`,
        clock: this.clock,
        logger: this.logger,
        onStartedLeading: () => this.lead(),
        onLeadershipLost: () => {
          this.logger.error('lost leadership; exiting');
          void this.stop().finally(() => process.exit(1));
        },
        onStatus: (leading) => this.metrics.setLeader(leading),
      });
      void this.leader.run();
    } else {
      this.metrics.setLeader(true);
      this.lead();
    }
  }

  /**
   * Takes a member Lease (renewed like the leader's; losing it exits, as losing leadership does)
   * and reads the live members once, so the first lists already hold only this replica's share.
   */
  private async joinShards(shards: ShardAssignment): Promise<void> {
    const timings = {
      leaseDurationMs: this.cfg.leaseDurationSeconds * 1000,
      renewDeadlineMs: this.cfg.renewDeadlineSeconds * 1000,
      retryPeriodMs: this.cfg.retryPeriodSeconds * 1000,
    };
    await new Promise<void>((resolve) => {
      this.member = new LeaderElector({
        client: new KubeLeaseClient(this.api.client),
        namespace: this.cfg.namespace,
        name: memberLeaseName(this.cfg.leaseName, this.identity),
        identity: this.identity,
        ...timings,
        clock: this.clock,
        logger: this.logger,
        // This member's figures ride on its renewals: the coordinator sums them into policy status.
        annotations: () => ({ [SHARE_STATUS_ANNOTATION]: JSON.stringify(this.controller.shareStatus()) }),
        onStartedLeading: () => resolve(),
        onLeadershipLost: () => {
          this.logger.error('lost the shard member lease; exiting');
          void this.stop().finally(() => process.exit(1));
        },
      });
      void this.member.run();
    });
    this.membership = new Membership({
      lister: new KubeMemberLister(this.api.client),
      namespace: this.cfg.namespace,
      leaseName: this.cfg.leaseName,
      assignment: shards,
      retryPeriodMs: timings.retryPeriodMs,
      clock: this.clock,
      logger: this.logger,
      onChange: () => void this.rebalance(),
      annotation: SHARE_STATUS_ANNOTATION,
      onPeersChanged: () => {
        if (this.workShards?.coordinator) this.controller.requeuePolicies();
      },
    });
    // Twice, one retry period apart: replicas starting together (a rollout, a scale-up) see each
    // other's new leases before their first lists, instead of caching everything and dropping most.
    for (const wait of [0, timings.retryPeriodMs]) {
      if (wait > 0) await sleep(this.clock, wait);
      try {
        await this.membership.refresh();
      } catch (e) {
        this.logger.warn('could not list the shard member leases; starting alone', {
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    this.workShards?.setMembers(shards.live);
    this.logger.info('joined shards', { identity: this.identity, members: shards.live.join(',') });
  }

  /**
   * The member set changed: what this replica lost is no longer written (ownership is checked
   * before every evaluation and write); the filtered kinds are listed again for the new share;
   * then what it gained becomes its work (existing reports are adopted: written only if their
   * content differs) and everything it owns is evaluated.
   */
  private rebalanceRunning: Promise<void> | undefined;
  private rebalanceAgain = false;
  private async rebalance(): Promise<void> {
    if (this.rebalanceRunning) {
      this.rebalanceAgain = true;
      return;
    }
    this.rebalanceRunning = (async () => {
      do {
        this.rebalanceAgain = false;
        const w = this.watches;
        if (w) {
          // A first list still running may have kept by the old assignment: list after it.
          await w.synced;
          await Promise.all(
            [...SHARDED_KINDS].map((k) => w.reflectors.get(k)?.resync() ?? Promise.resolve()),
          );
        }
        if (this.stopping) return;
        if (this.shards) this.workShards?.setMembers(this.shards.live);
        if (this.workersDone) {
          // A new share is a new full evaluation (logged and in metrics when complete).
          this.awaitingFullEvaluation = true;
          this.awaitingFindingsKnown = true;
        }
        this.controller.reassigned();
        this.metrics.shardMembers(this.shards?.live.length ?? 1);
      } while (this.rebalanceAgain);
    })();
    try {
      await this.rebalanceRunning;
    } finally {
      this.rebalanceRunning = undefined;
    }
  }

  private lead(): void {
    if (this.stopping) return;
    this.logger.info('leading: starting workers');
    void this.images.start();
    this.runWorkers();
    this.resync();
    this.timers.push(
      setInterval(() => {
        this.controller.rearmExceptionTimers();
        this.resync();
      }, this.cfg.resyncSeconds * 1000),
    );
  }

  private resync(): void {
    this.awaitingFullEvaluation = true;
    this.awaitingFindingsKnown = true;
    this.controller.resyncAll();
  }

  private setVulnerabilities(subject: string, findings: readonly Finding[]): void {
    const list: { cve: string; component: 'control-plane' | 'node' }[] = [];
    for (const f of findings)
      for (const c of f.controls)
        if (c.startsWith('CVE-'))
          list.push({ cve: c, component: f.resource.kind === 'Node' ? 'node' : 'control-plane' });
    if (list.length === 0) this.vulnerabilities.delete(subject);
    else this.vulnerabilities.set(subject, list);
    this.metrics.setClusterVulnerabilities([...this.vulnerabilities.values()].flat());
  }

  private runWorkers(): void {
    const onError = (controller: string) => (key: string, err: unknown) =>
      this.logger.warn('reconcile failed; retrying with backoff', {
        controller,
        key,
        error: err instanceof Error ? err.message : String(err),
      });
    const subjectHooks = this.metrics.reconcileHooks('subject');
    const reportHooks = this.metrics.reconcileHooks('scanreport');
    // Every subject evaluated: findings are known (metrics, policy status); then every report
    // converged: the full evaluation is complete.
    const progress = (): void => {
      if (this.subjects.len() > 0 || this.subjects.processingLen() > 0) return;
      if (this.controller.stats().pending > 0) return;
      if (this.awaitingFindingsKnown) {
        this.awaitingFindingsKnown = false;
        this.logger.info('findings known', { reportsToWrite: this.controller.unpersisted() });
      }
      if (this.awaitingFullEvaluation && this.reports.len() === 0 && this.controller.unpersisted() === 0) {
        this.awaitingFullEvaluation = false;
        this.metrics.fullEvaluationCompleted();
        this.logger.info('full evaluation complete');
      }
    };
    this.workersDone = Promise.all([
      this.subjects.runWorkers(this.cfg.workers, (key) => this.controller.reconcileSubject(key), {
        ...subjectHooks,
        onResult: (outcome, seconds, key) => {
          subjectHooks.onResult?.(outcome, seconds, key);
          progress();
        },
        onError: onError('subject'),
      }),
      this.reports.runWorkers(this.cfg.workers, (key) => this.controller.persistReport(key), {
        ...reportHooks,
        onResult: (outcome, seconds, key) => {
          reportHooks.onResult?.(outcome, seconds, key);
          progress();
        },
        onError: onError('scanreport'),
      }),
      this.policies.runWorkers(1, (name) => this.controller.reconcilePolicy(name), {
        ...this.metrics.reconcileHooks('securitypolicy'),
        onError: onError('securitypolicy'),
      }),
    ]);
  }

  private async pollVersion(): Promise<void> {
    try {
      const v = await this.api.get<{ gitVersion: string; major?: string; minor?: string; platform?: string }>(
        '/version',
      );
      if (typeof v.gitVersion === 'string') this.controller.setClusterVersion(v);
    } catch (e) {
      this.logger.warn('could not read the API server version', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private emitFindingEvents(
    subject: KubeObject,
    prev: readonly PreviousFinding[],
    next: readonly Finding[],
    minSev: ReadonlyMap<string, Severity>,
  ): void {
    const meta = subject.metadata ?? {};
    if (!meta.uid || !meta.name) return;
    const kind = String(subject.kind);
    const w: WatchedKind | undefined = SUBJECT_KINDS.find((k) => k.kind === kind);
    const regarding = {
      apiVersion: w ? apiVersionOf(w) : typeof subject.apiVersion === 'string' ? subject.apiVersion : '',
      kind,
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
    };
    const policies = new Set([...prev.map((f) => f.policy ?? ''), ...next.map((f) => f.policy ?? '')]);
    for (const policy of policies) {
      const before = prev.filter((f) => (f.policy ?? '') === policy) as EventFinding[];
      const after = next.filter((f) => (f.policy ?? '') === policy);
      const events = this.planner.plan({
        regarding,
        previous: before,
        current: after,
        minSeverity: minSev.get(policy) ?? 'high',
      });
      for (const ev of events) {
        const ns = ev.metadata.namespace || CLUSTER_EVENT_NAMESPACE;
        this.api.post(`/apis/events.k8s.io/v1/namespaces/${ns}/events`, ev).catch((e: unknown) => {
          this.logger.warn('could not post event', {
            reason: ev.reason,
            error: e instanceof Error ? e.message : String(e),
          });
        });
      }
    }
  }

  private emitExceptionExpired(policy: KubeObject, index: number, owner: string): void {
    const meta = policy.metadata ?? {};
    if (!meta.uid || !meta.name) return;
    const now = new Date(this.clock.now()).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
    const ev = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { generateName: `${meta.name}.`, namespace: CLUSTER_EVENT_NAMESPACE },
      eventTime: now,
      reportingController: 'vigil',
      reportingInstance: (process.env['POD_NAME'] ?? hostname()).slice(0, 128),
      action: 'Scan',
      reason: 'ExceptionExpired',
      type: 'Warning',
      regarding: {
        apiVersion: POLICY_KIND.group + '/' + POLICY_KIND.version,
        kind: 'SecurityPolicy',
        name: meta.name,
        uid: meta.uid,
      },
      note: `exception ${index} (owner ${owner}) has expired; the findings it hid are reported again`,
    };
    this.api
      .post(`/apis/events.k8s.io/v1/namespaces/${CLUSTER_EVENT_NAMESPACE}/events`, ev)
      .catch((e: unknown) => {
        this.logger.warn('could not post event', {
          reason: 'ExceptionExpired',
          error: e instanceof Error ? e.message : String(e),
        });
      });
  }

  /** The metrics server the tests exercise (startMetricsServer) and the probe server. */
  private async startServers(): Promise<void> {
    const metrics = await startMetricsServer(this.cfg.metricsBindAddress, this.metrics.registry, {
      onError: (e: unknown) =>
        this.logger.warn('metrics collection failed', { error: e instanceof Error ? e.message : String(e) }),
    });
    if (metrics) this.servers.push(metrics);
    const probes = await listenOn(
      createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/healthz' || path === '/livez') {
          res
            .writeHead(this.stopping ? 503 : 200, { 'content-type': 'text/plain' })
            .end(this.stopping ? 'stopping' : 'ok');
        } else if (path === '/readyz') {
          res
            .writeHead(this.ready ? 200 : 503, { 'content-type': 'text/plain' })
            .end(this.ready ? 'ok' : 'caches not synced');
        } else res.writeHead(404).end();
      }),
      this.cfg.probeBindAddress,
    );
    if (probes) this.servers.push(probes);
  }

  /** Graceful stop: no new work, in-flight reconciles finish, lease released. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.images.stop();
    const step = async (what: string, p: Promise<unknown>, ms: number): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        p.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
      ]);
      clearTimeout(timer);
      if (timedOut) this.logger.warn('shutdown step timed out', { step: what, ms });
      else this.logger.debug('shutdown step done', { step: what });
    };
    await step('stop watches', this.watches?.stop() ?? Promise.resolve(), 5_000);
    await step(
      'drain queues',
      // Subjects first: what they evaluate is then written by the draining reports queue.
      this.subjects
        .shutDownWithDrain()
        .then(() => Promise.all([this.reports.shutDownWithDrain(), this.policies.shutDownWithDrain()])),
      20_000,
    );
    await step('workers', this.workersDone ?? Promise.resolve(), 5_000);
    await step('release lease', this.leader?.stop() ?? Promise.resolve(), 5_000);
    await step('leave shards', this.membership?.stop() ?? Promise.resolve(), 5_000);
    await step('release member lease', this.member?.stop() ?? Promise.resolve(), 5_000);
    await step('audit receiver', this.audit?.stop() ?? Promise.resolve(), 5_000);
    for (const s of this.servers) {
      s.closeAllConnections();
      s.close();
    }
    this.logger.info('stopped');
  }
}
