/**
 * Secrets handed to containers as environment variables (env[].valueFrom.secretKeyRef,
 * envFrom[].secretRef) instead of mounted files. Opt-in by profile: env secrets are
 * common and often acceptable, so the rule is in no profile but `all` (or a policy that
 * names it). Selected, it reports; `requireSecretFiles: false` turns it off again.
 */
import { WORKLOAD_KINDS, asArray, asObj, asString, dig, isObj } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import { EXEMPT_CONTAINERS_PARAM, checkedContainers, clip } from '../workload/_shared.ts';
import { printableName } from './detectors.ts';

export const secretAsEnv: Rule = {
  id: 'secret-exposed-as-env',
  title: 'Secret is exposed to a container as environment variables',
  severity: 'low',
  category: 'secrets',
  controls: ['CIS:5.4.1', 'NSA:Secrets', 'MITRE:T1552.001'],
  rationale:
    'Environment variables leak more easily than files: they are inherited by every child process, printed by crash reporters, debug endpoints and `env` in support sessions, visible in /proc/<pid>/environ to processes of the same user, and they never change without a restart, so rotated secrets stay stale.',
  remediation:
    'Mount the Secret as a volume (volumes[].secret with defaultMode 0400) and have the application read the file, e.g. via a *_FILE variable pointing at it; remove the secretKeyRef/secretRef env entries.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [
    {
      name: 'requireSecretFiles',
      description:
        'Report Secrets consumed through env or envFrom (true, the default whenever the rule is selected) or allow them (false).',
      type: 'boolean',
      default: true,
    },
    EXEMPT_CONTAINERS_PARAM,
  ],
  check(obj, ctx) {
    if (ctx.params['requireSecretFiles'] !== true) return [];
    const hits: RuleHit[] = [];
    for (const c of checkedContainers(obj, ctx.params)) {
      asArray(c.container['env']).forEach((e, i) => {
        const ref = dig(e, 'valueFrom', 'secretKeyRef');
        if (!isObj(ref)) return;
        const name = printableName(asString(dig(e, 'name')) ?? `env[${i}]`);
        const secret = clip(asString(ref['name']) ?? '?', 80);
        const key = clip(asString(ref['key']) ?? '?', 80);
        hits.push({
          container: c.name,
          message: `container "${c.name}" env ${name} reads key "${key}" of Secret "${secret}" (${c.path}.env[${i}].valueFrom.secretKeyRef); mount it as a file instead`,
        });
      });
      asArray(c.container['envFrom']).forEach((e, i) => {
        const ref = asObj(e)['secretRef'];
        if (!isObj(ref)) return;
        const secret = clip(asString(ref['name']) ?? '?', 80);
        hits.push({
          container: c.name,
          message: `container "${c.name}" imports every key of Secret "${secret}" as environment variables (${c.path}.envFrom[${i}].secretRef); mount it as a file instead`,
        });
      });
    }
    return hits;
  },
};
