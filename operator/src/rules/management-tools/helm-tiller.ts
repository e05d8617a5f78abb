/**
 * Helm v2's in-cluster server, Tiller (gcr.io/kubernetes-helm/tiller,
 * ghcr.io/helm/tiller, or any image named tiller). Tiller listens on gRPC port
 * 44134 without authentication by default and is usually installed with
 * cluster-admin, so any pod that can reach it can install anything. Helm v2
 * reached end of life in November 2020. High; critical when reachable from
 * outside the cluster or cluster-admin.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';
import { aggravated, contextText, hit, imageBase, riskContext, toolContainers, where } from './_tools.ts';

export const helmTiller: Rule = {
  id: 'helm-tiller-deployed',
  title: 'Helm v2 Tiller is deployed',
  severity: 'critical',
  category: 'management-tools',
  controls: ['NSA:Upgrading and application security practices', 'MITRE:T1133'],
  rationale:
    'Tiller runs every Helm v2 release with its own, usually cluster-admin, service account and by default accepts unauthenticated gRPC on port 44134 from any pod: reaching Tiller means deploying arbitrary privileged workloads. Helm v2 has been unsupported since November 2020 and gets no security fixes.',
  remediation:
    'Migrate releases to Helm 3 (helm-2to3 plugin), which has no in-cluster server, then delete the Tiller Deployment, Service and its ClusterRoleBinding.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const tiller = toolContainers(obj, ctx).filter((c) => imageBase(c.image) === 'tiller');
    if (tiller.length === 0) return [];
    const rc = riskContext(obj, ctx.index);
    return tiller.map((c) =>
      hit(
        c,
        `${where(c)} runs Tiller (${c.image}), the unsupported Helm v2 server${contextText(rc)}`,
        aggravated(rc) ? 'critical' : 'high',
      ),
    );
  },
};
