import type { Rule } from '../../engine/types.ts';
import { pdbMissing, singleReplica } from './availability.ts';
import { hostAliases, shareProcessNamespace } from './pod-settings.ts';
import { livenessProbeMissing, readinessProbeMissing } from './probes.ts';
import { rootFilesystemWritable } from './read-only-root-filesystem.ts';
import { cpuLimitMissing, memoryLimitMissing, requestsMissing } from './resources.ts';
import { runAsGroupMissing, runsAsRootGroup, securityContextMissing } from './security-context.ts';
import { defaultServiceAccount, tokenAutomounted } from './service-account.ts';

/** Rules of the `workload` category. */
export const rules: Rule[] = [
  requestsMissing,
  memoryLimitMissing,
  cpuLimitMissing,
  readinessProbeMissing,
  livenessProbeMissing,
  rootFilesystemWritable,
  defaultServiceAccount,
  tokenAutomounted,
  hostAliases,
  shareProcessNamespace,
  securityContextMissing,
  runsAsRootGroup,
  runAsGroupMissing,
  singleReplica,
  pdbMissing,
];
