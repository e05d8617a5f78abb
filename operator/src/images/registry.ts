/**
 * An OCI distribution API client (https://github.com/opencontainers/distribution-spec): manifests
 * and indexes (the linux/amd64 entry is chosen), the image config and layer blobs. Anonymous,
 * bearer-token (the WWW-Authenticate challenge sends us to a token endpoint) and basic auth.
 * Every manifest and blob is checked against its digest: blobs while they stream, so a layer is
 * never held in memory, and a mismatch fails the read at its end.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const ACCEPT = Object.values(MEDIA_TYPES).join(', ');

export interface ImageRef {
  /** host[:port] as written, docker.io for Docker Hub. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses IMAGE as container runtimes do: docker.io and library/ for short names, tag latest. */
export function parseReference(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`${ref}: the digest is not sha256:<64 hex>`);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry = 'docker.io';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (registry === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest))
    throw new Error(`${ref}: "${rest}" is not a repository name`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  const out: ImageRef = { registry, repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

export function formatReference(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

export type Credentials = { username: string; password: string } | { token: string };

export interface RegistryOptions {
  /** Credentials for a registry host (from a pull secret or the command line); none: anonymous. */
  credentials?: (registry: string) => Credentials | undefined;
  /** Plain HTTP for these hosts (default: HTTPS, and for loopback addresses HTTP when TLS fails). */
  plainHttp?: (registry: string) => boolean;
  /** Extra CA certificates (PEM) for TLS registries. */
  ca?: string | Buffer;
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number;
  /** Retries of a 429/502/503/504 answer (default 3) and the longest wait between them (30 s). */
  retries?: number;
  maxRetryDelayMs?: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string };
  rootfs?: { diff_ids?: string[] };
}

export interface ResolvedImage {
  ref: ImageRef;
  /** Digest of the image manifest (for a multi-platform image: of the chosen platform's). */
  digest: string;
  /** Digest of the index it was chosen from, when there was one. */
  indexDigest?: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

const hostOf = (registry: string): string => (registry === 'docker.io' ? 'registry-1.docker.io' : registry);
const isLoopback = (registry: string): boolean =>
  /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(registry);

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/** Parses a WWW-Authenticate challenge: scheme and its key="value" parameters. */
export function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const sp = h.indexOf(' ');
  const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"|([a-zA-Z_]+)=([^,\s]*)/g;
  for (const m of (sp < 0 ? '' : h.slice(sp + 1)).matchAll(re)) {
    const k = (m[1] ?? m[3] ?? '').toLowerCase();
    params[k] = m[2] ?? m[4] ?? '';
  }
  return { scheme, params };
}

async function readAll(body: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw new Error(`${what}: more than ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

const MAX_MANIFEST = 4 << 20;
const MAX_CONFIG = 8 << 20;

export class RegistryClient {
  private readonly opts: RegistryOptions;
  /** Authorization header per registry and scope, once a challenge was answered. */
  private readonly auth = new Map<string, string>();
  /** Requests sent, by kind, for tests and logs. */
  readonly stats = { requests: 0, tokenRequests: 0, bytes: 0, retries: 0 };

  constructor(opts: RegistryOptions = {}) {
    this.opts = opts;
  }

  /** Scheme found to work for a loopback registry (tried HTTPS first, as container runtimes do). */
  private readonly scheme = new Map<string, 'http' | 'https'>();

  private base(registry: string): string {
    const plain = this.opts.plainHttp ? this.opts.plainHttp(registry) : this.scheme.get(registry) === 'http';
    return `${plain ? 'http' : 'https'}://${hostOf(registry)}`;
  }

  /**
   * Sends to a registry. A loopback registry that does not speak TLS is retried over plain HTTP
   * once and remembered; any other TLS failure stays an error.
   */
  private async sendTo(registry: string, path: string, headers: Record<string, string>): Promise<Response> {
    // 429 and 502/503/504 are retried (Retry-After when it says, else 1 s, 2 s, 4 s; at most
    // maxRetryDelayMs a wait): rate limits and restarts are not the image's fault.
    for (let attempt = 0; ; attempt++) {
      const res = await this.sendOnce(registry, path, headers);
      if (![429, 502, 503, 504].includes(res.status) || attempt >= (this.opts.retries ?? 3)) return res;
      res.body.resume();
      const after = Number(res.headers['retry-after']);
      const wait = Math.min(
        Number.isFinite(after) && after >= 0 ? after * 1000 : 1000 * 2 ** attempt,
        this.opts.maxRetryDelayMs ?? 30_000,
      );
      this.stats.retries++;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async sendOnce(registry: string, path: string, headers: Record<string, string>): Promise<Response> {
    const url = `${this.base(registry)}${path}`;
    try {
      return await this.send(url, headers);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const notTls =
        code === 'EPROTO' ||
        code === 'ECONNRESET' ||
        /wrong version number|packet length too long/.test(String(err));
      // Requests sent over TLS before the first of them failed (concurrent analyses) retry too.
      if (this.opts.plainHttp || !isLoopback(registry) || !url.startsWith('https:') || !notTls) throw err;
      this.scheme.set(registry, 'http');
      return this.send(`${this.base(registry)}${path}`, headers);
    }
  }

  private send(url: string, headers: Record<string, string>, redirects = 5): Promise<Response> {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'GET',
          headers: { 'user-agent': 'vigil', ...headers },
          ...(u.protocol === 'https:' && this.opts.ca ? { ca: this.opts.ca } : {}),
          timeout: this.opts.timeoutMs ?? 60_000,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const loc = res.headers.location;
          if (status >= 300 && status < 400 && loc && redirects > 0) {
            res.resume();
            const next = new URL(loc, u);
            // Blob storage behind a redirect gets no registry credentials.
            const h = { ...headers };
            if (next.host !== u.host) delete h['authorization'];
            this.send(next.toString(), h, redirects - 1).then(resolve, reject);
            return;
          }
          resolve({ status, headers: res.headers, body: res });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${u.host}: no answer in ${this.opts.timeoutMs ?? 60_000} ms`)),
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** GET with the auth dance: anonymous first, then whatever the 401 challenge asks for. */
  private async get(ref: ImageRef, path: string, accept?: string): Promise<Response> {
    const url = `/v2/${ref.repository}/${path}`;
    const key = `${ref.registry}\u0000${ref.repository}`;
    const headers: Record<string, string> = accept ? { accept } : {};
    const cached = this.auth.get(key);
    let res = await this.sendTo(ref.registry, url, cached ? { ...headers, authorization: cached } : headers);
    if (res.status !== 401) return res;
    res.body.resume();
    const challenge = res.headers['www-authenticate'];
    if (!challenge) throw new Error(`${ref.registry}: 401 without a WWW-Authenticate challenge`);
    const authz = await this.answer(ref, parseChallenge(challenge));
    this.auth.set(key, authz);
    res = await this.sendTo(ref.registry, url, { ...headers, authorization: authz });
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw new Error(
        `${ref.registry}/${ref.repository}: access denied (${res.status}) ${
          this.opts.credentials?.(ref.registry)
            ? 'with the credentials given'
            : 'anonymously; credentials are needed'
        }`,
      );
    }
    return res;
  }

  private async answer(
    ref: ImageRef,
    ch: { scheme: string; params: Record<string, string> },
  ): Promise<string> {
    const creds = this.opts.credentials?.(ref.registry);
    const basic =
      creds && 'username' in creds
        ? Buffer.from(`${creds.username}:${creds.password}`).toString('base64')
        : undefined;
    if (ch.scheme === 'basic') {
      if (!basic) throw new Error(`${ref.registry} asks for basic auth and no credentials were given`);
      return `Basic ${basic}`;
    }
    if (ch.scheme !== 'bearer') throw new Error(`${ref.registry}: unsupported auth scheme "${ch.scheme}"`);
    if (creds && 'token' in creds) return `Bearer ${creds.token}`;
    const realm = ch.params['realm'];
    if (!realm) throw new Error(`${ref.registry}: bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params['service']) url.searchParams.set('service', ch.params['service']);
    url.searchParams.set('scope', ch.params['scope'] ?? `repository:${ref.repository}:pull`);
    this.stats.tokenRequests++;
    const res = await this.send(url.toString(), basic ? { authorization: `Basic ${basic}` } : {});
    const body = await readAll(res.body, 1 << 20, `${url.host} token`);
    if (res.status !== 200)
      throw new Error(`${ref.registry}: the token endpoint ${url.host} answered ${res.status}`);
    const doc = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
    const token = doc.token ?? doc.access_token;
    if (!token) throw new Error(`${ref.registry}: the token endpoint gave no token`);
    return `Bearer ${token}`;
  }

  /** A manifest or index by tag or digest, with its digest checked. */
  async manifest(
    ref: ImageRef,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; body: Buffer }> {
    const res = await this.get(ref, `manifests/${reference}`, ACCEPT);
    const body = await readAll(res.body, MAX_MANIFEST, `manifest ${reference}`);
    if (res.status !== 200)
      throw new Error(
        `${formatReference(ref)}: manifest ${reference} answered ${res.status}: ${body.toString('utf8', 0, 200)}`,
      );
    this.stats.bytes += body.length;
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new Error(`${formatReference(ref)}: manifest digest is ${digest}, asked for ${reference}`);
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest)
      throw new Error(`${formatReference(ref)}: registry says ${claimed}, the manifest hashes to ${digest}`);
    const declared = (JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType;
    const ct = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    return { digest, mediaType: declared ?? ct, body };
  }

  /** The image for the wanted platform: manifest, config (digest-checked), digests. */
  async resolve(ref: ImageRef): Promise<ResolvedImage> {
    const want = this.opts.platform ?? { os: 'linux', architecture: 'amd64' };
    let m = await this.manifest(ref, ref.digest ?? ref.tag ?? 'latest');
    let indexDigest: string | undefined;
    if (m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList) {
      const index = JSON.parse(m.body.toString('utf8')) as { manifests?: Descriptor[] };
      const pick = (index.manifests ?? []).find(
        (d) =>
          d.platform?.os === want.os &&
          d.platform.architecture === want.architecture &&
          (want.variant === undefined || d.platform.variant === want.variant),
      );
      if (!pick)
        throw new Error(
          `${formatReference(ref)}: no ${want.os}/${want.architecture} image in the index (has ${(
            index.manifests ?? []
          )
            .map((d) => `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`)
            .join(', ')})`,
        );
      indexDigest = m.digest;
      m = await this.manifest(ref, pick.digest);
    }
    const manifest = JSON.parse(m.body.toString('utf8')) as ImageManifest;
    if (!manifest.config || !Array.isArray(manifest.layers))
      throw new Error(`${formatReference(ref)}: ${m.mediaType || 'the manifest'} is not an image manifest`);
    const config = JSON.parse(
      (await this.blob(ref, manifest.config, MAX_CONFIG)).toString('utf8'),
    ) as ImageConfig;
    const out: ResolvedImage = { ref, digest: m.digest, manifest, config };
    if (indexDigest) out.indexDigest = indexDigest;
    return out;
  }

  /** A small blob (the config), read whole and checked. */
  async blob(ref: ImageRef, d: Descriptor, max: number): Promise<Buffer> {
    if (d.size > max) throw new Error(`${d.digest}: ${d.size} bytes, more than ${max}`);
    const chunks: Buffer[] = [];
    for await (const c of this.blobStream(ref, d)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  /**
   * A blob's bytes as they arrive. Hashes them on the way: when the last chunk is out, a size or
   * digest that differs from the descriptor throws (so whoever consumes the stream fails).
   */
  async *blobStream(ref: ImageRef, d: Descriptor): AsyncGenerator<Buffer> {
    if (!d.digest.startsWith('sha256:')) throw new Error(`${d.digest}: only sha256 digests are supported`);
    const res = await this.get(ref, `blobs/${d.digest}`);
    if (res.status !== 200) {
      const text = await readAll(res.body, 4096, 'error body').catch(() => Buffer.alloc(0));
      throw new Error(
        `${formatReference(ref)}: blob ${d.digest} answered ${res.status}: ${text.toString('utf8', 0, 200)}`,
      );
    }
    for await (const c of verified(res.body as AsyncIterable<Buffer>, d, () => res.body.destroy())) {
      this.stats.bytes += c.length;
      yield c;
    }
  }
}

/**
 * Passes a blob's bytes through, hashing them: once the last one is out, a size or digest that
 * differs from the descriptor throws, so whoever consumes the stream fails.
 */
export async function* verified(
  source: AsyncIterable<Buffer>,
  d: Descriptor,
  abort: () => void = () => undefined,
): AsyncGenerator<Buffer> {
  if (!d.digest.startsWith('sha256:')) throw new Error(`${d.digest}: only sha256 digests are supported`);
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of source) {
    hash.update(c);
    n += c.length;
    if (n > d.size) {
      abort();
      throw new Error(`blob ${d.digest}: more than the ${d.size} bytes the manifest says`);
    }
    yield c;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (n !== d.size) throw new Error(`blob ${d.digest}: ${n} bytes, the manifest says ${d.size}`);
  if (got !== d.digest) throw new Error(`blob ${d.digest}: the content hashes to ${got}`);
}
