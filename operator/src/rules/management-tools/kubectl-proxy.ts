/**
 * A container running `kubectl proxy` that listens beyond localhost
 * (--address other than 127.0.0.1/localhost/::1) or with the request filter
 * disabled (--disable-filter). The proxy forwards unauthenticated requests to
 * the API server with the pod's service account credentials, so anyone who
 * reaches the port acts as that account. High; critical when reachable from
 * outside the cluster or the account is cluster-admin. A proxy on localhost
 * (a sidecar for the pod's own use) is not reported.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  aggravated,
  boolFlag,
  contextText,
  flagValue,
  hit,
  riskContext,
  toolContainers,
  where,
} from './_tools.ts';

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const kubectlProxyExposed: Rule = {
  id: 'kubectl-proxy-exposed',
  title: 'kubectl proxy listens beyond localhost',
  severity: 'critical',
  category: 'management-tools',
  controls: ['NSA:Authentication', 'MITRE:T1133'],
  rationale:
    'kubectl proxy authenticates to the API server with its own credentials and accepts plain HTTP requests without authentication. Bound to a pod or node address it hands the service account\'s permissions to any client on the network, and its Host-header filter is trivially satisfied by setting "Host: localhost".',
  remediation:
    'Run kubectl proxy only on localhost (the default --address=127.0.0.1) and only for local use; to give other workloads API access, give them their own service accounts with minimal RBAC instead of a shared proxy.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    let rc;
    for (const c of toolContainers(obj, ctx)) {
      const k = c.argv.findIndex((a) => a === 'kubectl' || a.endsWith('/kubectl'));
      if (k < 0 || !c.argv.slice(k + 1).includes('proxy')) continue;
      const address = flagValue(c.argv, 'address', true);
      const reasons: string[] = [];
      if (address !== undefined && !LOCAL.has(address)) reasons.push(`--address=${address}`);
      if (boolFlag(c.argv, 'disable-filter')) reasons.push('--disable-filter');
      if (reasons.length === 0) continue;
      rc ??= riskContext(obj, ctx.index);
      hits.push(
        hit(
          c,
          `${where(c)} runs kubectl proxy with ${reasons.join(' and ')}: unauthenticated API access as service account "${rc.serviceAccount}"${contextText(rc)}`,
          aggravated(rc) ? 'critical' : 'high',
        ),
      );
    }
    return hits;
  },
};
