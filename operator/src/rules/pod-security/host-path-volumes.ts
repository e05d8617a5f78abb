import type { Rule, RuleHit } from '../../engine/types.ts';
import { asArray, asString, isObj } from '../../engine/podspec.ts';
import { BASELINE_ONLY_PROFILES, KINDS, isSet, podView, q } from './_pss.ts';

/**
 * PSS baseline `hostPathVolumes`: no spec.volumes[*].hostPath. At restricted, PSA replaces
 * this check by restrictedVolumes (which forbids hostPath too), so it is not in pss-restricted;
 * in recommended and all it runs beside pss-restricted-volumes, which then leaves hostPath to it.
 */
export const pssHostPathVolumes: Rule = {
  id: 'pss-host-path-volumes',
  title: 'Pod mounts a hostPath volume',
  severity: 'critical',
  category: 'pod-security',
  controls: ['PSS:hostPathVolumes', 'CIS:5.2.12', 'NSA:Pod security', 'MITRE:T1611'],
  rationale:
    'A hostPath volume mounts a directory of the node into the pod. Writable paths such as /, /etc, /var/lib/kubelet or the container runtime socket give root on the node, and even read-only mounts leak credentials of other pods, so it is rated critical.',
  remediation:
    'Replace hostPath volumes with emptyDir, configMap, secret, projected or persistentVolumeClaim volumes. If a node agent must read host files, run it in a dedicated namespace with a narrowly scoped, documented policy exception.',
  kinds: KINDS,
  profiles: BASELINE_ONLY_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    asArray(p.spec['volumes']).forEach((v, i) => {
      if (!isObj(v) || !isSet(v['hostPath'])) return;
      const path = asString(isObj(v['hostPath']) ? v['hostPath']['path'] : undefined);
      const name = asString(v['name']) ?? `volumes[${i}]`;
      hits.push({
        message: `volume ${q(name)} sets ${p.path}.volumes[${i}].hostPath${path === undefined ? '' : ` (path ${q(path)})`}`,
      });
    });
    return hits;
  },
};
