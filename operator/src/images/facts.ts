/**
 * From what reading an image found (analyse.ts, vulns.ts, suspicious.ts) to the engine's
 * ImageFacts, and a lookup of facts by the reference a container names or the digest the kubelet
 * ran (ImageFactsView). Pure; used by `vigil scan --images` and by the operator's image scanner.
 */
import type { ImageFacts, ImageFactsView, ImageVulnerability, SuspiciousContent } from '../engine/types.ts';
import type { ImageAnalysis } from './analyse.ts';
import { formatReference, parseReference } from './registry.ts';
import type { Vulnerability } from './vulns.ts';

/** The facts of an analysed image. `suspicious` defaults to what the analysis found. */
export function imageFacts(
  analysis: Pick<ImageAnalysis, 'reference' | 'digest' | 'inventory'> & {
    suspicious: readonly SuspiciousContent[];
  },
  vulns: readonly Vulnerability[],
  suspicious: readonly SuspiciousContent[] = analysis.suspicious,
): ImageFacts {
  const out: ImageFacts = {
    reference: analysis.reference,
    digest: analysis.digest,
    status: 'analysed',
    packages: analysis.inventory.packages.length,
    vulnerabilities: vulns.map(toImageVulnerability),
    suspicious: [...suspicious],
  };
  const os = analysis.inventory.os;
  if (os && (os.id || os.versionId)) out.os = `${os.id} ${os.versionId}`.trim();
  return out;
}

function toImageVulnerability(v: Vulnerability): ImageVulnerability {
  const out: ImageVulnerability = {
    id: v.id,
    aliases: [...v.aliases],
    package: v.package.name,
    ecosystem: v.package.ecosystem,
    installed: v.installed,
  };
  if (v.summary) out.summary = v.summary;
  if (v.fixed !== undefined) out.fixed = v.fixed;
  if (v.severity !== undefined) out.severity = v.severity;
  return out;
}

/** The facts of an image that could not be read, and why. */
export function notAnalysed(reference: string, reason: string, digest?: string): ImageFacts {
  const out: ImageFacts = { reference, status: 'not-analysed', reason, vulnerabilities: [], suspicious: [] };
  if (digest !== undefined) out.digest = digest;
  return out;
}

const DIGEST = /sha256:[0-9a-f]{64}/;

/** The sha256 digest in an imageID or reference (docker-pullable://…@sha256:…, sha256:…), if any. */
export function digestOf(s: string | undefined): string | undefined {
  return s ? DIGEST.exec(s)?.[0] : undefined;
}

/**
 * A reference in one spelling: `nginx`, `docker.io/nginx:latest` and
 * `docker.io/library/nginx:latest` are the same image. Unparseable ones are kept as written.
 */
export function normaliseReference(reference: string): string {
  try {
    return formatReference(parseReference(reference));
  } catch {
    return reference.trim();
  }
}

export interface ImageFactsOptions {
  advisoriesUpdatedAt?: string;
  advisoriesMaxAgeSeconds?: number;
}

/**
 * Image facts by digest and by reference. `lookup` tries the pod status' imageID digest first,
 * then a digest in the reference itself, then the normalised reference.
 */
export class ImageFactsMap implements ImageFactsView {
  private readonly byDigest = new Map<string, ImageFacts>();
  private readonly byReference = new Map<string, ImageFacts>();
  readonly advisoriesUpdatedAt?: string;
  readonly advisoriesMaxAgeSeconds?: number;

  constructor(options: ImageFactsOptions = {}) {
    if (options.advisoriesUpdatedAt !== undefined) this.advisoriesUpdatedAt = options.advisoriesUpdatedAt;
    if (options.advisoriesMaxAgeSeconds !== undefined)
      this.advisoriesMaxAgeSeconds = options.advisoriesMaxAgeSeconds;
  }

  /**
   * Records the facts of an image under each reference that named it (as containers write it)
   * and under its digest. Not-analysed facts never replace analysed ones of the same digest.
   */
  set(facts: ImageFacts, ...references: string[]): this {
    const digest = facts.digest ?? digestOf(facts.reference);
    if (digest) {
      const old = this.byDigest.get(digest);
      if (!(old?.status === 'analysed' && facts.status === 'not-analysed')) this.byDigest.set(digest, facts);
    }
    for (const r of [facts.reference, ...references]) this.byReference.set(normaliseReference(r), facts);
    return this;
  }

  lookup(reference: string, imageID?: string): ImageFacts | undefined {
    for (const d of [digestOf(imageID), digestOf(reference)]) {
      const f = d ? this.byDigest.get(d) : undefined;
      if (f) return f;
    }
    return this.byReference.get(normaliseReference(reference));
  }

  /** Every distinct facts object (by identity), in insertion order. */
  all(): ImageFacts[] {
    return [...new Set([...this.byDigest.values(), ...this.byReference.values()])];
  }

  get size(): number {
    return this.all().length;
  }
}
