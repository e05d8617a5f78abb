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
  type ImageRef,
  type ResolvedImage,
} from './registry.ts';

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
  image: ResolvedImage;
}

export async function analyseImage(
  reference: string,
  client: RegistryClient = new RegistryClient(),
  limits: Limits = DEFAULT_LIMITS,
): Promise<ImageAnalysis> {
  const ref = parseReference(reference);
  const before = client.stats.bytes;
  const image = await client.resolve(ref);
  const files = new ImageFiles(limits);
  const layers: ImageAnalysis['layers'] = [];
  for (const d of image.manifest.layers) {
    try {
      const stats = await addCompressedLayer(files, client.blobStream(ref, d), d.mediaType);
      layers.push({ ...stats, digest: d.digest, size: d.size, mediaType: d.mediaType });
    } catch (err) {
      throw new Error(
        `${formatReference(ref)}: layer ${d.digest}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const out: ImageAnalysis = {
    reference: formatReference({ ...ref, digest: image.digest }),
    ref,
    digest: image.digest,
    layers,
    bytes: client.stats.bytes - before,
    keptBytes: files.keptBytes,
    inventory: inventory(files),
    image,
  };
  if (image.indexDigest) out.indexDigest = image.indexDigest;
  return out;
}
