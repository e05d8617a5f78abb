/**
 * Images from an OCI image layout on disk (`vigil sbom oci:DIR`, as skopeo and buildah write
 * them, and scripts/image/oci.ts): index.json, nested indexes, the linux/amd64 manifest (or the
 * only one), blobs under blobs/sha256, every one checked against its digest as it is read.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  MEDIA_TYPES,
  verified,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type ResolvedImage,
} from './registry.ts';

export class LayoutSource {
  readonly dir: string;
  private readonly platform: { os: string; architecture: string };

  constructor(dir: string, platform = { os: 'linux', architecture: 'amd64' }) {
    this.dir = resolve(dir);
    this.platform = platform;
  }

  private path(d: Descriptor): string {
    if (!/^sha256:[0-9a-f]{64}$/.test(d.digest)) throw new Error(`${d.digest}: not a sha256 digest`);
    return join(this.dir, 'blobs', 'sha256', d.digest.slice('sha256:'.length));
  }

  blobStream(d: Descriptor): AsyncIterable<Buffer> {
    return verified(createReadStream(this.path(d)) as AsyncIterable<Buffer>, d);
  }

  private async json<T>(d: Descriptor): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of this.blobStream(d)) chunks.push(c);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }

  async resolve(): Promise<ResolvedImage> {
    const index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as {
      manifests?: Descriptor[];
    };
    let candidates = index.manifests ?? [];
    let indexDigest: string | undefined;
    for (let depth = 0; depth < 4; depth++) {
      const want = candidates.filter(
        (d) =>
          !d.platform ||
          (d.platform.os === this.platform.os && d.platform.architecture === this.platform.architecture),
      );
      const pick = want.length === 1 ? want[0] : undefined;
      if (!pick)
        throw new Error(
          `${this.dir}: ${want.length === 0 ? 'no' : `${want.length}`} ${this.platform.os}/${this.platform.architecture} images in index.json (one is needed)`,
        );
      if (pick.mediaType === MEDIA_TYPES.ociIndex || pick.mediaType === MEDIA_TYPES.dockerList) {
        indexDigest = pick.digest;
        candidates = (await this.json<{ manifests?: Descriptor[] }>(pick)).manifests ?? [];
        continue;
      }
      const manifest = await this.json<ImageManifest>(pick);
      const config = await this.json<ImageConfig>(manifest.config);
      const out: ResolvedImage = {
        ref: { registry: 'oci', repository: basename(this.dir) },
        digest: pick.digest,
        manifest,
        config,
      };
      if (indexDigest) out.indexDigest = indexDigest;
      return out;
    }
    throw new Error(`${this.dir}: indexes nested deeper than 4`);
  }
}
