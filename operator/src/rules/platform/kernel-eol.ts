import type { Rule } from '../../engine/types.ts';
import { DATASET, endOfDay, type KernelData } from './dataset.ts';
import { nodeInfo, nodeLabel } from './_subjects.ts';

export interface KernelReading {
  line: string;
  major: number;
  minor: number;
  /** A distribution build (anything after the upstream x.y.z: `-150-generic`, `.amzn2.x86_64`). */
  distribution: boolean;
}

/** `5.4.0-150-generic` → line 5.4, distribution build; `6.1.82` → line 6.1, upstream string. */
export function parseKernel(s: string | undefined): KernelReading | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}))?(.*)$/.exec(s.trim());
  if (!m?.[1] || !m[2]) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return { line: `${major}.${minor}`, major, minor, distribution: (m[4] ?? '') !== '' };
}

function lineLess(a: { major: number; minor: number }, line: string): boolean {
  const [maj, min] = line.split('.').map(Number);
  if (maj === undefined || min === undefined || Number.isNaN(maj) || Number.isNaN(min)) return false;
  return a.major < maj || (a.major === maj && a.minor < min);
}

/** Upstream status of a kernel line at `now`: end-of-life with a date or reason, or unknown/maintained. */
export function upstreamStatus(
  k: KernelReading,
  data: KernelData,
  now: number,
): { eol: true; since?: string; reason: string } | { eol: false } {
  const lt = data.longterm.find((l) => l.line === k.line);
  if (lt) {
    return now >= endOfDay(lt.endOfLife)
      ? {
          eol: true,
          since: lt.endOfLife,
          reason: `kernel.org maintained ${k.line} as a longterm line until ${lt.endOfLife}`,
        }
      : { eol: false };
  }
  if (lineLess(k, data.olderLines.below)) {
    return { eol: true, since: data.olderLines.endOfLifeBy, reason: data.olderLines.reason };
  }
  if (lineLess(k, data.nonLongterm.below)) return { eol: true, reason: data.nonLongterm.reason };
  return { eol: false };
}

export const kernelEol: Rule = {
  id: 'platform-kernel-eol',
  title: 'Node kernel line is no longer maintained upstream',
  severity: 'medium',
  category: 'platform',
  controls: [],
  rationale:
    'Container isolation rests on the node kernel. A kernel line kernel.org no longer maintains gets no upstream fixes. Only the upstream line is judged: distribution kernels backport fixes, so the version string cannot prove which CVEs a node has, and findings on distribution kernels say so and are reported at low severity. Lines and dates come from data/platform/kernels.json.',
  remediation:
    'Move nodes to an OS image whose kernel is on a maintained longterm line, or confirm that your distribution still ships security updates for this kernel (and that the node has them) and record an exception with that evidence.',
  kinds: ['Node'],
  profiles: ['recommended'],
  check(obj, ctx) {
    const info = nodeInfo(obj);
    if (info.operatingSystem !== undefined && info.operatingSystem !== 'linux') return [];
    const k = parseKernel(info.kernelVersion);
    if (!k || info.kernelVersion === undefined) return [];
    const status = upstreamStatus(k, DATASET.kernels, ctx.now.getTime());
    if (!status.eol) return [];
    const head = `${nodeLabel(obj)} kernel ${info.kernelVersion} (status.nodeInfo.kernelVersion)`;
    const since = status.since ? ` (end of life ${status.since})` : '';
    if (k.distribution) {
      return [
        {
          message: `${head} is a distribution build of upstream line ${k.line}, which kernel.org no longer maintains${since}: ${status.reason}. Distribution kernels backport fixes, so the version string cannot prove which CVEs this kernel has; check that your distribution still supports this kernel and that the node runs its latest update.`,
          severity: 'low',
        },
      ];
    }
    return [
      {
        message: `${head} is on upstream line ${k.line}, which kernel.org no longer maintains${since}: ${status.reason}. The version string alone does not prove specific CVEs, but an unmaintained line receives no fixes; move to a maintained longterm line.`,
        severity: 'medium',
      },
    ];
  },
};
