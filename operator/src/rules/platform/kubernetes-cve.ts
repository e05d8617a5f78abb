import type { KubeObject, Rule, RuleContext, RuleHit } from '../../engine/types.ts';
import { DATASET, raisedByEntries, type K8sComponent, type KubernetesCve } from './dataset.ts';
import { apiServerVersion, CLUSTER_VERSION_KIND, nodeInfo, nodeLabel, vendorNote } from './_subjects.ts';
import { affectedBy, parseVersion, suggestedFix, type Version } from './version.ts';

/** One component version to check: what it is, where it was read, and how to name it. */
interface Target {
  component: K8sComponent;
  version: Version;
  field: string;
  subject: string;
  /** Extra caveat for this reading (assumed or unreliable version). */
  caveat?: string;
}

const KCM_CAVEAT =
  " kube-controller-manager is assumed to run the API server's version; check its own version if they differ.";
const KUBE_PROXY_CAVEAT =
  ' The kube-proxy version is as reported by the kubelet (status.nodeInfo.kubeProxyVersion), which does not observe the running kube-proxy.';

function targets(obj: KubeObject, ctx: RuleContext): { targets: Target[]; os?: string } {
  if (obj.kind === CLUSTER_VERSION_KIND) {
    const r = apiServerVersion(obj, ctx);
    if (!r) return { targets: [] };
    const subject = `kube-apiserver ${r.version.raw}`;
    return {
      targets: [
        { component: 'kube-apiserver', version: r.version, field: r.field, subject },
        {
          component: 'kube-controller-manager',
          version: r.version,
          field: r.field,
          subject,
          caveat: KCM_CAVEAT,
        },
      ],
    };
  }
  const info = nodeInfo(obj);
  const out: Target[] = [];
  const kubelet = parseVersion(info.kubeletVersion);
  if (kubelet) {
    out.push({
      component: 'kubelet',
      version: kubelet,
      field: 'status.nodeInfo.kubeletVersion',
      subject: `${nodeLabel(obj)} kubelet ${kubelet.raw}`,
    });
  }
  const proxy = parseVersion(info.kubeProxyVersion);
  if (proxy) {
    out.push({
      component: 'kube-proxy',
      version: proxy,
      field: 'status.nodeInfo.kubeProxyVersion',
      subject: `${nodeLabel(obj)} kube-proxy ${proxy.raw}`,
      caveat: KUBE_PROXY_CAVEAT,
    });
  }
  return info.operatingSystem === undefined ? { targets: out } : { targets: out, os: info.operatingSystem };
}

function describe(cve: KubernetesCve): string {
  const score = cve.cvss ? `, CVSS ${cve.cvss.score.toFixed(1)}` : '';
  return `${cve.id} (${cve.severity}${score}): ${cve.title}`;
}

/**
 * The CVE hits for a subject: one per CVE (a CVE affecting kubelet and
 * kube-proxy on the same node is reported once, on the kubelet when it applies).
 */
function cveHits(obj: KubeObject, ctx: RuleContext, unfixed: boolean): RuleHit[] {
  const { targets: ts, os } = targets(obj, ctx);
  const hits: RuleHit[] = [];
  for (const cve of DATASET.kubernetesCves) {
    if ((cve.unfixed !== undefined) !== unfixed) continue;
    if (cve.platforms && (os === undefined || !cve.platforms.includes(os))) continue;
    const t = ts.find((x) => cve.components.includes(x.component) && affectedBy(x.version, cve.affected));
    if (!t) continue;
    const platform = cve.platforms ? ` Applies to ${cve.platforms.join('/')} nodes.` : '';
    const exposure = cve.conditions ? ` Exposure: ${cve.conditions}` : '';
    let message: string;
    if (cve.unfixed) {
      const mitigation = cve.mitigation ? ` Mitigate: ${cve.mitigation}` : '';
      message =
        `${t.subject} (${t.field}) is exposed to ${describe(cve)}. No release fixes it: ${cve.unfixed.reason}` +
        `${mitigation}${exposure}${platform} See ${cve.url}`;
    } else {
      const fix = suggestedFix(t.version, cve.fixedIn);
      const advice = fix
        ? `upgrade ${t.component} to ${fix} or later`
        : `upgrade ${t.component} to a fixed release`;
      message =
        `${t.subject} (${t.field}) is affected by ${describe(cve)}. Fixed in ${cve.fixedIn.join(', ')}; ${advice}.` +
        `${exposure}${platform}${t.caveat ?? ''}${vendorNote(t.version)} See ${cve.url}`;
    }
    hits.push({ message, severity: cve.severity, controls: [cve.id] });
  }
  return hits;
}

export const kubernetesCve: Rule = {
  id: 'platform-kubernetes-cve',
  title: 'Kubernetes component version has a known CVE',
  severity: 'high',
  raisedTo: raisedByEntries(
    'high',
    DATASET.kubernetesCves.filter((c) => c.unfixed === undefined),
    'a CVE',
  ),
  category: 'platform',
  controls: [],
  rationale:
    'The API server, controller manager and kubelets run the versions they report; the official Kubernetes CVE feed lists the releases each advisory affects. A version inside an affected range carries the vulnerability until it is upgraded, whatever the workload configuration. Each finding names one CVE from the bundled, sourced dataset (data/platform/kubernetes-cves.json).',
  remediation:
    'Upgrade the control plane and then the kubelets to a patch release that fixes the CVE (the finding names the lowest fixed release of your minor), following the version skew policy. On managed clusters (EKS, GKE, AKS …) upgrade through the provider and check its security bulletin for backported fixes.',
  kinds: [CLUSTER_VERSION_KIND, 'Node'],
  profiles: ['recommended'],
  check(obj, ctx) {
    return cveHits(obj, ctx, false);
  },
};

export const kubernetesUnfixedCve: Rule = {
  id: 'platform-kubernetes-unfixed-cve',
  title: 'Kubernetes version is exposed to a CVE that has no fix',
  severity: 'medium',
  raisedTo: raisedByEntries(
    'medium',
    DATASET.kubernetesCves.filter((c) => c.unfixed !== undefined),
    'a CVE',
  ),
  category: 'platform',
  controls: [],
  rationale:
    'Some official Kubernetes CVEs (CVE-2020-8554, CVE-2021-25740, CVE-2025-1767 …) are design flaws the project will not patch: every version is exposed and only configuration mitigates them. They cannot be fixed by upgrading, so they are reported separately from fixable CVEs and only in the `all` profile.',
  remediation:
    'Apply the mitigation named in the finding (for example the DenyServiceExternalIPs admission plugin for CVE-2020-8554, or forbidding gitRepo volumes for CVE-2025-1767), then record an exception for this rule with the mitigation as the reason.',
  kinds: [CLUSTER_VERSION_KIND, 'Node'],
  profiles: [],
  check(obj, ctx) {
    return cveHits(obj, ctx, true);
  },
};
