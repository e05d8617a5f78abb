/**
 * One reflector per watched kind, feeding the ClusterCache and the
 * controller's enqueue-only handler, with watch health in metrics.
 */
import { Reflector } from '../adapters/reflector.ts';
import type { ListWatchClient } from '../adapters/list-watch.ts';
import type { Clock } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import type { KubeObject } from '../engine/types.ts';
import { WATCH_RESTART_REASONS, type VigilMetrics } from '../observability/metrics.ts';
import type { ClusterCache } from './cache.ts';
import { apiVersionOf, collectionPath, type WatchedKind } from './kinds.ts';

export interface WatchesOptions {
  client: ListWatchClient;
  cache: ClusterCache;
  kinds: readonly WatchedKind[];
  clock: Clock;
  logger: Logger;
  metrics: VigilMetrics;
  onEvent(kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old?: KubeObject): void;
  /** Abort a watch silent for this long (default: the reflector's 90 s). */
  inactivityTimeoutMs?: number;
  /** Per kind, the objects to cache (sharding: this replica's share); none: all. */
  keep?: (kind: string) => ((obj: KubeObject) => boolean) | undefined;
}

export interface Watches {
  reflectors: Map<string, Reflector>;
  /** Resolves when every kind has listed once. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export function startWatches(o: WatchesOptions): Watches {
  const reflectors = new Map<string, Reflector>();
  for (const w of o.kinds) {
    o.metrics.registerWatch(w.kind);
    const keep = o.keep?.(w.kind);
    const r = new Reflector({
      ...(keep ? { keep } : {}),
      resource: w.group ? `${w.plural}.${w.group}` : w.plural,
      path: collectionPath(w),
      apiVersion: apiVersionOf(w),
      kind: w.kind,
      client: o.client,
      clock: o.clock,
      logger: o.logger.child({ kind: w.kind }),
      ...(o.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: o.inactivityTimeoutMs }),
      handlers: {
        onAdd: (_key, obj) => {
          o.cache.put(w.kind, obj);
          o.onEvent(w.kind, 'ADDED', obj);
        },
        onUpdate: (_key, obj, old) => {
          o.cache.put(w.kind, obj);
          o.onEvent(w.kind, 'MODIFIED', obj, old);
        },
        onDelete: (key, last) => {
          o.cache.remove(w.kind, key);
          o.onEvent(w.kind, 'DELETED', last);
        },
      },
      hooks: {
        onRestart: (reason) => {
          // A 429 on the watch is counted as an error restart (the reflector honours Retry-After).
          const r = (WATCH_RESTART_REASONS as readonly string[]).includes(reason) ? reason : 'error';
          o.metrics.watchRestart(w.kind, r);
        },
        onProgress: () => o.metrics.watchEvent(w.kind),
      },
    });
    reflectors.set(w.kind, r);
    r.start();
  }
  return {
    reflectors,
    synced: Promise.all([...reflectors.values()].map((r) => r.waitForSync())).then(() => undefined),
    async stop() {
      await Promise.all([...reflectors.values()].map((r) => r.stop()));
    },
  };
}
