import type { Rule } from '../../engine/types.ts';

/** Rules of the `rbac` category. */
export const rules: Rule[] = [];
