/**
 * Weave Scope (weaveworks/scope): its app serves a web UI that lists every
 * container and opens shells and attaches into them, with no authentication;
 * its probe is a privileged agent on every node. The project was archived when
 * Weaveworks shut down. App: high, critical when reachable from outside the
 * cluster; probe only: medium.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';
import {
  aggravated,
  contextText,
  flagValue,
  hit,
  imageRepo,
  riskContext,
  toolContainers,
  where,
} from './_tools.ts';

export const weaveScope: Rule = {
  id: 'weave-scope-deployed',
  title: 'Weave Scope is deployed',
  severity: 'critical',
  category: 'management-tools',
  controls: ['NSA:Upgrading and application security practices', 'MITRE:T1133'],
  rationale:
    'The Weave Scope app offers exec and attach into any container of the cluster from a browser, without authentication, using its privileged probes on every node. Anyone who reaches the UI controls every workload; the project is archived and unmaintained.',
  remediation:
    'Uninstall Weave Scope (app Deployment and probe DaemonSet); use an observability tool with authentication and no remote shell, and never expose such UIs through NodePort or LoadBalancer Services.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const scope = toolContainers(obj, ctx).filter((c) => imageRepo(c.image).endsWith('weaveworks/scope'));
    if (scope.length === 0) return [];
    const rc = riskContext(obj, ctx.index);
    return scope.map((c) => {
      const mode = flagValue(c.argv, 'mode', true);
      if (mode === 'probe')
        return hit(
          c,
          `${where(c)} runs the Weave Scope probe, a privileged agent of an archived project`,
          'medium',
        );
      return hit(
        c,
        `${where(c)} runs the Weave Scope app: an unauthenticated web UI with shell access to every container${contextText(rc)}`,
        aggravated(rc) ? 'critical' : 'high',
      );
    });
  },
};
