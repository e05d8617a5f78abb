import type { Rule } from '../../engine/types.ts';

/** Rules of the `supply-chain` category. */
export const rules: Rule[] = [];
