import type { Rule } from '../../engine/types.ts';
import { configMapSecret } from './configmap-secrets.ts';
import { hardcodedSecret, knownCredential } from './container-secrets.ts';
import { secretAsEnv } from './secret-env.ts';

/** Rules of the `secrets` category. */
export const rules: Rule[] = [knownCredential, hardcodedSecret, configMapSecret, secretAsEnv];
