import { asObj, asObjArray, asString, asStringArray } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';

/**
 * An exception whose `expiresAt` has passed no longer hides findings; this rule
 * makes the lapse itself visible so its owner renews or removes it.
 */
export const exceptionExpired: Rule = {
  id: 'policy-exception-expired',
  title: 'SecurityPolicy exception has expired',
  severity: 'medium',
  category: 'change-management',
  controls: [],
  rationale:
    'Exceptions are accepted risk with an owner and an end date. Once the date passes the findings it hid are reported again; an expired entry left in the policy means nobody reviewed the risk.',
  remediation:
    'Ask the exception owner to fix the excepted findings and delete the exception, or renew it with a new expiresAt after review.',
  kinds: ['SecurityPolicy'],
  profiles: ['pss-baseline', 'pss-restricted', 'recommended'],
  check(obj, ctx) {
    const hits = [];
    for (const [i, e] of asObjArray(asObj(obj['spec'])['exceptions']).entries()) {
      const exp = asString(e['expiresAt']);
      if (!exp) continue;
      const t = Date.parse(exp);
      if (Number.isNaN(t) || t > ctx.now.getTime()) continue;
      const owner = asString(e['owner']) ?? 'unknown owner';
      const rules = asStringArray(e['rules']).join(', ');
      hits.push({
        message: `exception ${i} (owner ${owner}${rules ? `, rules ${rules}` : ''}) expired at ${exp}; its findings are reported again`,
      });
    }
    return hits;
  },
};
