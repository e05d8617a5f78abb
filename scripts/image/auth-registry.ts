/**
 * A second local registry for the auth path of image analysis: Debian's docker-registry over TLS
 * (a self-signed certificate for 127.0.0.1 made with openssl) with htpasswd basic auth (a bcrypt
 * hash made with golang.org/x/crypto/bcrypt from the Go module cache), read-only, serving the
 * storage of the plain registry of registry.ts, so every image pushed there can be pulled here
 * with credentials. Started on demand and left running like the plain one.
 *
 *   node scripts/image/auth-registry.ts      prints the address, CA file and user
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCert } from '../../operator/src/testing/certs.ts';
import { serveRegistry, tlsStatus } from './registry.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** VIGIL_AUTH_REGISTRY moves it (a worktree beside another whose registries hold the defaults). */
export const AUTH_REGISTRY = process.env['VIGIL_AUTH_REGISTRY'] || '127.0.0.1:5443';
export const AUTH_USER = 'vigil';

export interface AuthRegistry {
  addr: string;
  caFile: string;
  ca: Buffer;
  username: string;
  password: string;
}

function bcrypt(password: string, work: string): string {
  const src = join(work, 'bcrypt');
  mkdirSync(src, { recursive: true });
  const env = { ...process.env, GOPROXY: 'off', GOSUMDB: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', env }).trim();
  const versions = existsSync(join(modcache, 'golang.org/x'))
    ? execFileSync('ls', [join(modcache, 'golang.org/x')], { encoding: 'utf8' })
        .split('\n')
        .filter((d) => d.startsWith('crypto@v'))
    : [];
  const version = versions.sort().pop()?.slice('crypto@'.length);
  if (!version)
    throw new Error(
      `no golang.org/x/crypto in ${modcache}: run "go mod download golang.org/x/crypto@latest"`,
    );
  writeFileSync(
    join(src, 'go.mod'),
    `module example.com/bcrypt\n\ngo 1.21\n\nrequire golang.org/x/crypto ${version}\n`,
  );
  writeFileSync(
    join(src, 'main.go'),
    'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"golang.org/x/crypto/bcrypt"\n)\n\nfunc main() {\n\th, err := bcrypt.GenerateFromPassword([]byte(os.Args[1]), bcrypt.DefaultCost)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Print(string(h))\n}\n',
  );
  return execFileSync('go', ['run', '.', password], { cwd: src, encoding: 'utf8', env }).trim();
}

/** Starts the TLS + basic-auth registry unless it answers; resolves when /v2/ answers 401. */
export async function ensureAuthRegistry(
  addr: string = AUTH_REGISTRY,
  stateDir: string = join(ROOT, '.vigil', 'registry-auth'),
  dataDir: string = join(ROOT, '.vigil', 'registry', 'data'),
): Promise<AuthRegistry> {
  mkdirSync(stateDir, { recursive: true });
  const caFile = join(stateDir, 'cert.pem');
  const keyFile = join(stateDir, 'key.pem');
  const passFile = join(stateDir, 'password');
  if (!existsSync(caFile) || !existsSync(keyFile))
    selfSignedCert(
      { cert: caFile, key: keyFile },
      {
        subject: '/CN=vigil test registry',
        key: 'rsa',
        days: 3650,
        sans: [`IP:${addr.split(':')[0] ?? '127.0.0.1'}`],
      },
    );
  if (!existsSync(passFile)) writeFileSync(passFile, randomBytes(12).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passFile, 'utf8').trim();
  const ca = readFileSync(caFile);
  const out = { addr, caFile, ca, username: AUTH_USER, password };
  if ((await tlsStatus(addr, ca)) === 401) return out;
  const htpasswd = join(stateDir, 'htpasswd');
  if (!existsSync(htpasswd)) writeFileSync(htpasswd, `${AUTH_USER}:${bcrypt(password, stateDir)}\n`);
  const bin = '/usr/bin/docker-registry';
  if (!existsSync(bin)) throw new Error(`${bin} is missing (scripts/setup.sh image installs it)`);
  mkdirSync(dataDir, { recursive: true });
  await serveRegistry({
    name: 'auth registry',
    addr,
    stateDir,
    lines: [
      `storage: {filesystem: {rootdirectory: ${dataDir}}, maintenance: {readonly: {enabled: true}}}`,
      `http: {addr: "${addr}", tls: {certificate: ${caFile}, key: ${keyFile}}}`,
      `auth: {htpasswd: {realm: vigil-test, path: ${htpasswd}}}`,
    ],
    ready: async () => (await tlsStatus(addr, ca)) === 401,
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await ensureAuthRegistry();
  console.log(
    `${r.addr} ca=${r.caFile} user=${r.username} password file=${join(dirname(r.caFile), 'password')}`,
  );
}
