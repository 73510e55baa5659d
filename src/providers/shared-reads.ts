// One provider read per unique (store identity, key, version), shared by every reconcile that
// needs it: concurrent requests join the read in flight, later ones within the freshness window
// reuse its result, and reads of one store due together are batched when the provider can.
// Every call goes through the store's rate budget, which a Throttled answer pauses.
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TokenBucket } from '../rate-limit.ts';
import { type FetchedValue, type FindQuery, type ProviderClient, ProviderError, type RemoteRef } from './provider.ts';
import { StoreBreaker } from './store-breaker.ts';

/** A ready provider client and everything reads through it share. */
export interface StoreHandle {
  /** Store UID, generation and credential identity: reads are shared only under the same key. */
  key: string;
  providerName: string;
  client: ProviderClient;
  budget: TokenBucket;
}

interface Entry {
  startedAt: number;
  promise: Promise<FetchedValue>;
  /** Failed without an answer about the key (Transient, Throttled): never reused. */
  failed: boolean;
  /** Started for a forced sync: other forced syncs may share it (see read()). */
  forced: boolean;
  /** Once settled with an answer about the key: whether the provider had it. */
  found?: boolean;
}

/**
 * NotFound, Denied and Invalid are the provider's answer about a key: shared like a value within
 * the window, so objects reading one missing or forbidden key cost one call, not one each.
 */
const isAnswer = (err: unknown) =>
  err instanceof ProviderError && (err.kind === 'NotFound' || err.kind === 'Denied' || err.kind === 'Invalid');

interface PendingBatch {
  store: StoreHandle;
  items: { ref: RemoteRef; resolve(v: FetchedValue): void; reject(e: unknown): void }[];
  /** Whose read opened the batch: the call waits for the store's budget in that tenant's turn. */
  tenant: string;
  timer: NodeJS.Timeout;
}

/** A key a queued ExternalSecret will read soon through a store (see hint()). */
interface Hint {
  ref: RemoteRef;
  notBefore: number;
  forcedSince: number | undefined;
  at: number;
}

/** Hints kept per store: a few batches' worth; older ones make room. */
const MAX_HINTS_PER_STORE = 200;
const HINT_TTL_MS = 30_000;

export interface SharedReadsOptions {
  metrics: Metrics;
  logger?: Logger;
  /** Aborts provider calls on shutdown. */
  signal: AbortSignal;
  callTimeoutMs?: number;
  /** How long reads of one store wait for company before a batch call. */
  batchWindowMs?: number;
  /** Pause applied on a throttle that names no Retry-After. */
  defaultThrottlePauseMs?: number;
  /** Called when a store that failed to answer (Transient) answers again. */
  onStoreRecovered?: (storeKey: string) => void;
  /** First backoff step of a store that failed to answer; steps double up to 30 s. */
  storeBackoffBaseMs?: number;
}

const RETAIN_MS = 15 * 60_000;
const LIST_TIMEOUT_FACTOR = 8;

function reusable(entry: { startedAt: number; forced: boolean }, notBefore: number, forcedSince?: number): boolean {
  if (entry.startedAt >= notBefore) return true;
  return forcedSince !== undefined && entry.forced && entry.startedAt >= forcedSince;
}

export class SharedReads {
  private readonly entries = new Map<string, Entry>();
  private readonly listings = new Map<
    string,
    { startedAt: number; promise: Promise<string[]>; failed: boolean; forced: boolean; found?: boolean }
  >();
  private readonly batches = new Map<string, PendingBatch>();
  private readonly hints = new Map<string, Map<string, Hint>>();
  private readonly opts: Required<Omit<SharedReadsOptions, 'onStoreRecovered' | 'storeBackoffBaseMs'>>;
  private readonly breaker: StoreBreaker;
  private sweepAt = Date.now() + 60_000;

  constructor(opts: SharedReadsOptions) {
    this.opts = {
      callTimeoutMs: 15_000,
      // Long enough for the reads of a start's first objects (queued grouped by key, 20 keys
      // interleaved) to meet in one batch; short next to a provider call.
      batchWindowMs: 25,
      defaultThrottlePauseMs: 1000,
      logger: undefined,
      ...opts,
    } as Required<SharedReadsOptions>;
    this.breaker = new StoreBreaker({ onRecovered: opts.onStoreRecovered, baseMs: opts.storeBackoffBaseMs });
  }

  /**
   * The value of `ref` read no earlier than `notBefore` (epoch ms). A read started at or after
   * `notBefore`, in flight or finished successfully, is reused; otherwise a new one is made.
   *
   * `forcedSince` marks a forced sync (its notBefore is the moment it was forced): it may also
   * reuse a read that another forced sync started at or after `forcedSince`. Forcing many objects
   * that read one key (an annotation on all of them) then costs one read per key, not one per
   * object whose force arrived after the read began.
   *
   * `tenant` (the reading ExternalSecret's namespace) is whose turn a new call waits for at the
   * store's budget, which serves tenants in turn (TokenBucket).
   */
  read(
    store: StoreHandle,
    ref: RemoteRef,
    notBefore: number,
    forcedSince?: number,
    tenant = '',
  ): Promise<FetchedValue> {
    const id = entryId(store, ref);
    this.hints.get(store.key)?.delete(id);
    const existing = this.entries.get(id);
    if (existing && !existing.failed && reusable(existing, notBefore, forcedSince)) {
      this.opts.metrics.sharedReads.inc({ provider: store.providerName, served: 'shared' });
      return existing.promise;
    }
    this.opts.metrics.sharedReads.inc({ provider: store.providerName, served: 'call' });
    this.opts.logger?.debug(
      { provider: store.providerName, store: store.key, key: ref.key, version: ref.version },
      'provider read',
    );
    const promise = this.fetch(store, ref, tenant);
    this.track(id, Date.now(), promise, forcedSince !== undefined);
    this.sweep();
    return promise;
  }

  /** Keeps `promise` as the read of `id`, marked failed once it rejects without an answer about the key. */
  private track(id: string, startedAt: number, promise: Promise<FetchedValue>, forced: boolean): void {
    const entry: Entry = { startedAt, promise, failed: false, forced };
    promise.then(
      () => {
        entry.found = true;
      },
      (err: unknown) => {
        entry.failed = !isAnswer(err);
        if (err instanceof ProviderError && err.kind === 'NotFound') entry.found = false;
      },
    );
    this.entries.set(id, entry);
  }

  /**
   * Read-ahead: `refs` will be read through `store` soon (by ExternalSecrets waiting in the queue),
   * each needing a value read no earlier than `notBefore`. Nothing is read for a hint alone: when
   * a batch call of this store goes out with room left, hinted keys without a usable read fill
   * it, so a cold start's keys arrive twenty to a call instead of the few the workers reach at
   * once, and the call count never grows. Only for stores whose provider batches.
   */
  hint(store: StoreHandle, refs: RemoteRef[], notBefore: number, forcedSince?: number): void {
    const { client } = store;
    if (!client.readMany || !client.batchable) return;
    let hints = this.hints.get(store.key);
    if (!hints) {
      hints = new Map();
      this.hints.set(store.key, hints);
    }
    const now = Date.now();
    for (const ref of refs) {
      if (!client.batchable(ref) || (ref.metadataPolicy === 'Fetch' && !client.readsMetadata)) continue;
      const id = entryId(store, ref);
      if (hints.has(id) || this.usable(id, notBefore, forcedSince)) continue;
      hints.set(id, { ref, notBefore, forcedSince, at: now });
      if (hints.size > MAX_HINTS_PER_STORE) {
        const oldest = hints.keys().next().value;
        if (oldest !== undefined) hints.delete(oldest);
      }
    }
  }

  /** Whether hint() would still take keys for `store` (it holds fewer than a few batches' worth). */
  wantsHints(store: StoreHandle): boolean {
    if (!store.client.readMany) return false;
    return (this.hints.get(store.key)?.size ?? 0) < (store.client.maxBatch ?? 20) * 2;
  }

  private usable(id: string, notBefore: number, forcedSince: number | undefined): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && !entry.failed && reusable(entry, notBefore, forcedSince);
  }

  /** Moves hinted keys of the batch's store into it, up to its size; each becomes a shared read. */
  private fillFromHints(batch: PendingBatch): void {
    const { store } = batch;
    const hints = this.hints.get(store.key);
    if (!hints) return;
    const room = (store.client.maxBatch ?? 20) - batch.items.length;
    const now = Date.now();
    const taken = new Set(batch.items.map((i) => entryId(store, i.ref)));
    let added = 0;
    for (const [id, hint] of hints) {
      if (added >= room) break;
      hints.delete(id);
      if (now - hint.at > HINT_TTL_MS || taken.has(id) || this.usable(id, hint.notBefore, hint.forcedSince)) continue;
      const read = new Promise<FetchedValue>((resolve, reject) => batch.items.push({ ref: hint.ref, resolve, reject }));
      this.track(id, now, read, hint.forcedSince !== undefined);
      taken.add(id);
      added++;
    }
    if (hints.size === 0) this.hints.delete(store.key);
    if (added > 0) {
      this.opts.metrics.sharedReads.inc({ provider: store.providerName, served: 'call' }, added);
      this.opts.metrics.readAhead.inc({ provider: store.providerName }, added);
    }
  }

  /**
   * Names matching `query` (dataFrom[].find), listed no earlier than `notBefore`: one listing per
   * store identity and query, shared like reads, by every ExternalSecret asking the same.
   */
  list(store: StoreHandle, query: FindQuery, notBefore: number, forcedSince?: number, tenant = ''): Promise<string[]> {
    const id = `${store.key}\u0000find\u0000${JSON.stringify([query.path ?? '', query.nameRegexp ?? '', Object.entries(query.tags ?? {}).sort()])}`;
    const existing = this.listings.get(id);
    if (existing && !existing.failed && reusable(existing, notBefore, forcedSince)) {
      this.opts.metrics.sharedReads.inc({ provider: store.providerName, served: 'shared' });
      return existing.promise;
    }
    const find = store.client.find;
    if (!find) {
      return Promise.reject(
        new ProviderError('Invalid', `dataFrom find is not supported by the ${store.providerName} provider`),
      );
    }
    this.opts.metrics.sharedReads.inc({ provider: store.providerName, served: 'call' });
    const entry = {
      startedAt: Date.now(),
      // A listing is many calls (pages, folders, metadata), each after the first taking its own
      // token: it gets LIST_TIMEOUT_FACTOR call timeouts in all.
      promise: this.call(
        store,
        'list',
        (signal) => find.call(store.client, query, signal, () => store.budget.take(signal, tenant)),
        this.opts.callTimeoutMs * LIST_TIMEOUT_FACTOR,
        tenant,
      ),
      failed: false,
      forced: forcedSince !== undefined,
      found: undefined as boolean | undefined,
    };
    entry.promise.then(
      (names) => {
        entry.found = names.length > 0;
      },
      () => {
        entry.failed = true;
      },
    );
    this.listings.set(id, entry);
    return entry.promise;
  }

  /**
   * Whether every key read and every listing made through `storeKey` (two at least, kept up to
   * 15 minutes) was answered not-found: what a store pointed at the wrong region, mount, engine
   * version or project looks like. Deleting Secrets on such evidence would turn one bad store edit
   * into the loss of every Secret read through it (see pipeline missing-key rules).
   */
  findsNothing(storeKey: string): boolean {
    const prefix = `${storeKey}\u0000`;
    let answered = 0;
    for (const map of [this.entries, this.listings] as Map<string, { found?: boolean }>[]) {
      for (const [id, entry] of map) {
        if (!id.startsWith(prefix) || entry.found === undefined) continue;
        if (entry.found) return false;
        answered++;
      }
    }
    return answered >= 2;
  }

  /** Forgets every result read under a store key (the store changed or its credentials failed). */
  forgetStore(storeKey: string): void {
    const prefix = `${storeKey}\u0000`;
    for (const id of this.entries.keys()) if (id.startsWith(prefix)) this.entries.delete(id);
    for (const id of this.listings.keys()) if (id.startsWith(prefix)) this.listings.delete(id);
    this.hints.delete(storeKey);
  }

  private fetch(store: StoreHandle, ref: RemoteRef, tenant: string): Promise<FetchedValue> {
    const { client } = store;
    if (ref.metadataPolicy === 'Fetch' && !client.readsMetadata) {
      return Promise.reject(
        new ProviderError(
          'Invalid',
          `remote key "${ref.key}": remoteRef.metadataPolicy Fetch is not supported by the ${store.providerName} provider`,
        ),
      );
    }
    if (client.readMany && client.batchable?.(ref)) return this.enqueueBatch(store, ref, tenant);
    return this.call(store, 'read', async (signal) => client.read(ref, signal), undefined, tenant);
  }

  private enqueueBatch(store: StoreHandle, ref: RemoteRef, tenant: string): Promise<FetchedValue> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(store.key);
      if (!batch) {
        const timer = setTimeout(() => this.flush(store.key), this.opts.batchWindowMs);
        batch = { store, items: [], timer, tenant };
        this.batches.set(store.key, batch);
      }
      batch.items.push({ ref, resolve, reject });
      if (batch.items.length >= (store.client.maxBatch ?? 20)) this.flush(store.key);
    });
  }

  private flush(storeKey: string): void {
    const batch = this.batches.get(storeKey);
    if (!batch) return;
    this.batches.delete(storeKey);
    clearTimeout(batch.timer);
    this.fillFromHints(batch);
    const { store, items, tenant } = batch;
    const readMany = store.client.readMany;
    if (items.length === 1 || !readMany) {
      for (const item of items) {
        this.call(store, 'read', (signal) => store.client.read(item.ref, signal), undefined, tenant).then(
          item.resolve,
          item.reject,
        );
      }
      return;
    }
    const refs = items.map((i) => i.ref);
    this.call(store, 'read_many', (signal) => readMany.call(store.client, refs, signal), undefined, tenant).then(
      (results) => {
        results.forEach((result, i) => {
          const item = items[i];
          if (!item) return;
          if (result instanceof ProviderError) {
            this.noteThrottle(store, result);
            item.reject(result);
          } else item.resolve(result);
        });
      },
      (err: unknown) => {
        for (const item of items) item.reject(err);
      },
    );
  }

  private async call<T>(
    store: StoreHandle,
    operation: string,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs = this.opts.callTimeoutMs,
    tenant = '',
  ): Promise<T> {
    const held = this.breaker.admit(store.key);
    if (held) {
      this.opts.metrics.providerCallsHeld.inc({ provider: store.providerName });
      throw held;
    }
    await store.budget.take(this.opts.signal, tenant);
    let error: ProviderError | undefined;
    try {
      const signal = AbortSignal.any([this.opts.signal, AbortSignal.timeout(timeoutMs)]);
      const result = await fn(signal);
      this.opts.metrics.providerCalls.inc({ provider: store.providerName, operation, outcome: 'ok' });
      return result;
    } catch (err) {
      error =
        err instanceof ProviderError
          ? err
          : new ProviderError(
              'Transient',
              `${store.providerName} ${operation} failed: ${(err as Error)?.name ?? 'error'}`,
            );
      this.opts.metrics.providerCalls.inc({ provider: store.providerName, operation, outcome: error.kind });
      this.noteThrottle(store, error);
      throw error;
    } finally {
      // Not on shutdown: an aborted call says nothing about the provider.
      if (!this.opts.signal.aborted) this.breaker.record(store.key, error);
    }
  }

  private noteThrottle(store: StoreHandle, error: ProviderError): void {
    if (error.kind !== 'Throttled') return;
    store.budget.pauseUntil(Date.now() + (error.retryAfterMs ?? this.opts.defaultThrottlePauseMs));
  }

  private sweep(): void {
    const now = Date.now();
    if (now < this.sweepAt) return;
    this.sweepAt = now + 60_000;
    for (const [id, entry] of this.entries) if (now - entry.startedAt > RETAIN_MS) this.entries.delete(id);
    for (const [id, entry] of this.listings) if (now - entry.startedAt > RETAIN_MS) this.listings.delete(id);
    for (const [key, hints] of this.hints) {
      for (const [id, hint] of hints) if (now - hint.at > HINT_TTL_MS) hints.delete(id);
      if (hints.size === 0) this.hints.delete(key);
    }
  }
}

function entryId(store: StoreHandle, ref: RemoteRef): string {
  return `${store.key}\u0000${ref.key}\u0000${ref.version ?? ''}\u0000${ref.metadataPolicy ?? ''}`;
}
