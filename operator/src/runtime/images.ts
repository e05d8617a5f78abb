/**
 * The operator's image scanner (issue 18): which images the opted-in workloads run, one analysis
 * per digest (images/analyse.ts: registry, streamed layers, package inventory), kept in a bounded
 * LRU as inventories only (no files, no layers), matched against the advisories in force and
 * re-matched, without reading any layer again, when they are refreshed. It is the
 * `ClusterFacts.images` view the rules read.
 *
 * Level-triggered: a subject reconcile says which images it wants (`want`); what is not known yet
 * is queued (at most `concurrency` analyses at a time); when an analysis ends, every subject that
 * wants the image is enqueued again and its next evaluation sees the facts.
 *
 * Pull secrets are read only for a policy with spec.images.pullSecrets: allow, through the API
 * (GET secrets, an opt-in ClusterRole), used for that one analysis and not kept.
 */
import { analyseImage, type ImageAnalysis } from '../images/analyse.ts';
import { credentialsFromDockerConfig } from '../images/credentials.ts';
import { AdvisoryIndex, loadAdvisoriesFrom } from '../images/osv.ts';
import type { Inventory } from '../images/packages.ts';
import {
  RegistryClient,
  formatReference,
  parseReference,
  type Credentials,
  type ImageRef,
} from '../images/registry.ts';
import { findVulnerabilities } from '../images/vulns.ts';
import { digestOf, imageFacts, notAnalysed } from '../images/facts.ts';
import { allContainers, asArray, asObj, asString, isObj, podTemplate } from '../engine/podspec.ts';
import type { ImageFacts, ImageFactsView, KubeObject, SuspiciousContent } from '../engine/types.ts';
import type { Clock, Timer } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import { serviceAccountName } from '../rules/workload/service-account.ts';

/** One image a workload runs: the container's `image`, and the digest the kubelet ran when known. */
export interface WorkloadImage {
  reference: string;
  imageID?: string;
}

/** The reason of an image the policy does not let Vigil read the pull secret of. */
export const NEEDS_PULL_SECRET = 'needs a pull secret; spec.images.pullSecrets is deny';

/**
 * The distinct images of a workload: every container (init, regular, ephemeral) of its pod
 * template, with, for a Pod, the imageID its status reports for that container. Deduplicated by
 * reference and digest.
 */
export function workloadImages(obj: KubeObject): WorkloadImage[] {
  const t = podTemplate(obj);
  if (!t) return [];
  const ids = new Map<string, string>();
  if (obj.kind === 'Pod') {
    const st = asObj(obj['status']);
    for (const k of ['initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses'])
      for (const cs of asArray(st[k]).filter(isObj)) {
        const name = asString(cs['name']);
        const id = asString(cs['imageID']);
        if (name && id && digestOf(id)) ids.set(name, id);
      }
  }
  const out = new Map<string, WorkloadImage>();
  for (const c of allContainers(t.spec)) {
    const reference = asString(c.container['image']);
    if (!reference) continue;
    const imageID = ids.get(c.name);
    const img: WorkloadImage = imageID ? { reference, imageID } : { reference };
    out.set(`${reference}\u0000${digestOf(imageID) ?? ''}`, img);
  }
  return [...out.values()];
}

/** The names in a list of LocalObjectReferences (`imagePullSecrets`). */
function secretNames(list: unknown): string[] {
  return asArray(list)
    .filter(isObj)
    .map((s) => asString(s['name']))
    .filter((n): n is string => !!n);
}

/**
 * The pull secrets the kubelet uses for a workload's pods: the pod template's
 * spec.imagePullSecrets or, when it names none, those of the ServiceAccount its pods run as
 * (the ServiceAccount admission plugin copies them into every pod created without its own).
 * `serviceAccount` is that ServiceAccount (serviceAccountOf names it), when known.
 */
export function pullSecretNames(obj: KubeObject, serviceAccount?: KubeObject): string[] {
  const t = podTemplate(obj);
  if (!t) return [];
  const own = secretNames(t.spec['imagePullSecrets']);
  return own.length > 0 || !serviceAccount ? own : secretNames(serviceAccount['imagePullSecrets']);
}

/** The name of the ServiceAccount a workload's pods run as ('default' unless named), if it has pods. */
export function serviceAccountOf(obj: KubeObject): string | undefined {
  const t = podTemplate(obj);
  return t ? serviceAccountName(t).name : undefined;
}

/** An error a registry gives when it wants credentials that were not given. */
export function needsCredentials(message: string): boolean {
  return /no credentials were given|credentials are needed|token endpoint .* answered 401/.test(message);
}

/** What is kept of an analysis: its inventory, not its files or layers. */
export interface AnalysedImage {
  reference: string;
  digest: string;
  inventory: Inventory;
  suspicious: readonly SuspiciousContent[];
}

/** Reads a Secret through the API (404 and 403 are errors the scanner reports). */
export type SecretReader = (namespace: string, name: string) => Promise<KubeObject>;

export interface ImageScannerHooks {
  /** An analysis ended: `result` analysed or failed, with its duration. */
  analysed?(result: 'analysed' | 'failed', seconds: number): void;
  advisoriesRefreshed?(ok: boolean): void;
}

export interface ImageScannerOptions {
  clock: Clock;
  logger: Logger;
  /** Subjects to evaluate again (the controller's enqueue path). */
  requeue: (subjects: Iterable<string>) => void;
  /** Analyses at a time (default 2). */
  concurrency?: number;
  /** Analysed images kept (LRU, default 256). */
  cacheSize?: number;
  /** Extra CA certificates (PEM) for TLS registries. */
  registryCa?: string | Buffer;
  /** Reads pull secrets for policies that allow it. */
  readSecret?: SecretReader;
  /** OSV advisories: a file, directory, zip or URL (none: inventories only). */
  advisories?: string;
  /** Re-read the advisories this often (ms; default 6 h; 0: never). */
  advisoriesRefreshMs?: number;
  /** Advisories older than this are stale (seconds; default 3 days). */
  advisoriesMaxAgeSeconds?: number;
  /** How long a tag's digest and a failure are trusted before being read again (ms; default 10 min). */
  recheckMs?: number;
  /** The analysis (default analyseImage; tests can bound it). */
  analyse?: (reference: string, client: RegistryClient) => Promise<ImageAnalysis>;
  hooks?: ImageScannerHooks;
}

/** What a subject asks for, with how its registry may be reached. */
export interface ImageWant {
  namespace: string;
  pullSecrets: 'allow' | 'deny';
  /** The pull secrets its pods name (read only when allowed). */
  secretNames: readonly string[];
}

interface Failure {
  reason: string;
  at: number;
  /** The attempt: anonymous, or with which secrets. */
  attempt: string;
}

interface Job {
  key: string;
  image: WorkloadImage;
  want: ImageWant;
}

const keyOf = (img: WorkloadImage): string => digestOf(img.imageID) ?? img.reference;

export class ImageScanner implements ImageFactsView {
  private readonly o: ImageScannerOptions;
  /** digest → analysis (insertion order is recency: the LRU). */
  private readonly byDigest = new Map<string, { image: AnalysedImage; facts: ImageFacts }>();
  /** reference (as written) → the digest it resolved to, and when. */
  private readonly tags = new Map<string, { digest: string; at: number }>();
  /** image key (digest or reference) → why it could not be read. */
  private readonly failures = new Map<string, Failure>();
  /** image key → subjects that want it. */
  private readonly wanters = new Map<string, Set<string>>();
  /** subject → the image keys it wants. */
  private readonly wanted = new Map<string, Set<string>>();
  private readonly queue: Job[] = [];
  private readonly queued = new Set<string>();
  /** digest → its analysis under way (a tag and a digest of one image are read once). */
  private readonly inflight = new Map<string, Promise<AnalysedImage>>();
  private running = 0;
  private index: AdvisoryIndex | undefined;
  private updatedAt: number | undefined;
  private timer: Timer | undefined;
  private stopped = false;
  /** Every analysis started and finished (tests and the status of the e2e). */
  readonly stats = { analyses: 0, failures: 0, rematches: 0, refreshErrors: 0, maxRunning: 0 };

  constructor(o: ImageScannerOptions) {
    this.o = o;
  }

  // ---- ImageFactsView ----------------------------------------------------------------------

  lookup(reference: string, imageID?: string): ImageFacts | undefined {
    const digest = digestOf(imageID) ?? this.tags.get(reference)?.digest ?? digestOf(reference);
    if (digest) {
      const hit = this.byDigest.get(digest);
      if (hit) return hit.facts;
    }
    const failure =
      this.failures.get(digestOf(imageID) ?? reference) ?? (digest && this.failures.get(digest));
    if (!failure) return undefined;
    return notAnalysed(digest ? pinned(reference, digest) : reference, failure.reason, digest || undefined);
  }

  get advisoriesUpdatedAt(): string | undefined {
    return this.updatedAt === undefined ? undefined : new Date(this.updatedAt).toISOString();
  }

  get advisoriesMaxAgeSeconds(): number {
    return this.o.advisoriesMaxAgeSeconds ?? 3 * 24 * 3600;
  }

  /** Seconds since the advisories were loaded; undefined when none are. */
  advisoriesAgeSeconds(): number | undefined {
    return this.updatedAt === undefined ? undefined : (this.o.clock.now() - this.updatedAt) / 1000;
  }

  /** Analysed images in the cache. */
  cached(): number {
    return this.byDigest.size;
  }

  /** Analyses queued or running. */
  pending(): number {
    return this.queue.length + this.running;
  }

  // ---- demand --------------------------------------------------------------------------------

  /**
   * A subject's images, as its reconcile found them. Images not known yet (or whose tag or
   * failure is due for a re-check) are queued; the subject is enqueued again when each ends.
   */
  want(subject: string, images: readonly WorkloadImage[], w: ImageWant): void {
    const keys = new Set(images.map(keyOf));
    this.forget(subject, keys);
    this.wanted.set(subject, keys);
    for (const k of keys) {
      let s = this.wanters.get(k);
      if (!s) this.wanters.set(k, (s = new Set()));
      s.add(subject);
    }
    for (const img of images) if (this.due(img, w)) this.enqueue({ key: keyOf(img), image: img, want: w });
  }

  /** The subject wants no image any more (deleted, or no opted-in policy matches it). */
  forget(subject: string, keep: ReadonlySet<string> = new Set()): void {
    const before = this.wanted.get(subject);
    if (!before) return;
    for (const k of before) {
      if (keep.has(k)) continue;
      const s = this.wanters.get(k);
      s?.delete(subject);
      if (s?.size === 0) this.wanters.delete(k);
    }
    if (keep.size === 0) this.wanted.delete(subject);
  }

  /** Subjects that want images (for tests and metrics). */
  subjects(): number {
    return this.wanted.size;
  }

  private due(img: WorkloadImage, w: ImageWant): boolean {
    const key = keyOf(img);
    if (this.queued.has(key)) return false;
    const now = this.o.clock.now();
    const recheck = this.o.recheckMs ?? 600_000;
    const digest = digestOf(img.imageID) ?? this.tags.get(img.reference)?.digest ?? digestOf(img.reference);
    const tagFresh =
      digestOf(img.imageID) !== undefined ||
      digestOf(img.reference) !== undefined ||
      (this.tags.get(img.reference)?.at ?? -Infinity) > now - recheck;
    if (digest && this.byDigest.has(digest) && tagFresh) return false;
    const f = this.failures.get(key);
    if (f) {
      // A failure stands until its re-check, unless this subject could do better (a pull secret).
      if (f.at > now - recheck && attemptOf(w) === f.attempt) return false;
      if (f.at > now - recheck && !needsCredentials(f.reason) && f.reason !== NEEDS_PULL_SECRET) return false;
    }
    return true;
  }

  private enqueue(job: Job): void {
    if (this.stopped || this.queued.has(job.key)) return;
    this.queued.add(job.key);
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    const limit = Math.max(1, this.o.concurrency ?? 2);
    while (this.running < limit && this.queue.length > 0) {
      const job = this.queue.shift();
      if (!job) break;
      this.running++;
      this.stats.maxRunning = Math.max(this.stats.maxRunning, this.running);
      void this.run(job).finally(() => {
        this.running--;
        this.queued.delete(job.key);
        this.o.requeue([...(this.wanters.get(job.key) ?? [])]);
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const started = this.o.clock.now();
    const { image, want } = job;
    let ref: ImageRef;
    try {
      ref = parseReference(
        digestOf(image.imageID) ? pinned(image.reference, digestOf(image.imageID) ?? '') : image.reference,
      );
    } catch (e) {
      this.fail(job, message(e), started);
      return;
    }
    let creds: Credentials | undefined;
    try {
      creds = await this.credentials(ref, want);
    } catch (e) {
      this.fail(job, message(e), started);
      return;
    }
    const client = new RegistryClient({
      ...(creds ? { credentials: () => creds } : {}),
      ...(this.o.registryCa ? { ca: this.o.registryCa } : {}),
    });
    try {
      // The digest first (a tag moves): an image already analysed under it is not read again.
      let digest = ref.digest;
      if (!digest) {
        const m = await client.manifest(ref, ref.tag ?? 'latest');
        digest = m.digest;
        this.tags.delete(image.reference);
        this.tags.set(image.reference, { digest, at: this.o.clock.now() });
        // References are bounded like the cache (a few per image).
        while (this.tags.size > 4 * (this.o.cacheSize ?? 256)) {
          const first = this.tags.keys().next().value;
          if (first === undefined) break;
          this.tags.delete(first);
        }
        this.o.logger.info('image resolved', {
          image: image.reference,
          digest,
          credentials: creds ? 'pull secret' : 'none',
        });
      }
      this.failures.delete(job.key);
      const hit = this.byDigest.get(digest);
      if (hit) {
        this.byDigest.delete(digest);
        this.byDigest.set(digest, hit);
        return;
      }
      const under = this.inflight.get(digest);
      if (under) {
        await under;
        return;
      }
      const pinnedRef = formatReference({ ...ref, tag: undefined, digest });
      const analysis = (async (): Promise<AnalysedImage> => {
        const a = await (this.o.analyse ?? analyseImage)(pinnedRef, client);
        // Only what says what is installed is kept; the files and layers go with `a`.
        return { reference: a.reference, digest, inventory: a.inventory, suspicious: a.suspicious };
      })();
      this.inflight.set(digest, analysis);
      let kept: AnalysedImage;
      try {
        kept = await analysis;
      } finally {
        this.inflight.delete(digest);
      }
      this.store(kept);
      this.stats.analyses++;
      this.o.hooks?.analysed?.('analysed', (this.o.clock.now() - started) / 1000);
      this.o.logger.info('image analysed', {
        image: kept.reference,
        packages: kept.inventory.packages.length,
        seconds: (this.o.clock.now() - started) / 1000,
      });
    } catch (e) {
      const msg = message(e);
      this.fail(
        job,
        !creds && want.pullSecrets === 'deny' && needsCredentials(msg) ? NEEDS_PULL_SECRET : msg,
        started,
      );
    }
  }

  /** Credentials for the image's registry from the subject's pull secrets, when allowed. */
  private async credentials(ref: ImageRef, want: ImageWant): Promise<Credentials | undefined> {
    if (want.pullSecrets !== 'allow' || want.secretNames.length === 0 || !this.o.readSecret) return undefined;
    for (const name of want.secretNames) {
      let secret: KubeObject;
      try {
        secret = await this.o.readSecret(want.namespace, name);
      } catch (e) {
        const status = (e as { code?: unknown }).code;
        if (status === 403)
          throw new Error(
            `cannot read the pull secret ${want.namespace}/${name}: forbidden (403); grant the vigil-pull-secret-reader ClusterRole (Helm images.readPullSecrets)`,
            { cause: e },
          );
        if (status === 404) continue;
        throw new Error(`cannot read the pull secret ${want.namespace}/${name}: ${message(e)}`, { cause: e });
      }
      const data = asObj(secret['data']);
      const raw = asString(data['.dockerconfigjson']);
      if (secret['type'] !== 'kubernetes.io/dockerconfigjson' || !raw) continue;
      let config: unknown;
      try {
        config = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
      } catch {
        throw new Error(`the pull secret ${want.namespace}/${name}: .dockerconfigjson is not JSON`);
      }
      const c = credentialsFromDockerConfig(config, ref.registry);
      if (c) return c;
    }
    return undefined;
  }

  private fail(job: Job, reason: string, started: number): void {
    this.failures.set(job.key, { reason, at: this.o.clock.now(), attempt: attemptOf(job.want) });
    this.stats.failures++;
    this.o.hooks?.analysed?.('failed', (this.o.clock.now() - started) / 1000);
    this.o.logger.warn('image not analysed', { image: job.image.reference, reason });
    // Failures are bounded like the cache.
    const max = this.o.cacheSize ?? 256;
    while (this.failures.size > max) {
      const first = this.failures.keys().next().value;
      if (first === undefined) break;
      this.failures.delete(first);
    }
  }

  private store(image: AnalysedImage): void {
    this.byDigest.delete(image.digest);
    this.byDigest.set(image.digest, { image, facts: this.factsOf(image) });
    const max = this.o.cacheSize ?? 256;
    while (this.byDigest.size > max) {
      const first = this.byDigest.keys().next().value;
      if (first === undefined) break;
      this.byDigest.delete(first);
    }
  }

  private factsOf(image: AnalysedImage): ImageFacts {
    return imageFacts(image, this.index ? findVulnerabilities(image.inventory, this.index) : []);
  }

  // ---- advisories ------------------------------------------------------------------------------

  /** Loads the advisories now and then on the refresh interval. Never throws. */
  async start(): Promise<void> {
    if (!this.o.advisories) return;
    await this.refresh();
    const every = this.o.advisoriesRefreshMs ?? 6 * 3600_000;
    if (every > 0) this.schedule(every);
  }

  private schedule(every: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(every, () => {
      void this.refresh().finally(() => this.schedule(every));
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.queue.length = 0;
  }

  /**
   * Reads the advisory source; on success every cached inventory is matched again (no layer is
   * read) and the subjects that want those images are re-evaluated. A failure keeps the data in
   * force, and says so.
   */
  async refresh(): Promise<boolean> {
    const source = this.o.advisories;
    if (!source) return false;
    try {
      const records = await loadAdvisoriesFrom(source);
      this.setAdvisories(new AdvisoryIndex(records));
      this.o.hooks?.advisoriesRefreshed?.(true);
      this.o.logger.info('advisories loaded', { source, records: this.index?.size ?? 0 });
      return true;
    } catch (e) {
      this.stats.refreshErrors++;
      this.o.hooks?.advisoriesRefreshed?.(false);
      this.o.logger.warn('could not refresh the advisories; keeping the data in force', {
        source,
        error: message(e),
        loadedAt: this.advisoriesUpdatedAt ?? 'never',
      });
      return false;
    }
  }

  /** New advisory data: re-match every cached inventory and re-evaluate who wants those images. */
  setAdvisories(index: AdvisoryIndex): void {
    this.index = index;
    this.updatedAt = this.o.clock.now();
    for (const entry of this.byDigest.values()) {
      entry.facts = this.factsOf(entry.image);
      this.stats.rematches++;
    }
    // Whoever wants an image is re-evaluated: its matches and the advisories' age changed.
    const subjects = new Set<string>();
    for (const ws of this.wanters.values()) for (const s of ws) subjects.add(s);
    if (subjects.size > 0) this.o.requeue(subjects);
  }
}

function pinned(reference: string, digest: string): string {
  try {
    return formatReference({ ...parseReference(reference), tag: undefined, digest });
  } catch {
    return `${reference}@${digest}`;
  }
}

function attemptOf(w: ImageWant): string {
  return w.pullSecrets === 'allow' && w.secretNames.length > 0
    ? `${w.namespace}/${[...w.secretNames].sort().join(',')}`
    : 'anonymous';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
