/**
 * The registry flags `vigil sbom` and `vigil scan --images` share, kept apart from the registry
 * client (cli/images.ts) so that `vigil scan` loads the image code only when --images asks for it.
 */

/** parseArgs options of the registry flags. */
export const REGISTRY_FLAGS = {
  username: { type: 'string' },
  ca: { type: 'string' },
  'registry-config': { type: 'string' },
  'plain-http': { type: 'boolean' },
} as const;

/** Their --help lines. */
export const REGISTRY_HELP = `  --username USER        Registry user; the password is read from the environment
                         variable VIGIL_REGISTRY_PASSWORD (never from the command line).
                         VIGIL_REGISTRY_TOKEN instead sends a bearer token as is.
  --registry-config FILE A Docker config.json (or a pull secret's .dockerconfigjson):
                         the credentials listed for each image's registry.
  --ca FILE              PEM certificates to trust for a TLS registry.
  --plain-http           Talk HTTP, not HTTPS (default only for loopback registries).
`;

export interface RegistryFlagValues {
  username?: string | undefined;
  ca?: string | undefined;
  'registry-config'?: string | undefined;
  'plain-http'?: boolean | undefined;
}
