/** Every audit detection Vigil ships. */
import type { AuditRule } from '../types.ts';
import { auditAdmissionPolicyChanged, auditAdmissionWebhookChanged, auditCsrApproved } from './defenses.ts';
import {
  auditAnonymousAllowed,
  auditDeniedBurst,
  auditImpersonation,
  auditSaTokenForeignIp,
  auditUnapprovedChange,
} from './identity.ts';
import {
  auditHostNamespacePod,
  auditHostPathPod,
  auditPodBaselineViolation,
  auditPrivilegedPod,
} from './pod-security.ts';
import {
  auditEphemeralContainer,
  auditKubeSystemWorkload,
  auditNodeProxy,
  auditPodAttach,
  auditPodExec,
  auditPodPortForward,
} from './pods.ts';
import {
  auditClusterAdminBinding,
  auditPowerfulRoleBinding,
  auditRoleEscalationVerbs,
  auditRoleWildcard,
  auditSystemRoleModified,
} from './rbac.ts';
import { auditSecretRead, auditTokenRequest } from './secrets.ts';

export const AUDIT_RULES: readonly AuditRule[] = [
  auditPodExec,
  auditPodAttach,
  auditPodPortForward,
  auditEphemeralContainer,
  auditNodeProxy,
  auditKubeSystemWorkload,
  auditPrivilegedPod,
  auditHostPathPod,
  auditHostNamespacePod,
  auditPodBaselineViolation,
  auditSecretRead,
  auditTokenRequest,
  auditAnonymousAllowed,
  auditImpersonation,
  auditSaTokenForeignIp,
  auditDeniedBurst,
  auditUnapprovedChange,
  auditClusterAdminBinding,
  auditPowerfulRoleBinding,
  auditRoleWildcard,
  auditRoleEscalationVerbs,
  auditSystemRoleModified,
  auditAdmissionWebhookChanged,
  auditAdmissionPolicyChanged,
  auditCsrApproved,
];
