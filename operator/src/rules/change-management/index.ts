import type { Rule } from '../../engine/types.ts';
import { exceptionExpired } from './exception-expired.ts';

/** Rules of the `change-management` category. */
export const rules: Rule[] = [exceptionExpired];
