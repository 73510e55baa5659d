// A list-then-watch cache of one resource, built because @kubernetes/client-node's ListWatch
// stops on non-410 errors, never asks for bookmarks and lists without pagination
// (failure-modes §1e, §2 items 18–21). This one lists in pages, watches with bookmarks and a
// server-side timeout, treats silence longer than the bookmark interval as a dead connection,
// relists once on 410 Gone, reconnects after any other error with jittered backoff, and
// turns a relist into the add/update/delete events the watch missed. Objects are trimmed before
// they are cached (client-go's SetTransform): managedFields and kubectl's last-applied annotation
// are bookkeeping the controller never reads and would otherwise be most of an object's size.
import {
  HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  RequestContext,
  type V1ManagedFieldsEntry,
  type V1ObjectMeta,
  Watch,
} from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { backoffDelay, sleep } from '../rate-limit.ts';

/** kubectl apply's copy of the whole object: as big as the object again, never read by Ferry. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

const trimmedLastApplied = new WeakSet<object>();

/**
 * The default transform: drops metadata.managedFields (except the entries `keepManagedFields`
 * accepts) and the last-applied annotation. The object keeps its identity; `metadata` and
 * `annotations` are rebuilt without the dropped keys rather than `delete`d from, because V8 turns
 * an object it deletes a property from into a hash table (dictionary mode), about 0.5 KiB per
 * object here, twice per ExternalSecret (its own metadata and its Secret's) for as long as it is
 * cached: 9 MiB of heap at 10,000 objects.
 */
export function trimBookkeeping<T extends KubernetesObject>(
  obj: T,
  keepManagedFields?: (entry: V1ManagedFieldsEntry) => boolean,
): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  const kept = meta.managedFields && keepManagedFields ? meta.managedFields.filter(keepManagedFields) : [];
  const dropManaged = meta.managedFields !== undefined && kept.length === 0;
  const dropLastApplied = meta.annotations !== undefined && LAST_APPLIED_ANNOTATION in meta.annotations;
  if (!dropManaged && !dropLastApplied) {
    if (meta.managedFields) meta.managedFields = kept;
    return obj;
  }
  const trimmed: V1ObjectMeta = {};
  for (const [key, value] of Object.entries(meta) as [keyof V1ObjectMeta, unknown][]) {
    if (key === 'managedFields') {
      if (!dropManaged) trimmed.managedFields = kept;
    } else if (key === 'annotations' && dropLastApplied) {
      const annotations: Record<string, string> = {};
      for (const [name, v] of Object.entries(meta.annotations ?? {}))
        if (name !== LAST_APPLIED_ANNOTATION) annotations[name] = v;
      trimmed.annotations = annotations;
    } else {
      (trimmed as Record<string, unknown>)[key] = value;
    }
  }
  obj.metadata = trimmed;
  if (dropLastApplied) trimmedLastApplied.add(obj);
  return obj;
}

/**
 * Whether the cached `obj` had a last-applied annotation that the cache dropped: a full-object
 * write (PUT) must then start from a fresh read, or it would remove the annotation.
 */
export function lostLastApplied(obj: object): boolean {
  return trimmedLastApplied.has(obj);
}

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  kc: KubeConfig;
  /** Collection path, e.g. /api/v1/secrets or /apis/ferry.dev/v1alpha1/namespaces/x/externalsecrets. */
  path: string;
  /** Short resource name for logs and metrics. */
  resource: string;
  labelSelector?: string;
  /** e.g. `metadata.name=x`: with it, RBAC can grant list and watch of that one object (resourceNames). */
  fieldSelector?: string;
  logger: Logger;
  metrics: Metrics;
  pageSize?: number;
  /** A watch that receives nothing (not even a bookmark) for this long is restarted. Default 150 s. */
  inactivityMs?: number;
  /**
   * The server-side timeout each watch asks for, in seconds, picked at random in [min, max] so
   * connections are renewed regularly and not all at once. Default [300, 600], like client-go.
   * 'server': ask for none, so the API server picks one from its --min-request-timeout
   * (1800–3600 s by default); tests use it to have the server end watches early.
   */
  watchTimeoutSeconds?: readonly [number, number] | 'server';
  /** A watch that lasted this long before it failed was healthy: the backoff starts afresh. Default 10 s. */
  healthyWatchMs?: number;
  /**
   * Applied to every object before it is cached and handed to handlers; keep only what the
   * controller reads. Default: trimBookkeeping.
   */
  transform?: (obj: T) => T;
}

export interface InformerHandler<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

interface ListResponse<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

class GoneError extends Error {}

export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

/** The watch timings a controller passes to all its informers (tests shorten them). */
export type WatchTimings = Pick<InformerOptions, 'inactivityMs' | 'watchTimeoutSeconds'>;

export class Informer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private resourceVersion = '';
  private syncedResolve!: () => void;
  /** Resolves once the first list has filled the cache. */
  readonly synced: Promise<void> = new Promise((r) => {
    this.syncedResolve = r;
  });
  private readonly opts: Required<Omit<InformerOptions<T>, 'labelSelector' | 'fieldSelector'>> & InformerOptions<T>;

  constructor(opts: InformerOptions<T>) {
    this.opts = {
      pageSize: 500,
      inactivityMs: 150_000,
      watchTimeoutSeconds: [300, 600],
      healthyWatchMs: 10_000,
      transform: (obj: T) => trimBookkeeping(obj),
      ...opts,
    };
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Keeps the cache current until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger, metrics, resource } = this.opts;
    let failures = 0;
    while (!signal.aborted) {
      let watchStarted: number | undefined;
      try {
        if (!this.resourceVersion) await this.relist(signal);
        const started = Date.now();
        watchStarted = started;
        const from = this.resourceVersion;
        const reason = await this.watch(signal);
        if (signal.aborted) break;
        logger.debug({ resource, reason, from, to: this.resourceVersion, ms: Date.now() - started }, 'watch ended');
        metrics.watchRestarts.inc({ resource, reason });
        // A watch the server ends at once, again and again, must not become a busy loop.
        if (Date.now() - started < 1000) await sleep(backoffDelay(failures++, 500, 30_000), signal).catch(() => {});
        else failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError) {
          logger.info({ resource }, 'watch resource version too old (410); relisting');
          this.resourceVersion = '';
          metrics.watchRestarts.inc({ resource, reason: 'gone' });
          continue;
        }
        // Only failures in a row grow the backoff: a watch that ran for a while before it failed
        // (a connection reset hours later) reconnects at once-ish, not after the 30 s cap.
        if (watchStarted !== undefined && Date.now() - watchStarted >= this.opts.healthyWatchMs) failures = 0;
        const delay = backoffDelay(failures++, 500, 30_000);
        logger.warn({ resource, err: describe(err), retryInMs: Math.round(delay) }, 'watch failed; reconnecting');
        metrics.watchRestarts.inc({ resource, reason: 'error' });
        await sleep(delay, signal).catch(() => {});
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.request<ListResponse<T>>(
        {
          limit: this.opts.pageSize,
          continue: continueToken,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
        },
        signal,
      );
      for (const item of page.items) fresh.set(objectKey(item), this.opts.transform(item));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (continueToken);
    this.opts.metrics.relists.inc({ resource: this.opts.resource });
    const old = new Map(this.cache);
    this.cache.clear();
    for (const [key, obj] of fresh) {
      this.cache.set(key, obj);
      const before = old.get(key);
      if (!before) this.emit('add', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, before);
    }
    for (const [key, obj] of old) if (!fresh.has(key)) this.emit('delete', obj);
    this.resourceVersion = resourceVersion;
    this.syncedResolve();
  }

  /** One watch connection; resolves with why it ended, rejects on errors. */
  private watch(signal: AbortSignal): Promise<string> {
    const watcher = new Watch(this.opts.kc);
    // Private in the typings; the inactivity timer must outlast the ~1/min bookmark interval.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.opts.inactivityMs;
    // Like client-go: end each watch after 5–10 min so connections are renewed regularly.
    const range = this.opts.watchTimeoutSeconds;
    const timeoutSeconds =
      range === 'server' ? undefined : range[0] + Math.floor(Math.random() * (range[1] - range[0]));
    return new Promise((resolve, reject) => {
      let gone = false;
      let controller: AbortController | undefined;
      let settled = false;
      let guard: NodeJS.Timeout | undefined;
      const settle = (end: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        signal.removeEventListener('abort', onAbort);
        end();
      };
      const onAbort = () => {
        controller?.abort();
        settle(() => resolve('stopped'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // The client's inactivity timer aborts a silent watch, and the stream's end settles it. Were
      // that end never to come (no close, no error), the informer would stay deaf for good with
      // nothing logged. So a watch silent for twice the timeout is given up here whatever the
      // client does. (idle-watches.test.ts timing out under CI load was first read as this; it
      // was the test's own race with the store's status write, fixed there.)
      const armGuard = () => {
        clearTimeout(guard);
        guard = setTimeout(() => {
          this.opts.logger.warn(
            { resource: this.opts.resource },
            'watch did not end after its inactivity timeout; abandoned',
          );
          controller?.abort();
          settle(() => resolve('inactive'));
        }, 2 * this.opts.inactivityMs);
      };
      armGuard();
      const finish = (err: unknown) =>
        settle(() => {
          if (gone) reject(new GoneError());
          else if (signal.aborted) resolve('stopped');
          else if (err && (err as Error).name === 'TimeoutError') resolve('inactive');
          else if (err) reject(err);
          else resolve('closed');
        });
      watcher
        .watch(
          this.opts.path,
          {
            allowWatchBookmarks: true,
            resourceVersion: this.resourceVersion,
            timeoutSeconds,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
          },
          (type: string, obj: T & { code?: number }) => {
            armGuard();
            if (type === 'ERROR') {
              if (obj.code === 410) {
                gone = true;
                controller?.abort();
              }
              return;
            }
            const rv = obj.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            this.apply(type, this.opts.transform(obj));
          },
          finish,
        )
        .then(
          (c) => {
            controller = c;
            this.opts.logger.debug({ resource: this.opts.resource, settled }, 'watch connected');
            if (signal.aborted || settled) c.abort();
          },
          (err: unknown) => settle(() => reject(err)),
        );
    });
  }

  private apply(type: string, obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      this.cache.set(key, obj);
      if (old) this.emit('update', obj, old);
      else this.emit('add', obj);
    }
  }

  private emit(event: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (event === 'update') h.update?.(obj, old as T);
        else h[event]?.(obj);
      } catch (err) {
        this.opts.logger.error({ resource: this.opts.resource, err: describe(err) }, 'informer handler failed');
      }
    }
  }

  private async request<R>(query: Record<string, string | number | undefined>, signal: AbortSignal): Promise<R> {
    const cluster = this.opts.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server + this.opts.path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.opts.kc.applySecurityAuthentication(ctx);
    const res = await fetch(url, {
      headers: ctx.getHeaders(),
      dispatcher: ctx.getDispatcher(),
      signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
    });
    if (res.status === 410) throw new GoneError();
    if (!res.ok) throw new Error(`list ${this.opts.resource}: HTTP ${res.status}`);
    return (await res.json()) as R;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
