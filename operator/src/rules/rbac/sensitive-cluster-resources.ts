/**
 * Cluster-scoped resources that are escalation paths in their own right:
 * creating PersistentVolumes (hostPath on any node, CIS 5.1.9), approving
 * CertificateSigningRequests (client certificates for any identity, CIS 5.1.11)
 * and writing admission webhook configurations (intercept or rewrite every
 * object, CIS 5.1.12). Storage provisioners, cert managers and policy engines
 * hold these legitimately, so the rule is in `all` only.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_CSR_APPROVE, CAP_PV_CREATE, CAP_WEBHOOK_WRITE, describeGrant, findGrant } from './_rbac.ts';

const CHECKS = [
  { queries: CAP_PV_CREATE, control: 'CIS:5.1.9' },
  { queries: CAP_CSR_APPROVE, control: 'CIS:5.1.11' },
  { queries: CAP_WEBHOOK_WRITE, control: 'CIS:5.1.12' },
];

export const sensitiveClusterResources = grantRule({
  id: 'rbac-sensitive-cluster-resources',
  title: 'RBAC grants write access to PVs, CSR approval or admission webhooks',
  severity: 'high',
  category: 'rbac',
  controls: ['NSA:Role-based access control'],
  rationale:
    'A PersistentVolume can point at any hostPath of any node; approving a CertificateSigningRequest issues a client certificate for any user or group; an admission webhook configuration sees and can rewrite every object sent to the API server. Each is a path to cluster-admin.',
  remediation:
    'Keep these permissions to the dedicated controllers that need them (storage provisioner, certificate approver, policy engine) and bind them to those service accounts only; remove them from human and CI roles.',
  profiles: [],
  detect(rules, g) {
    const parts: string[] = [];
    const controls: string[] = [];
    for (const c of CHECKS) {
      const grant = findGrant(rules, c.queries, g.scope);
      if (!grant) continue;
      parts.push(describeGrant(grant));
      controls.push(c.control);
    }
    if (parts.length === 0) return undefined;
    return {
      text: parts.join('; '),
      severity: gradedSeverity(g, ['high', 'high', 'medium', 'medium']),
      controls,
    };
  },
});
