import type { Rule } from '../../engine/types.ts';

/** Rules of the `secrets` category. */
export const rules: Rule[] = [];
