// When the only failures of a sync are remote keys that are not found: wait (a not-found counts
// only when seen again at least one refresh later), delete the target (deletionPolicy Delete, and
// every key gone), or write it without the missing keys (deletionPolicy Merge).
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import type { FetchOutcome } from '../../pipeline/fetch.ts';
import { readId } from '../../pipeline/render.ts';
import type { Settings } from '../../pipeline/settings.ts';
import { itemSlot } from '../../pipeline/stores.ts';
import type { ObjectState } from './object-state.ts';

export type MissingDecision =
  | { kind: 'wait'; note: string; retryInMs?: number }
  | { kind: 'delete' }
  | { kind: 'merge'; gone: Set<string> };

const MAX_CONFIRM_MS = 5 * 60_000;

function confirmDelay(s: Settings): number {
  return s.refreshIntervalMs > 0 ? Math.min(s.refreshIntervalMs, MAX_CONFIRM_MS) : 30_000;
}

/** Not-found only counts when seen again at least one refresh later (and deletion is opted into). */
export function decideMissing(fetched: FetchOutcome, s: Settings, state: ObjectState, now: number): MissingDecision {
  if (s.deletionPolicy === 'Retain') return { kind: 'wait', note: ' (deletionPolicy Retain keeps the Secret)' };
  const ids = [...fetched.errors.keys()].sort().join('|');
  if (state.missing?.ids !== ids) state.missing = { ids, firstAt: now };
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
    dataFrom: spec.dataFrom?.filter((d) => !d.extract || !gone.has(readId(d.extract, itemSlot(spec, d)))),
  };
}
