/**
 * Credentials written into the pod template: env values, command, args, exec
 * probes, lifecycle hooks and probe HTTP headers of every container (init,
 * regular, ephemeral). See detectors.ts for what is recognised.
 *
 * Two rules share one scan so a value is reported once, by the most specific
 * rule:
 * - `container-known-credential` (critical): provider formats and private keys
 *   (near-certain, and usually valid far beyond the cluster), plus an AWS secret
 *   access key when its name says so or an AWS access key id sits in the same
 *   container.
 * - `container-hardcoded-secret` (high): literals in secret-named env vars,
 *   flags and script assignments (hardcoded or well-known default passwords,
 *   random-looking tokens), JWTs and passwords embedded in URLs.
 *
 * Messages name the container, the env var / argument and the field path and
 * the detected type, never the value (nor any part of it).
 */
import { WORKLOAD_KINDS, asArray, asObjArray, asString, asStringArray, dig } from '../../engine/podspec.ts';
import { anyGlob } from '../../engine/match.ts';
import type { KubeObject, ParamSpec, Params, Rule, RuleContext, RuleHit } from '../../engine/types.ts';
import { perObject } from '../rbac/_memo.ts';
import { EXEMPT_CONTAINERS_PARAM, checkedContainers, type ContainerAt } from '../workload/_shared.ts';
import {
  DEFAULT_SCAN_OPTIONS,
  printableName,
  scanArgv,
  scanNamed,
  scanText,
  shannonEntropy,
  type Detection,
  type ScanOptions,
} from './detectors.ts';

export interface Located {
  detection: Detection;
  /** Human-readable place, e.g. `env DB_PASSWORD (spec.containers[0].env[2].value)`. */
  where: string;
  /** The env var, flag or key name, for ignoreNames. */
  name?: string;
}

export const IGNORE_NAMES_PARAM: ParamSpec = {
  name: 'ignoreNames',
  description:
    'Env var, flag or key names (shell globs) whose values are not reported, e.g. "TEST_*" for fixtures.',
  type: 'string[]',
  default: [],
};

export const TUNING_PARAMS: ParamSpec[] = [
  {
    name: 'minEntropy',
    description:
      'Minimum Shannon entropy (bits per character) for a value in a secret-named field to count as a random-looking secret.',
    type: 'number',
    default: DEFAULT_SCAN_OPTIONS.minEntropy,
  },
  {
    name: 'minLength',
    description: 'Minimum length of a value in a secret-named field to count as a random-looking secret.',
    type: 'number',
    default: DEFAULT_SCAN_OPTIONS.minLength,
  },
  IGNORE_NAMES_PARAM,
];

export function scanOptions(params: Params): ScanOptions {
  const num = (k: string, d: number): number => {
    const v = params[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : d;
  };
  return {
    minEntropy: num('minEntropy', DEFAULT_SCAN_OPTIONS.minEntropy),
    minLength: num('minLength', DEFAULT_SCAN_OPTIONS.minLength),
  };
}

function detail(path: string, d: Detection, outerName?: string): string {
  const parts = [path];
  if (d.line !== undefined) parts.push(`line ${d.line}`);
  if (d.key !== undefined && d.key !== outerName) parts.push(`via ${printableName(d.key)}`);
  return parts.join(', ');
}

const AWS_SECRET_SHAPE = /^[A-Za-z0-9/+]{40}$/;

/** Every detection in one container, with where it is. */
export function scanContainer(c: ContainerAt, opts: ScanOptions): Located[] {
  const out: Located[] = [];
  const envValues: { name: string; value: string; path: string }[] = [];
  const flagged = new Set<string>();
  asArray(c.container['env']).forEach((raw, i) => {
    const name = asString(dig(raw, 'name')) ?? `env[${i}]`;
    const value = asString(dig(raw, 'value'));
    if (value === undefined || value === '') return;
    const path = `${c.path}.env[${i}].value`;
    envValues.push({ name, value, path });
    // Multi-line values are files; single-line values with spaces may be option strings (JAVA_OPTS="-D…Password=…").
    let found = value.includes('\n') ? scanText(value, opts) : scanNamed(name, value, opts);
    if (found.length === 0 && !value.includes('\n') && /\s/.test(value)) found = scanText(value, opts);
    if (found.length > 0) flagged.add(path);
    for (const d of found)
      out.push({
        detection: d,
        where: `env ${printableName(name)} (${detail(path, d, name)})`,
        name: d.key ?? name,
      });
  });
  // An AWS secret access key is 40 base64 characters: only recognisable next to its key id.
  if (out.some((l) => l.detection.type === 'AWS access key ID')) {
    for (const e of envValues) {
      if (flagged.has(e.path)) continue;
      if (AWS_SECRET_SHAPE.test(e.value) && shannonEntropy(e.value) >= 4)
        out.push({
          detection: { type: 'AWS secret access key', known: true },
          where: `env ${printableName(e.name)} (${e.path})`,
          name: e.name,
        });
    }
  }
  const argvFields: [string, unknown][] = [
    ['command', c.container['command']],
    ['args', c.container['args']],
  ];
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
    argvFields.push([`${probe}.exec.command`, dig(c.container, probe, 'exec', 'command')]);
  for (const hook of ['postStart', 'preStop'])
    argvFields.push([
      `lifecycle.${hook}.exec.command`,
      dig(c.container, 'lifecycle', hook, 'exec', 'command'),
    ]);
  for (const [field, argv] of argvFields) {
    for (const d of scanArgv(asArray(argv), opts)) {
      const path = `${c.path}.${field}[${d.index}]`;
      const short = field.split('.').pop() ?? field;
      out.push({
        detection: d,
        where: `${short}[${d.index}] (${detail(path, d)})`,
        ...(d.key !== undefined ? { name: d.key } : {}),
      });
    }
  }
  const headerSources: [string, unknown][] = [];
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
    headerSources.push([`${probe}.httpGet.httpHeaders`, dig(c.container, probe, 'httpGet', 'httpHeaders')]);
  for (const hook of ['postStart', 'preStop'])
    headerSources.push([
      `lifecycle.${hook}.httpGet.httpHeaders`,
      dig(c.container, 'lifecycle', hook, 'httpGet', 'httpHeaders'),
    ]);
  for (const [field, headers] of headerSources) {
    asObjArray(headers).forEach((h, i) => {
      const name = asString(h['name']) ?? '';
      const value = asString(h['value']);
      if (!value) return;
      for (const d of scanNamed(name, value, opts))
        out.push({
          detection: d,
          where: `HTTP header ${printableName(name)} (${c.path}.${field}[${i}].value)`,
          name,
        });
    });
  }
  return out;
}

/** The hits of one of the two rules; both read the same scan of each container (scanned once per object). */
function hitsFor(obj: KubeObject, ctx: RuleContext, known: boolean): RuleHit[] {
  const params = ctx.params;
  const opts = scanOptions(params);
  const ignore = asStringArray(params['ignoreNames']);
  const hits: RuleHit[] = [];
  const seen = new Set<string>();
  for (const c of checkedContainers(obj, params)) {
    const found = perObject(ctx, `secrets/${c.path}/${opts.minEntropy}/${opts.minLength}`, () =>
      scanContainer(c, opts),
    );
    for (const l of found) {
      if (l.detection.known !== known) continue;
      if (l.name !== undefined && anyGlob(ignore, l.name)) continue;
      const message = `container "${c.name}" ${l.where} contains a literal ${known ? 'credential' : 'secret'}: ${l.detection.type}`;
      if (seen.has(message)) continue;
      seen.add(message);
      hits.push({ container: c.name, message });
    }
  }
  return hits;
}

const SHARED_RATIONALE =
  'Anything in a pod template is readable by everyone who can get the workload (far more people and controllers than can read Secrets), is copied into ReplicaSets, controller caches, audit logs and kubectl last-applied annotations, and usually lives in git history forever.';

export const knownCredential: Rule = {
  id: 'container-known-credential',
  title: 'Container spec contains a provider credential or private key',
  severity: 'critical',
  category: 'secrets',
  controls: ['NSA:Secrets', 'MITRE:T1552.001', 'MITRE:T1552.007'],
  rationale: `A recognised credential (cloud access key, code-hosting, chat or payment token, private key) is written in plain text into an env var, command or argument. ${SHARED_RATIONALE} Such credentials usually grant access outside the cluster.`,
  remediation:
    'Revoke and rotate the credential now (it must be considered leaked), store the new one in a Secret or an external secret manager, and mount it as a file (volumes.secret) or reference it with valueFrom.secretKeyRef; prefer workload identity (IRSA, Workload Identity) over static cloud keys.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM, IGNORE_NAMES_PARAM],
  check(obj, ctx) {
    return hitsFor(obj, ctx, true);
  },
};

export const hardcodedSecret: Rule = {
  id: 'container-hardcoded-secret',
  title: 'Container spec contains a hardcoded password or secret',
  severity: 'high',
  category: 'secrets',
  controls: ['NSA:Secrets', 'MITRE:T1552.001'],
  rationale: `A password, token or other secret is written as a literal into an env var whose name marks it secret, a command-line flag, a script, a URL or a JWT. ${SHARED_RATIONALE} Well-known defaults such as changeme are reported too: they are guessable by anyone.`,
  remediation:
    'Move the value into a Secret (or an external secret manager) and mount it as a file or reference it with valueFrom.secretKeyRef; for command lines pass it through a file or an env var reference ($(VAR)) rather than a literal. Rotate the value if the manifest was ever shared.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM, ...TUNING_PARAMS],
  check(obj, ctx) {
    return hitsFor(obj, ctx, false);
  },
};
