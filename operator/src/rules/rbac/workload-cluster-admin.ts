/**
 * Linking a workload to its RBAC: a pod whose service account is bound to a
 * cluster-admin-equivalent role cluster-wide, with its token mounted, turns any
 * compromise of the container (an RCE, a malicious image update) into a full cluster
 * compromise. rbac-cluster-admin-binding reports the binding; this rule reports the
 * workload that puts the token where an attacker can reach it, naming the binding.
 * Pods owned by a controller in scope are represented by that controller.
 */
import { WORKLOAD_KINDS, podTemplate } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';
import { isTopLevel, nsOf } from '../network/_net.ts';
import { serviceAccountName, tokenMount } from '../workload/service-account.ts';
import { clusterAdminBindingsOf, describeNamespace } from './_rbac.ts';

export const workloadClusterAdmin: Rule = {
  id: 'rbac-workload-cluster-admin',
  title: 'Workload runs with a cluster-admin service account token',
  severity: 'critical',
  category: 'rbac',
  controls: ['CIS:5.1.1', 'CIS:5.1.6', 'NSA:Role-based access control', 'MITRE:T1528'],
  rationale:
    "A pod's service account token is readable by every process in its containers. When the account is bound to cluster-admin (or any role with all verbs on all resources) cluster-wide, whoever gets code execution in the container, through a vulnerability, a dependency or a compromised image, owns the cluster: the binding alone looks like configuration, the workload is where it becomes exposed.",
  remediation:
    'Give the workload its own ServiceAccount bound to a role with only the permissions it uses (a RoleBinding in its namespace where possible); if it does not call the API at all, set automountServiceAccountToken: false.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl || !isTopLevel(obj, ctx.index)) return [];
    const ns = nsOf(obj);
    const sa = serviceAccountName(tpl).name;
    const bindings = clusterAdminBindingsOf(ctx.index, ns, sa);
    if (bindings.length === 0) return [];
    const mount = tokenMount(obj, tpl, ctx);
    if (!mount.mounted) return [];
    return [
      {
        message: `runs as ServiceAccount "${sa}" in ${describeNamespace(ns)}, which ClusterRoleBinding ${bindings.map((b) => `"${b}"`).join(', ')} makes cluster-admin, and mounts its token (${mount.why}): code execution in any container is a full cluster compromise`,
      },
    ];
  },
};
