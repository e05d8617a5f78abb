/**
 * The image cannot be built in CI's unit stage, so the Dockerfile is linted structurally:
 * multi-stage, pinned bases, a non-root numeric USER, no dev dependencies or package manager
 * in the runtime stage, `vigil` as the entrypoint, explicit ownership on copies, no remote ADD.
 * The linter is tested on broken Dockerfiles too, so a passing run means something.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Instruction {
  op: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, continuations joined). */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buf === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (buf !== '' && line.trim().startsWith('#')) return;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1) + ' ';
      return;
    }
    buf += line;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf);
    if (m) instructions.push({ op: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
    buf = '';
  });
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const stage: Stage = { image: parts[0] ?? '', instructions: [] };
      if ((parts[1] ?? '').toUpperCase() === 'AS' && parts[2]) stage.name = parts[2];
      stages.push(stage);
    } else if (stages.length === 0) args.push(ins);
    else stages[stages.length - 1]?.instructions.push(ins);
  }
  return { args, stages };
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** The tag of an image reference (after the last ':' of the last path segment), if any. */
function tagOf(image: string): string | undefined {
  const ref = image.split('@')[0] ?? '';
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const i = last.indexOf(':');
  return i === -1 ? undefined : last.slice(i + 1);
}

/** An exact release tag such as 24.21.0 or 24.21.0-bookworm-slim, never 24 or 24-slim. */
const EXACT_TAG = /^v?\d+\.\d+\.\d+(?:-[\w.-]+)?$/;

function flagValue(args: string, flag: string): string | undefined {
  return new RegExp(`--${flag}=(\\S+)`).exec(args)?.[1];
}

/** Problems with a Dockerfile, as messages naming the line. Empty means it passes. */
function lintDockerfile(text: string): string[] {
  const problems: string[] = [];
  const { args, stages } = parseDockerfile(text);
  if (args.some((a) => a.op !== 'ARG')) problems.push('only ARG may precede the first FROM');
  if (stages.length < 2) problems.push('not multi-stage: build with the toolchain, run on a minimal base');
  const names = new Set<string>();
  for (const s of stages) {
    const fromStage = names.has(s.image);
    if (!fromStage && !DIGEST.test(s.image) && !EXACT_TAG.test(tagOf(s.image) ?? ''))
      problems.push(`FROM ${s.image}: base image is not pinned (exact version tag or @sha256 digest)`);
    if (tagOf(s.image) === 'latest') problems.push(`FROM ${s.image}: uses the latest tag`);
    if (s.name) names.add(s.name);
    for (const i of s.instructions) {
      if (i.op === 'ADD' && /(^|\s)(https?:\/\/|git@|\S+\.git(\s|$))/.test(i.args))
        problems.push(`line ${i.line}: ADD from a URL (use a pinned, verified download in a build stage)`);
      if (i.op === 'RUN' && /\bcurl\b.*\|\s*(ba)?sh/.test(i.args))
        problems.push(`line ${i.line}: pipes a download into a shell`);
    }
  }
  const final = stages[stages.length - 1];
  if (!final) return problems;
  const build = stages.slice(0, -1);
  const runs = build.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
  const prodOnly =
    runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev/.test(r)) ||
    (runs.some((r) => /\bnpm ci\b/.test(r)) && runs.some((r) => /\bnpm prune\b.*--omit=dev/.test(r)));
  if (!prodOnly)
    problems.push(
      'the build stage does not install production dependencies only (npm ci + npm prune --omit=dev)',
    );

  for (const i of final.instructions) {
    if (
      i.op === 'RUN' &&
      /\b(npm|yarn|pnpm)\s+(install|i|ci|add)\b/.test(i.args) &&
      !/--omit=dev|--production\b/.test(i.args)
    )
      problems.push(`line ${i.line}: installs dependencies (including dev) in the runtime stage`);
    if (i.op === 'COPY' || i.op === 'ADD') {
      const chown = flagValue(i.args, 'chown');
      if (chown === undefined)
        problems.push(`line ${i.line}: ${i.op} without --chown (ownership must be explicit)`);
      if (i.op === 'ADD') problems.push(`line ${i.line}: ADD in the runtime stage (use COPY)`);
      const from = flagValue(i.args, 'from');
      if (from !== undefined && !names.has(from))
        problems.push(`line ${i.line}: COPY --from=${from} is not a build stage of this file`);
    }
  }
  const users = final.instructions.filter((i) => i.op === 'USER');
  const user = users[users.length - 1];
  if (!user) problems.push('the runtime stage sets no USER (it would run as root)');
  else {
    const m = /^(\d+)(?::(\d+))?$/.exec(user.args);
    if (!m) problems.push(`USER ${user.args} is not numeric (Kubernetes cannot verify runAsNonRoot)`);
    else if (m[1] === '0' || m[2] === '0') problems.push(`USER ${user.args} is root`);
  }
  const entrypoints = final.instructions.filter((i) => i.op === 'ENTRYPOINT');
  const ep = entrypoints[entrypoints.length - 1];
  let argv: unknown;
  try {
    argv = ep ? JSON.parse(ep.args) : undefined;
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || !argv.some((a) => typeof a === 'string' && /(^|\/)bin\/vigil\.js$/.test(a)))
    problems.push('ENTRYPOINT is not the vigil command in exec form (["node", "/app/bin/vigil.js"])');
  if (ep && user && ep.line < user.line) problems.push('USER comes after ENTRYPOINT');
  return problems;
}

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('passes the structural lint', () => {
    expect(lintDockerfile(text)).to.deep.equal([]);
  });

  it('runs distroless Node 24 as uid 65532, copying exactly what the CLI needs', () => {
    const { stages } = parseDockerfile(text);
    const final = stages[stages.length - 1];
    expect(final?.image).to.match(/^gcr\.io\/distroless\/nodejs24-/);
    const copied = (final?.instructions ?? [])
      .filter((i) => i.op === 'COPY')
      .map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--'))[0]);
    expect(copied).to.have.members([
      '/app/package.json',
      '/app/node_modules',
      '/app/bin',
      '/app/operator/src',
      '/app/data',
    ]);
    expect(final?.instructions.find((i) => i.op === 'USER')?.args).to.equal('65532:65532');
    expect(final?.instructions.some((i) => i.op === 'RUN')).to.equal(false);
  });

  it('has a .dockerignore that admits only the sources and leaves tests out', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).to.equal('*');
    expect(lines).to.include.members([
      '!package.json',
      '!package-lock.json',
      '!bin/',
      '!operator/src/',
      '!data/',
      '**/*.test.ts',
    ]);
    expect(lines.some((l) => /^!.*(node_modules|\.git|\.vigil)/.test(l))).to.equal(false);
  });

  const good = `ARG X=1
FROM node:24.21.0-bookworm-slim AS build
RUN npm ci --ignore-scripts \\
 && npm prune --omit=dev
FROM gcr.io/distroless/nodejs24-debian12@sha256:${'a'.repeat(64)}
COPY --from=build --chown=0:0 /app /app
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/vigil.js"]
`;
  const cases: { name: string; text: string; problem: RegExp }[] = [
    { name: 'single stage', text: good.split('FROM gcr')[0] ?? '', problem: /not multi-stage/ },
    {
      name: 'floating tag',
      text: good.replace('node:24.21.0-bookworm-slim', 'node:24-bookworm-slim'),
      problem: /not pinned/,
    },
    {
      name: 'latest',
      text: good.replace('node:24.21.0-bookworm-slim', 'node:latest'),
      problem: /not pinned/,
    },
    { name: 'no USER', text: good.replace('USER 65532:65532\n', ''), problem: /no USER/ },
    { name: 'named USER', text: good.replace('USER 65532:65532', 'USER nonroot'), problem: /not numeric/ },
    { name: 'root USER', text: good.replace('USER 65532:65532', 'USER 0'), problem: /is root/ },
    {
      name: 'dev deps at runtime',
      text: good.replace('USER 65532', 'RUN npm install\nUSER 65532'),
      problem: /installs dependencies/,
    },
    {
      name: 'dev deps kept',
      text: good.replace(' \\\n && npm prune --omit=dev', ''),
      problem: /production dependencies only/,
    },
    { name: 'COPY without --chown', text: good.replace(' --chown=0:0', ''), problem: /without --chown/ },
    {
      name: 'ADD from URL',
      text: good.replace('RUN npm ci', 'ADD https://example.com/x.tgz /x\nRUN npm ci'),
      problem: /ADD from a URL/,
    },
    {
      name: 'shell-form ENTRYPOINT',
      text: good.replace(/ENTRYPOINT .*/, 'ENTRYPOINT node /app/bin/vigil.js'),
      problem: /ENTRYPOINT/,
    },
    {
      name: 'other ENTRYPOINT',
      text: good.replace('/app/bin/vigil.js', '/app/server.js'),
      problem: /ENTRYPOINT/,
    },
    {
      name: 'unknown stage',
      text: good.replace('--from=build', '--from=builder'),
      problem: /not a build stage/,
    },
  ];
  it('the lint accepts a minimal good Dockerfile', () => {
    expect(lintDockerfile(good)).to.deep.equal([]);
  });
  for (const c of cases) {
    it(`the lint rejects: ${c.name}`, () => {
      const problems = lintDockerfile(c.text);
      expect(
        problems.some((p) => c.problem.test(p)),
        problems.join('; '),
      ).to.equal(true);
    });
  }
});
