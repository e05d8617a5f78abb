import type { Rule, RuleHit } from '../../engine/types.ts';
import { DATASET, raisedByEntries, type RuntimeAdvisory } from './dataset.ts';
import { nodeInfo, nodeLabel } from './_subjects.ts';
import { affectedBy, parseVersion, suggestedFix, type Version } from './version.ts';

/** `containerd://1.7.12` → runtime `containerd`, version 1.7.12. */
export function parseRuntime(
  s: string | undefined,
): { runtime: string; version?: Version; raw: string } | undefined {
  if (s === undefined) return undefined;
  const m = /^([a-z0-9][a-z0-9._-]*):\/\/(.*)$/i.exec(s.trim());
  if (!m?.[1]) return undefined;
  const runtime = m[1].toLowerCase();
  const version = parseVersion(m[2]);
  return version ? { runtime, version, raw: s } : { runtime, raw: s };
}

const PACKAGING_NOTE =
  " Distribution packages can carry backported fixes under the same version number; check your distribution's advisory before treating the node as unaffected or as fixed.";

function message(subject: string, rt: string, v: Version, adv: RuntimeAdvisory): string {
  const score = adv.cvss ? `, CVSS ${adv.cvss.score.toFixed(1)}` : '';
  const fix = suggestedFix(v, adv.fixedIn);
  const advice = fix ? `upgrade ${rt} to ${fix} or later` : `upgrade ${rt} to a fixed release`;
  const head = `${subject} (status.nodeInfo.containerRuntimeVersion)`;
  if (adv.via === 'runc') {
    return (
      `${head}: the ${rt} ${v.raw} release builds bundle a runc affected by ${adv.id} (${adv.severity}${score}): ${adv.title}. ` +
      `${rt} ${adv.fixedIn.join(', ')} bundle a fixed runc; ${advice}. If this node's runc comes from a separate package, check \`runc --version\` instead.` +
      `${PACKAGING_NOTE} See ${adv.url}`
    );
  }
  return `${head} is affected by ${adv.id} (${adv.severity}${score}): ${adv.title}. Fixed in ${adv.fixedIn.join(', ')}; ${advice}.${PACKAGING_NOTE} See ${adv.url}`;
}

export const containerRuntimeCve: Rule = {
  id: 'platform-container-runtime-cve',
  title: 'Node container runtime version has a known CVE',
  severity: 'high',
  raisedTo: raisedByEntries('high', DATASET.runtimeAdvisories, 'an advisory'),
  category: 'platform',
  controls: [],
  rationale:
    'The container runtime and the runc it starts are the boundary between containers and the node: runc CVE-2024-21626 and the 2025 runc escapes, or CRI-O CVE-2022-0811, let a pod take over its node. Nodes report the runtime and version in status.nodeInfo.containerRuntimeVersion; the bundled dataset (data/platform/container-runtimes.json) maps containerd and CRI-O releases to the advisories their builds carry.',
  remediation:
    'Upgrade the node image or the containerd / CRI-O package to the fixed release named in the finding (on managed node pools, roll to the newest node image), then confirm with `runc --version` on the node when runc is packaged separately.',
  kinds: ['Node'],
  profiles: ['recommended'],
  check(obj) {
    const info = nodeInfo(obj);
    const parsed = parseRuntime(info.containerRuntimeVersion);
    if (!parsed?.version) return [];
    const { runtime, version } = parsed;
    const subject = `${nodeLabel(obj)} container runtime ${runtime} ${version.raw}`;
    const hits: RuleHit[] = [];
    for (const adv of DATASET.runtimeAdvisories) {
      if (adv.runtime !== runtime) continue;
      if (!affectedBy(version, adv.affected)) continue;
      hits.push({
        message: message(subject, runtime, version, adv),
        severity: adv.severity,
        controls: [adv.id],
      });
    }
    return hits;
  },
};
