/**
 * Offline benchmark: Vigil, kube-score and trivy (`trivy config`, misconfigurations only, with
 * the checks built into the binary and no database download) scan the same generated corpus,
 * each as a subprocess, R repetitions interleaved (the tool order rotates every
 * repetition, so background load hits every tool alike); the median wall time is
 * reported, with the peak RSS from GNU time (`/usr/bin/time -f %M`), or, where GNU
 * time is missing, from polling /proc/<pid>/status VmHWM.
 *
 * Writes bench/results/offline.json ({resources, tools:[{tool, version, seconds,
 * resourcesPerSecond, maxRssMiB}]}), bench/results/offline-details.json (machine,
 * every sample, exit codes, CPU time), bench/results/offline-disagreements.json
 * (where the tools' findings differ on equivalent checks) and the generated part of
 * BENCHMARKS.md's Offline section.
 *
 * Usage: node bench/offline.ts [--resources N] [--repetitions R] [--seed S]
 *          [--smoke] [--skip-peers] [--no-build] [--out DIR] [--no-markdown]
 *          [--vigil-ref REF] [--compare-only]
 * --vigil-ref: measure Vigil as committed at REF (a git-archive snapshot under
 * bench/.work), not the working tree. --compare-only: recompute the findings comparison
 * and BENCHMARKS.md from the last run's outputs (bench/.work/out-N), timing nothing.
 * --smoke: N=200, 1 repetition, peers only if already built, results under
 * bench/.work/smoke, BENCHMARKS.md untouched.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  compare,
  documentLines,
  kubeScoreHits,
  TOOLS,
  trivyHits,
  vigilHits,
  type Comparison,
  type Hit,
  type Tool,
} from './checks.ts';
import { DEFAULT_RESOURCES, DEFAULT_SEED, generateCorpus, writeCorpus, type Corpus } from './corpus.ts';

const BENCH_DIR = import.meta.dirname;
const REPO = resolve(BENCH_DIR, '..');
export const SMOKE_RESOURCES = 200;
export const DEFAULT_REPETITIONS = 5;
/** The profile of the timed Vigil runs (the CLI default). */
export const VIGIL_PROFILE = 'recommended';
/** The profile of the Vigil run compared with the peers: every rule, as the peers run all theirs. */
export const VIGIL_COMPARE_PROFILE = 'all';

export interface ToolResult {
  tool: Tool;
  version: string;
  seconds: number;
  resourcesPerSecond: number;
  maxRssMiB: number;
}

export interface OfflineResult {
  resources: number;
  tools: ToolResult[];
}

export interface Sample {
  seconds: number;
  cpuSeconds: number | null;
  maxRssKiB: number | null;
  exitCode: number;
}

export interface ToolRun {
  tool: Tool;
  version: string;
  command: string[];
  samples: Sample[];
  /** Resources the tool reported on (its own count, from its JSON output). */
  resourcesReported: number | null;
}

export interface Details {
  generatedAt: string;
  resources: number;
  seed: number;
  repetitions: number;
  files: number;
  kinds: Record<string, number>;
  rssMethod: 'gnu-time' | 'proc-vmhwm';
  git: { commit: string; dirty: boolean };
  machine: Record<string, string | number>;
  loadAverage: { start: number[]; end: number[] };
  runs: ToolRun[];
  /** One untimed-for-results Vigil run with --profile all, used for the comparison. */
  vigilCompareRun?: Sample & { profile: string };
  peersMissing: string[];
}

export interface OfflineOptions {
  resources: number;
  repetitions: number;
  seed: number;
  /** Run the peers at all. */
  peers: boolean;
  /** Build missing peers (slow the first time); otherwise use only cached binaries. */
  buildPeers: boolean;
  /** Where offline.json and friends go. */
  outDir: string;
  /** Scratch: corpus and tool outputs. */
  workDir: string;
  /** Rewrite the generated part of BENCHMARKS.md. */
  markdown: boolean;
  /** Compare findings (needs a Vigil --profile all run). */
  compare: boolean;
  /** Measure Vigil as committed at this git ref (a snapshot), not the working tree. */
  vigilRef?: string;
  log: (line: string) => void;
}

export function defaultOptions(smoke: boolean): OfflineOptions {
  const work = join(BENCH_DIR, '.work');
  return {
    resources: smoke ? SMOKE_RESOURCES : DEFAULT_RESOURCES,
    repetitions: smoke ? 1 : DEFAULT_REPETITIONS,
    seed: DEFAULT_SEED,
    peers: true,
    buildPeers: !smoke,
    outDir: smoke ? join(work, 'smoke') : join(BENCH_DIR, 'results'),
    workDir: work,
    markdown: !smoke,
    compare: true,
    log: (l) => process.stderr.write(`${l}\n`),
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

let gnuTime: boolean | undefined;
/** Is /usr/bin/time GNU time (with -f and -o)? */
export function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    const dir = mkdtempSync(join(os.tmpdir(), 'vigil-time-'));
    try {
      const out = join(dir, 'time');
      execFileSync('/usr/bin/time', ['-f', 'rss=%M', '-o', out, 'true'], { stdio: 'ignore' });
      gnuTime = /rss=\d+/.test(readFileSync(out, 'utf8'));
    } catch {
      gnuTime = false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return gnuTime;
}

function procField(pid: number, file: string, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime+stime of a live process, in seconds. */
function procCpu(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Runs a command once, stdout and stderr to files; returns wall seconds (measured
 * here), CPU seconds and peak RSS (from GNU time, else polled from /proc).
 */
export async function measure(
  cmd: string,
  args: string[],
  stdoutFile: string,
  stderrFile: string,
): Promise<Sample> {
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const timeFile = `${stdoutFile}.time`;
  const useGnu = hasGnuTime();
  const [file, argv] = useGnu
    ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]]
    : [cmd, args];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { stdio: ['ignore', out, err], cwd: REPO });
  let hwm: number | undefined;
  let cpu: number | undefined;
  const poll = useGnu
    ? undefined
    : setInterval(() => {
        if (child.pid === undefined) return;
        hwm = procField(child.pid, 'status', 'VmHWM') ?? hwm;
        cpu = procCpu(child.pid) ?? cpu;
      }, 10);
  const exitCode = await new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (poll) clearInterval(poll);
  closeSync(out);
  closeSync(err);
  if (!useGnu) return { seconds, cpuSeconds: cpu ?? null, maxRssKiB: hwm ?? null, exitCode };
  // GNU time prints "Command exited with non-zero status N" first when the child fails.
  const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
  const [, user, sys, rss] = last.split(' ').map(Number);
  return {
    seconds,
    cpuSeconds: user !== undefined && sys !== undefined ? round(user + sys, 2) : null,
    maxRssKiB: Number.isFinite(rss) ? (rss as number) : null,
    exitCode,
  };
}

interface Peer {
  tool: Tool;
  version: string;
  bin: string;
}

/** Builds (or only finds, with build=false) the pinned peers via bench/peers-build.sh. */
export function findPeers(build: boolean, log: (l: string) => void): Peer[] {
  const args = [join(BENCH_DIR, 'peers-build.sh')];
  if (!build) args.push('--print-bin');
  let out: string;
  try {
    out = execFileSync('bash', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    log(`peers: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tool, version, bin] = line.split('\t');
      return { tool: tool as Tool, version: (version ?? '').replace(/^v/, ''), bin: bin ?? '' };
    })
    .filter((p) => TOOLS.includes(p.tool) && p.bin);
}

/**
 * A pristine copy of Vigil at a commit (git archive, node_modules linked), so a long
 * benchmark measures one version even while the working tree changes under it.
 */
export function snapshotVigil(ref: string, workDir: string): { entry: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: REPO,
    encoding: 'utf8',
  }).trim();
  const root = join(workDir, `vigil-${commit.slice(0, 12)}`);
  const entry = join(root, 'bin', 'vigil.js');
  if (!existsSync(entry)) {
    const tmp = `${root}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync(
      'bash',
      ['-c', 'set -o pipefail; git archive "$1" | tar -x -C "$2"', 'archive', commit, tmp],
      {
        cwd: REPO,
      },
    );
    symlinkSync(join(REPO, 'node_modules'), join(tmp, 'node_modules'));
    renameSync(tmp, root);
  }
  return { entry, commit };
}

function vigilVersion(entry: string): string {
  const out = execFileSync(process.execPath, [entry, 'version'], {
    encoding: 'utf8',
  });
  return /(\d+\.\d+\.\d+\S*)/.exec(out)?.[1] ?? out.trim();
}

function vigilRuleIds(entry: string): Set<string> {
  const out = execFileSync(process.execPath, [entry, 'rules', '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed: unknown = JSON.parse(out);
  const list = Array.isArray(parsed) ? parsed : ((parsed as { rules?: unknown[] }).rules ?? []);
  return new Set(list.map((r) => String((r as { id?: unknown }).id)));
}

/**
 * trivy config, offline: the checks compiled into the binary (--skip-check-update: no bundle
 * download; it runs with no network at all), no vulnerability database (config scans never
 * use one), its cache in the work directory, Kubernetes manifests only (the corpus is nothing
 * else).
 */
export function trivyArgs(corpusDir: string, cacheDir: string): string[] {
  return [
    'config',
    '--skip-check-update',
    '--cache-dir',
    cacheDir,
    '--misconfig-scanners',
    'kubernetes',
    // Its default 5-minute limit ends a 10,000-resource scan on a 2-CPU machine.
    '--timeout',
    '60m',
    '--format',
    'json',
    '--quiet',
    corpusDir,
  ];
}

function commandFor(
  tool: Tool,
  bin: string,
  corpusDir: string,
  files: string[],
  profile: string,
  workDir: string,
): string[] {
  switch (tool) {
    case 'vigil':
      return [process.execPath, bin, 'scan', '--profile', profile, '--output', 'json', corpusDir];
    case 'kube-score':
      return [bin, 'score', '--output-format', 'json', ...files];
    case 'trivy':
      return [bin, ...trivyArgs(corpusDir, join(workDir, 'trivy-cache'))];
  }
}

function resourcesReported(tool: Tool, report: unknown): number | null {
  if (tool === 'vigil') {
    const n = (report as { summary?: { resources?: unknown } }).summary?.resources;
    return typeof n === 'number' ? n : null;
  }
  // trivy reports per file, not per resource.
  if (tool === 'trivy') return null;
  return Array.isArray(report) ? report.length : null;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function goVersion(): string {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'not found';
  }
}

/** The commit measured, and whether Vigil's sources differ from it (other work in progress). */
function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const status = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'operator/src', 'bin', 'package.json'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    go: goVersion(),
  };
}

export interface OfflineRun {
  result: OfflineResult;
  details: Details;
  comparison?: Comparison;
}

export async function runOffline(opts: OfflineOptions): Promise<OfflineRun> {
  const log = opts.log;
  const loadStart = os.loadavg().map((x) => round(x, 2));
  const corpus = generateCorpus(opts.resources, opts.seed);
  const corpusDir = join(opts.workDir, `corpus-${opts.resources}`);
  const files = writeCorpus(corpusDir, corpus);
  log(`corpus: ${corpus.resources} resources in ${files.length} files (${corpusDir})`);

  let vigilEntry = join(REPO, 'bin', 'vigil.js');
  let git = gitState();
  if (opts.vigilRef !== undefined) {
    const snap = snapshotVigil(opts.vigilRef, opts.workDir);
    vigilEntry = snap.entry;
    git = { commit: snap.commit, dirty: false };
    log(`vigil: snapshot of ${snap.commit.slice(0, 12)} in ${resolve(vigilEntry, '..', '..')}`);
  }
  const peers = opts.peers ? findPeers(opts.buildPeers, log) : [];
  const peersMissing = opts.peers
    ? (['kube-score', 'trivy'] as const).filter((t) => !peers.some((p) => p.tool === t))
    : ['kube-score', 'trivy'];
  const tools: { tool: Tool; version: string; bin: string }[] = [
    { tool: 'vigil', version: vigilVersion(vigilEntry), bin: vigilEntry },
    ...peers,
  ];
  const outDir = outputsDir(opts.workDir, corpus.resources);
  mkdirSync(outDir, { recursive: true });
  const commands = new Map(
    tools.map((t) => [t.tool, commandFor(t.tool, t.bin, corpusDir, files, VIGIL_PROFILE, opts.workDir)]),
  );
  const runs: ToolRun[] = tools.map((t) => ({
    tool: t.tool,
    version: t.version,
    command: (commands.get(t.tool) ?? []).map(displayPath),
    samples: [],
    resourcesReported: null,
  }));

  for (let rep = 0; rep < opts.repetitions; rep++) {
    for (let i = 0; i < runs.length; i++) {
      const run = runs[(i + rep) % runs.length] as ToolRun;
      const [cmd, ...args] = commands.get(run.tool) as [string, ...string[]];
      const s = await measure(
        cmd,
        args,
        join(outDir, `${run.tool}.json`),
        join(outDir, `${run.tool}.stderr`),
      );
      run.samples.push(s);
      log(
        `rep ${rep + 1}/${opts.repetitions} ${run.tool.padEnd(10)} ${s.seconds.toFixed(2)} s  ` +
          `cpu ${s.cpuSeconds ?? '?'} s  rss ${s.maxRssKiB === null ? '?' : Math.round(s.maxRssKiB / 1024)} MiB  exit ${s.exitCode}`,
      );
    }
  }

  const reports: Partial<Record<Tool, unknown>> = {};
  for (const run of runs) {
    const report = readJson(join(outDir, `${run.tool}.json`));
    if (report === undefined)
      throw new Error(`${run.tool} did not write JSON (see ${join(outDir, `${run.tool}.stderr`)})`);
    reports[run.tool] = report;
    run.resourcesReported = resourcesReported(run.tool, report);
  }

  const result: OfflineResult = {
    resources: corpus.resources,
    tools: runs.map((r) => {
      const seconds = median(r.samples.map((s) => s.seconds));
      const rss = r.samples.map((s) => s.maxRssKiB ?? 0);
      return {
        tool: r.tool,
        version: r.version,
        seconds: round(seconds, 3),
        resourcesPerSecond: round(corpus.resources / seconds, 1),
        maxRssMiB: round(Math.max(...rss) / 1024, 1),
      };
    }),
  };

  const details: Details = {
    generatedAt: new Date().toISOString(),
    resources: corpus.resources,
    seed: opts.seed,
    repetitions: opts.repetitions,
    files: files.length,
    kinds: Object.fromEntries(Object.entries(corpus.kinds).sort((a, b) => b[1] - a[1])),
    rssMethod: hasGnuTime() ? 'gnu-time' : 'proc-vmhwm',
    git,
    machine: machine(),
    loadAverage: { start: loadStart, end: [] },
    runs,
    peersMissing: [...peersMissing],
  };

  let comparison: Comparison | undefined;
  if (opts.compare) {
    const cmd = commandFor('vigil', vigilEntry, corpusDir, files, VIGIL_COMPARE_PROFILE, opts.workDir);
    const file = join(outDir, 'vigil-all.json');
    const s = await measure(cmd[0] as string, cmd.slice(1), file, join(outDir, 'vigil-all.stderr'));
    details.vigilCompareRun = { ...s, profile: VIGIL_COMPARE_PROFILE };
    comparison = compareOutputs(corpus, outDir, details, vigilEntry);
  }
  details.loadAverage.end = os.loadavg().map((x) => round(x, 2));

  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'offline.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(opts.outDir, 'offline-details.json'), `${JSON.stringify(details, null, 2)}\n`);
  if (comparison)
    writeFileSync(
      join(opts.outDir, 'offline-disagreements.json'),
      `${JSON.stringify(comparison, null, 2)}\n`,
    );
  if (opts.markdown) updateMarkdown(join(REPO, 'BENCHMARKS.md'), renderMarkdown(result, details, comparison));
  return comparison ? { result, details, comparison } : { result, details };
}

/** A path as recorded in the results: relative to the repository, or to ~. */
function displayPath(p: string): string {
  if (p.startsWith(`${REPO}/`)) return p.slice(REPO.length + 1);
  const home = os.homedir();
  return home && p.startsWith(`${home}/`) ? `~/${p.slice(home.length + 1)}` : p;
}

/** Where the tools' outputs of a run on N resources go (kept until the next run on N). */
function outputsDir(workDir: string, resources: number): string {
  return join(workDir, `out-${resources}`);
}

/** Compares the outputs a run left in outDir: Vigil's --profile all run and the peers' last repetition. */
function compareOutputs(corpus: Corpus, outDir: string, details: Details, vigilEntry: string): Comparison {
  const hits: Partial<Record<Tool, Hit[]>> = { vigil: vigilHits(readJson(join(outDir, 'vigil-all.json'))) };
  if (details.runs.some((r) => r.tool === 'kube-score'))
    hits['kube-score'] = kubeScoreHits(readJson(join(outDir, 'kube-score.json')));
  if (details.runs.some((r) => r.tool === 'trivy'))
    hits.trivy = trivyHits(readJson(join(outDir, 'trivy.json')), documentLines(corpus.files));
  return compare(corpus.objects, hits, vigilRuleIds(vigilEntry), VIGIL_COMPARE_PROFILE);
}

/**
 * Recomputes the comparison (and BENCHMARKS.md) from the last run's outputs, without
 * timing anything: for changes to the check mapping.
 */
export function recompare(opts: OfflineOptions): Comparison {
  const result = readJson(join(opts.outDir, 'offline.json')) as OfflineResult | undefined;
  const details = readJson(join(opts.outDir, 'offline-details.json')) as Details | undefined;
  if (!result || !details) throw new Error(`no previous results in ${opts.outDir}`);
  const recorded = details.runs.find((r) => r.tool === 'vigil')?.command[1];
  const vigilEntry = recorded === undefined ? undefined : resolve(REPO, recorded);
  if (!vigilEntry || !existsSync(vigilEntry))
    throw new Error(`the Vigil measured (${String(vigilEntry)}) is gone`);
  const corpus = generateCorpus(details.resources, details.seed);
  const comparison = compareOutputs(corpus, outputsDir(opts.workDir, details.resources), details, vigilEntry);
  writeFileSync(join(opts.outDir, 'offline-disagreements.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  if (opts.markdown) updateMarkdown(join(REPO, 'BENCHMARKS.md'), renderMarkdown(result, details, comparison));
  return comparison;
}

// ---------------------------------------------------------------------------
// BENCHMARKS.md: only the text between the markers is generated.

export const MD_BEGIN = '<!-- BEGIN offline results: generated by bench/offline.ts, do not edit -->';
export const MD_END = '<!-- END offline results -->';

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export function renderMarkdown(result: OfflineResult, details: Details, comparison?: Comparison): string {
  const m = details.machine;
  const lines: string[] = [];
  lines.push(
    `Run of ${details.generatedAt.slice(0, 10)}: ${fmt(result.resources)} resources in ${details.files} files, ` +
      `${details.repetitions} repetitions, median wall time. Machine: ${m['cpuModel']}, ${m['cpus']} CPUs, ` +
      `${m['memoryGiB']} GiB RAM, ${m['os']}; Node ${m['node']}; ${m['go']}. ` +
      `Load average at start/end: ${details.loadAverage.start.join(' ')} / ${details.loadAverage.end.join(' ')}. ` +
      `Vigil at commit ${details.git.commit.slice(0, 12)}${details.git.dirty ? ' plus uncommitted changes' : ''}.`,
    '',
    '| Tool | Version | Median s | Resources/s | Max RSS MiB | CPU s (median) | Exit codes | Resources in output | Vigil speed-up |',
    '|---|---|---:|---:|---:|---:|---|---:|---:|',
  );
  const vigil = result.tools.find((t) => t.tool === 'vigil');
  for (const t of result.tools) {
    const run = details.runs.find((r) => r.tool === t.tool);
    const cpu = median((run?.samples ?? []).map((s) => s.cpuSeconds ?? NaN).filter(Number.isFinite));
    const codes = [...new Set((run?.samples ?? []).map((s) => s.exitCode))].join(', ');
    const ratio = vigil && t.tool !== 'vigil' ? `${(t.seconds / vigil.seconds).toFixed(2)}x` : '';
    lines.push(
      `| ${t.tool} | ${t.version} | ${t.seconds.toFixed(2)} | ${fmt(t.resourcesPerSecond)} | ${t.maxRssMiB} | ` +
        `${Number.isFinite(cpu) ? cpu.toFixed(2) : '?'} | ${codes} | ${run?.resourcesReported ?? '?'} | ${ratio} |`,
    );
  }
  if (details.peersMissing.length > 0)
    lines.push('', `Not run (not built): ${details.peersMissing.join(', ')}.`);
  if (details.vigilCompareRun)
    lines.push(
      '',
      `Vigil with \`--profile all\` (the run used for the comparison below): ${details.vigilCompareRun.seconds.toFixed(2)} s, ` +
        `${details.vigilCompareRun.maxRssKiB === null ? '?' : Math.round(details.vigilCompareRun.maxRssKiB / 1024)} MiB.`,
    );
  if (comparison) {
    lines.push(
      '',
      '#### Findings on equivalent checks',
      '',
      'Resources flagged per check (Vigil `--profile all`, the peers with their default checks). "Truth" is what the',
      'generator put in the corpus, for the checks it decides by construction; "missed/extra" count resources where a',
      'tool disagrees with it. Full lists with sample resource names: `bench/results/offline-disagreements.json`.',
      '',
      '| Check | Vigil | kube-score | trivy | Truth | Vigil missed/extra | kube-score missed/extra | trivy missed/extra | Only Vigil / only kube-score | Only Vigil / only trivy |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const c of comparison.checks) {
      const flagged = (t: Tool): string => (c.tools[t] ? String(c.tools[t].flagged) : '–');
      const vs = (t: Tool): string => {
        const d = c.vsTruth[t];
        return d ? `${d.missed} / ${d.extra}` : '–';
      };
      const pair = (b: Tool): string => {
        const p = c.pairs.find((x) => x.tools[0] === 'vigil' && x.tools[1] === b);
        return p ? `${p.onlyFirst} / ${p.onlySecond}` : '–';
      };
      lines.push(
        `| ${c.title} | ${flagged('vigil')} | ${flagged('kube-score')} | ${flagged('trivy')} | ${c.truth ?? '–'} | ` +
          `${vs('vigil')} | ${vs('kube-score')} | ${vs('trivy')} | ${pair('kube-score')} | ${pair('trivy')} |`,
      );
    }
    const notes = comparison.checks.filter((c) => c.note);
    if (notes.length > 0) {
      lines.push('', 'Known semantic differences:', '');
      for (const c of notes) lines.push(`- ${c.title}: ${c.note ?? ''}`);
    }
    if (comparison.vigilRulesMissing.length > 0)
      lines.push('', `Mapped Vigil rules not in the registry: ${comparison.vigilRulesMissing.join(', ')}.`);
    for (const t of comparison.toolsCompared) {
      const u = Object.entries(comparison.unmapped[t] ?? {});
      if (u.length === 0) continue;
      lines.push(
        '',
        `${t} ids that fired but have no equivalent in the mapping (resources): ` +
          u.map(([id, n]) => `${id} (${n})`).join(', ') +
          '.',
      );
    }
  }
  return lines.join('\n');
}

/** Replaces what lies between the markers `mdBegin` and `mdEnd` of `file` by `generated`. */
export function updateMarkdown(file: string, generated: string, mdBegin = MD_BEGIN, mdEnd = MD_END): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = text.indexOf(mdBegin);
  const end = text.indexOf(mdEnd);
  if (begin < 0 || end < begin) throw new Error(`${file}: markers ${mdBegin} … ${mdEnd} not found`);
  const next = `${text.slice(0, begin + mdBegin.length)}\n${generated}\n${text.slice(end)}`;
  writeFileSync(file, next);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      resources: { type: 'string' },
      repetitions: { type: 'string' },
      seed: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'skip-peers': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'no-markdown': { type: 'boolean', default: false },
      out: { type: 'string' },
      'vigil-ref': { type: 'string' },
      'compare-only': { type: 'boolean', default: false },
    },
  });
  const opts = defaultOptions(values.smoke);
  const int = (s: string | undefined, name: string, fallback: number): number => {
    if (s === undefined) return fallback;
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  opts.resources = int(values.resources, 'resources', opts.resources);
  opts.repetitions = int(values.repetitions, 'repetitions', opts.repetitions);
  opts.seed = int(values.seed, 'seed', opts.seed);
  if (values['skip-peers']) opts.peers = false;
  if (values['no-build']) opts.buildPeers = false;
  if (values['no-markdown']) opts.markdown = false;
  if (values.out !== undefined) opts.outDir = resolve(values.out);
  if (values['vigil-ref'] !== undefined) opts.vigilRef = values['vigil-ref'];
  if (values['compare-only']) {
    recompare(opts);
    opts.log(`comparison rewritten from the outputs of the last run (${opts.outDir})`);
    return;
  }
  const started = Date.now();
  const { result } = await runOffline(opts);
  console.log(JSON.stringify(result, null, 2));
  opts.log(
    `offline benchmark done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${opts.outDir}`,
  );
}

if (import.meta.main) await main();
