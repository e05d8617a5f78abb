import type { Rule } from '../../engine/types.ts';

/** Rules of the `network` category. */
export const rules: Rule[] = [];
