/**
 * Reading images from their registries for the CLI: the registry flags `vigil sbom` and
 * `vigil scan --images` share (one way to give credentials, a CA, plain HTTP), and the analysis of
 * the distinct images a set of manifests references (`vigil scan --images`): each reference
 * resolved to its digest, each digest analysed once, a few at a time; an image that cannot be read
 * becomes a not-analysed fact (a finding), never a failed scan.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allContainers, asString, podTemplate } from '../engine/podspec.ts';
import type { Subject } from '../engine/types.ts';
import { analyseImage } from '../images/analyse.ts';
import { credentialsFromDockerConfig } from '../images/credentials.ts';
import { ImageFactsMap, imageFacts, normaliseReference, notAnalysed } from '../images/facts.ts';
import type { AdvisoryIndex, OsvRecord } from '../images/osv.ts';
import { RegistryClient, formatReference, parseReference, type Credentials } from '../images/registry.ts';
import { findVulnerabilities } from '../images/vulns.ts';
import type { CliIO } from './io.ts';
import type { RegistryFlagValues } from './registry-flags.ts';

/** A registry client as the flags ask for, or what is wrong with them (`usage`: a usage error). */
export function registryClientFromFlags(
  values: RegistryFlagValues,
  io: CliIO,
): RegistryClient | { error: string; usage: boolean } {
  let credentials: ((registry: string) => Credentials | undefined) | undefined;
  const token = io.env['VIGIL_REGISTRY_TOKEN'];
  if (values.username !== undefined) {
    const password = io.env['VIGIL_REGISTRY_PASSWORD'];
    if (password === undefined)
      return { error: '--username needs the password in VIGIL_REGISTRY_PASSWORD', usage: true };
    const c = { username: values.username, password };
    credentials = () => c;
  } else if (token) credentials = () => ({ token });
  else if (values['registry-config'] !== undefined) {
    try {
      const doc: unknown = JSON.parse(readFileSync(resolve(io.cwd, values['registry-config']), 'utf8'));
      credentials = (registry) => credentialsFromDockerConfig(doc, registry);
    } catch (err) {
      return {
        error: `--registry-config: ${err instanceof Error ? err.message : String(err)}`,
        usage: false,
      };
    }
  }
  let ca: Buffer | undefined;
  if (values.ca !== undefined)
    try {
      ca = readFileSync(resolve(io.cwd, values.ca));
    } catch (err) {
      return { error: `--ca: ${err instanceof Error ? err.message : String(err)}`, usage: false };
    }
  return new RegistryClient({
    ...(credentials ? { credentials } : {}),
    ...(ca ? { ca } : {}),
    ...(values['plain-http'] ? { plainHttp: () => true } : {}),
  });
}

/** The images the subjects' containers (init, regular, ephemeral) name, as written, deduplicated. */
export function imageReferences(subjects: readonly Subject[]): string[] {
  const out = new Set<string>();
  for (const s of subjects) {
    const tpl = podTemplate(s.object);
    if (!tpl) continue;
    for (const c of allContainers(tpl.spec)) {
      const image = asString(c.container['image']);
      if (image && image.trim() !== '') out.add(image);
    }
  }
  return [...out];
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const t = items[next++] as T;
      await work(t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** When the advisory data was last changed: the newest `modified` of its records. */
export function advisoriesModifiedAt(records: readonly OsvRecord[]): string | undefined {
  let best: number | undefined;
  for (const r of records) {
    const t = r.modified ? Date.parse(r.modified) : NaN;
    if (!Number.isNaN(t) && (best === undefined || t > best)) best = t;
  }
  return best === undefined ? undefined : new Date(best).toISOString();
}

export interface ImagesAnalysed {
  facts: ImageFactsMap;
  /** Distinct digests analysed, and references that could not be. */
  analysed: number;
  failed: number;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Analyses the distinct images of `references`: each resolved to its digest, each digest read
 * once (`concurrency` at a time), matched against `advisories` when given.
 */
export async function analyseReferences(
  references: readonly string[],
  client: RegistryClient,
  advisories: { index: AdvisoryIndex; updatedAt?: string } | undefined,
  concurrency = 4,
): Promise<ImagesAnalysed> {
  const facts = new ImageFactsMap(
    advisories?.updatedAt !== undefined ? { advisoriesUpdatedAt: advisories.updatedAt } : {},
  );
  // Written references by their normalised form (nginx and docker.io/library/nginx:latest are one).
  const byRef = new Map<string, string[]>();
  for (const r of references) {
    const n = normaliseReference(r);
    byRef.set(n, [...(byRef.get(n) ?? []), r]);
  }
  const byDigest = new Map<string, string[]>();
  let failed = 0;
  await eachLimited([...byRef.keys()], concurrency, async (n) => {
    const written = byRef.get(n) ?? [];
    try {
      const ref = parseReference(n);
      const resolved = await client.resolve(ref);
      const pinned = formatReference({
        registry: ref.registry,
        repository: ref.repository,
        digest: resolved.digest,
      });
      byDigest.set(pinned, [...(byDigest.get(pinned) ?? []), ...written]);
    } catch (err) {
      failed++;
      facts.set(notAnalysed(n, message(err)), ...written);
    }
  });
  let analysed = 0;
  await eachLimited([...byDigest.keys()], concurrency, async (pinned) => {
    const written = byDigest.get(pinned) ?? [];
    try {
      const a = await analyseImage(pinned, client);
      const vulns = advisories ? findVulnerabilities(a.inventory, advisories.index) : [];
      facts.set(imageFacts(a, vulns), ...written);
      analysed++;
    } catch (err) {
      failed++;
      facts.set(notAnalysed(pinned, message(err)), ...written);
    }
  });
  return { facts, analysed, failed };
}

/** One stderr note per scan: how many images were read. */
export function imagesNote(r: ImagesAnalysed, withAdvisories: boolean, io: CliIO): void {
  io.stderr.write(
    `vigil scan: note: ${r.analysed} image${r.analysed === 1 ? '' : 's'} analysed${r.failed > 0 ? `, ${r.failed} could not be (reported as image-not-analysed)` : ''}${withAdvisories ? '' : '; without --advisories no known vulnerability is matched'}\n`,
  );
}
