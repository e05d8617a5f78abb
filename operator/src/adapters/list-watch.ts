/**
 * The transport port of the reflector: one page of a list, and a streaming
 * watch. `KubeClient` (k8s-client.ts) implements it over HTTPS with the
 * kubeconfig's credentials; unit tests use a scripted fake.
 */

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size. */
  limit?: number;
  /** Continue token of the previous page. */
  continue?: string;
  /** Unset: a consistent (quorum) read of the latest state. */
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface ListPage {
  items: unknown[];
  /** The list's resourceVersion, to watch from. */
  resourceVersion: string;
  /** Token for the next page; absent or '' on the last page. */
  continue?: string;
}

export interface WatchOptions {
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  /** Server-side timeout: the server ends the watch cleanly after this. */
  timeoutSeconds: number;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One decoded line of a watch stream. */
export interface WatchEvent {
  /** ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (others are ignored). */
  type: string;
  object: unknown;
}

/** Stops a watch. After abort, `onDone` is not called. Idempotent. */
export type AbortWatch = () => void;

export interface ListWatchClient {
  /** One page of a collection; rejects with ApiError on HTTP errors. */
  list(path: string, opts: ListOptions): Promise<ListPage>;
  /**
   * Opens a watch. Events arrive through `onEvent`, synchronously and in
   * order. `onDone` is called exactly once when the stream ends by itself:
   * `undefined` for a clean end (e.g. timeoutSeconds elapsed), an ApiError for
   * an HTTP error status (410, 429 …) or a transport failure (code 0).
   */
  watch(
    path: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: Error) => void,
  ): AbortWatch;
}
