/**
 * The single-object workload, supply-chain and secrets rules as CEL validations for a
 * ValidatingAdmissionPolicy, with the conventions of pss-cel.ts: each expression is true when
 * the object passes, each messageExpression starts with `<rule-id>: ` and repeats the engine's
 * finding in its words (the first offending container of each list; the engine lists them all),
 * and the expressions read `variables.spec`, the pod spec of the shape being judged.
 *
 * Only rules whose verdict on one admitted object equals the engine's are here: a rule that
 * consults another object (a LimitRange, a Service, a ServiceAccount, an HPA or PDB, the owning
 * controller) is not (translate.ts says why for each). Rule params (exempt containers and
 * images, mutable tags, the registry allow-list) are baked into the expressions, so the
 * generated policy is rendered again when the SecurityPolicy changes.
 *
 * What the API server has done before validating admission matters: defaults are applied (a pod
 * spec always has a `securityContext`, possibly empty; `imagePullPolicy` is always set) and empty
 * lists and nulls are dropped. The expressions judge that stored form, as the operator's audit
 * does when it reads the object back.
 */
import { asStringArray } from '../engine/podspec.ts';
import type { Params } from '../engine/types.ts';
import { lit, type CelValidation } from './pss-cel.ts';

export type CelRule = (path: string, params: Params) => CelValidation[];

const S = 'variables.spec';
const PSC = `${S}.?securityContext`;
const WINDOWS = `${S}.?os.?name.orValue('') == 'windows'`;

/**
 * `let name = value in body`: the API server's CEL has no cel.bind, so the value is bound as the
 * variable of a comprehension over a one-element list.
 */
const bind = (name: string, value: string, body: string): string => `[${value}].map(${name}, ${body})[0]`;

type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';
const ALL: readonly ContainerList[] = ['initContainers', 'containers', 'ephemeralContainers'];
const INIT_AND_REGULAR: readonly ContainerList[] = ['initContainers', 'containers'];

/**
 * Fields of core/v1 PodSecurityContext and SecurityContext at Kubernetes v1.37 (the e2e test
 * compares them with the API server's OpenAPI schema). CEL cannot ask a typed object whether it
 * is empty, so "sets any securityContext" is "has one of these fields".
 */
export const POD_SECURITY_CONTEXT_FIELDS = [
  'appArmorProfile',
  'fsGroup',
  'fsGroupChangePolicy',
  'runAsGroup',
  'runAsNonRoot',
  'runAsUser',
  'seLinuxChangePolicy',
  'seLinuxOptions',
  'seccompProfile',
  'supplementalGroups',
  'supplementalGroupsPolicy',
  'sysctls',
  'windowsOptions',
] as const;
export const CONTAINER_SECURITY_CONTEXT_FIELDS = [
  'allowPrivilegeEscalation',
  'appArmorProfile',
  'capabilities',
  'privileged',
  'procMount',
  'readOnlyRootFilesystem',
  'runAsGroup',
  'runAsNonRoot',
  'runAsUser',
  'seLinuxOptions',
  'seccompProfile',
  'windowsOptions',
] as const;

/** A shell glob (`*`, `?`, as engine/match.ts globMatch) as an anchored RE2 pattern. */
export function globRe2(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += /[\\^$.|+()[\]{}]/.test(ch) ? `\\${ch}` : ch;
  }
  return `(?s)^${out}$`;
}

/** CEL: does the string `value` match one of `globs`? `false` for none. */
export function globsCel(value: string, globs: readonly string[]): string {
  if (globs.length === 0) return 'false';
  return `(${globs
    .map((g) =>
      g.includes('*') || g.includes('?') ? `${value}.matches(${lit(globRe2(g))})` : `${value} == ${lit(g)}`,
    )
    .join(' || ')})`;
}

/** CEL for the engine's clip(): at most `max` characters, then an ellipsis. */
const clip = (e: string, max = 120): string =>
  bind(
    'clipped',
    e,
    `clipped.size() <= ${String(max)} ? clipped : clipped.substring(0, ${String(max)}) + '…'`,
  );

/**
 * One validation per container list: every container `c` that is not exempt satisfies `ok`;
 * the message names the first that does not. `what(c, cpath)` is the rest of the message.
 */
function perContainer(
  id: string,
  path: string,
  lists: readonly ContainerList[],
  exempt: readonly string[],
  ok: (c: string) => string,
  what: (c: string, cpath: string) => string,
  podExempt?: string,
): CelValidation[] {
  return lists.map((field) => {
    const items = `${S}.?${field}.orValue([])`;
    const cpath = `${lit(`${path}.${field}[`)} + string(${items}.map(x, x.name).indexOf(c.name)) + ']'`;
    const pass = (c: string): string =>
      exempt.length > 0 ? `${globsCel(`${c}.name`, exempt)} || (${ok(c)})` : ok(c);
    const all = `${items}.all(c, ${pass('c')})`;
    return {
      expression: podExempt ? `(${podExempt}) || ${all}` : all,
      messageExpression: `${lit(`${id}: container "`)} + ${items}.filter(c, !(${pass('c')})).map(c, c.name + '" ' + ${what('c', cpath)})[0]`,
    };
  });
}

function pod(id: string, expression: string, message: string): CelValidation {
  return { expression, messageExpression: `${lit(`${id}: `)} + ${message}` };
}

const exemptContainers = (params: Params): string[] => asStringArray(params['exemptContainers']);

const anyField = (obj: string, fields: readonly string[]): string =>
  `has(${obj}) && (${fields.map((f) => `has(${obj}.${f})`).join(' || ')})`;

// ---- image references (supply-chain/image-ref.ts parseImageRef, in RE2) ----

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const HOST = `(?:\\[[a-fA-F0-9:]+\\]|${LABEL}(?:\\.${LABEL})*)(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** A path component that does not look like a host (no "."): the first element of a name then is one. */
const COMPONENT_NO_DOT = '[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*';
const DIGEST = 'sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}';
export const TAG_RE = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';

/**
 * The references parseImageRef accepts, but for its two checks that are not about the grammar
 * (not a 64-hex image id, name at most 255 characters), which imageFacts adds. Valid in RE2 and
 * in JavaScript alike (rules-cel.test.ts compares it with parseImageRef).
 */
export const IMAGE_REF_RE =
  `^(?:(?:${HOST}|${COMPONENT_NO_DOT})/${COMPONENT}(?:/${COMPONENT})*|${COMPONENT})` +
  `(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@(?:${DIGEST}))?$`;
export const IMAGE_ID_RE = '^[a-f0-9]{64}$';
/** image-tags.ts FLOATING_VERSION (case-insensitive there, hence (?i) here). */
export const FLOATING_VERSION_RE = '^v?[0-9]{1,2}(?:\\.[0-9]{1,3})?(?:-[a-z][a-z0-9.]*)*$';

/**
 * Binds, for container `c`: `img` (the image, '' when unset), `tagged`, `nm` (the name before
 * tag and digest), `tg` (the tag, '' when none) and `parsed` (parseImageRef accepts it), then
 * evaluates `body`.
 */
function imageFacts(c: string, body: string): string {
  return bind(
    'img',
    `${c}.?image.orValue('')`,
    bind(
      'bare',
      `img.indexOf('@') < 0 ? img : img.substring(0, img.indexOf('@'))`,
      bind(
        'tagged',
        `bare.lastIndexOf(':') > bare.lastIndexOf('/')`,
        bind(
          'nm',
          `tagged ? bare.substring(0, bare.lastIndexOf(':')) : bare`,
          bind(
            'tg',
            `tagged ? bare.substring(bare.lastIndexOf(':') + 1) : ''`,
            bind(
              'parsed',
              `img.matches(${lit(IMAGE_REF_RE)}) && !img.matches(${lit(IMAGE_ID_RE)}) && nm.size() <= 255`,
              body,
            ),
          ),
        ),
      ),
    ),
  );
}

/** Binds `reg` (registry host, docker.io when implicit) and `repo` (repository path) over imageFacts. */
function registryFacts(body: string): string {
  return bind(
    'first',
    `nm.contains('/') ? nm.substring(0, nm.indexOf('/')) : ''`,
    bind(
      'hostish',
      `nm.contains('/') && (first == 'localhost' || first.contains('.') || first.contains(':') || first.lowerAscii() != first)`,
      bind(
        'reg',
        `hostish ? (first == 'index.docker.io' ? 'docker.io' : first) : 'docker.io'`,
        bind(
          'rpath',
          `hostish ? nm.substring(first.size() + 1) : nm`,
          bind('repo', `reg == 'docker.io' && !rpath.contains('/') ? 'library/' + rpath : rpath`, body),
        ),
      ),
    ),
  );
}

const IMAGE_TEXT = `'image "' + ${clip('img')} + '"'`;

/**
 * A tag rule: every container whose image is not exempt (`exemptImages`) and parses is free of
 * `hit(c)`; `what(c, cpath)` is the rest of the message. Unparseable images are skipped, as in
 * the engine.
 */
function imageRule(
  id: string,
  path: string,
  params: Params,
  hit: (c: string) => string,
  what: (c: string, cpath: string) => string,
): CelValidation[] {
  const exempt = asStringArray(params['exemptImages']);
  return perContainer(
    id,
    path,
    ALL,
    [],
    (c) =>
      `${exempt.length > 0 ? `${globsCel(`${c}.?image.orValue('')`, exempt)} || ` : ''}${imageFacts(c, `!(parsed && ${hit(c)})`)}`,
    (c, cpath) => imageFacts(c, what(c, cpath)),
  );
}

/** The allow-list entry as registryAllowed() reads it: host (maybe a glob) and path prefix. */
function registryEntryCel(entry: string): string | undefined {
  let e = entry.trim().toLowerCase().replace(/\/+$/, '');
  if (e === '') return undefined;
  e = e.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = e.indexOf('/');
  let host = slash < 0 ? e : e.slice(0, slash);
  const prefix = slash < 0 ? '' : e.slice(slash + 1);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  const hostCel =
    host.includes('*') || host.includes('?')
      ? `reg.lowerAscii().matches(${lit(
          `^${host
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]')}$`,
        )})`
      : `reg.lowerAscii() == ${lit(host)}`;
  if (prefix === '') return hostCel;
  return `(${hostCel} && (repo == ${lit(prefix)} || repo.startsWith(${lit(`${prefix}/`)})))`;
}

/** Why parseImageRef refuses the image, in its words (for messages only). */
const PARSE_ERROR = [
  `!has(c.image) ? 'image is not a string' : `,
  `img == '' ? 'image is empty' : `,
  `img.matches('\\\\s') ? 'image contains whitespace' : `,
  `img.matches(${lit(IMAGE_ID_RE)}) ? 'image is a 64-hex image id, not a name' : `,
  `img.contains('@') && !img.substring(img.indexOf('@') + 1).matches(${lit(`^(?:${DIGEST})$`)}) ? 'invalid digest' : `,
  `tagged && !tg.matches(${lit(TAG_RE)}) ? 'invalid tag' : `,
  `nm == '' ? 'image has no repository name' : `,
  `nm.size() > 255 ? 'image name is longer than 255 characters' : `,
  `hostish && !first.matches(${lit(`^${HOST}$`)}) ? 'invalid registry host' : `,
  `'invalid repository path (lower-case letters, digits and separators only)'`,
].join('');

/**
 * Names that secrets/detectors.ts printableName() withholds: a superset (the engine's known
 * formats and JWT without their boundary look-arounds, which RE2 lacks), so admission never
 * prints a name the engine would hide.
 */
const WITHHELD_NAME_RE =
  '(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_|(?:glpat|gldt|glrt|glptt)-|xox[abposr]-|hooks\\.slack\\.com|[sr]k_live_|AIza|npm_[A-Za-z0-9]{36}|SG\\.|T3BlbkFJ|PRIVATE KEY|eyJ[A-Za-z0-9_-]{8,}\\.eyJ';
const printableName = (e: string): string =>
  `(${e}.matches(${lit(WITHHELD_NAME_RE)}) ? '<name withheld>' : ${clip(e, 80)})`;

/** CEL validations for a single-object rule id, with the engine's path of the pod spec and the rule's params. */
export const RULES_CEL: Readonly<Record<string, CelRule>> = {
  'container-liveness-probe-missing': (path, params) => {
    // Run-to-completion workloads need no probe: Jobs, CronJobs and Pods a Job owns.
    if (path === 'spec.jobTemplate.spec.template.spec') return [];
    const runToCompletion =
      path === 'spec'
        ? `object.metadata.?ownerReferences.orValue([]).exists(r, r.kind == 'Job')`
        : `object.kind == 'Job'`;
    return perContainer(
      'container-liveness-probe-missing',
      path,
      ['containers'],
      exemptContainers(params),
      (c) => `has(${c}.livenessProbe)`,
      (_c, cpath) => `'has no livenessProbe (' + ${cpath} + '.livenessProbe)'`,
      runToCompletion,
    );
  },
  'container-root-filesystem-writable': (path, params) =>
    perContainer(
      'container-root-filesystem-writable',
      path,
      INIT_AND_REGULAR,
      exemptContainers(params),
      (c) => `${c}.?securityContext.?readOnlyRootFilesystem.orValue(false) == true`,
      (c, cpath) =>
        `(${c}.?securityContext.?readOnlyRootFilesystem.hasValue() ? 'sets securityContext.readOnlyRootFilesystem=false (' : 'does not set securityContext.readOnlyRootFilesystem=true (') + ${cpath} + '.securityContext.readOnlyRootFilesystem)'`,
      WINDOWS,
    ),
  'pod-host-aliases': (path) => [
    pod(
      'pod-host-aliases',
      `${S}.?hostAliases.orValue([]).size() == 0`,
      `${lit(`pod sets ${path}.hostAliases: `)} + ${clip(
        bind(
          'names',
          `${S}.hostAliases.map(a, a.?hostnames.orValue([]).join(', ')).filter(s, s != '').join(', ')`,
          `names == '' ? 'no hostnames' : names`,
        ),
      )} + ' → ' + ${clip(
        bind(
          'ips',
          `${S}.hostAliases.filter(a, has(a.ip)).map(a, a.ip).join(', ')`,
          `ips == '' ? 'no ip' : ips`,
        ),
      )}`,
    ),
  ],
  'pod-share-process-namespace': (path) => [
    pod(
      'pod-share-process-namespace',
      `${S}.?shareProcessNamespace.orValue(false) != true`,
      lit(`pod sets ${path}.shareProcessNamespace=true`),
    ),
  ],
  'pod-security-context-missing': (path, params) =>
    perContainer(
      'pod-security-context-missing',
      path,
      INIT_AND_REGULAR,
      exemptContainers(params),
      (c) => anyField(`${c}.securityContext`, CONTAINER_SECURITY_CONTEXT_FIELDS),
      (_c, cpath) =>
        `'has no securityContext (' + ${cpath} + ${lit(`.securityContext) and the pod sets none (${path}.securityContext)`)}`,
      anyField(`${S}.securityContext`, POD_SECURITY_CONTEXT_FIELDS),
    ),
  'container-runs-as-root-group': (path, params) => [
    pod(
      'container-runs-as-root-group',
      `(${WINDOWS}) || ${PSC}.?fsGroup.orValue(1) != 0`,
      lit(`pod sets ${path}.securityContext.fsGroup=0`),
    ),
    pod(
      'container-runs-as-root-group',
      `(${WINDOWS}) || !(0 in ${PSC}.?supplementalGroups.orValue([]))`,
      lit(`pod adds group 0 in ${path}.securityContext.supplementalGroups`),
    ),
    ...perContainer(
      'container-runs-as-root-group',
      path,
      ALL,
      exemptContainers(params),
      (c) =>
        `(${c}.?securityContext.?runAsGroup.hasValue() ? ${c}.securityContext.runAsGroup != 0 : ${PSC}.?runAsGroup.orValue(1) != 0)`,
      (c, cpath) =>
        `(${c}.?securityContext.?runAsGroup.hasValue() ? 'sets ' + ${cpath} + '.securityContext.runAsGroup=0' : ${lit(`inherits ${path}.securityContext.runAsGroup=0`)})`,
      WINDOWS,
    ),
  ],
  'container-run-as-group-missing': (path, params) =>
    perContainer(
      'container-run-as-group-missing',
      path,
      INIT_AND_REGULAR,
      exemptContainers(params),
      (c) => `${c}.?securityContext.?runAsGroup.hasValue()`,
      (_c, cpath) =>
        `'sets no runAsGroup (' + ${cpath} + ${lit(`.securityContext.runAsGroup) and the pod sets none (${path}.securityContext.runAsGroup)`)}`,
      `(${WINDOWS}) || ${PSC}.?runAsGroup.hasValue()`,
    ),
  'image-latest-tag': (path, params) =>
    imageRule(
      'image-latest-tag',
      path,
      params,
      () => `!img.contains('@') && (tg == '' || tg == 'latest')`,
      (_c, cpath) =>
        `${IMAGE_TEXT} + (tg == '' ? ' has no tag and pulls :latest (' : ' uses the latest tag (') + ${cpath} + '.image)'`,
    ),
  'image-not-pinned-by-digest': (path, params) =>
    imageRule(
      'image-not-pinned-by-digest',
      path,
      params,
      () => `!img.contains('@')`,
      (_c, cpath) => `${IMAGE_TEXT} + ' is not pinned by digest (' + ${cpath} + '.image)'`,
    ),
  'image-pull-policy-stale': (path, params) => {
    const channels = asStringArray(params['mutableTags']).map((p) => p.toLowerCase());
    const floating = params['floatingVersionTags'] !== false;
    const channel = globsCel('tg.lowerAscii()', channels);
    const floatingCel = floating ? `tg.matches(${lit(`(?i)${FLOATING_VERSION_RE}`)})` : 'false';
    const mutable = `(!img.contains('@') && (tg == '' || tg == 'latest' || ${channel} || ${floatingCel}))`;
    const policy = (c: string): string =>
      `(${c}.?imagePullPolicy.orValue('') != '' ? ${c}.imagePullPolicy : (tg == '' || tg == 'latest' ? 'Always' : 'IfNotPresent'))`;
    const why = `(tg == '' ? 'has no tag (pulls latest)' : tg == 'latest' ? 'uses the latest tag' : ${channel} ? 'uses the channel tag "' + ${clip('tg', 60)} + '"' : 'uses the floating version tag "' + ${clip('tg', 60)} + '"')`;
    return imageRule(
      'image-pull-policy-stale',
      path,
      params,
      (c) => `${mutable} && ${policy(c)} in ['IfNotPresent', 'Never']`,
      (c, cpath) =>
        `${IMAGE_TEXT} + ' ' + ${why} + (${c}.?imagePullPolicy.orValue('') != '' ? ' but imagePullPolicy is ' : ' but imagePullPolicy defaults to ') + ${policy(c)} + ' (' + ${cpath} + '.imagePullPolicy)'`,
    );
  },
  'image-registry-not-allowed': (path, params) => {
    const entries = asStringArray(params['allowedRegistries']).filter((e) => e.trim() !== '');
    if (entries.length === 0) return [];
    const terms = entries.map(registryEntryCel).filter((t): t is string => t !== undefined);
    const allowed = terms.length === 0 ? 'false' : `(${terms.join(' || ')})`;
    return perContainer(
      'image-registry-not-allowed',
      path,
      ALL,
      [],
      (c) => imageFacts(c, `parsed && ${registryFacts(allowed)}`),
      (c, cpath) =>
        imageFacts(
          c,
          registryFacts(
            `(parsed ? ${IMAGE_TEXT} + ' comes from registry "' + ${clip('reg')} + '" (' + ${clip(`reg + '/' + repo`)} + '), which is not in allowedRegistries (' : 'image ' + (has(c.image) ? '"' + ${clip('img')} + '"' : 'missing') + ' cannot be parsed (' + (${PARSE_ERROR}) + '), so its registry cannot be checked against the allow-list (') + ${cpath} + '.image)'`,
          ),
        ),
    );
  },
  'secret-exposed-as-env': (path, params) => {
    if (params['requireSecretFiles'] !== true) return [];
    return perContainer(
      'secret-exposed-as-env',
      path,
      ALL,
      exemptContainers(params),
      (c) =>
        `${c}.?env.orValue([]).all(e, !e.?valueFrom.?secretKeyRef.hasValue()) && ${c}.?envFrom.orValue([]).all(e, !has(e.secretRef))`,
      (c, cpath) =>
        `(${c}.?env.orValue([]).exists(e, e.?valueFrom.?secretKeyRef.hasValue()) ? ` +
        bind(
          'i',
          `${c}.env.map(e, e.?valueFrom.?secretKeyRef.hasValue()).indexOf(true)`,
          bind(
            'ref',
            `${c}.env[i].valueFrom.secretKeyRef`,
            `'env ' + ${printableName(`${c}.env[i].name`)} + ' reads key "' + ${clip(`ref.key`, 80)} + '" of Secret "' + ${clip(`ref.?name.orValue('?')`, 80)} + '" (' + ${cpath} + '.env[' + string(i) + '].valueFrom.secretKeyRef); mount it as a file instead'`,
          ),
        ) +
        ' : ' +
        bind(
          'i',
          `${c}.envFrom.map(e, has(e.secretRef)).indexOf(true)`,
          `'imports every key of Secret "' + ${clip(`${c}.envFrom[i].secretRef.?name.orValue('?')`, 80)} + '" as environment variables (' + ${cpath} + '.envFrom[' + string(i) + '].secretRef); mount it as a file instead'`,
        ) +
        ')',
    );
  },
};
