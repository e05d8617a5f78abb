/**
 * Runs the benchmarked operator under the memory limit its Deployment ships
 * with (config/manager/manager.yaml), the way the kubelet would: in a memory
 * cgroup of its own. Node sizes its heap from the cgroup limit
 * (process.constrainedMemory()), so RSS measured on a bare 24 GiB host says
 * little about RSS in the pod. Best effort: where no cgroup can be created
 * (no permission, cgroup v2 with the controller not delegated) the operator
 * runs unconstrained and the results say why.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from '../operator/src/yaml.ts';

export interface MemoryCgroup {
  dir: string;
  version: 1 | 2;
  limitBytes: number;
  /** Command prefix that moves the shell into the cgroup, then execs `argv` (same pid). */
  wrap(argv: readonly string[]): { command: string; args: string[] };
  /** Largest memory charged to the cgroup so far (bytes), when the kernel reports it. */
  peakBytes(): number | undefined;
  /** Processes the kernel OOM-killed in the cgroup. */
  oomKills(): number;
  remove(): void;
}

/** Kubernetes quantity (Ki, Mi, Gi, k, M, G or plain bytes) → bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(q)}`);
  const unit: Record<string, number> = {
    '': 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (unit[m[2] ?? ''] ?? 1));
}

/** The manager container of the shipped Deployment (config/manager/manager.yaml). */
interface ManagerContainer {
  resources?: { limits?: { memory?: unknown } };
  env?: { name?: unknown; value?: unknown }[];
}

function managerContainer(managerYaml: string): ManagerContainer | undefined {
  const doc = parseYaml(managerYaml) as {
    spec?: { template?: { spec?: { containers?: ManagerContainer[] } } };
  };
  return doc.spec?.template?.spec?.containers?.[0];
}

/** The manager container's memory limit in the shipped Deployment. */
export function shippedMemoryLimit(managerYaml: string): string {
  const limit = managerContainer(managerYaml)?.resources?.limits?.memory;
  if (typeof limit !== 'string')
    throw new Error('config/manager/manager.yaml: no memory limit on the container');
  return limit;
}

/** NODE_OPTIONS the shipped Deployment sets on the manager container, if any. */
export function shippedNodeOptions(managerYaml: string): string | undefined {
  const v = (managerContainer(managerYaml)?.env ?? []).find((e) => e.name === 'NODE_OPTIONS')?.value;
  return typeof v === 'string' ? v : undefined;
}

/** This process's cgroup paths: v1 memory hierarchy and v2 unified, from /proc/self/cgroup. */
export function ownCgroups(procSelfCgroup: string): { v1Memory?: string; v2?: string } {
  const out: { v1Memory?: string; v2?: string } = {};
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined || controllers === undefined) continue;
    if (controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('memory')) out.v1Memory = path;
  }
  return out;
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A fresh memory cgroup limited to `limitBytes`, or why there is none. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | { error: string } {
  const own = ownCgroups(readFileSync('/proc/self/cgroup', 'utf8'));
  const attempts: string[] = [];
  const v1Root = '/sys/fs/cgroup/memory';
  if (own.v1Memory !== undefined && existsSync(v1Root)) {
    const dir = join(v1Root, own.v1Memory, name);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      return cgroup(dir, 1, limitBytes);
    } catch (e) {
      attempts.push(`v1 ${dir}: ${(e as Error).message}`);
    }
  }
  const v2Root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : undefined;
  if (own.v2 !== undefined && v2Root !== undefined) {
    const dir = join(v2Root, own.v2, name);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      return cgroup(dir, 2, limitBytes);
    } catch (e) {
      attempts.push(`v2 ${dir}: ${(e as Error).message}`);
    }
  }
  return { error: attempts.length > 0 ? attempts.join('; ') : 'no writable memory cgroup hierarchy' };
}

function cgroup(dir: string, version: 1 | 2, limitBytes: number): MemoryCgroup {
  return {
    dir,
    version,
    limitBytes,
    wrap(argv) {
      // `exec` keeps the shell's pid, so the pid the caller samples is the operator's.
      const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      return {
        command: '/bin/sh',
        args: ['-c', `echo $$ > '${join(dir, 'cgroup.procs')}' && exec ${quoted}`],
      };
    },
    peakBytes() {
      return readNumber(join(dir, version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak'));
    },
    oomKills() {
      try {
        const text = readFileSync(join(dir, version === 1 ? 'memory.oom_control' : 'memory.events'), 'utf8');
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
      } catch {
        return 0;
      }
    },
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // still has a process (or already gone): the kernel frees it once empty
      }
    },
  };
}
