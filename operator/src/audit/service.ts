/**
 * The audit pipeline as the operator runs it: the webhook receiver feeds the bounded queue, the
 * queue feeds the AuditEvaluator `vigil audit` uses, and each detection becomes
 * - one structured JSON log line (`"message": "audit detection"`, the fields of `vigil audit -o
 *   json` with the detection's message as `detail`, plus the policy whose settings applied and
 *   the lag) for a SIEM;
 * - `vigil_audit_detections_total{rule,severity}` and the lag histogram;
 * - a Warning `AuditDetection` Event on the object, deduplicated (audit/events.ts) and posted
 *   through the EventSink, which never blocks and drops over its backlog.
 */
import type { EventSink } from '../adapters/event-sink.ts';
import type { ObjectReferenceV1 } from '../controller/events.ts';
import type { Clock } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import type { VigilMetrics } from '../observability/metrics.ts';
import { AuditEventPlanner, regardingOf, responseEvent } from './events.ts';
import { Responder, responseFor } from './respond.ts';
import { IdentityReports } from './identity-report.ts';
import type { KubeApi } from '../runtime/api.ts';
import { AuditPipeline } from './pipeline.ts';
import { startAuditReceiver, type AuditReceiver, type AuditReceiverOptions } from './receiver.ts';
import { AUDIT_RULES } from './rules/index.ts';
import { chooseAuditSettings, type ChosenAuditSettings } from './settings.ts';
import type { AuditEvent, Detection } from './types.ts';

export interface AuditServiceOptions {
  receiver: Omit<AuditReceiverOptions, 'offer' | 'accepted' | 'dropped' | 'logger' | 'now'>;
  queueSize: number;
  clock: Clock;
  logger: Logger;
  metrics: VigilMetrics;
  events: EventSink;
  /** The SecurityPolicies now (the operator's cache). */
  policies: () => readonly unknown[];
  /** metadata.uid of a cached object, for the Event's regarding. */
  uidOf?: (kind: string, namespace: string, name: string) => string | undefined;
  reportingInstance: string;
  eventQps: number;
  eventBurst: number;
  /** For opt-in responses (spec.audit.responses); none: responses are logged as not carried out. */
  responses?: { api: KubeApi; fieldManager: string };
  /** Per-identity ScanReports of recent detections in this namespace (none: not written). */
  identityReports?: { api: KubeApi; fieldManager: string; namespace: string; flushMs?: number };
}

export class AuditService {
  readonly pipeline: AuditPipeline;
  private readonly opts: AuditServiceOptions;
  private readonly planner: AuditEventPlanner;
  private receiver: AuditReceiver | undefined;
  private chosen: ChosenAuditSettings;
  private chosenKey = '';
  private lastPolicies: readonly unknown[] | undefined;
  private readonly responder: Responder | undefined;
  private readonly identityReports: IdentityReports | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Vigil's own username, from a SelfSubjectReview at start: never quarantined. */
  private self: string | undefined;

  constructor(opts: AuditServiceOptions) {
    this.opts = opts;
    this.chosen = chooseAuditSettings([]);
    opts.metrics.registerAuditRules(AUDIT_RULES);
    this.planner = new AuditEventPlanner({
      clock: opts.clock,
      reportingInstance: opts.reportingInstance,
      qps: opts.eventQps,
      burst: opts.eventBurst,
      onSuppressed: (cause) => {
        if (cause === 'rate_limited') opts.metrics.eventsDropped(1);
      },
    });
    this.pipeline = new AuditPipeline({
      queueSize: opts.queueSize,
      settings: () => this.settings().settings,
      onDetection: (d, ev) => this.detected(d, ev),
      onRuleFailure: (f) =>
        opts.logger.warn('audit rule failed on an event; the rule skipped it', {
          rule: f.ruleId,
          auditID: f.auditID,
          error: f.message,
        }),
    });
    opts.metrics.observeAuditQueue(() => this.pipeline.length);
    const ir = opts.identityReports;
    if (ir)
      this.identityReports = new IdentityReports({
        api: ir.api,
        namespace: ir.namespace,
        logger: opts.logger,
        fieldManager: ir.fieldManager,
        policy: () => this.chosen.policy,
        now: () => opts.clock.now(),
      });
    const r = opts.responses;
    if (r)
      this.responder = new Responder({
        api: r.api,
        logger: opts.logger,
        fieldManager: r.fieldManager,
        self: () => this.self,
        responded: (d, action, guard) => {
          opts.metrics.auditResponse(d.ruleId, action);
          const name = this.chosen.policy;
          if (name === undefined) return;
          const uid = opts.uidOf?.('SecurityPolicy', '', name);
          opts.events.emit([
            responseEvent(
              d,
              {
                apiVersion: 'security.vigil.dev/v1alpha1',
                kind: 'SecurityPolicy',
                name,
                ...(uid ? { uid } : {}),
              },
              guard,
              opts.clock.now(),
              opts.reportingInstance,
            ),
          ]);
        },
      });
  }

  /** The settings from the SecurityPolicies now; logs when the choice changes. */
  settings(): ChosenAuditSettings {
    const policies = this.opts.policies();
    if (policies === this.lastPolicies) return this.chosen;
    this.lastPolicies = policies;
    const chosen = chooseAuditSettings(policies);
    const key = JSON.stringify(chosen);
    if (key !== this.chosenKey) {
      this.chosenKey = key;
      this.opts.logger.info('audit settings', {
        policy: chosen.policy ?? '(none: defaults)',
        ...(chosen.ignored.length > 0 ? { ignored: chosen.ignored } : {}),
      });
    }
    this.chosen = chosen;
    return chosen;
  }

  async start(): Promise<number | undefined> {
    const m = this.opts.metrics;
    const r = this.opts.responses;
    if (r) {
      try {
        const review = await r.api.post<{ status?: { userInfo?: { username?: string } } }>(
          '/apis/authentication.k8s.io/v1/selfsubjectreviews',
          { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        );
        this.self = review.status?.userInfo?.username;
      } catch (e) {
        this.opts.logger.warn(
          "cannot learn Vigil's own identity (SelfSubjectReview); audit responses are withheld",
          {
            error: e instanceof Error ? e.message : String(e),
          },
        );
      }
    }
    this.receiver = await startAuditReceiver({
      ...this.opts.receiver,
      offer: (events) => this.pipeline.offer(events),
      accepted: (n) => m.auditEvents(n),
      dropped: (reason, n) => m.auditDropped(reason, n),
      logger: this.opts.logger,
      now: () => this.opts.clock.now(),
    });
    const reports = this.identityReports;
    if (reports)
      this.flushTimer = setInterval(() => void reports.flush(), this.opts.identityReports?.flushMs ?? 2000);
    if (this.receiver)
      this.opts.logger.info('audit webhook receiver listening', {
        address: this.opts.receiver.bindAddress,
        port: this.receiver.port,
        clientCertificates: this.opts.receiver.clientCaFile !== undefined,
        bearerToken: this.opts.receiver.tokenFile !== undefined,
        queueSize: this.opts.queueSize,
      });
    return this.receiver?.port;
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.receiver?.close();
    await this.identityReports?.flush();
  }

  private detected(d: Detection, ev: AuditEvent): void {
    const nowMs = this.opts.clock.now();
    const lag = Number.isFinite(ev.timeMs) ? (nowMs - ev.timeMs) / 1000 : undefined;
    this.opts.metrics.auditDetection(d.ruleId, d.severity, lag);
    const regarding: ObjectReferenceV1 | undefined = regardingOf(ev, this.opts.uidOf);
    this.opts.logger.warn('audit detection', {
      ruleId: d.ruleId,
      title: d.title,
      severity: d.severity,
      category: d.category,
      auditID: d.auditID,
      time: d.time,
      user: d.user,
      verb: d.verb,
      resource: d.resource,
      sourceIPs: d.sourceIPs,
      // `message` is the log line's own ("audit detection"): the detection's message is `detail`.
      detail: d.message,
      remediation: d.remediation,
      policy: this.chosen.policy ?? '',
      ...(lag !== undefined ? { lagSeconds: Math.round(lag * 1000) / 1000 } : {}),
    });
    this.respond(d, ev);
    this.identityReports?.record(d);
    if (!regarding) return;
    const event = this.planner.plan(d, regarding);
    if (event) this.opts.events.emit([event]);
  }

  /** The opt-in response the settings ask for this detection, carried out in the background. */
  private respond(d: Detection, ev: AuditEvent): void {
    const response = responseFor(d, this.chosen.settings.responses);
    if (!response) return;
    if (!this.responder || this.self === undefined) {
      this.opts.logger.warn('audit response withheld', {
        ruleId: d.ruleId,
        user: d.user,
        action: response.action,
        why: this.responder ? "Vigil's own identity is unknown" : 'responses are not enabled in this process',
      });
      return;
    }
    this.responder.respond(response, d, ev.groups, new Date(this.opts.clock.now())).catch((e: unknown) =>
      this.opts.logger.warn('audit response failed', {
        ruleId: d.ruleId,
        user: d.user,
        action: response.action,
        error: e instanceof Error ? e.message : String(e),
      }),
    );
  }
}
