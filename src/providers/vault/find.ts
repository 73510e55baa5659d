// dataFrom[].find for Vault/OpenBao KV, as ESO does it: a recursive LIST under find.path (KV v2
// lists its metadata), find.name.regexp on each secret's path, and find.tags matched against the
// KV v2 metadata (custom_metadata, plus created_time, current_version and delete_version_after as
// ESO adds them) read for each candidate. KV v1 has no metadata, so tags are refused there.
// Unlike ESO, which ignores tags when a name is given, Ferry applies every filter given.
import { eachLimited, findNameRegexp, tagsMatch } from '../find-match.ts';
import { type FindQuery, ProviderError } from '../provider.ts';
import { kvListPath, kvMetadataPath } from './paths.ts';
import type { VaultSpec } from './spec.ts';

/** One authenticated GET; resolves to the JSON body, or undefined on 404. */
export type VaultGet = (path: string, what: string, signal: AbortSignal) => Promise<unknown>;

const MAX_SECRETS = 10_000;
const CONCURRENCY = 4;
const SYSTEM_METADATA = ['created_time', 'current_version', 'delete_version_after'];

function metadataOf(body: unknown): Record<string, string> {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  const out: Record<string, string> = {};
  for (const key of SYSTEM_METADATA) {
    const v = data[key];
    if (v !== undefined && v !== null) out[key] = String(v);
  }
  const custom = data.custom_metadata;
  if (custom && typeof custom === 'object') {
    for (const [k, v] of Object.entries(custom)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export async function findVaultSecrets(
  spec: Pick<VaultSpec, 'path' | 'version'>,
  get: VaultGet,
  query: FindQuery,
  signal: AbortSignal,
  pace: () => Promise<void> = async () => {},
): Promise<string[]> {
  const v2 = (spec.version ?? 'v2') === 'v2';
  const wantsTags = Object.keys(query.tags ?? {}).length > 0;
  if (!v2 && wantsTags) {
    throw new ProviderError('Invalid', 'find.tags needs KV v2 (custom_metadata); KV v1 secrets have no metadata');
  }
  const nameRe = findNameRegexp(query);
  const root = (query.path ?? '').replace(/^\/+|\/+$/g, '');
  const names: string[] = [];
  let calls = 0;
  const paced = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (calls++ > 0) await pace();
    return fn();
  };

  // Breadth-first over folders, a few LISTs at a time.
  let folders = [root ? `${root}/` : ''];
  while (folders.length > 0) {
    const found: string[] = [];
    await eachLimited(folders, CONCURRENCY, async (folder) => {
      const what = `listing "${folder || '/'}" for dataFrom find`;
      const body = await paced(() => get(kvListPath(spec, folder), what, signal));
      const keys = (body as { data?: { keys?: unknown } } | undefined)?.data?.keys;
      if (!Array.isArray(keys)) return;
      for (const key of keys) if (typeof key === 'string' && key) found.push(folder + key);
    });
    folders = found.filter((k) => k.endsWith('/'));
    names.push(...found.filter((k) => !k.endsWith('/')));
    if (names.length + folders.length > MAX_SECRETS) {
      throw new ProviderError('Invalid', `dataFrom find matched more than ${MAX_SECRETS} secrets; narrow the query`);
    }
  }

  const candidates = names.filter((n) => !nameRe || nameRe.test(n));
  if (!wantsTags) return candidates.sort();
  const matched: string[] = [];
  await eachLimited(candidates, CONCURRENCY, async (name) => {
    const what = `reading the metadata of "${name}" for dataFrom find`;
    const body = await paced(() => get(kvMetadataPath(spec, { key: name }), what, signal));
    // Deleted between the listing and now: simply not found.
    if (body !== undefined && tagsMatch(query.tags, metadataOf(body))) matched.push(name);
  });
  return matched.sort();
}
