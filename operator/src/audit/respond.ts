/**
 * Opt-in responses to audit detections (issue 16 point 5, spec.audit.responses). `quarantine`
 * answers a detection by denying every write of the identity it names: a ValidatingAdmissionPolicy
 * and binding that refuse CREATE, UPDATE, DELETE and CONNECT by that username, on every resource
 * and subresource, until a person deletes them. Reads stay allowed (the identity can be watched).
 *
 * - Never Vigil's own identity, members of system:masters (the break-glass group, which
 *   admission cannot stop anyway for some requests), the control plane's `system:` users
 *   (nodes, controllers, the scheduler) or kube-system ServiceAccounts: quarantining those would
 *   take the cluster down. Such a detection gets a log line saying the response was withheld.
 * - Idempotent: the objects are named after the identity, so a second detection (or a second
 *   replica) finds them in place; a quarantine a person lifted comes back with the identity's next
 *   matching detection (a minute or more later). No ownerReference: deleting the SecurityPolicy does not lift a
 *   quarantine; a person does (`kubectl delete validatingadmissionpolicy,validatingadmissionpolicybinding NAME`).
 * - Every response is an Event on the SecurityPolicy whose settings applied and a metric.
 *
 * The objects are pure data (quarantineObjects); the Responder does the I/O.
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, type KubeApi } from '../runtime/api.ts';
import { lit } from '../admission/pss-cel.ts';
import { MANAGED_BY_LABEL } from '../admission/translate.ts';
import type { Logger } from '../controller/logger.ts';
import type { AuditResponse, Detection } from './types.ts';

export const RESPONSE_LABEL = 'security.vigil.dev/response';
/**
 * A quarantine a person lifted is imposed again by the next matching detection, once this long
 * has passed since the last one (detections of one burst do not each cost two requests).
 */
const RECHECK_MS = 60_000;
const GROUP = '/apis/admissionregistration.k8s.io/v1';

/** Why an identity must not be quarantined, or undefined when it may be. */
export function quarantineRefusal(
  user: string,
  groups: readonly string[],
  self: string | undefined,
): string | undefined {
  if (user === '') return 'the event names no user';
  if (self !== undefined && user === self) return "it is Vigil's own identity";
  if (groups.includes('system:masters')) return 'it is a member of system:masters';
  if (user.startsWith('system:serviceaccount:kube-system:')) return 'it is a kube-system ServiceAccount';
  if (user.startsWith('system:') && !user.startsWith('system:serviceaccount:') && user !== 'system:anonymous')
    return 'it is a control-plane identity';
  return undefined;
}

/** The name of the quarantine of `user`: stable, valid for any username. */
export function quarantineName(user: string): string {
  return `vigil-quarantine-${createHash('sha256').update(user).digest('hex').slice(0, 16)}`;
}

/** The ValidatingAdmissionPolicy and binding that deny every write by `user`. */
export function quarantineObjects(user: string, d: Detection, nowIso: string): Record<string, unknown>[] {
  const name = quarantineName(user);
  const metadata = {
    name,
    labels: { ...MANAGED_BY_LABEL, [RESPONSE_LABEL]: 'quarantine' },
    annotations: {
      'security.vigil.dev/user': user,
      'security.vigil.dev/rule': d.ruleId,
      'security.vigil.dev/audit-id': d.auditID,
      'security.vigil.dev/quarantined-at': nowIso,
    },
  };
  const message =
    `quarantined by Vigil after ${d.ruleId} (auditID ${d.auditID}): writes by ${user} are denied ` +
    `until an administrator deletes ValidatingAdmissionPolicy ${name} and its binding`;
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata,
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['*'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
              resources: ['*/*'], // every resource and every subresource (exec, attach, …)
              scope: '*',
            },
          ],
        },
        matchConditions: [
          { name: 'quarantined-user', expression: `request.userInfo.username == ${lit(user)}` },
        ],
        validations: [{ expression: 'false', message, reason: 'Forbidden' }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata,
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  ];
}

/** The response a detection asks for under `responses`, if any. */
export function responseFor(d: Detection, responses: readonly AuditResponse[]): AuditResponse | undefined {
  return responses.find((r) => r.rules.includes(d.ruleId));
}

export interface ResponderOptions {
  api: KubeApi;
  logger: Logger;
  fieldManager: string;
  /** Vigil's own username (SelfSubjectReview), never quarantined. */
  self: () => string | undefined;
  /** A response was carried out (the Event and the metric). */
  responded: (d: Detection, action: AuditResponse['action'], name: string) => void;
}

export class Responder {
  private readonly o: ResponderOptions;
  /** Identity → when this process last made sure of its quarantine (repeats within a minute cost nothing). */
  private readonly done = new Map<string, number>();
  /** Identity → the quarantine being put in place now (detections close together wait for it). */
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(o: ResponderOptions) {
    this.o = o;
  }

  /** Carries out `response` for detection `d` of an event by `user` in `groups`. */
  async respond(response: AuditResponse, d: Detection, groups: readonly string[], now: Date): Promise<void> {
    const refusal = quarantineRefusal(d.user, groups, this.o.self());
    if (refusal !== undefined) {
      this.o.logger.warn('audit response withheld', {
        ruleId: d.ruleId,
        user: d.user,
        action: response.action,
        why: refusal,
      });
      return;
    }
    const last = this.done.get(d.user);
    if (last !== undefined && now.getTime() - last < RECHECK_MS) return;
    const running = this.inflight.get(d.user);
    if (running) return running;
    const p = this.quarantine(response, d, now).finally(() => this.inflight.delete(d.user));
    this.inflight.set(d.user, p);
    return p;
  }

  private async quarantine(response: AuditResponse, d: Detection, now: Date): Promise<void> {
    const [vap, binding] = quarantineObjects(d.user, d, now.toISOString().replace(/\.\d+Z$/, 'Z'));
    const name = quarantineName(d.user);
    let created = false;
    for (const [obj, collection] of [
      [vap, `${GROUP}/validatingadmissionpolicies`],
      [binding, `${GROUP}/validatingadmissionpolicybindings`],
    ] as const) {
      try {
        await this.o.api.create(collection, obj, this.o.fieldManager);
        // The policy is the quarantine; its binding only completes one an earlier call began.
        if (obj === vap) created = true;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    this.done.set(d.user, now.getTime());
    if (this.done.size > 10_000) this.done.delete(this.done.keys().next().value ?? '');
    if (!created) return; // already quarantined (another replica, or an earlier detection)
    this.o.logger.warn('audit response: identity quarantined', {
      ruleId: d.ruleId,
      auditID: d.auditID,
      user: d.user,
      validatingAdmissionPolicy: name,
    });
    this.o.responded(d, response.action, name);
  }
}
