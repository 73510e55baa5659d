// Reads every remote value an ExternalSecret needs through the shared reads, and sorts the
// outcome into values and per-read errors; nothing is thrown for one bad key.
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { type FetchedValue, ProviderError } from '../../providers/provider.ts';
import type { SharedReads, StoreHandle } from '../../providers/shared-reads.ts';
import { readId, remoteReads } from './render.ts';

export interface FetchOutcome {
  values: Map<string, FetchedValue>;
  errors: Map<string, ProviderError>;
  /** The remote key of each read id, for messages. */
  keys: Map<string, string>;
}

export async function fetchRemoteValues(
  spec: ExternalSecretSpec,
  handle: StoreHandle,
  reads: SharedReads,
  notBefore: number,
): Promise<FetchOutcome> {
  const refs = remoteReads(spec);
  const settled = await Promise.allSettled(refs.map((ref) => reads.read(handle, ref, notBefore)));
  const outcome: FetchOutcome = { values: new Map(), errors: new Map(), keys: new Map() };
  settled.forEach((result, i) => {
    const ref = refs[i];
    if (!ref) return;
    const id = readId(ref);
    outcome.keys.set(id, ref.key);
    if (result.status === 'fulfilled') outcome.values.set(id, result.value);
    else {
      const err = result.reason;
      outcome.errors.set(
        id,
        err instanceof ProviderError
          ? err
          : new ProviderError('Transient', `reading "${ref.key}" failed: ${(err as Error)?.name}`),
      );
    }
  });
  return outcome;
}

/** One line naming each failed key and its error class, for status and events. */
export function describeErrors(outcome: FetchOutcome): string {
  return [...outcome.errors]
    .map(([id, err]) => `remote key "${outcome.keys.get(id)}": ${err.kind}: ${err.message}`)
    .join('; ');
}
