/** Helpers for rule table tests: run one rule on one object, with defaults. */
import { ClusterIndex } from '../engine/cluster-index.ts';
import type { ClusterFacts, ImageFactsView, KubeObject, Rule, RuleHit } from '../engine/types.ts';

export interface RunOptions {
  params?: Record<string, unknown>;
  /** Other objects in scope (for cross-resource rules); the object itself is added. */
  others?: KubeObject[];
  now?: Date;
  serverVersion?: string;
  /** Image facts (ClusterFacts.images), for the image content rules. */
  images?: ImageFactsView;
  /** Ids of the other rules of the evaluating policy (RuleContext.activeRules). */
  activeRules?: string[];
}

export const FIXED_NOW = new Date('2026-06-01T00:00:00Z');

export function runRule(rule: Rule, obj: KubeObject, opts: RunOptions = {}): RuleHit[] {
  const params: Record<string, unknown> = {};
  for (const p of rule.params ?? []) params[p.name] = p.default;
  Object.assign(params, opts.params ?? {});
  const cluster: ClusterFacts = {};
  if (opts.serverVersion !== undefined) cluster.serverVersion = opts.serverVersion;
  if (opts.images !== undefined) cluster.images = opts.images;
  const index = new ClusterIndex([obj, ...(opts.others ?? [])], cluster);
  return rule.check(obj, {
    params,
    index,
    now: opts.now ?? FIXED_NOW,
    ...(opts.activeRules ? { activeRules: new Set(opts.activeRules) } : {}),
  });
}

/** A minimal Pod with the given spec fragment merged into a one-container spec. */
export function pod(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', ...meta },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }], ...spec },
  };
}

/** A Pod with one container carrying the given fields. */
export function podWithContainer(
  container: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): KubeObject {
  return pod({ containers: [{ name: 'app', image: 'registry.example/app:1.0', ...container }], ...spec });
}

/** Wraps a pod spec into a Deployment. */
export function deployment(podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'default', ...meta },
    spec: {
      selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' } }, spec: podSpec },
    },
  };
}
