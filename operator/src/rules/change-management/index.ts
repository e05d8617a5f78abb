import type { Rule } from '../../engine/types.ts';
import { exceptionExpired } from './exception-expired.ts';
import { ownershipLabels } from './ownership-labels.ts';
import { unapprovedFieldManager } from './unapproved-field-manager.ts';

/** Rules of the `change-management` category. */
export const rules: Rule[] = [exceptionExpired, unapprovedFieldManager, ownershipLabels];
