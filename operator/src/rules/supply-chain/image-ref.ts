/**
 * A small, pure parser for container image references with the semantics the
 * kubelet and container runtimes apply (the "docker reference" grammar and its
 * normalisation of familiar names):
 *
 *   [registry[:port]/]path[:tag][@algorithm:hex]
 *
 * - The first path element is a registry host when it contains "." or ":",
 *   is "localhost", or has upper-case letters; otherwise the registry is Docker
 *   Hub. A single-element name has no registry: "nginx:1.27" is Docker Hub's
 *   "library/nginx".
 * - "index.docker.io" is the legacy name of Docker Hub and becomes "docker.io";
 *   official images get the "library/" prefix ("docker.io/nginx" →
 *   "docker.io/library/nginx").
 * - Path elements are lower case, "[a-z0-9]+" joined by ".", "_", "__" or runs
 *   of "-". Tags are "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}". Registry hosts are
 *   DNS-like labels, IPv4, or bracketed IPv6, with an optional port. The full
 *   name is at most 255 characters.
 * - A reference may carry both a tag and a digest; the digest then decides what
 *   is pulled. Digests must be sha256 (64), sha384 (96) or sha512 (128)
 *   lower-case hex characters.
 * - A bare 64-hex string is an image id, not a name, and is rejected.
 */

export interface ImageRef {
  /** Registry host with optional port, normalised ("docker.io" for Docker Hub). */
  registry: string;
  /** Repository path inside the registry, e.g. "library/nginx". */
  repository: string;
  /** `${registry}/${repository}`. */
  name: string;
  tag?: string;
  /** "algorithm:hex". */
  digest?: string;
  /** True when the reference named no registry and Docker Hub was assumed. */
  implicitRegistry: boolean;
}

export type ParseResult = { ok: true; ref: ImageRef } | { ok: false; error: string };

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const NAME_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function validHost(host: string): boolean {
  let h = host;
  let port: string | undefined;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return false;
    const rest = h.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    h = h.slice(0, end + 1);
    if (!IPV6.test(h)) return false;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) {
      port = h.slice(colon + 1);
      h = h.slice(0, colon);
    }
    if (!h.split('.').every((l) => DOMAIN_LABEL.test(l))) return false;
  }
  return port === undefined || PORT.test(port);
}

function validDigest(d: string): boolean {
  const colon = d.indexOf(':');
  if (colon < 0) return false;
  const want = DIGEST_LENGTHS[d.slice(0, colon)];
  const hex = d.slice(colon + 1);
  return want !== undefined && hex.length === want && /^[a-f0-9]+$/.test(hex);
}

/** Parses an image reference; never throws. */
export function parseImageRef(input: unknown): ParseResult {
  if (typeof input !== 'string') return { ok: false, error: 'image is not a string' };
  const s = input;
  if (s === '') return { ok: false, error: 'image is empty' };
  if (/\s/.test(s)) return { ok: false, error: 'image contains whitespace' };
  if (IDENTIFIER.test(s)) return { ok: false, error: 'image is a 64-hex image id, not a name' };

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!validDigest(digest)) return { ok: false, error: 'invalid digest' };
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) return { ok: false, error: 'invalid tag' };
  }
  if (rest === '') return { ok: false, error: 'image has no repository name' };
  if (rest.length > NAME_MAX) return { ok: false, error: `image name is longer than ${NAME_MAX} characters` };

  let registry = DOCKER_HUB;
  let path = rest;
  let implicitRegistry = true;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first === 'localhost' ||
      first.includes('.') ||
      first.includes(':') ||
      first.toLowerCase() !== first
    ) {
      if (!validHost(first)) return { ok: false, error: 'invalid registry host' };
      registry = first === LEGACY_DOCKER_HUB ? DOCKER_HUB : first;
      path = rest.slice(slash + 1);
      implicitRegistry = false;
    }
  }
  const parts = path.split('/');
  if (!parts.every((p) => PATH_COMPONENT.test(p)))
    return { ok: false, error: 'invalid repository path (lower-case letters, digits and separators only)' };
  if (registry === DOCKER_HUB && parts.length === 1) path = `library/${path}`;

  const ref: ImageRef = { registry, repository: path, name: `${registry}/${path}`, implicitRegistry };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, ref };
}

/**
 * Does an allow-list entry cover the reference? Entries are compared case-insensitively:
 * - a host ("ghcr.io", "registry.local:5000", "*.dkr.ecr.eu-west-1.amazonaws.com"; `*`/`?` globs
 *   match within the host) matches every image of that registry;
 * - "docker.io", "index.docker.io" and "registry-1.docker.io" all mean Docker Hub;
 * - an entry with a path ("ghcr.io/acme", "docker.io/library") matches that repository and
 *   everything below it, at path-element boundaries ("ghcr.io/acme" does not match "ghcr.io/acme-evil/x").
 */
export function registryAllowed(ref: ImageRef, entry: string): boolean {
  let e = entry.trim().toLowerCase().replace(/\/+$/, '');
  if (e === '') return false;
  e = e.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = e.indexOf('/');
  let host = slash < 0 ? e : e.slice(0, slash);
  const prefix = slash < 0 ? '' : e.slice(slash + 1);
  if (host === LEGACY_DOCKER_HUB || host === 'registry-1.docker.io') host = DOCKER_HUB;
  const registry = ref.registry.toLowerCase();
  if (!hostGlob(host, registry)) return false;
  if (prefix === '') return true;
  return ref.repository === prefix || ref.repository.startsWith(`${prefix}/`);
}

function hostGlob(pattern: string, host: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === host;
  const src = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${src}$`).test(host);
}
