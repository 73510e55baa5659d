// Read-ahead for batching providers: while one ExternalSecret reconciles, the keys of the
// ExternalSecrets queued behind it that will read through the same store client are handed to
// the shared reads as hints, and the next batch call of that store fills its free slots with
// them (SharedReads.hint). A cold start then reads its keys twenty to a call instead of the few
// the workers happen to reach together, and never makes more calls than without hints.
//
// A hint may only name keys the queued object is itself allowed to read through the very same
// client: the same store reference, the same store identity (StoreClients.keyOf: referent
// credentials differ per namespace), and — across namespaces — only a ClusterSecretStore without
// conditions or remoteKeyPolicy, whose answer does not depend on the namespace. In the same
// namespace the current object's policy is the queued object's policy.
import type { AnyStore, ExternalSecret } from '../../api/v1alpha1/types.ts';
import type { KeyPolicy } from '../../pipeline/key-policy.ts';
import { remoteReads } from '../../pipeline/render.ts';
import { storeRefsOf } from '../../pipeline/stores.ts';
import type { SharedReads, StoreHandle } from '../../providers/shared-reads.ts';

export interface ReadAheadSource {
  /** Queued ExternalSecret keys (namespace/name) worth reading ahead for, in the order workers will take them. */
  peek(limit: number): string[];
  externalSecret(key: string): ExternalSecret | undefined;
  /** StoreClients.keyOf. */
  storeKey(store: AnyStore, namespace: string): Promise<string>;
}

/** How far down the queue to look: at ten objects per key, a couple of batches of keys. */
export const READ_AHEAD_DEPTH = 1024;

const sameRef = (a: ExternalSecret, b: ExternalSecret): boolean => {
  const ra = a.spec.secretStoreRef;
  const rb = b.spec.secretStoreRef;
  return (
    ra !== undefined &&
    rb !== undefined &&
    ra.name === rb.name &&
    (ra.kind ?? 'SecretStore') === (rb.kind ?? 'SecretStore')
  );
};

export async function readAhead(
  es: ExternalSecret,
  handle: StoreHandle,
  store: AnyStore,
  policy: KeyPolicy | undefined,
  notBefore: number,
  forcedSince: number | undefined,
  reads: SharedReads,
  source: ReadAheadSource,
): Promise<void> {
  if (!reads.wantsHints(handle)) return;
  const namespace = es.metadata.namespace ?? '';
  const spec = store.spec as { conditions?: unknown[]; remoteKeyPolicy?: unknown };
  const acrossNamespaces =
    store.kind === 'ClusterSecretStore' && !spec.conditions?.length && spec.remoteKeyPolicy === undefined;
  const keyByNamespace = new Map<string, boolean>([[namespace, true]]);
  const refs = [];
  for (const key of source.peek(READ_AHEAD_DEPTH)) {
    const other = source.externalSecret(key);
    if (!other || other === es || !sameRef(es, other)) continue;
    const slots = storeRefsOf(other);
    if (slots.size !== 1 || !slots.has('')) continue;
    const otherNamespace = other.metadata.namespace ?? '';
    if (otherNamespace !== namespace) {
      if (!acrossNamespaces) continue;
      let same = keyByNamespace.get(otherNamespace);
      if (same === undefined) {
        same = (await source.storeKey(store, otherNamespace)) === handle.key;
        keyByNamespace.set(otherNamespace, same);
      }
      if (!same) continue;
    }
    const wanted = remoteReads(other.spec);
    if (policy && !wanted.every((r) => policy.allows(r.key))) continue;
    refs.push(...wanted);
  }
  // The queued objects' own freshness needs are not known here; this object's stand in (a
  // forced wave forces them all alike, a refresh storm refreshes them alike).
  if (refs.length > 0) reads.hint(handle, refs, notBefore, forcedSince);
}
