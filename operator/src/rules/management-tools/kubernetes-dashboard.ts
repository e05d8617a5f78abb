/**
 * Kubernetes Dashboard: a web UI acting with its own service account (or the
 * token a user logs in with). Two rules:
 * - `kubernetes-dashboard-insecure-flags`: --enable-skip-login (anyone who
 *   reaches the UI acts as the dashboard's service account; high, critical
 *   when reachable from outside the cluster or cluster-admin),
 *   --enable-insecure-login (login over plain HTTP; medium, high when exposed),
 *   --insecure-bind-address other than localhost (medium),
 *   --disable-settings-authorizer (any user changes global settings; low).
 * - `kubernetes-dashboard-cluster-admin`: the dashboard's service account is
 *   bound to cluster-admin (or an equivalent role) cluster-wide: whoever gets
 *   into the UI owns the cluster (critical).
 * A container is the dashboard when its image is kubernetesui/dashboard*
 * (incl. the v7 dashboard-api/-web/-auth images) or the old
 * kubernetes-dashboard-<arch> images, or the container is named kubernetes-dashboard.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  aggravated,
  boolFlag,
  contextText,
  flagValue,
  hit,
  imageBase,
  imageRepo,
  riskContext,
  toolContainers,
  type ToolContainer,
  where,
} from './_tools.ts';

export function isDashboard(c: ToolContainer): boolean {
  const repo = imageRepo(c.image);
  const base = imageBase(c.image);
  return (
    repo.startsWith('kubernetesui/dashboard') ||
    /^kubernetes-dashboard(-[a-z0-9]+)?$/.test(base) ||
    c.name === 'kubernetes-dashboard'
  );
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const dashboardInsecureFlags: Rule = {
  id: 'kubernetes-dashboard-insecure-flags',
  title: 'Kubernetes Dashboard runs with authentication weakened',
  severity: 'critical',
  category: 'management-tools',
  controls: ['NSA:Authentication', 'MITRE:T1133'],
  rationale:
    'With --enable-skip-login the Dashboard offers a "skip" button that lets anyone who reaches it act with the Dashboard\'s own service account; --enable-insecure-login accepts tokens over plain HTTP. Exposed dashboards with skipped login are a classic cluster takeover (the 2018 Tesla cryptomining incident).',
  remediation:
    'Remove --enable-skip-login, --enable-insecure-login, --disable-settings-authorizer and any non-local --insecure-bind-address; require token or OIDC login, keep the Dashboard behind kubectl proxy/port-forward or an authenticating proxy, and give its service account minimal rights.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const dash = toolContainers(obj, ctx).filter(isDashboard);
    if (dash.length === 0) return [];
    const rc = riskContext(obj, ctx.index);
    const worse = aggravated(rc);
    const extra = contextText(rc);
    const hits: RuleHit[] = [];
    for (const c of dash) {
      if (boolFlag(c.argv, 'enable-skip-login'))
        hits.push(
          hit(
            c,
            `${where(c)} passes --enable-skip-login: the login screen can be skipped${extra}`,
            worse ? 'critical' : 'high',
          ),
        );
      if (boolFlag(c.argv, 'enable-insecure-login'))
        hits.push(
          hit(
            c,
            `${where(c)} passes --enable-insecure-login: tokens are accepted over plain HTTP${extra}`,
            worse ? 'high' : 'medium',
          ),
        );
      const bind = flagValue(c.argv, 'insecure-bind-address', true);
      if (bind !== undefined && !LOCAL.has(bind))
        hits.push(
          hit(
            c,
            `${where(c)} passes --insecure-bind-address=${bind}: the HTTP port listens beyond localhost${extra}`,
            'medium',
          ),
        );
      if (boolFlag(c.argv, 'disable-settings-authorizer'))
        hits.push(
          hit(
            c,
            `${where(c)} passes --disable-settings-authorizer: any user can change global settings`,
            'low',
          ),
        );
    }
    return hits;
  },
};

export const dashboardClusterAdmin: Rule = {
  id: 'kubernetes-dashboard-cluster-admin',
  title: "Kubernetes Dashboard's service account is cluster-admin",
  severity: 'critical',
  category: 'management-tools',
  controls: ['CIS:5.1.1', 'NSA:Role-based access control', 'MITRE:T1133'],
  rationale:
    "The Dashboard's own service account is what acts when login is skipped, and it is the account an attacker gets by compromising the Dashboard pod. Bound to cluster-admin, any bug, skipped login or leaked token in the Dashboard is full control of the cluster.",
  remediation:
    "Delete the ClusterRoleBinding that gives the Dashboard's service account cluster-admin; bind it to the minimal role the Dashboard project ships (metrics only) and let users log in with their own tokens.",
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const dash = toolContainers(obj, ctx).filter(isDashboard);
    const first = dash[0];
    if (!first) return [];
    const rc = riskContext(obj, ctx.index);
    if (rc.adminBindings.length === 0) return [];
    const exposed =
      rc.exposure.length > 0 ? `; reachable from outside the cluster through ${rc.exposure.join(', ')}` : '';
    return [
      {
        message: `Dashboard ${where(first)} runs as service account "${rc.serviceAccount}", which ClusterRoleBinding ${rc.adminBindings.map((b) => `"${b}"`).join(', ')} makes cluster-admin${exposed}`,
        container: first.name,
      },
    ];
  },
};
