import type { Rule } from '../../engine/types.ts';

/** Rules of the `pod-security` category. */
export const rules: Rule[] = [];
