import type { Rule } from '../../engine/types.ts';
import { ingressWithoutTls } from './ingress-tls.ts';
import { namespaceNotIsolated, workloadNotIsolated } from './namespace-isolation.ts';
import { serviceExposed } from './service-exposure.ts';
import { serviceExternalIPs } from './service-external-ips.ts';

/** Rules of the `network` category. */
export const rules: Rule[] = [
  namespaceNotIsolated,
  workloadNotIsolated,
  serviceExternalIPs,
  ingressWithoutTls,
  serviceExposed,
];
