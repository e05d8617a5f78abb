/**
 * The 19 Pod Security checks of operator/src/rules/pod-security/ as CEL validations for a
 * ValidatingAdmissionPolicy. Each validation's expression is true when the object passes; its
 * messageExpression starts with the rule id and names the container and field in the engine's
 * words (the first offending container of each list; the engine lists them all).
 *
 * The expressions read two variables the generated policy defines for each shape of object:
 * `variables.spec` (the pod spec) and `variables.annotations` (the pod template's annotations).
 * The path of the pod spec (`spec`, `spec.template.spec` …) is baked into the message text.
 */
import {
  ALLOWED_VOLUME_SOURCES,
  FORBIDDEN_VOLUME_SOURCES,
} from '../rules/pod-security/restricted-volumes.ts';
import { BASELINE_CAPABILITIES } from '../rules/pod-security/capabilities.ts';
import { SAFE_SYSCTLS_V1_37 } from '../rules/pod-security/sysctls.ts';

export interface CelValidation {
  expression: string;
  messageExpression: string;
}

/** A CEL string literal. */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const list = (xs: Iterable<string>): string => `[${[...xs].map(lit).join(', ')}]`;

const S = 'variables.spec';
const PSC = `${S}.?securityContext`;
const WINDOWS = `${S}.?os.?name.orValue('') == 'windows'`;
const USER_NS = `${S}.?hostUsers.orValue(true) == false`;

const CONTAINER_LISTS = [
  ['initContainers', 'init container'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeral container'],
] as const;

/** CEL for a value in a message: quoted like the engine's q() for strings. */
const qs = (e: string): string => `'"' + string(${e}) + '"'`;

/**
 * One validation per container list: every container `c` satisfies `ok`; the message names the
 * first that does not. `what(c, path)` is a CEL string expression for the rest of the message.
 */
function perContainer(
  id: string,
  path: string,
  ok: (c: string) => string,
  what: (c: string, cpath: string) => string,
  exempt?: string,
): CelValidation[] {
  return CONTAINER_LISTS.map(([field, label]) => {
    const items = `${S}.?${field}.orValue([])`;
    const cpath = `${lit(`${path}.${field}[`)} + string(${items}.map(x, x.name).indexOf(c.name)) + ']'`;
    const all = `${items}.all(c, ${ok('c')})`;
    return {
      expression: exempt ? `(${exempt}) || ${all}` : all,
      messageExpression: `${lit(`${id}: ${label} "`)} + ${items}.filter(c, !(${ok('c')})).map(c, c.name + '" ' + ${what('c', cpath)})[0]`,
    };
  });
}

function pod(id: string, expression: string, message: string): CelValidation {
  return { expression, messageExpression: `${lit(`${id}: `)} + ${message}` };
}

/** A pod-level and per-container check of one optional securityContext field. */
function podAndContainers(
  id: string,
  path: string,
  field: string,
  ok: (v: string) => string,
  valueText: (v: string) => string,
  exempt?: string,
): CelValidation[] {
  const pv = `${PSC}.?${field}`;
  const podOk = `!${pv}.hasValue() || (${ok(`${S}.securityContext.${field}`)})`;
  return [
    pod(
      id,
      exempt ? `(${exempt}) || ${podOk}` : podOk,
      `${lit(`pod sets ${path}.securityContext.${field}`)} + ${valueText(`${S}.securityContext.${field}`)}`,
    ),
    ...perContainer(
      id,
      path,
      (c) => `!${c}.?securityContext.?${field}.hasValue() || (${ok(`${c}.securityContext.${field}`)})`,
      (c, cpath) =>
        `'sets ' + ${cpath} + '.securityContext.${field}' + ${valueText(`${c}.securityContext.${field}`)}`,
      exempt,
    ),
  ];
}

const ALLOWED_PROFILE = `['RuntimeDefault', 'Localhost']`;
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const HOST_PLACES = [
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle.postStart',
  'lifecycle.preStop',
].flatMap((p) => ['httpGet', 'tcpSocket'].map((a) => `${p}.${a}`));

const optChain = (base: string, dotted: string): string => `${base}.?${dotted.split('.').join('.?')}`;

/** CEL validations for a Pod Security rule id, with the engine's path of the pod spec. */
export const PSS_CEL: Readonly<Record<string, (path: string) => CelValidation[]>> = {
  'pss-privileged': (path) =>
    perContainer(
      'pss-privileged',
      path,
      (c) => `!${c}.?securityContext.?privileged.orValue(false)`,
      (_c, cpath) => `'sets ' + ${cpath} + '.securityContext.privileged=true'`,
    ),
  'pss-host-namespaces': (path) =>
    ['hostNetwork', 'hostPID', 'hostIPC'].map((f) =>
      pod('pss-host-namespaces', `!${S}.?${f}.orValue(false)`, lit(`pod sets ${path}.${f}=true`)),
    ),
  'pss-host-path-volumes': (path) => [
    pod(
      'pss-host-path-volumes',
      `${S}.?volumes.orValue([]).all(v, !has(v.hostPath))`,
      `${S}.volumes.filter(v, has(v.hostPath)).map(v, 'volume "' + v.name + '" sets ${path}.volumes[' + string(${S}.volumes.map(x, x.name).indexOf(v.name)) + '].hostPath (path "' + v.hostPath.path + '")')[0]`,
    ),
  ],
  'pss-host-ports': (path) =>
    perContainer(
      'pss-host-ports',
      path,
      (c) => `${c}.?ports.orValue([]).all(p, p.?hostPort.orValue(0) == 0)`,
      (c, cpath) =>
        `'sets ' + ${cpath} + '.ports[' + string(${c}.ports.map(p, p.?hostPort.orValue(0)).indexOf(${c}.ports.filter(p, p.?hostPort.orValue(0) != 0)[0].hostPort)) + '].hostPort=' + string(${c}.ports.filter(p, p.?hostPort.orValue(0) != 0)[0].hostPort)`,
    ),
  'pss-host-probes-and-host-lifecycle': (path) =>
    perContainer(
      'pss-host-probes-and-host-lifecycle',
      path,
      (c) => HOST_PLACES.map((pl) => `${optChain(c, `${pl}.host`)}.orValue('') == ''`).join(' && '),
      (c, cpath) =>
        HOST_PLACES.map(
          (pl) =>
            `${optChain(c, `${pl}.host`)}.orValue('') != '' ? 'sets ' + ${cpath} + '.${pl}.host=' + ${qs(`${c}.${pl}.host`)} : `,
        ).join('') + `''`,
    ),
  'pss-app-armor-profile': (path) => [
    ...podAndContainers(
      'pss-app-armor-profile',
      path,
      'appArmorProfile',
      (v) => `${v}.type in ${ALLOWED_PROFILE}`,
      (v) => `'.type=' + ${qs(`${v}.type`)}`,
    ),
    pod(
      'pss-app-armor-profile',
      `variables.annotations.all(k, !k.startsWith('container.apparmor.security.beta.kubernetes.io/') || variables.annotations[k] == '' || variables.annotations[k] == 'runtime/default' || variables.annotations[k].startsWith('localhost/'))`,
      `variables.annotations.filter(k, k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !(variables.annotations[k] == '' || variables.annotations[k] == 'runtime/default' || variables.annotations[k].startsWith('localhost/'))).map(k, 'annotation "' + k + '" sets AppArmor profile "' + variables.annotations[k] + '" for container "' + k.substring(47) + '"')[0]`,
    ),
  ],
  'pss-se-linux-options': (path) =>
    podAndContainers(
      'pss-se-linux-options',
      path,
      'seLinuxOptions',
      (v) =>
        `${v}.?type.orValue('') in ${list(SELINUX_TYPES)} && ${v}.?user.orValue('') == '' && ${v}.?role.orValue('') == ''`,
      (v) =>
        `': type="' + ${v}.?type.orValue('') + '", user="' + ${v}.?user.orValue('') + '", role="' + ${v}.?role.orValue('') + '"'`,
    ).map((val) => ({
      ...val,
      messageExpression: val.messageExpression
        .replace('pod sets ', 'pod sets forbidden ')
        .replace("'sets ", "'sets forbidden "),
    })),
  'pss-proc-mount': (path) => procMount('pss-proc-mount', path, USER_NS),
  'pss-proc-mount-restricted': (path) => procMount('pss-proc-mount-restricted', path),
  'pss-seccomp-profile-baseline': (path) => seccompExplicit('pss-seccomp-profile-baseline', path),
  'pss-sysctls': (path) => [
    pod(
      'pss-sysctls',
      `${PSC}.?sysctls.orValue([]).all(s, s.name in ${list(SAFE_SYSCTLS_V1_37)})`,
      `${S}.securityContext.sysctls.filter(s, !(s.name in ${list(SAFE_SYSCTLS_V1_37)})).map(s, 'pod sets forbidden sysctl "' + s.name + '" in ${path}.securityContext.sysctls[' + string(${S}.securityContext.sysctls.map(x, x.name).indexOf(s.name)) + ']')[0]`,
    ),
  ],
  'pss-windows-host-process': (path) =>
    podAndContainers(
      'pss-windows-host-process',
      path,
      'windowsOptions',
      (v) => `!${v}.?hostProcess.orValue(false)`,
      () => `'.hostProcess=true'`,
    ),
  'pss-capabilities-baseline': (path) =>
    perContainer(
      'pss-capabilities-baseline',
      path,
      (c) =>
        `${c}.?securityContext.?capabilities.?add.orValue([]).all(x, x in ${list(BASELINE_CAPABILITIES)})`,
      (c, cpath) =>
        `'adds ' + ${c}.securityContext.capabilities.add.filter(x, !(x in ${list(BASELINE_CAPABILITIES)})).map(x, '"' + x + '"').join(', ') + ' in ' + ${cpath} + '.securityContext.capabilities.add'`,
    ),
  'pss-restricted-volumes': (path) => {
    const allowed = ALLOWED_VOLUME_SOURCES.map((s) => `has(v.${s})`).join(' || ');
    const forbidden = FORBIDDEN_VOLUME_SOURCES.map((s) => `has(v.${s})`).join(' || ');
    const typeOf = FORBIDDEN_VOLUME_SOURCES.map((s) => `has(v.${s}) ? '${s}' : `).join('') + `''`;
    return [
      pod(
        'pss-restricted-volumes',
        `${S}.?volumes.orValue([]).all(v, ${allowed} || !(${forbidden}))`,
        `${S}.volumes.filter(v, !(${allowed} || !(${forbidden}))).map(v, 'volume "' + v.name + '" uses restricted volume type "' + (${typeOf}) + '" (${path}.volumes[' + string(${S}.volumes.map(x, x.name).indexOf(v.name)) + '].' + (${typeOf}) + ')')[0]`,
      ),
    ];
  },
  'pss-allow-privilege-escalation': (path) =>
    perContainer(
      'pss-allow-privilege-escalation',
      path,
      (c) => `${c}.?securityContext.?allowPrivilegeEscalation.orValue(true) == false`,
      (_c, cpath) => `'must set ' + ${cpath} + '.securityContext.allowPrivilegeEscalation=false'`,
      WINDOWS,
    ),
  'pss-run-as-non-root': (path) => [
    pod(
      'pss-run-as-non-root',
      `(${USER_NS}) || ${PSC}.?runAsNonRoot.orValue(true)`,
      lit(`pod sets ${path}.securityContext.runAsNonRoot=false; it must be true`),
    ),
    ...perContainer(
      'pss-run-as-non-root',
      path,
      (c) =>
        `(${c}.?securityContext.?runAsNonRoot.hasValue() ? ${c}.securityContext.runAsNonRoot : ${PSC}.?runAsNonRoot.orValue(false))`,
      (_c, cpath) =>
        `'must set ' + ${cpath} + '.securityContext.runAsNonRoot=true, or the pod ${path}.securityContext.runAsNonRoot=true'`,
      USER_NS,
    ),
  ],
  'pss-run-as-user': (path) => [
    pod(
      'pss-run-as-user',
      `(${USER_NS}) || ${PSC}.?runAsUser.orValue(1) != 0`,
      lit(`pod sets ${path}.securityContext.runAsUser=0`),
    ),
    ...perContainer(
      'pss-run-as-user',
      path,
      (c) => `${c}.?securityContext.?runAsUser.orValue(1) != 0`,
      (_c, cpath) => `'sets ' + ${cpath} + '.securityContext.runAsUser=0'`,
      USER_NS,
    ),
  ],
  'pss-seccomp-profile-restricted': (path) => [
    ...seccompExplicit('pss-seccomp-profile-restricted', path, WINDOWS),
    ...perContainer(
      'pss-seccomp-profile-restricted',
      path,
      (c) =>
        `(${PSC}.?seccompProfile.?type.orValue('') in ${ALLOWED_PROFILE}) || ${c}.?securityContext.?seccompProfile.hasValue()`,
      (_c, cpath) =>
        `'has no ' + ${cpath} + '.securityContext.seccompProfile and the pod sets no valid ${path}.securityContext.seccompProfile (RuntimeDefault or Localhost)'`,
      WINDOWS,
    ),
  ],
  'pss-capabilities-restricted': (path) =>
    perContainer(
      'pss-capabilities-restricted',
      path,
      (c) =>
        `'ALL' in ${c}.?securityContext.?capabilities.?drop.orValue([]) && ${c}.?securityContext.?capabilities.?add.orValue([]).all(x, x == 'NET_BIND_SERVICE')`,
      (c, cpath) =>
        `('ALL' in ${c}.?securityContext.?capabilities.?drop.orValue([]) ? 'adds ' + ${c}.securityContext.capabilities.add.filter(x, x != 'NET_BIND_SERVICE').map(x, '"' + x + '"').join(', ') + ' in ' + ${cpath} + '.securityContext.capabilities.add (only "NET_BIND_SERVICE" is allowed)' : 'must set ' + ${cpath} + '.securityContext.capabilities.drop=["ALL"]')`,
      WINDOWS,
    ),
};

function procMount(id: string, path: string, exempt?: string): CelValidation[] {
  return perContainer(
    id,
    path,
    (c) => `${c}.?securityContext.?procMount.orValue('Default') == 'Default'`,
    (c, cpath) =>
      `'sets ' + ${cpath} + '.securityContext.procMount=' + ${qs(`${c}.securityContext.procMount`)}`,
    exempt,
  );
}

function seccompExplicit(id: string, path: string, exempt?: string): CelValidation[] {
  return podAndContainers(
    id,
    path,
    'seccompProfile',
    (v) => `${v}.type in ${ALLOWED_PROFILE}`,
    (v) => `'.type=' + ${qs(`${v}.type`)}`,
    exempt,
  );
}
