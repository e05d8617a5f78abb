/** The rule registry: every rule Vigil ships, grouped by category. */
import type { Rule } from '../engine/types.ts';
import { rules as podSecurity } from './pod-security/index.ts';
import { rules as workload } from './workload/index.ts';
import { rules as supplyChain } from './supply-chain/index.ts';
import { rules as secrets } from './secrets/index.ts';
import { rules as rbac } from './rbac/index.ts';
import { rules as network } from './network/index.ts';
import { rules as platform } from './platform/index.ts';
import { rules as managementTools } from './management-tools/index.ts';
import { rules as changeManagement } from './change-management/index.ts';

export const ALL_RULES: readonly Rule[] = [
  ...podSecurity,
  ...workload,
  ...supplyChain,
  ...secrets,
  ...rbac,
  ...network,
  ...platform,
  ...managementTools,
  ...changeManagement,
];

export function ruleById(id: string): Rule | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
