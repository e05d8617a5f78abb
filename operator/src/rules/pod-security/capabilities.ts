import {
  severityRank,
  type RaisedSeverity,
  type Rule,
  type RuleHit,
  type Severity,
} from '../../engine/types.ts';
import { asArray, isObj } from '../../engine/podspec.ts';
import {
  BASELINE_ONLY_PROFILES,
  KINDS,
  RESTRICTED_PROFILES,
  containersOf,
  isRootEquivalentCapability,
  leftToBaseline,
  podView,
  q,
  who,
  windowsPod,
} from './_pss.ts';

/** The container runtime's default capability set, which baseline allows to be added (exact match). */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

function inSet(set: ReadonlySet<string>, c: unknown): boolean {
  return typeof c === 'string' && set.has(c);
}

/** Adding a root-equivalent capability (or ALL). */
const ROOT_EQUIVALENT: RaisedSeverity = {
  severity: 'critical',
  when: 'adding a root-equivalent capability (SYS_ADMIN, SYS_MODULE, ... or ALL)',
};
/** Adding a capability outside the runtime default set (the baseline rating). */
const OUTSIDE_DEFAULT: RaisedSeverity = {
  severity: 'high',
  when: 'adding a capability outside the runtime default set, where pss-capabilities-baseline does not run (pss-restricted)',
};

/** Severity of adding `caps`, or undefined when it is the rule's own (so policy overrides apply). */
function addSeverity(caps: unknown[], ruleSeverity: Severity): Severity | undefined {
  let sev: Severity = 'medium';
  if (caps.some(isRootEquivalentCapability)) sev = ROOT_EQUIVALENT.severity;
  else if (caps.some((c) => !inSet(BASELINE_CAPABILITIES, c))) sev = OUTSIDE_DEFAULT.severity;
  return severityRank(sev) > severityRank(ruleSeverity) ? sev : undefined;
}

function addHit(hit: RuleHit, severity: Severity | undefined): RuleHit {
  if (severity) hit.severity = severity;
  return hit;
}

const list = (caps: unknown[]): string => caps.map(q).join(', ');

const CAP_RATIONALE =
  'Linux capabilities split root privilege into pieces. Beyond the runtime default set, added capabilities give kernel-level power: SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_PTRACE, DAC_READ_SEARCH and BPF each allow escaping to the node; NET_RAW enables packet spoofing and ARP/DNS poisoning inside the cluster network.';

/**
 * PSS baseline `capabilities_baseline`: capabilities.add may only hold the runtime default set
 * (exact, case-sensitive names without CAP_ prefix). Overridden at restricted by capabilities_restricted.
 */
export const pssCapabilitiesBaseline: Rule = {
  id: 'pss-capabilities-baseline',
  title: 'Container adds non-default capabilities',
  severity: 'high',
  raisedTo: [ROOT_EQUIVALENT],
  category: 'pod-security',
  controls: ['PSS:capabilities_baseline', 'CIS:5.2.8', 'CIS:5.2.9', 'NSA:Pod security', 'MITRE:T1611'],
  rationale: `${CAP_RATIONALE} Rated high; a finding that adds a root-equivalent capability (or ALL) is raised to critical.`,
  remediation:
    'Remove the listed entries from securityContext.capabilities.add. Only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT may be added, spelled exactly so; better still, drop ALL and add back only NET_BIND_SERVICE.',
  kinds: KINDS,
  profiles: BASELINE_ONLY_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      const caps = c.sc['capabilities'];
      if (!isObj(caps)) continue;
      const bad = asArray(caps['add']).filter((x) => !inSet(BASELINE_CAPABILITIES, x));
      if (bad.length === 0) continue;
      hits.push(
        addHit(
          {
            container: c.name,
            message: `${who(c)} adds ${list(bad)} in ${c.path}.securityContext.capabilities.add`,
          },
          addSeverity(bad, pssCapabilitiesBaseline.severity),
        ),
      );
    }
    return hits;
  },
};

/**
 * PSS restricted `capabilities_restricted` (v1.25): every container must drop ALL and may add
 * only NET_BIND_SERVICE. Windows pods are exempt. Overrides capabilities_baseline.
 */
export const pssCapabilitiesRestricted: Rule = {
  id: 'pss-capabilities-restricted',
  title: 'Container does not drop ALL capabilities',
  severity: 'medium',
  raisedTo: [OUTSIDE_DEFAULT, ROOT_EQUIVALENT],
  category: 'pod-security',
  controls: ['PSS:capabilities_restricted', 'CIS:5.2.8', 'CIS:5.2.9', 'CIS:5.2.10', 'NSA:Pod security'],
  rationale: `${CAP_RATIONALE} Restricted asks every container to start from no capabilities. A missing drop of ALL is rated medium (the runtime default set stays); adding a capability outside the default set is raised to high and a root-equivalent one to critical, unless pss-capabilities-baseline runs too (recommended, all), which then reports those additions itself.`,
  remediation:
    'Set securityContext.capabilities.drop: ["ALL"] in every container, init container and ephemeral container, and remove every entry of capabilities.add except NET_BIND_SERVICE.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj, ctx) {
    const p = podView(obj);
    if (!p || windowsPod(p)) return [];
    // Beside pss-capabilities-baseline, the capabilities outside the default set are its findings.
    const baselineReports = leftToBaseline(ctx, 'pss-capabilities-baseline');
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      const caps = c.sc['capabilities'];
      if (!isObj(caps)) {
        hits.push({
          container: c.name,
          message: `${who(c)} must set ${c.path}.securityContext.capabilities.drop=["ALL"]`,
        });
        continue;
      }
      if (!asArray(caps['drop']).includes('ALL'))
        hits.push({
          container: c.name,
          message: `${who(c)} must set ${c.path}.securityContext.capabilities.drop=["ALL"]`,
        });
      const bad = asArray(caps['add']).filter(
        (x) => x !== 'NET_BIND_SERVICE' && !(baselineReports && !inSet(BASELINE_CAPABILITIES, x)),
      );
      if (bad.length > 0)
        hits.push(
          addHit(
            {
              container: c.name,
              message: `${who(c)} adds ${list(bad)} in ${c.path}.securityContext.capabilities.add (only "NET_BIND_SERVICE" is allowed)`,
            },
            addSeverity(bad, pssCapabilitiesRestricted.severity),
          ),
        );
    }
    return hits;
  },
};
