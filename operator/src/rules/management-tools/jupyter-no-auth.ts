/**
 * Jupyter (notebook, lab, server) started with an empty token and no password:
 * --NotebookApp.token='' / --ServerApp.token='' / --IdentityProvider.token=''.
 * A notebook is remote code execution by design, so an unauthenticated one
 * gives a shell in the pod (with its service account and mounted secrets) to
 * anyone who reaches it. High; critical when reachable from outside the cluster
 * or the service account is cluster-admin.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  aggravated,
  contextText,
  flagValue,
  hit,
  riskContext,
  toolContainers,
  type ToolContainer,
  where,
} from './_tools.ts';

const TOKEN_FLAGS = ['NotebookApp.token', 'ServerApp.token', 'IdentityProvider.token'];
const PASSWORD_FLAGS = [
  'NotebookApp.password',
  'ServerApp.password',
  'PasswordIdentityProvider.hashed_password',
];

function isJupyter(c: ToolContainer): boolean {
  return c.argv.some((a) => {
    const base = a.slice(a.lastIndexOf('/') + 1);
    return (
      base.startsWith('jupyter') || base.startsWith('start-notebook') || base.startsWith('start-singleuser')
    );
  });
}

function empty(v: string | undefined): boolean {
  return v !== undefined && (v === '' || v === "''" || v === '""');
}

export const jupyterWithoutAuth: Rule = {
  id: 'jupyter-without-authentication',
  title: 'Jupyter server runs without a token or password',
  severity: 'critical',
  category: 'management-tools',
  controls: ['NSA:Authentication', 'MITRE:T1133'],
  rationale:
    "A Jupyter server executes whatever code its users send. With the token set to an empty string and no password, anyone who can reach its port runs commands in the pod with the pod's service account token, cloud credentials and mounted secrets; internet scanners look for exactly these servers.",
  remediation:
    'Remove the empty --*.token= argument so Jupyter generates a token, or set a hashed password; put shared notebooks behind JupyterHub or an authenticating proxy, and do not expose them through NodePort or LoadBalancer Services.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    let rc;
    for (const c of toolContainers(obj, ctx)) {
      if (!isJupyter(c)) continue;
      const emptyToken = TOKEN_FLAGS.find((f) => empty(flagValue(c.argv, f)));
      if (!emptyToken) continue;
      const password = PASSWORD_FLAGS.some((f) => {
        const v = flagValue(c.argv, f);
        return v !== undefined && !empty(v);
      });
      if (password) continue;
      rc ??= riskContext(obj, ctx.index);
      hits.push(
        hit(
          c,
          `${where(c)} starts Jupyter with --${emptyToken}='' and no password: anyone who reaches it can run code${contextText(rc)}`,
          aggravated(rc) ? 'critical' : 'high',
        ),
      );
    }
    return hits;
  },
};
