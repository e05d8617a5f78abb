import type { KubeObject, Rule, RuleContext, RuleHit } from '../../engine/types.ts';
import { DATASET, endOfDay, type KubernetesRelease } from './dataset.ts';
import {
  apiServerVersion,
  CLUSTER_VERSION_KIND,
  nodeInfo,
  nodeLabel,
  type VersionReading,
} from './_subjects.ts';
import { minorOf, parseVersion, type Version } from './version.ts';

const DAY = 24 * 60 * 60 * 1000;

function minorNumber(minor: string): number {
  return Number(minor.split('.')[1] ?? Number.NaN);
}

/** The release entry of a version's minor, or the oldest entry when the version predates the table. */
export function releaseOf(
  v: Version,
  releases: readonly KubernetesRelease[],
): KubernetesRelease | 'older' | undefined {
  if (v.major !== 1) return undefined;
  const own = releases.find((r) => r.minor === minorOf(v));
  if (own) return own;
  const known = releases.map((r) => minorNumber(r.minor)).filter((n) => !Number.isNaN(n));
  if (known.length > 0 && v.minor < Math.min(...known)) return 'older';
  return undefined;
}

function supported(releases: readonly KubernetesRelease[], now: number): string {
  const live = releases.filter((r) => endOfDay(r.endOfLife) > now).map((r) => r.minor);
  return live.length > 0 ? live.join(', ') : 'a supported minor (see https://kubernetes.io/releases/)';
}

function check(reading: VersionReading, subject: string, ctx: RuleContext): RuleHit[] {
  const v = reading.version;
  const releases = DATASET.releases;
  const rel = releaseOf(v, releases);
  if (rel === undefined) return [];
  const now = ctx.now.getTime();
  const vendor =
    v.vendor === undefined
      ? ''
      : ` This is a vendor build (${v.raw}); your provider may still support this minor under its own (extended) support policy, but the Kubernetes project no longer publishes patches for it.`;
  const options = `Supported minors now: ${supported(releases, now)}.`;
  if (rel === 'older') {
    return [
      {
        message: `${subject} (${reading.field}) runs Kubernetes ${minorOf(v)}, older than any release in the end-of-life table (which starts at ${releases[0]?.minor ?? '?'}); it has been out of support for years. ${options}${vendor}`,
        severity: 'high',
      },
    ];
  }
  const end = endOfDay(rel.endOfLife);
  const kind = rel.dateKind === 'scheduled' ? ' (scheduled date)' : '';
  if (now >= end) {
    const final = rel.finalPatch ? ` Its final patch release is ${rel.finalPatch}.` : '';
    return [
      {
        message: `${subject} (${reading.field}) runs Kubernetes ${rel.minor}, which reached end of life on ${rel.endOfLife}${kind} and no longer receives security fixes.${final} ${options}${vendor}`,
        severity: 'high',
      },
    ];
  }
  const warnDays = typeof ctx.params['warnDays'] === 'number' ? ctx.params['warnDays'] : 30;
  const left = Math.ceil((end - now) / DAY);
  if (warnDays > 0 && left <= warnDays) {
    return [
      {
        message: `${subject} (${reading.field}) runs Kubernetes ${rel.minor}, which reaches end of life on ${rel.endOfLife}${kind}, in ${left} day(s). Plan the upgrade to a newer minor.${vendor}`,
        severity: 'low',
      },
    ];
  }
  return [];
}

function readings(
  obj: KubeObject,
  ctx: RuleContext,
): { reading: VersionReading; subject: string } | undefined {
  if (obj.kind === CLUSTER_VERSION_KIND) {
    const r = apiServerVersion(obj, ctx);
    return r ? { reading: r, subject: `kube-apiserver ${r.version.raw}` } : undefined;
  }
  const kubelet = parseVersion(nodeInfo(obj).kubeletVersion);
  if (!kubelet) return undefined;
  return {
    reading: { version: kubelet, field: 'status.nodeInfo.kubeletVersion' },
    subject: `${nodeLabel(obj)} kubelet ${kubelet.raw}`,
  };
}

export const kubernetesEol: Rule = {
  id: 'platform-kubernetes-eol',
  title: 'Kubernetes minor version is out of support',
  severity: 'high',
  category: 'platform',
  controls: [],
  rationale:
    'The Kubernetes project patches only the three newest minor releases (about 14 months each). After its end-of-life date a minor receives no security fixes, so every CVE found later stays open on it. End-of-life dates come from the bundled dataset (data/platform/kubernetes-releases.json) and are compared with the scan time.',
  remediation:
    'Upgrade the control plane one minor at a time to a supported release, then upgrade the kubelets (they may lag the API server by up to three minors). On managed clusters use the provider upgrade path and check whether it sells extended support for the old minor.',
  kinds: [CLUSTER_VERSION_KIND, 'Node'],
  profiles: ['recommended'],
  params: [
    {
      name: 'warnDays',
      description:
        'Also report (as low severity) minors that reach end of life within this many days; 0 disables the warning.',
      type: 'number',
      default: 30,
    },
  ],
  check(obj, ctx) {
    const r = readings(obj, ctx);
    return r ? check(r.reading, r.subject, ctx) : [];
  },
};
