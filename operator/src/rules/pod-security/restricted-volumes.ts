import type { RaisedSeverity, Rule, RuleHit } from '../../engine/types.ts';
import { asArray, asString, isObj } from '../../engine/podspec.ts';
import { KINDS, RESTRICTED_PROFILES, isSet, leftToBaseline, podView, q } from './_pss.ts';
import { pssHostPathVolumes } from './host-path-volumes.ts';

/** Volume sources the restricted level allows. */
export const ALLOWED_VOLUME_SOURCES: readonly string[] = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** Every other source of core/v1 VolumeSource, in PSA's reporting order. */
export const FORBIDDEN_VOLUME_SOURCES: readonly string[] = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

/**
 * PSS restricted `restrictedVolumes`: every volume must be configMap, csi, downwardAPI, emptyDir,
 * ephemeral, image, persistentVolumeClaim, projected or secret. Overrides hostPathVolumes.
 *
 * PSA evaluates the defaulted object: the API server turns a volume with no (known) source into
 * an emptyDir, so such a volume passes here as it does in a cluster (the upstream fixture
 * restricted/pass/restrictedvolumes0.yaml relies on that).
 */
/** A hostPath volume keeps pss-host-path-volumes' severity where this rule reports it. */
const HOST_PATH_RAISED: RaisedSeverity = {
  severity: pssHostPathVolumes.severity,
  when: 'a hostPath volume, which this rule reports only where pss-host-path-volumes does not run (pss-restricted)',
};

export const pssRestrictedVolumes: Rule = {
  id: 'pss-restricted-volumes',
  title: 'Volume type not allowed by restricted',
  severity: 'medium',
  raisedTo: [HOST_PATH_RAISED],
  category: 'pod-security',
  controls: ['PSS:restrictedVolumes', 'CIS:5.2.12', 'NSA:Pod security'],
  rationale:
    'Restricted pods may only use volumes that Kubernetes itself manages or that go through a PersistentVolumeClaim or CSI driver. In-tree network and host volume types (nfs, iscsi, rbd, gitRepo, flexVolume …) let the pod author pick arbitrary storage endpoints, credentials or node paths outside storage administration, and gitRepo has run attacker-controlled git hooks on the node. Rated medium. A hostPath volume is reported by pss-host-path-volumes (critical) whenever that rule runs too (recommended, all); only in pss-restricted, where PSA reports it under this check, is it reported here, raised to critical.',
  remediation:
    'Replace the volume with a persistentVolumeClaim (backed by a StorageClass or a PersistentVolume that an administrator controls), a csi or ephemeral volume, or with configMap, secret, projected, downwardAPI or emptyDir. Clone git repositories in an init container into an emptyDir instead of gitRepo.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj, ctx) {
    const p = podView(obj);
    if (!p) return [];
    const hostPathElsewhere = leftToBaseline(ctx, 'pss-host-path-volumes');
    const hits: RuleHit[] = [];
    asArray(p.spec['volumes']).forEach((v, i) => {
      if (!isObj(v)) return;
      if (ALLOWED_VOLUME_SOURCES.some((s) => isSet(v[s]))) return;
      const type = FORBIDDEN_VOLUME_SOURCES.find((s) => isSet(v[s]));
      if (type === undefined) return; // defaulted to emptyDir by the API server
      if (type === 'hostPath' && hostPathElsewhere) return;
      const name = asString(v['name']) ?? `volumes[${i}]`;
      const hit: RuleHit = {
        message: `volume ${q(name)} uses restricted volume type ${q(type)} (${p.path}.volumes[${i}].${type})`,
      };
      if (type === 'hostPath') hit.severity = HOST_PATH_RAISED.severity;
      hits.push(hit);
    });
    return hits;
  },
};
