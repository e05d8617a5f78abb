import type { Rule } from '../../engine/types.ts';
import { helmTiller } from './helm-tiller.ts';
import { jupyterWithoutAuth } from './jupyter-no-auth.ts';
import { kubectlProxyExposed } from './kubectl-proxy.ts';
import { dashboardClusterAdmin, dashboardInsecureFlags } from './kubernetes-dashboard.ts';
import { weaveScope } from './weave-scope.ts';

/** Rules of the `management-tools` category. */
export const rules: Rule[] = [
  dashboardInsecureFlags,
  dashboardClusterAdmin,
  helmTiller,
  weaveScope,
  kubectlProxyExposed,
  jupyterWithoutAuth,
];
