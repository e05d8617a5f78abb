import type { Rule } from '../../engine/types.ts';
import { kubernetesCve, kubernetesUnfixedCve } from './kubernetes-cve.ts';
import { kubernetesEol } from './kubernetes-eol.ts';
import { containerRuntimeCve } from './container-runtime-cve.ts';
import { osEol } from './os-eol.ts';
import { kernelEol } from './kernel-eol.ts';

/** Rules of the `platform` category: cluster and node versions against the bundled dataset in data/platform/. */
export const rules: Rule[] = [
  kubernetesCve,
  kubernetesUnfixedCve,
  kubernetesEol,
  containerRuntimeCve,
  osEol,
  kernelEol,
];
