// When the only failures of a sync are remote keys that are not found (a missing key, an empty
// dataFrom.find listing, a name gone from one): wait (a not-found counts only when seen again at
// least one refresh later, through the same stores, and never while a store finds nothing at
// all), delete the target (deletionPolicy Delete, and every key gone), or write it without the
// missing keys (deletionPolicy Merge).
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { findId } from '../../pipeline/fetch.ts';
import type { Fetched } from '../../pipeline/index.ts';
import { readId } from '../../pipeline/render.ts';
import type { Settings } from '../../pipeline/settings.ts';
import { itemSlot } from '../../pipeline/stores.ts';
import { ProviderError } from '../../providers/provider.ts';
import type { ObjectState } from './object-state.ts';

export type MissingDecision =
  | { kind: 'wait'; note: string; retryInMs?: number }
  | { kind: 'delete' }
  | { kind: 'merge'; gone: Set<string> };

const MAX_CONFIRM_MS = 5 * 60_000;

function confirmDelay(s: Settings): number {
  return s.refreshIntervalMs > 0 ? Math.min(s.refreshIntervalMs, MAX_CONFIRM_MS) : 30_000;
}

/**
 * Not-found only counts when seen again at least one refresh later through the same stores (an
 * edit of a store starts the count again), and deletion is opted into. It never counts while a
 * store it was read through finds nothing at all: a wrong region, mount or project looks like
 * that, and must not delete every Secret read through the store.
 */
export function decideMissing(
  fetched: Fetched,
  s: Settings,
  state: ObjectState,
  now: number,
  /** The stores finding nothing at all (ReadPipeline.findingNothing); asked only past Retain. */
  findingNothing: () => string[],
): MissingDecision {
  if (s.deletionPolicy === 'Retain') return { kind: 'wait', note: ' (deletionPolicy Retain keeps the Secret)' };
  const ids = `${[...fetched.errors.keys()].sort().join('|')}\u0002${fetched.storeIdentity}`;
  const nothing = findingNothing();
  if (state.missing?.ids !== ids || nothing.length > 0) state.missing = { ids, firstAt: now };
  if (nothing.length > 0) {
    return {
      kind: 'wait',
      note:
        `; nothing Ferry reads through ${nothing.join(', ')} is found, which looks like a ` +
        `misconfigured store rather than deleted secrets: deletionPolicy ${s.deletionPolicy} waits until it finds something`,
      retryInMs: confirmDelay(s),
    };
  }
  const remaining = state.missing.firstAt + confirmDelay(s) - now;
  if (remaining > 0) {
    return {
      kind: 'wait',
      note: `; if still missing at the next refresh, deletionPolicy ${s.deletionPolicy} will remove it`,
      retryInMs: remaining,
    };
  }
  if (s.deletionPolicy === 'Merge') return { kind: 'merge', gone: new Set(fetched.errors.keys()) };
  if (fetched.values.size > 0) {
    return { kind: 'wait', note: '; deletionPolicy Delete removes the Secret only when every remote key is gone' };
  }
  return { kind: 'delete' };
}

/** The spec without the items whose remote value is gone (deletionPolicy Merge). */
export function without(spec: ExternalSecretSpec, gone: Set<string>): ExternalSecretSpec {
  return {
    ...spec,
    data: spec.data?.filter((d) => !gone.has(readId(d.remoteRef, itemSlot(spec, d)))),
    // Gone entries become empty ones, not removed: the listings are kept by dataFrom index.
    dataFrom: spec.dataFrom?.map((d, i) =>
      gone.has(findId(i)) || (d.extract && gone.has(readId(d.extract, itemSlot(spec, d)))) ? {} : d,
    ),
  };
}

/**
 * Names a dataFrom[].find listed at the last write of this generation that its listing no longer
 * holds become not-found reads, so deletionPolicy governs them like any missing key (Retain keeps
 * them). Known in this process only: after a restart, names that vanished meanwhile are dropped
 * as ESO drops them (an empty listing is still a not-found; see fetch.ts).
 */
export function noteVanishedNames(spec: ExternalSecretSpec, generation: number, fetched: Fetched, state: ObjectState) {
  if (!state.found || state.found.generation !== generation) return;
  for (const [i, before] of state.found.names) {
    const now = fetched.found.get(i);
    if (!now) continue;
    const listed = new Set(now);
    const slot = itemSlot(spec, spec.dataFrom?.[i] ?? {});
    for (const name of before) {
      if (listed.has(name)) continue;
      const id = readId({ key: name }, slot);
      // describeErrors quotes it: remote key "db", listed by "dataFrom[0].find": NotFound: ...
      fetched.keys.set(id, `${name}", listed by "dataFrom[${i}].find`);
      fetched.errors.set(id, new ProviderError('NotFound', 'no longer listed'));
      fetched.slots.set(id, slot);
    }
  }
}
