import type { Rule } from '../../engine/types.ts';
import { pssAllowPrivilegeEscalation } from './allow-privilege-escalation.ts';
import { pssAppArmorProfile } from './app-armor-profile.ts';
import { pssCapabilitiesBaseline, pssCapabilitiesRestricted } from './capabilities.ts';
import { pssHostNamespaces } from './host-namespaces.ts';
import { pssHostPathVolumes } from './host-path-volumes.ts';
import { pssHostPorts } from './host-ports.ts';
import { pssHostProbesAndHostLifecycle } from './host-probes-and-host-lifecycle.ts';
import { pssPrivileged } from './privileged.ts';
import { pssProcMount, pssProcMountRestricted } from './proc-mount.ts';
import { pssRestrictedVolumes } from './restricted-volumes.ts';
import { pssRunAsNonRoot } from './run-as-non-root.ts';
import { pssRunAsUser } from './run-as-user.ts';
import { pssSeccompProfileBaseline, pssSeccompProfileRestricted } from './seccomp-profile.ts';
import { pssSeLinuxOptions } from './se-linux-options.ts';
import { pssSysctls } from './sysctls.ts';
import { pssWindowsHostProcess } from './windows-host-process.ts';

/**
 * Rules of the `pod-security` category: the Pod Security Standards, policy version v1.37, one rule
 * per check of k8s.io/pod-security-admission. pss-baseline = the 12 baseline checks;
 * pss-restricted = the 7 restricted checks plus the 8 baseline checks they do not override.
 */
export const rules: Rule[] = [
  // baseline
  pssPrivileged,
  pssHostNamespaces,
  pssHostPathVolumes,
  pssHostPorts,
  pssHostProbesAndHostLifecycle,
  pssAppArmorProfile,
  pssSeLinuxOptions,
  pssProcMount,
  pssSeccompProfileBaseline,
  pssSysctls,
  pssWindowsHostProcess,
  pssCapabilitiesBaseline,
  // restricted
  pssRestrictedVolumes,
  pssAllowPrivilegeEscalation,
  pssRunAsNonRoot,
  pssRunAsUser,
  pssSeccompProfileRestricted,
  pssCapabilitiesRestricted,
  pssProcMountRestricted,
];
