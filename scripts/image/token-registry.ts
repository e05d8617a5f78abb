/**
 * A third local registry for the bearer-token path of image analysis: Debian's docker-registry
 * over TLS with `auth: token` (the distribution token protocol), read-only on the plain
 * registry's storage. Its token server is `startTokenServer()`, run by the test that needs it:
 * HTTPS on 127.0.0.1:5445, basic credentials in, an RS256 JWT out (x5c: a certificate the
 * registry trusts through its rootcertbundle) granting pull on the scope asked for.
 */
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCert } from '../../operator/src/testing/certs.ts';
import { serveRegistry, tlsStatus } from './registry.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** VIGIL_TOKEN_REGISTRY and VIGIL_TOKEN_SERVER move them (see AUTH_REGISTRY). */
export const TOKEN_REGISTRY = process.env['VIGIL_TOKEN_REGISTRY'] || '127.0.0.1:5444';
export const TOKEN_SERVER = process.env['VIGIL_TOKEN_SERVER'] || '127.0.0.1:5445';
const SERVICE = 'vigil-test-registry';
const ISSUER = 'vigil-test-token-issuer';

export interface TokenRegistry {
  addr: string;
  ca: Buffer;
  caFile: string;
  username: string;
  password: string;
}

function selfSigned(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  if (!existsSync(cert) || !existsSync(key))
    selfSignedCert({ cert, key }, { subject: `/CN=${cn}`, key: 'rsa', days: 3650, sans: ['IP:127.0.0.1'] });
  return { cert, key };
}

const stateDir = join(ROOT, '.vigil', 'registry-token');

/** Starts the token-auth registry unless it answers; resolves when /v2/ answers 401. */
export async function ensureTokenRegistry(
  dataDir: string = join(ROOT, '.vigil', 'registry', 'data'),
): Promise<TokenRegistry> {
  mkdirSync(stateDir, { recursive: true });
  const tls = selfSigned(stateDir, 'tls', 'vigil test token registry');
  const signer = selfSigned(stateDir, 'token', 'vigil test token signer');
  const passFile = join(stateDir, 'password');
  if (!existsSync(passFile)) writeFileSync(passFile, randomBytes(12).toString('hex'), { mode: 0o600 });
  const ca = readFileSync(tls.cert);
  const out = {
    addr: TOKEN_REGISTRY,
    ca,
    caFile: tls.cert,
    username: 'vigil',
    password: readFileSync(passFile, 'utf8').trim(),
  };
  if ((await tlsStatus(TOKEN_REGISTRY, ca)) === 401) return out;
  await serveRegistry({
    name: 'token registry',
    addr: TOKEN_REGISTRY,
    stateDir,
    lines: [
      `storage: {filesystem: {rootdirectory: ${dataDir}}, maintenance: {readonly: {enabled: true}}}`,
      `http: {addr: "${TOKEN_REGISTRY}", tls: {certificate: ${tls.cert}, key: ${tls.key}}}`,
      `auth: {token: {realm: "https://${TOKEN_SERVER}/token", service: ${SERVICE}, issuer: ${ISSUER}, rootcertbundle: ${signer.cert}}}`,
    ],
    ready: async () => (await tlsStatus(TOKEN_REGISTRY, ca)) === 401,
  });
  return out;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export interface TokenServer {
  /** Token requests served: [user or "anonymous", scope, status]. */
  log: [string, string, number][];
  close(): Promise<void>;
}

/** The token endpoint the registry's realm names; grants pull to the right basic credentials. */
export async function startTokenServer(reg: TokenRegistry): Promise<TokenServer> {
  const tls = {
    cert: readFileSync(join(stateDir, 'tls-cert.pem')),
    key: readFileSync(join(stateDir, 'tls-key.pem')),
  };
  const signerCert = new X509Certificate(readFileSync(join(stateDir, 'token-cert.pem')));
  const signerKey = createPrivateKey(readFileSync(join(stateDir, 'token-key.pem')));
  const log: TokenServer['log'] = [];
  const server = https.createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${TOKEN_SERVER}`);
    const scope = url.searchParams.get('scope') ?? '';
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, pass] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    if (
      url.pathname !== '/token' ||
      url.searchParams.get('service') !== SERVICE ||
      user !== reg.username ||
      pass !== reg.password
    ) {
      log.push([user ?? 'anonymous', scope, 401]);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const m = /^repository:([^:]+):(.+)$/.exec(scope);
    const access = m
      ? [{ type: 'repository', name: m[1], actions: (m[2] ?? '').split(',').filter((a) => a === 'pull') }]
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [signerCert.raw.toString('base64')] };
    const claims = {
      iss: ISSUER,
      sub: user,
      aud: SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('RSA-SHA256', Buffer.from(input), signerKey))}`;
    log.push([user ?? '', scope, 200]);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(Number(TOKEN_SERVER.split(':')[1]), TOKEN_SERVER.split(':')[0], () => r());
  });
  const port = (server.address() as AddressInfo).port;
  if (`127.0.0.1:${port}` !== TOKEN_SERVER) throw new Error(`token server on ${port}`);
  return { log, close: () => new Promise((r) => server.close(() => r())) };
}
