import type { Rule } from '../../engine/types.ts';
import { broadBuiltinRoleBinding } from './broad-builtin-role-binding.ts';
import { clusterAdminBinding } from './cluster-admin-binding.ts';
import { createPods } from './create-pods.ts';
import { defaultServiceAccountBound } from './default-service-account-bound.ts';
import { escalationVerbs } from './escalation-verbs.ts';
import { nodesProxy } from './nodes-proxy.ts';
import { podExec } from './pod-exec.ts';
import { publicGroupBinding } from './public-group-binding.ts';
import { roleRefUnresolved } from './role-ref-unresolved.ts';
import { secretsRead } from './secrets-read.ts';
import { sensitiveClusterResources } from './sensitive-cluster-resources.ts';
import { tokenCreate } from './token-create.ts';
import { wildcardPermissions } from './wildcard-permissions.ts';
import { workloadClusterAdmin } from './workload-cluster-admin.ts';

/** Rules of the `rbac` category. */
export const rules: Rule[] = [
  clusterAdminBinding,
  publicGroupBinding,
  broadBuiltinRoleBinding,
  wildcardPermissions,
  secretsRead,
  podExec,
  nodesProxy,
  createPods,
  escalationVerbs,
  tokenCreate,
  defaultServiceAccountBound,
  sensitiveClusterResources,
  roleRefUnresolved,
  workloadClusterAdmin,
];
