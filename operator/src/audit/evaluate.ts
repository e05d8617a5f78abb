/**
 * The audit evaluator: every enabled rule over each completed request, in the order the events
 * arrive. It keeps the windowed rules' state between events and nothing else; it reads no clock.
 */
import { JUDGED_STAGES } from './event.ts';
import { AUDIT_RULES } from './rules/index.ts';
import { globMatch } from '../engine/match.ts';
import type { AuditEvent, AuditException, AuditRule, AuditSettings, Detection } from './types.ts';

/**
 * Does an exception accept detections of `ruleId` on `ev`? Judged at the event's own time, so a
 * recorded log gives the same answer offline as the webhook did live: an event at or after
 * expiresAt is reported again.
 */
export function excepted(exceptions: readonly AuditException[], ruleId: string, ev: AuditEvent): boolean {
  return exceptions.some(
    (e) =>
      (e.rules.length === 0 || e.rules.includes(ruleId)) &&
      e.users.some((u) => globMatch(u, ev.user)) &&
      (e.namespaces.length === 0 || e.namespaces.some((n) => globMatch(n, ev.resource.namespace))) &&
      (e.expiresAtMs === undefined || !(ev.timeMs >= e.expiresAtMs)),
  );
}

export interface RuleFailure {
  ruleId: string;
  auditID: string;
  message: string;
}

export class AuditEvaluator {
  private enabled: readonly AuditRule[];
  private readonly all: readonly AuditRule[];
  private readonly state = new Map<string, Map<string, unknown>>();
  /** Events judged (ResponseComplete and Panic stages). */
  judged = 0;

  private settings: AuditSettings;

  constructor(settings: AuditSettings, rules: readonly AuditRule[] = AUDIT_RULES) {
    this.all = rules;
    this.settings = settings;
    this.enabled = rules.filter((r) => !settings.disabledRules.includes(r.id));
  }

  /** The enabled rules. */
  get rules(): readonly AuditRule[] {
    return this.enabled;
  }

  /**
   * New settings for the events still to come (the operator applies a changed SecurityPolicy).
   * The windowed rules keep their state, so a burst under way is not forgotten.
   */
  reconfigure(settings: AuditSettings): void {
    this.settings = settings;
    this.enabled = this.all.filter((r) => !settings.disabledRules.includes(r.id));
  }

  /** Detections for one event; empty for stages other than ResponseComplete and Panic. */
  judge(ev: AuditEvent, failures: RuleFailure[] = []): Detection[] {
    if (!JUDGED_STAGES.has(ev.stage)) return [];
    this.judged++;
    const out: Detection[] = [];
    for (const rule of this.enabled) {
      let state = this.state.get(rule.id);
      if (!state) {
        state = new Map();
        this.state.set(rule.id, state);
      }
      let hits;
      try {
        hits = rule.check(ev, { settings: this.settings, state });
      } catch (err) {
        failures.push({
          ruleId: rule.id,
          auditID: ev.auditID,
          message: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      if (hits.length > 0 && excepted(this.settings.exceptions, rule.id, ev)) continue;
      for (const h of hits.slice(0, 1)) {
        out.push({
          ruleId: rule.id,
          title: rule.title,
          severity: this.settings.severities[rule.id] ?? h.severity ?? rule.severity,
          category: rule.category,
          auditID: ev.auditID,
          time: ev.time,
          user: ev.user,
          verb: ev.verb,
          resource: { ...ev.resource },
          sourceIPs: [...ev.sourceIPs],
          message: h.message,
          remediation: rule.remediation,
        });
      }
    }
    return out;
  }
}
