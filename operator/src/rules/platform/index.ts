import type { Rule } from '../../engine/types.ts';

/** Rules of the `platform` category. */
export const rules: Rule[] = [];
