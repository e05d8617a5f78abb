/**
 * OCI images without a container engine: deterministic layers from directories (GNU tar with
 * sorted names, fixed mtimes and owners, gzip without a timestamp), an image config and manifest,
 * an OCI image layout on disk, and a push to a registry over the distribution API (blob uploads,
 * then the manifest; the registry's Docker-Content-Digest must equal the digest computed here).
 *
 * The same inputs give the same bytes, so the same digest, on any machine with the same tar and
 * gzip: the digest names what was built, not when.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId: string;
  /** What the layer holds, for the config's history. */
  comment: string;
}

export interface ImageConfig {
  user: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  exposedPorts: number[];
  labels: Record<string, string>;
}

export const sha256 = (b: Buffer | string): string =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

function writeBlob(layout: string, data: Buffer): string {
  const digest = sha256(data);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(blobPath(layout, digest), data);
  return digest;
}

/**
 * Packs `dir` (its contents, as the image's /) into a gzip layer blob of `layout`. Owners are
 * 0:0 and times the epoch whatever the staging tree says; modes are kept as staged.
 */
export function layerFromDir(layout: string, dir: string, comment: string): Layer {
  const tar = execFileSync(
    'tar',
    [
      '--create',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--no-acls',
      '--no-xattrs',
      '--no-selinux',
      '-C',
      dir,
      '.',
    ],
    { maxBuffer: 2 * 1024 * 1024 * 1024 },
  );
  const gz = execFileSync('gzip', ['-n', '-6', '-c'], { input: tar, maxBuffer: 2 * 1024 * 1024 * 1024 });
  const digest = writeBlob(layout, gz);
  return { mediaType: MEDIA.layer, digest, size: gz.length, diffId: sha256(tar), comment };
}

/** Canonical JSON bytes of a document: keys in insertion order, no whitespace. */
const bytes = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

export interface BuiltImage {
  layout: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Layer[];
}

/** Writes config, manifest, index.json and oci-layout; the manifest digest is the image digest. */
export function writeImage(
  layout: string,
  layers: Layer[],
  cfg: ImageConfig,
  refName: string,
  annotations: Record<string, string> = {},
): BuiltImage {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      User: cfg.user,
      Env: cfg.env,
      Entrypoint: cfg.entrypoint,
      Cmd: cfg.cmd,
      WorkingDir: cfg.workingDir,
      ExposedPorts: Object.fromEntries(cfg.exposedPorts.map((p) => [`${p}/tcp`, {}])),
      Labels: cfg.labels,
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created: '1970-01-01T00:00:00Z', created_by: l.comment })),
  };
  const configBytes = bytes(config);
  const configDesc: Descriptor = {
    mediaType: MEDIA.config,
    digest: writeBlob(layout, configBytes),
    size: configBytes.length,
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: configDesc,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestBytes = bytes(manifest);
  const manifestDesc: Descriptor = {
    mediaType: MEDIA.manifest,
    digest: writeBlob(layout, manifestBytes),
    size: manifestBytes.length,
  };
  writeFileSync(join(layout, 'oci-layout'), bytes({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    bytes({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': refName } }],
    }),
  );
  return { layout, manifest: manifestDesc, config: configDesc, layers };
}

/** Reads the single image of an OCI layout written by writeImage. */
export function readImage(layout: string): BuiltImage {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: Descriptor[];
  };
  const manifest = index.manifests[0];
  if (!manifest) throw new Error(`${layout}: index.json lists no image`);
  const m = JSON.parse(readFileSync(blobPath(layout, manifest.digest), 'utf8')) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const cfg = JSON.parse(readFileSync(blobPath(layout, m.config.digest), 'utf8')) as {
    rootfs: { diff_ids: string[] };
    history: { created_by: string }[];
  };
  return {
    layout,
    manifest,
    config: m.config,
    layers: m.layers.map((l, i) => ({
      ...l,
      diffId: cfg.rootfs.diff_ids[i] ?? '',
      comment: cfg.history[i]?.created_by ?? '',
    })),
  };
}

/** Unpacks the layers of an image, in order, into `dir` (for smoke tests; no whiteouts used). */
export function unpack(img: BuiltImage, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const l of img.layers)
    execFileSync('tar', ['-xzf', blobPath(img.layout, l.digest), '-C', dir, '--same-owner', '-p']);
}

export interface PushResult {
  /** host:port/name@sha256:… as the registry reported it. */
  reference: string;
  digest: string;
  uploaded: number;
  existing: number;
}

/**
 * Pushes an OCI layout's image to a registry (distribution API v2, plain HTTP: the local registry
 * on loopback). Blobs the registry already has are not sent again. Fails unless the digest the
 * registry returns for the manifest is the one computed here.
 */
export async function push(
  img: BuiltImage,
  registry: string,
  name: string,
  tag: string,
): Promise<PushResult> {
  const base = `http://${registry}/v2/${name}`;
  let uploaded = 0;
  let existing = 0;
  for (const d of [img.config, ...img.layers]) {
    const head = await fetch(`${base}/blobs/${d.digest}`, { method: 'HEAD' });
    if (head.ok) {
      existing++;
      continue;
    }
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location');
    if (start.status !== 202 || !location)
      throw new Error(`push ${name}: starting a blob upload answered ${start.status}: ${await start.text()}`);
    const url = new URL(location, `http://${registry}`);
    url.searchParams.set('digest', d.digest);
    const data = readFileSync(blobPath(img.layout, d.digest));
    const put = await fetch(url, {
      method: 'PUT',
      body: data,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    });
    if (put.status !== 201)
      throw new Error(`push ${name}: uploading ${d.digest} answered ${put.status}: ${await put.text()}`);
    uploaded++;
  }
  const manifest = readFileSync(blobPath(img.layout, img.manifest.digest));
  const res = await fetch(`${base}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': img.manifest.mediaType },
  });
  if (res.status !== 201)
    throw new Error(`push ${name}:${tag}: manifest answered ${res.status}: ${await res.text()}`);
  const digest = res.headers.get('docker-content-digest') ?? '';
  if (digest !== img.manifest.digest)
    throw new Error(
      `push ${name}:${tag}: registry reports digest ${digest || '(none)'}, built ${img.manifest.digest}`,
    );
  return { reference: `${registry}/${name}@${digest}`, digest, uploaded, existing };
}

/** Total bytes of the compressed layers and config (what a pull transfers). */
export function compressedSize(img: BuiltImage): number {
  return img.config.size + img.layers.reduce((n, l) => n + l.size, 0);
}
