/**
 * Registry credentials from a Docker config (`~/.docker/config.json`, and the
 * `.dockerconfigjson` of a kubernetes.io/dockerconfigjson pull secret, which has the same shape):
 * `auths` keyed by registry, with `auth` (base64 user:password), `username`/`password`, or a
 * `registrytoken` sent as a bearer token. Keys may carry a scheme and a path
 * (https://index.docker.io/v1/); Docker Hub answers to docker.io, index.docker.io and
 * registry-1.docker.io. Credential helpers (credsStore) are not run.
 */
import type { Credentials } from './registry.ts';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  registrytoken?: string;
  identitytoken?: string;
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** host[:port] of an auths key: scheme and path dropped, Docker Hub's names made one. */
export function registryHost(key: string): string {
  const host =
    key
      .trim()
      .replace(/^[a-z]+:\/\//i, '')
      .split('/')[0]
      ?.toLowerCase() ?? '';
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

/**
 * The credentials a Docker config gives for `registry`, or undefined (none listed). Throws on an
 * entry that is there but unusable, naming why (a pull secret Vigil may read but cannot use
 * should be reported, not silently tried anonymously).
 */
export function credentialsFromDockerConfig(config: unknown, registry: string): Credentials | undefined {
  const auths = (config as { auths?: Record<string, AuthEntry> } | null)?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  const want = registryHost(registry);
  const entry = Object.entries(auths).find(([k]) => registryHost(k) === want)?.[1];
  if (!entry) return undefined;
  if (entry.registrytoken) return { token: entry.registrytoken };
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new Error(`the auth of ${want} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.identitytoken)
    throw new Error(
      `the entry for ${want} has only an identity token (OAuth refresh), which Vigil does not exchange`,
    );
  throw new Error(`the entry for ${want} has no auth, username/password or registrytoken`);
}
