/**
 * A scripted ListWatchClient for reflector unit tests. Lists answer from a
 * queue of pages or errors; each watch call is recorded and can be driven by
 * the test (emit events, end cleanly or with an error). Aborted streams
 * ignore further emits, as a real transport would.
 */
import type {
  AbortWatch,
  ListOptions,
  ListPage,
  ListWatchClient,
  WatchEvent,
  WatchOptions,
} from '../list-watch.ts';

export interface FakeWatch {
  path: string;
  opts: WatchOptions;
  aborted: boolean;
  ended: boolean;
  emit(type: string, object: unknown): void;
  end(err?: Error): void;
}

type ListAnswer = ListPage | Error | (() => ListPage | Error);

export class FakeListWatch implements ListWatchClient {
  readonly listCalls: { path: string; opts: ListOptions }[] = [];
  readonly watches: FakeWatch[] = [];
  private readonly answers: ListAnswer[] = [];
  /** Answer used once the queue is empty. */
  fallback: ListAnswer | undefined;
  /** Lists held open until the test resolves them (when `holdLists` is set). */
  holdLists = false;
  private held: (() => void)[] = [];

  /** Queues list answers (pages or errors), consumed in order. */
  queueList(...answers: ListAnswer[]): void {
    this.answers.push(...answers);
  }

  /** Releases lists held by `holdLists`. */
  releaseLists(): void {
    const h = this.held;
    this.held = [];
    for (const r of h) r();
  }

  async list(path: string, opts: ListOptions): Promise<ListPage> {
    this.listCalls.push({ path, opts });
    if (this.holdLists) {
      await new Promise<void>((resolve, reject) => {
        this.held.push(resolve);
        opts.signal?.addEventListener('abort', () => {
          reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
        });
      });
    }
    let a = this.answers.shift() ?? this.fallback;
    if (typeof a === 'function') a = a();
    if (a === undefined) throw new Error('FakeListWatch: no list answer queued');
    if (a instanceof Error) throw a;
    return structuredClone(a);
  }

  watch(
    path: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: Error) => void,
  ): AbortWatch {
    const w: FakeWatch = {
      path,
      opts,
      aborted: false,
      ended: false,
      emit: (type, object) => {
        if (w.aborted || w.ended) return;
        onEvent({ type, object: structuredClone(object) });
      },
      end: (err) => {
        if (w.aborted || w.ended) return;
        w.ended = true;
        onDone(err);
      },
    };
    this.watches.push(w);
    return () => {
      w.aborted = true;
    };
  }

  /** The most recent watch. */
  get current(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('FakeListWatch: no watch opened');
    return w;
  }
}

/** A Pod-like object with a resourceVersion. */
export function obj(
  name: string,
  rv: string,
  namespace = 'ns',
  extra: Record<string, unknown> = {},
): unknown {
  return { metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}` }, ...extra };
}

/** A list page. */
export function page(resourceVersion: string, items: unknown[], cont?: string): ListPage {
  const p: ListPage = { items, resourceVersion };
  if (cont !== undefined) p.continue = cont;
  return p;
}
