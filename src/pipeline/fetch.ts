// Reads every remote value an ExternalSecret needs through the shared reads, and sorts the
// outcome into values and per-read errors; nothing is thrown for one bad key. dataFrom[].find
// entries are listed first (one shared listing per store and query), then read like any key.
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import { type FetchedValue, type FindQuery, ProviderError, type RemoteRef } from '../providers/provider.ts';
import type { SharedReads, StoreHandle } from '../providers/shared-reads.ts';
import { readId, remoteReads } from './render.ts';
import { itemSlot } from './stores.ts';

export interface FetchOutcome {
  values: Map<string, FetchedValue>;
  errors: Map<string, ProviderError>;
  /** The remote key of each read id, for messages. */
  keys: Map<string, string>;
  /** Names each dataFrom[].find listed, by dataFrom index. */
  found: Map<number, string[]>;
  /** How many listed names each dataFrom[].find left out, unread, because the store's remoteKeyPolicy refuses them. */
  filtered: Map<number, number>;
  /** The store slot of each failed read id (see itemSlot). */
  slots: Map<string, string>;
}

function asProviderError(err: unknown, what: string): ProviderError {
  return err instanceof ProviderError
    ? err
    : new ProviderError('Transient', `${what} failed: ${(err as Error)?.name ?? 'error'}`);
}

/** The read id of dataFrom[i].find's listing, for its errors. */
export const findId = (i: number): string => `find\u0000${i}`;

export function findQueries(spec: ExternalSecretSpec): [number, FindQuery][] {
  return (spec.dataFrom ?? []).flatMap((d, i): [number, FindQuery][] =>
    d.find ? [[i, { path: d.find.path, nameRegexp: d.find.name?.regexp, tags: d.find.tags }]] : [],
  );
}

/**
 * Reads every value of `spec` through the handle of its item's store slot ('' for
 * spec.secretStoreRef; see itemSlot). `handles` is one handle for an ExternalSecret with one store.
 */
export async function fetchRemoteValues(
  spec: ExternalSecretSpec,
  handles: StoreHandle | Map<string, StoreHandle>,
  reads: SharedReads,
  notBefore: number,
  /** The remoteKeyPolicy of the store in `slot`: listed names it refuses are left out, unread. */
  allowKey?: (key: string, slot: string) => boolean,
  /** Set for a forced sync: see SharedReads.read. */
  forcedSince?: number,
  /** Whose reads these are (the namespace): calls wait for a store's budget in its turn. */
  tenant = '',
): Promise<FetchOutcome> {
  const bySlot = handles instanceof Map ? handles : new Map([['', handles]]);
  const outcome: FetchOutcome = {
    values: new Map(),
    errors: new Map(),
    keys: new Map(),
    found: new Map(),
    filtered: new Map(),
    slots: new Map(),
  };
  const through = <T>(slot: string, fn: (handle: StoreHandle) => Promise<T>): Promise<T> => {
    const handle = bySlot.get(slot);
    return handle
      ? fn(handle)
      : Promise.reject(new ProviderError('Invalid', `no store resolved for ${slot || 'spec.secretStoreRef'}`));
  };
  const label = (slot: string, key: string) => (slot ? `${key}" in ${slot.replace('/', ' "')}` : key);
  const queries = findQueries(spec);
  const listed = await Promise.allSettled(
    queries.map(([i, q]) =>
      through(itemSlot(spec, spec.dataFrom?.[i] ?? {}), (h) => reads.list(h, q, notBefore, forcedSince, tenant)),
    ),
  );
  /** Names found, by slot. */
  const foundNames = new Map<string, Set<string>>();
  listed.forEach((result, n) => {
    const i = queries[n]?.[0] ?? 0;
    const slot = itemSlot(spec, spec.dataFrom?.[i] ?? {});
    const id = findId(i);
    if (result.status === 'fulfilled') {
      const allowed = allowKey ? result.value.filter((name) => allowKey(name, slot)) : result.value;
      if (allowed.length < result.value.length) outcome.filtered.set(i, result.value.length - allowed.length);
      if (allowed.length === 0) {
        // An empty listing blanks nothing: it is a not-found like a missing key, so deletionPolicy
        // decides (Retain keeps the Secret; Delete and Merge only once confirmed). The message does
        // not say whether names were listed and refused by the key policy.
        outcome.keys.set(id, `dataFrom[${i}].find`);
        outcome.errors.set(id, new ProviderError('NotFound', 'no secret matched'));
        outcome.slots.set(id, slot);
        return;
      }
      outcome.found.set(i, allowed);
      const names = foundNames.get(slot) ?? new Set<string>();
      for (const name of allowed) names.add(name);
      foundNames.set(slot, names);
    } else {
      outcome.keys.set(id, `dataFrom[${i}].find`);
      outcome.errors.set(id, asProviderError(result.reason, `dataFrom[${i}].find`));
      outcome.slots.set(id, slot);
    }
  });
  const wanted: { slot: string; ref: RemoteRef; onlyFound: boolean }[] = [];
  for (const slot of bySlot.keys()) {
    const refs = remoteReads(spec, slot);
    const known = new Set(refs.map((r) => readId(r)));
    for (const ref of refs) wanted.push({ slot, ref, onlyFound: false });
    for (const name of foundNames.get(slot) ?? []) {
      if (!known.has(readId({ key: name }))) wanted.push({ slot, ref: { key: name }, onlyFound: true });
    }
  }
  const settled = await Promise.allSettled(
    wanted.map(({ slot, ref }) => through(slot, (h) => reads.read(h, ref, notBefore, forcedSince, tenant))),
  );
  const vanished = new Set<string>();
  settled.forEach((result, i) => {
    const item = wanted[i];
    if (!item) return;
    const { slot, ref } = item;
    const id = readId(ref, slot);
    if (result.status === 'fulfilled') {
      outcome.values.set(id, result.value);
      return;
    }
    const err = asProviderError(result.reason, `reading "${ref.key}"`);
    // A secret deleted between the listing and the read is simply no longer found.
    if (item.onlyFound && err.kind === 'NotFound') {
      vanished.add(`${slot}\u0000${ref.key}`);
      return;
    }
    outcome.keys.set(id, label(slot, ref.key));
    outcome.errors.set(id, err);
    outcome.slots.set(id, slot);
  });
  if (vanished.size > 0) {
    for (const [i, names] of outcome.found) {
      const slot = itemSlot(spec, spec.dataFrom?.[i] ?? {});
      outcome.found.set(
        i,
        names.filter((n) => !vanished.has(`${slot}\u0000${n}`)),
      );
    }
  }
  return outcome;
}

/** One line naming each failed key and its error class, for status and events. */
export function describeErrors(outcome: FetchOutcome): string {
  return [...outcome.errors]
    .map(([id, err]) => `remote key "${outcome.keys.get(id)}": ${err.kind}: ${err.message}`)
    .join('; ');
}
