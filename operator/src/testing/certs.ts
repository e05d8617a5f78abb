/**
 * Test PKI made with the openssl command line: self-signed certificates (CAs) and leaves signed by
 * them. The one path for every test, benchmark and harness that needs TLS: the local control plane,
 * the audit webhook receiver, the TLS registries of the image tests.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

/** Where a certificate and its private key are (PEM files). */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface CertOptions {
  /** Subject, e.g. `/O=system:nodes/CN=system:node:n1`. */
  subject: string;
  /** Validity in days (default 2: long enough for a test run, short enough to never matter). */
  days?: number;
  /** Key type (default ec, P-256: fast to generate). */
  key?: 'rsa' | 'ec';
  /** subjectAltName entries, e.g. `IP:127.0.0.1`, `DNS:localhost`. */
  sans?: readonly string[];
  /** Extended key usage of a leaf. */
  usage?: 'serverAuth' | 'clientAuth';
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyArgs(o: CertOptions): string[] {
  return o.key === 'rsa'
    ? ['-newkey', 'rsa:2048', '-nodes']
    : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
}

function extensions(o: CertOptions): string[] {
  const ext: string[] = [];
  if (o.sans?.length) ext.push(`subjectAltName=${o.sans.join(',')}`);
  if (o.usage) ext.push(`extendedKeyUsage=${o.usage}`);
  return ext;
}

/** A self-signed certificate: a CA for `issueCert`, or a server certificate clients pin as their CA. */
export function selfSignedCert(files: CertFiles, o: CertOptions): CertFiles {
  openssl([
    'req',
    '-x509',
    ...keyArgs(o),
    '-keyout',
    files.key,
    '-out',
    files.cert,
    '-subj',
    o.subject,
    '-days',
    String(o.days ?? 2),
    ...extensions(o).flatMap((e) => ['-addext', e]),
  ]);
  return files;
}

/** A new key and a certificate for it signed by `ca` (serial file `<ca.cert>.srl` beside the CA). */
export function issueCert(files: CertFiles, ca: CertFiles, o: CertOptions): CertFiles {
  const csr = `${files.cert}.csr`;
  const ext = `${files.cert}.ext`;
  openssl(['req', '-new', ...keyArgs(o), '-keyout', files.key, '-out', csr, '-subj', o.subject]);
  writeFileSync(ext, extensions(o).join('\n') + '\n');
  try {
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      String(o.days ?? 2),
      '-extfile',
      ext,
      '-out',
      files.cert,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  return files;
}

/** `<dir>/<name>.crt` and `<dir>/<name>.key`. */
export function certFiles(dir: string, name: string): CertFiles {
  return { cert: `${dir}/${name}.crt`, key: `${dir}/${name}.key` };
}
