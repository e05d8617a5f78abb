/** Detections on pods: commands run in containers, debug containers, the kubelet API, kube-system. */
import { succeeded, isControlPlane, resourceLabel } from '../event.ts';
import { AUDIT_CATEGORY, type AuditEvent, type AuditRule } from '../types.ts';
import { K8S_AUDIT, K8S_RBAC_GOOD, matchesAny, mitreUrl } from './_common.ts';

function podSub(ev: AuditEvent, sub: string): boolean {
  return (
    ev.resource.group === '' &&
    ev.resource.resource === 'pods' &&
    ev.resource.subresource === sub &&
    succeeded(ev)
  );
}

function where(ev: AuditEvent): string {
  return `${ev.resource.namespace}/${ev.resource.name}`;
}

export const auditPodExec: AuditRule = {
  id: 'audit-pod-exec',
  title: 'Command executed in a container',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1609'],
  references: [
    mitreUrl('T1609'),
    'https://kubernetes.io/docs/tasks/debug/debug-application/get-shell-running-container/',
  ],
  rationale:
    'kubectl exec runs any command inside a running container with its identity, mounts and service-account token. Attackers use it to move from the API into workloads; in kube-system it reaches the control plane.',
  remediation:
    'Confirm who ran the command and why. Grant pods/exec only to break-glass roles, prefer ephemeral debug containers with audit trails, and deny exec in kube-system.',
  check(ev) {
    if (!podSub(ev, 'exec')) return [];
    const sys = ev.resource.namespace === 'kube-system';
    return [
      {
        message: `${ev.user} ran a command in pod ${where(ev)}${sys ? ' (kube-system)' : ''}`,
        ...(sys ? { severity: 'critical' as const } : {}),
      },
    ];
  },
};

export const auditPodAttach: AuditRule = {
  id: 'audit-pod-attach',
  title: 'Attached to a running container',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1609'],
  references: [mitreUrl('T1609'), K8S_AUDIT],
  rationale:
    'kubectl attach connects to the main process of a container: its standard input and output. Like exec, it gives interactive access to a workload.',
  remediation:
    'Confirm the session was expected. Grant pods/attach only to break-glass roles; deny it in kube-system.',
  check(ev) {
    if (!podSub(ev, 'attach')) return [];
    const sys = ev.resource.namespace === 'kube-system';
    return [
      {
        message: `${ev.user} attached to pod ${where(ev)}`,
        ...(sys ? { severity: 'critical' as const } : {}),
      },
    ];
  },
};

export const auditPodPortForward: AuditRule = {
  id: 'audit-pod-port-forward',
  title: 'Port forwarded into a pod',
  severity: 'medium',
  category: AUDIT_CATEGORY,
  mitre: [],
  references: [
    'https://kubernetes.io/docs/tasks/access-application-cluster/port-forward-access-application-cluster/',
    K8S_AUDIT,
  ],
  rationale:
    'Port forwarding tunnels a connection from the client straight to a pod, past Services, Ingresses and NetworkPolicies: a way to reach internal endpoints (databases, admin ports) from outside.',
  remediation:
    'Confirm the tunnel was expected. Grant pods/portforward only to the people who need it; deny it in kube-system.',
  check(ev) {
    if (!podSub(ev, 'portforward')) return [];
    const sys = ev.resource.namespace === 'kube-system';
    return [
      {
        message: `${ev.user} forwarded a port to pod ${where(ev)}`,
        ...(sys ? { severity: 'high' as const } : {}),
      },
    ];
  },
};

export const auditEphemeralContainer: AuditRule = {
  id: 'audit-ephemeral-container',
  title: 'Ephemeral container added to a pod',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1609'],
  references: [mitreUrl('T1609'), 'https://kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/'],
  rationale:
    "kubectl debug adds an ephemeral container to a running pod: any image, sharing the pod's network and (with --target) its process namespace, reading its files and token.",
  remediation: 'Confirm the debugging session. Restrict pods/ephemeralcontainers to break-glass roles.',
  check(ev) {
    if (!(podSub(ev, 'ephemeralcontainers') && (ev.verb === 'update' || ev.verb === 'patch'))) return [];
    const sys = ev.resource.namespace === 'kube-system';
    return [
      {
        message: `${ev.user} added an ephemeral container to pod ${where(ev)}`,
        ...(sys ? { severity: 'critical' as const } : {}),
      },
    ];
  },
};

export const auditNodeProxy: AuditRule = {
  id: 'audit-node-proxy',
  title: 'Kubelet API reached through nodes/proxy',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1609'],
  references: [mitreUrl('T1609'), `${K8S_RBAC_GOOD}#access-to-proxy-subresource-of-nodes`],
  rationale:
    'nodes/proxy forwards requests to the kubelet API, which runs commands in any pod on the node without an exec audit event of its own.',
  remediation:
    'Confirm the caller; remove nodes/proxy from every role but the few monitoring agents that need it.',
  check(ev) {
    if (!(
      ev.resource.group === '' &&
      ev.resource.resource === 'nodes' &&
      ev.resource.subresource === 'proxy'
    ))
      return [];
    if (!succeeded(ev) || isControlPlane(ev.user)) return [];
    return [{ message: `${ev.user} used ${ev.verb} on ${resourceLabel(ev)}` }];
  },
};

const WORKLOADS: readonly (readonly [string, string])[] = [
  ['', 'pods'],
  ['apps', 'deployments'],
  ['apps', 'daemonsets'],
  ['apps', 'statefulsets'],
  ['apps', 'replicasets'],
  ['batch', 'jobs'],
  ['batch', 'cronjobs'],
];

export function isWorkloadResource(ev: AuditEvent): boolean {
  return (
    ev.resource.subresource === '' &&
    WORKLOADS.some(([g, r]) => ev.resource.group === g && ev.resource.resource === r)
  );
}

export const auditKubeSystemWorkload: AuditRule = {
  id: 'audit-kube-system-workload-created',
  title: 'Workload created in kube-system by a person',
  severity: 'medium',
  category: AUDIT_CATEGORY,
  mitre: ['T1610'],
  references: [mitreUrl('T1610'), K8S_AUDIT],
  rationale:
    'Pods in kube-system run beside the control plane, often with powerful service accounts and exempt from Pod Security. A workload created there by anyone but the control plane or the approved pipeline is a common persistence step.',
  remediation:
    'Confirm the change; deploy add-ons through the approved pipeline and keep people out of kube-system.',
  check(ev, ctx) {
    if (
      ev.verb !== 'create' ||
      ev.resource.namespace !== 'kube-system' ||
      !isWorkloadResource(ev) ||
      !succeeded(ev)
    )
      return [];
    if (isControlPlane(ev.user) || matchesAny(ctx.settings.approvedChangers, ev.user)) return [];
    return [{ message: `${ev.user} created ${resourceLabel(ev)}` }];
  },
};
