import type { Rule } from '../../engine/types.ts';

/** Rules of the `workload` category. */
export const rules: Rule[] = [];
