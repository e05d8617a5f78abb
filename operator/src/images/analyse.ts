/**
 * One image, from its registry to its inventory: resolve the reference (the linux/amd64 entry of
 * an index), stream every layer through its decompressor into the tar reader, keep the files that
 * say what is installed, list the packages. Matching them against advisories is vulns.ts.
 */
import { DEFAULT_LIMITS, ImageFiles, addCompressedLayer, type LayerStats, type Limits } from './layers.ts';
import { inventory, type Inventory } from './packages.ts';
import {
  RegistryClient,
  formatReference,
  parseReference,
  type Descriptor,
  type ImageRef,
  type ResolvedImage,
} from './registry.ts';
import { LayoutSource } from './layout.ts';
import { ownedPaths, suspiciousContent } from './suspicious.ts';
import type { SuspiciousContent } from '../engine/types.ts';

export interface ImageAnalysis {
  reference: string;
  ref: ImageRef;
  digest: string;
  indexDigest?: string;
  layers: (LayerStats & { digest: string; size: number; mediaType: string })[];
  /** Compressed bytes read (manifest, config and layers). */
  bytes: number;
  keptBytes: number;
  inventory: Inventory;
  /** Miners, mining pools, setuid files no package owns, keys and secrets (suspicious.ts). */
  suspicious: SuspiciousContent[];
  image: ResolvedImage;
}

export async function analyseImage(
  reference: string,
  client: RegistryClient = new RegistryClient(),
  limits: Limits = DEFAULT_LIMITS,
): Promise<ImageAnalysis> {
  // oci:DIR — an OCI image layout on disk, no registry involved.
  if (reference.startsWith('oci:')) {
    const layout = new LayoutSource(reference.slice('oci:'.length));
    const image = await layout.resolve();
    return analyse(
      image,
      (d) => layout.blobStream(d),
      () => 0,
      limits,
      `oci:${layout.dir}@${image.digest}`,
    );
  }
  const ref = parseReference(reference);
  const before = client.stats.bytes;
  const image = await client.resolve(ref);
  return analyse(
    image,
    (d) => client.blobStream(ref, d),
    () => client.stats.bytes - before,
    limits,
    formatReference({ ...ref, digest: image.digest }),
  );
}

async function analyse(
  image: ResolvedImage,
  blob: (d: Descriptor) => AsyncIterable<Buffer>,
  bytesRead: () => number,
  limits: Limits,
  reference: string,
): Promise<ImageAnalysis> {
  const files = new ImageFiles(limits);
  const layers: ImageAnalysis['layers'] = [];
  let fileBytes = 0;
  for (const d of image.manifest.layers) {
    try {
      const stats = await addCompressedLayer(files, blob(d), d.mediaType);
      layers.push({ ...stats, digest: d.digest, size: d.size, mediaType: d.mediaType });
      fileBytes += d.size;
    } catch (err) {
      throw new Error(
        `${reference}: layer ${d.digest}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const out: ImageAnalysis = {
    reference,
    ref: image.ref,
    digest: image.digest,
    layers,
    bytes: bytesRead() || fileBytes + image.manifest.config.size,
    keptBytes: files.keptBytes,
    inventory: inventory(files),
    suspicious: suspiciousContent(
      files.suspects.values(),
      ownedPaths(
        [...files.files.values()].filter((f) => f.kind === 'dpkg-list').map((f) => f.data),
        [...files.files.values()].find((f) => f.kind === 'apk-installed')?.data,
      ),
      image.config,
      image.manifest.layers.length,
    ),
    image,
  };
  if (image.indexDigest) out.indexDigest = image.indexDigest;
  return out;
}
