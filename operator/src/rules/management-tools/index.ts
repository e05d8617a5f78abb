import type { Rule } from '../../engine/types.ts';

/** Rules of the `management-tools` category. */
export const rules: Rule[] = [];
