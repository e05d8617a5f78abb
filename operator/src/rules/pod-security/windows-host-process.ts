import type { Rule, RuleHit } from '../../engine/types.ts';
import { dig } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isTrue, podView, who } from './_pss.ts';

/** PSS baseline `windowsHostProcess`: windowsOptions.hostProcess must not be true (pod or container). */
export const pssWindowsHostProcess: Rule = {
  id: 'pss-windows-host-process',
  title: 'Windows HostProcess container',
  severity: 'critical',
  category: 'pod-security',
  controls: ['PSS:windowsHostProcess', 'CIS:5.2.11', 'NSA:Pod security', 'MITRE:T1611'],
  rationale:
    'A Windows HostProcess container runs directly on the node as a host process (typically SYSTEM or a node administrator account) with the host network and file system: it is the Windows equivalent of a privileged container and gives full control of the node, so it is rated critical.',
  remediation:
    'Remove securityContext.windowsOptions.hostProcess (or set it to false) at pod and container level. Run node management agents that need it in a dedicated, separately governed namespace.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    if (isTrue(dig(p.sc, 'windowsOptions', 'hostProcess')))
      hits.push({ message: `pod sets ${p.path}.securityContext.windowsOptions.hostProcess=true` });
    for (const c of containersOf(p)) {
      if (isTrue(dig(c.sc, 'windowsOptions', 'hostProcess')))
        hits.push({
          container: c.name,
          message: `${who(c)} sets ${c.path}.securityContext.windowsOptions.hostProcess=true`,
        });
    }
    return hits;
  },
};
