import type { Rule } from '../../engine/types.ts';
import { DATASET, endOfDay, type OsImage } from './dataset.ts';
import { nodeInfo, nodeLabel } from './_subjects.ts';

/** Recognised osImage prefixes → dataset distro and version (`Ubuntu 18.04.6 LTS` → ubuntu 18.04). */
const PATTERNS: { re: RegExp; distro: string }[] = [
  { re: /^Ubuntu (\d{2}\.\d{2})(?:\.\d+)?\b/, distro: 'ubuntu' },
  { re: /^Debian GNU\/Linux (\d{1,2})\b/, distro: 'debian' },
  { re: /^CentOS Linux (\d{1,2})\b/, distro: 'centos' },
  { re: /^CentOS Stream (\d{1,2})\b/, distro: 'centos-stream' },
  { re: /^Amazon Linux (\d{1,4})\b/, distro: 'amazon-linux' },
];

/** Dataset entry for an osImage string, if the distribution and version are known. */
export function osImageOf(osImage: string | undefined, images: readonly OsImage[]): OsImage | undefined {
  if (osImage === undefined) return undefined;
  for (const p of PATTERNS) {
    const m = p.re.exec(osImage.trim());
    if (m?.[1]) return images.find((i) => i.distro === p.distro && i.version === m[1]);
  }
  return undefined;
}

export const osEol: Rule = {
  id: 'platform-os-eol',
  title: 'Node operating system is past its end of support',
  severity: 'high',
  category: 'platform',
  controls: [],
  rationale:
    'A node OS past its end of standard support no longer gets security updates from the vendor (or only under a paid or opt-in extension such as Ubuntu Pro ESM or Debian LTS), so kernel, runtime and library CVEs on the node stay open. Support dates come from the bundled dataset (data/platform/os-images.json) and are compared with the scan time.',
  remediation:
    "Move the node pool to a supported OS release (for example a newer node image or AMI), or, while migrating, make sure the nodes are enrolled in the vendor's extended support and patched from it. Rolling images (Bottlerocket, Flatcar, Container-Optimized OS) are not judged from osImage.",
  kinds: ['Node'],
  profiles: ['recommended'],
  check(obj, ctx) {
    const info = nodeInfo(obj);
    const os = osImageOf(info.osImage, DATASET.osImages);
    if (!os || info.osImage === undefined) return [];
    const now = ctx.now.getTime();
    if (now < endOfDay(os.standardSupportEnd)) return [];
    const head = `${nodeLabel(obj)} runs ${info.osImage} (status.nodeInfo.osImage)`;
    if (os.extendedSupportEnd !== undefined && now < endOfDay(os.extendedSupportEnd)) {
      return [
        {
          message: `${head}: standard support for ${os.name} ended on ${os.standardSupportEnd}; security updates continue only under ${os.extendedSupportName ?? 'extended support'} until ${os.extendedSupportEnd}. This scan cannot tell whether the node is enrolled in it.`,
          severity: 'medium',
        },
      ];
    }
    const ext =
      os.extendedSupportEnd !== undefined
        ? ` and ${os.extendedSupportName ?? 'extended support'} ended on ${os.extendedSupportEnd}`
        : '';
    return [
      {
        message: `${head}: ${os.name} reached end of support on ${os.standardSupportEnd}${ext}; it receives no security updates.`,
        severity: 'high',
      },
    ];
  },
};
