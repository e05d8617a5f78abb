/**
 * Kubernetes credentials for KubeClient, without loading
 * @kubernetes/client-node when it is not needed.
 *
 * Importing client-node loads its whole generated API (thousands of model
 * classes): about 80 MiB of resident memory and a second of CPU at start, for
 * an operator that only needs a server URL, TLS material and a token. The two
 * cases an operator meets in practice are handled here directly, with
 * client-node's semantics:
 *
 * - in cluster (no KUBECONFIG, no ~/.kube/config, a service-account token
 *   file): `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (http
 *   for ports 80, 8080 and 8001; IPv6 hosts bracketed), the service-account
 *   CA, and the token file re-read every 60 s (client-go's and client-node's
 *   interval), so projected tokens rotate;
 * - a kubeconfig file whose current context uses only a server, a CA
 *   (`certificate-authority[-data]`), `insecure-skip-tls-verify`,
 *   `tls-server-name`, client certificates (`client-certificate[-data]`,
 *   `client-key[-data]`), `token` or `token-file`. Relative file paths are
 *   resolved against the kubeconfig's directory; files are re-read every 60 s.
 *
 * Everything else — exec plugins, auth providers, basic auth, impersonation,
 * proxies, unknown fields, KUBECONFIG lists and ~/.kube/config — goes to
 * client-node's KubeConfig, imported on demand, so no configuration that
 * worked before stops working.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseYaml } from '../yaml.ts';

/** What KubeClient needs from a kubeconfig (client-node's KubeConfig has the same shape). */
export interface KubeAuth {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long file contents (token, CA, certificates) are reused before being read again. */
export const FILE_REFRESH_MS = 60_000;

/** A value given inline (base64 for certificates) or as a file to read. */
type Source = { data: Buffer } | { file: string };

export interface Credentials {
  server: string;
  ca?: Source;
  cert?: Source;
  key?: Source;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  token?: { data: string } | { file: string };
}

/** KubeAuth from explicit credentials; files are read on first use and every FILE_REFRESH_MS. */
export class StaticKubeAuth implements KubeAuth {
  readonly credentials: Credentials;
  private readonly now: () => number;
  private readonly files = new Map<string, { at: number; data: Buffer }>();

  constructor(credentials: Credentials, now: () => number = Date.now) {
    this.credentials = credentials;
    this.now = now;
  }

  getCurrentCluster(): { server: string } {
    return { server: this.credentials.server };
  }

  applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const c = this.credentials;
    if (c.insecureSkipTLSVerify) opts.rejectUnauthorized = false;
    if (c.tlsServerName) opts.servername = c.tlsServerName;
    const ca = this.read(c.ca);
    if (ca) opts.ca = ca;
    const cert = this.read(c.cert);
    if (cert) opts.cert = cert;
    const key = this.read(c.key);
    if (key) opts.key = key;
    const token = c.token && ('data' in c.token ? c.token.data : this.read(c.token)?.toString('utf8'));
    if (token) {
      const headers = opts.headers !== undefined && !Array.isArray(opts.headers) ? opts.headers : {};
      opts.headers = { ...(headers as Record<string, string>), Authorization: `Bearer ${token.trim()}` };
    }
    return Promise.resolve();
  }

  private read(src: Source | { file: string } | undefined): Buffer | undefined {
    if (!src) return undefined;
    if ('data' in src) return src.data;
    const cached = this.files.get(src.file);
    const now = this.now();
    if (cached && now - cached.at <= FILE_REFRESH_MS) return cached.data;
    const data = readFileSync(src.file);
    this.files.set(src.file, { at: now, data });
    return data;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const named = (list: unknown, name: unknown): Obj | undefined =>
  Array.isArray(list) ? (list as unknown[]).find((e): e is Obj => isObj(e) && e['name'] === name) : undefined;

const CLUSTER_KEYS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_KEYS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'token-file',
  'extensions',
]);

/**
 * Credentials of a kubeconfig's current context, or the reason it needs
 * client-node. `baseDir` resolves relative file paths.
 */
export function credentialsFromKubeconfig(text: string, baseDir: string): Credentials | string {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return 'not parseable here';
  }
  if (!isObj(doc)) return 'not a kubeconfig';
  const ctx = named(doc['contexts'], doc['current-context'])?.['context'];
  if (!isObj(ctx)) return 'no current context';
  const cluster = named(doc['clusters'], ctx['cluster'])?.['cluster'];
  const user = ctx['user'] === undefined ? {} : named(doc['users'], ctx['user'])?.['user'];
  if (!isObj(cluster) || typeof cluster['server'] !== 'string' || cluster['server'] === '')
    return 'no cluster server';
  if (!isObj(user)) return 'no user';
  for (const k of Object.keys(cluster)) if (!CLUSTER_KEYS.has(k)) return `cluster uses ${k}`;
  for (const k of Object.keys(user)) if (!USER_KEYS.has(k)) return `user uses ${k}`;
  const file = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? (isAbsolute(v) ? v : join(baseDir, v)) : undefined;
  const source = (fileKey: unknown, dataKey: unknown): Source | undefined => {
    const f = file(fileKey);
    if (f) return { file: f };
    return typeof dataKey === 'string' && dataKey !== ''
      ? { data: Buffer.from(dataKey, 'base64') }
      : undefined;
  };
  const c: Credentials = { server: cluster['server'].replace(/\/$/, '') };
  const ca = source(cluster['certificate-authority'], cluster['certificate-authority-data']);
  if (ca) c.ca = ca;
  const cert = source(user['client-certificate'], user['client-certificate-data']);
  if (cert) c.cert = cert;
  const key = source(user['client-key'], user['client-key-data']);
  if (key) c.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) c.insecureSkipTLSVerify = true;
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '')
    c.tlsServerName = cluster['tls-server-name'];
  if (typeof user['token'] === 'string' && user['token'] !== '') c.token = { data: user['token'] };
  else {
    const tf = file(user['token-file']);
    if (tf) c.token = { file: tf };
  }
  return c;
}

/** In-cluster credentials (client-node's loadFromCluster), or why not. */
export function inClusterCredentials(
  env: NodeJS.ProcessEnv,
  dir: string = SERVICE_ACCOUNT_DIR,
): Credentials | string {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) return 'KUBERNETES_SERVICE_HOST/PORT not set';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca: { file: join(dir, 'ca.crt') },
    token: { file: join(dir, 'token') },
  };
}

export interface LoadedAuth {
  auth: KubeAuth;
  /** Where the credentials came from, for the start-up log. */
  source: string;
}

/**
 * The operator's credentials: `path` (--kubeconfig) when given, else what
 * client-node's loadFromDefault would pick (KUBECONFIG, ~/.kube/config, the
 * in-cluster service account). client-node is imported only when needed.
 */
export async function loadKubeAuth(
  path?: string,
  env: NodeJS.ProcessEnv = process.env,
  saDir: string = SERVICE_ACCOUNT_DIR,
  home: string = homedir(),
): Promise<LoadedAuth> {
  if (path) {
    const full = resolve(path);
    const c = credentialsFromKubeconfig(readFileSync(full, 'utf8'), dirname(full));
    if (typeof c !== 'string') return { auth: new StaticKubeAuth(c), source: `kubeconfig ${path}` };
    return clientNode((kc) => kc.loadFromFile(path), `kubeconfig ${path} through client-node (${c})`);
  }
  const defaultFile = join(home, '.kube', 'config');
  if (!env['KUBECONFIG'] && !existsSync(defaultFile) && existsSync(join(saDir, 'token'))) {
    const c = inClusterCredentials(env, saDir);
    if (typeof c !== 'string') return { auth: new StaticKubeAuth(c), source: 'in-cluster service account' };
  }
  return clientNode((kc) => kc.loadFromDefault(), 'default kubeconfig through client-node');
}

async function clientNode(
  load: (kc: import('@kubernetes/client-node').KubeConfig) => void,
  source: string,
): Promise<LoadedAuth> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  load(kc);
  return { auth: kc, source };
}
