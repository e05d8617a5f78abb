import type { Rule } from '../../engine/types.ts';
import { registryNotAllowed } from './allowed-registries.ts';
import { imageContentRules } from './image-contents.ts';
import { latestTag, notPinnedByDigest, pullPolicyStale } from './image-tags.ts';

/** Rules of the `supply-chain` category. */
export const rules: Rule[] = [
  latestTag,
  notPinnedByDigest,
  pullPolicyStale,
  registryNotAllowed,
  ...imageContentRules,
];
