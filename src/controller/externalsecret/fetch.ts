// Reads every remote value an ExternalSecret needs through the shared reads, and sorts the
// outcome into values and per-read errors; nothing is thrown for one bad key. dataFrom[].find
// entries are listed first (one shared listing per store and query), then read like any key.
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { type FetchedValue, type FindQuery, ProviderError, type RemoteRef } from '../../providers/provider.ts';
import type { SharedReads, StoreHandle } from '../../providers/shared-reads.ts';
import { readId, remoteReads } from './render.ts';

export interface FetchOutcome {
  values: Map<string, FetchedValue>;
  errors: Map<string, ProviderError>;
  /** The remote key of each read id, for messages. */
  keys: Map<string, string>;
  /** Names each dataFrom[].find listed, by dataFrom index. */
  found: Map<number, string[]>;
}

function asProviderError(err: unknown, what: string): ProviderError {
  return err instanceof ProviderError
    ? err
    : new ProviderError('Transient', `${what} failed: ${(err as Error)?.name ?? 'error'}`);
}

export function findQueries(spec: ExternalSecretSpec): [number, FindQuery][] {
  return (spec.dataFrom ?? []).flatMap((d, i): [number, FindQuery][] =>
    d.find ? [[i, { path: d.find.path, nameRegexp: d.find.name?.regexp, tags: d.find.tags }]] : [],
  );
}

export async function fetchRemoteValues(
  spec: ExternalSecretSpec,
  handle: StoreHandle,
  reads: SharedReads,
  notBefore: number,
  /** Set for a forced sync: see SharedReads.read. */
  forcedSince?: number,
): Promise<FetchOutcome> {
  const outcome: FetchOutcome = { values: new Map(), errors: new Map(), keys: new Map(), found: new Map() };
  const queries = findQueries(spec);
  const listed = await Promise.allSettled(queries.map(([, q]) => reads.list(handle, q, notBefore, forcedSince)));
  const foundNames = new Set<string>();
  listed.forEach((result, n) => {
    const i = queries[n]?.[0] ?? 0;
    const id = `find\u0000${i}`;
    if (result.status === 'fulfilled') {
      outcome.found.set(i, result.value);
      for (const name of result.value) foundNames.add(name);
    } else {
      outcome.keys.set(id, `dataFrom[${i}].find`);
      outcome.errors.set(id, asProviderError(result.reason, `dataFrom[${i}].find`));
    }
  });
  const refs: RemoteRef[] = [...remoteReads(spec)];
  const known = new Set(refs.map(readId));
  for (const name of foundNames) if (!known.has(readId({ key: name }))) refs.push({ key: name });
  const settled = await Promise.allSettled(refs.map((ref) => reads.read(handle, ref, notBefore, forcedSince)));
  const vanished = new Set<string>();
  settled.forEach((result, i) => {
    const ref = refs[i];
    if (!ref) return;
    const id = readId(ref);
    if (result.status === 'fulfilled') {
      outcome.values.set(id, result.value);
      return;
    }
    const err = asProviderError(result.reason, `reading "${ref.key}"`);
    // A secret deleted between the listing and the read is simply no longer found.
    const onlyFound = foundNames.has(ref.key) && !remoteReads(spec).some((r) => readId(r) === id);
    if (onlyFound && err.kind === 'NotFound') {
      vanished.add(ref.key);
      return;
    }
    outcome.keys.set(id, ref.key);
    outcome.errors.set(id, err);
  });
  if (vanished.size > 0) {
    for (const [i, names] of outcome.found)
      outcome.found.set(
        i,
        names.filter((n) => !vanished.has(n)),
      );
  }
  return outcome;
}

/** One line naming each failed key and its error class, for status and events. */
export function describeErrors(outcome: FetchOutcome): string {
  return [...outcome.errors]
    .map(([id, err]) => `remote key "${outcome.keys.get(id)}": ${err.kind}: ${err.message}`)
    .join('; ');
}
