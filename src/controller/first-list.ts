// After a start: which ExternalSecrets sync now, which wait for their next refresh, and the order
// the ones already due are queued in. The first list is queued whole, grouped by the key each
// object reads first, so a start that takes longer than the share window still reads each key
// once and the reads due together are batched; through a store that reads in batches, one object
// per key goes first and the rest reuse its read (a restart's refresh storm).
import type { V1Secret } from '@kubernetes/client-node';
import type { AnyStore, ExternalSecret } from '../api/v1alpha1/types.ts';
import { objectKey } from '../kube/informer.ts';
import type { WorkQueue } from '../kube/work-queue.ts';
import { nextRefreshAt } from '../pipeline/refresh-timing.ts';
import { currentTargetName, objectVersion, refreshSeed, type Settings } from '../pipeline/settings.ts';
import { selectProvider } from '../providers/registry.ts';
import { isIntact } from './externalsecret/drift.ts';
import type { ObjectState } from './externalsecret/object-state.ts';
import { groupedOrder, readersFirst } from './queue-order.ts';
import { storeKeysOf } from './store-keys.ts';

/** Different keys interleaved when the first list is queued: one BatchGetSecretValue. */
const FIRST_LIST_WIDTH = 20;

export interface FirstListDeps {
  queue: WorkQueue;
  /** The cached ExternalSecret of a key. */
  externalSecret(key: string): ExternalSecret | undefined;
  /** The cached target Secret of an ExternalSecret. */
  targetSecret(namespace: string, name: string): V1Secret | undefined;
  state(key: string): ObjectState;
  storeByKey(key: string): AnyStore | undefined;
  /** An object's settings as served (ReadPipeline.settings). */
  settings(es: ExternalSecret): Settings;
}

export class FirstList {
  private pending: ExternalSecret[] | undefined = [];
  private readonly deps: FirstListDeps;

  constructor(deps: FirstListDeps) {
    this.deps = deps;
  }

  /** A new ExternalSecret from the watch: kept until the first list is complete, scheduled at once after. */
  added(es: ExternalSecret): void {
    if (this.pending) this.pending.push(es);
    else if (this.schedule(es) === 'overdue') this.deps.queue.add(objectKey(es), 'periodic');
  }

  /** The first list is complete: queue its objects in the order above. */
  async complete(): Promise<void> {
    const first = this.pending ?? [];
    this.pending = undefined;
    const overdue: ExternalSecret[] = [];
    for (const es of groupedOrder(first, refreshSeed, FIRST_LIST_WIDTH)) {
      const current = this.deps.externalSecret(objectKey(es));
      if (current && this.schedule(current) === 'overdue') overdue.push(current);
    }
    // Where each key is a call, the store's budget paces the reads, and the grouped order keeps the
    // workers busy with objects whose key was just read meanwhile; readers go first only where
    // the store reads in batches.
    const batching = new Map<string, boolean>();
    for (const es of overdue) {
      const [only, ...more] = storeKeysOf(es);
      if (only && more.length === 0 && !batching.has(only)) batching.set(only, await this.readsInBatches(only));
    }
    const lead = (es: ExternalSecret) => {
      const [only, ...more] = storeKeysOf(es);
      return only !== undefined && more.length === 0 && batching.get(only) === true;
    };
    for (const es of readersFirst(overdue, refreshSeed, lead)) this.deps.queue.add(objectKey(es), 'periodic');
  }

  /**
   * After a restart an ExternalSecret synced recently waits for its next refresh, not a sync now.
   * One whose refresh is already due is returned as 'overdue' for the caller to queue.
   */
  private schedule(es: ExternalSecret): 'overdue' | undefined {
    const key = objectKey(es);
    try {
      const s = this.deps.settings(es);
      if (this.settled(es, s)) {
        const refreshed = Date.parse(es.status?.refreshTime ?? '');
        if (s.refreshIntervalMs > 0) {
          const at = nextRefreshAt(refreshed, s.refreshIntervalMs, refreshSeed(es));
          if (at <= Date.now()) return 'overdue';
          this.deps.queue.addAfter(key, at - Date.now(), 'periodic');
        }
        return undefined;
      }
    } catch {
      // An unparsable spec is reported by the reconcile.
    }
    this.deps.queue.add(key, 'urgent');
    return undefined;
  }

  /** Ready, its current version synced, a refresh time known, and its target intact. */
  private settled(es: ExternalSecret, s: Settings): boolean {
    const ready = es.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const refreshed = Date.parse(es.status?.refreshTime ?? '');
    const secret =
      s.creationPolicy === 'None'
        ? undefined
        : this.deps.targetSecret(es.metadata.namespace ?? '', currentTargetName(es, s));
    const intact = isIntact(secret, s, this.deps.state(objectKey(es)));
    return ready && intact && es.status?.syncedResourceVersion === objectVersion(es) && Number.isFinite(refreshed);
  }

  /** Whether the cached store of `storeKey` reads in batches (Provider.readsInBatches). */
  private async readsInBatches(storeKey: string): Promise<boolean> {
    const store = this.deps.storeByKey(storeKey);
    if (!store?.spec?.provider) return false;
    try {
      const { provider, spec } = await selectProvider(store.spec.provider);
      return provider.readsInBatches?.(spec) ?? false;
    } catch {
      return false; // an invalid store is reported by the reconcile
    }
  }
}
