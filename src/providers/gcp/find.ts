// dataFrom[].find for Google Secret Manager, as ESO does it: ListSecrets with a server-side filter
// (`labels.<k>=<v>` for each tag, `name:<path>` for the path), then on Ferry's side the checks the
// filter language cannot make: the short secret ID starts with find.path (`name:` matches
// anywhere) and matches find.name.regexp. Tags are left to the server, as ESO leaves them.
// Unlike ESO, which ignores tags when a name is given, Ferry sends and applies every filter given.
import { findNameRegexp } from '../find-match.ts';
import { type FindQuery, ProviderError } from '../provider.ts';
import { classifyGcpError } from './errors.ts';
import type { SecretManagerApi } from './secret-manager-api.ts';

const PAGE_SIZE = 250;
const MAX_PAGES = 100;

/** A value in the filter language: bare when it is a plain word, else a quoted string. */
function filterValue(v: string): string {
  return /^[A-Za-z0-9_-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

export function listFilter(query: FindQuery): string | undefined {
  const terms = Object.entries(query.tags ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `labels.${k}=${filterValue(v)}`);
  if (query.path) terms.push(`name:${filterValue(query.path)}`);
  return terms.length ? terms.join(' ') : undefined;
}

/** The secret ID at the end of projects/<p>[/locations/<l>]/secrets/<id>. */
function shortName(name: string): string {
  const i = name.lastIndexOf('/secrets/');
  return i < 0 ? name : name.slice(i + '/secrets/'.length);
}

export async function findGcpSecrets(
  api: SecretManagerApi,
  parent: string,
  query: FindQuery,
  signal: AbortSignal,
  pace: () => Promise<void> = async () => {},
): Promise<string[]> {
  const nameRe = findNameRegexp(query);
  const filter = listFilter(query);
  const names: string[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    if (page > 0) await pace();
    let answer: Awaited<ReturnType<SecretManagerApi['listSecrets']>>;
    try {
      answer = await api.listSecrets(parent, { filter, pageSize: PAGE_SIZE, pageToken }, signal);
    } catch (err) {
      throw classifyGcpError(err, `listing secrets of ${parent} for dataFrom find`);
    }
    for (const secret of answer.secrets) {
      const id = shortName(secret.name ?? '');
      if (!id) continue;
      if (query.path && !id.startsWith(query.path)) continue;
      if (nameRe && !nameRe.test(id)) continue;
      names.push(id);
    }
    pageToken = answer.nextPageToken;
    if (!pageToken) return [...new Set(names)].sort();
  }
  throw new ProviderError(
    'Invalid',
    `dataFrom find matched more than ${MAX_PAGES * PAGE_SIZE} secrets; narrow the query`,
  );
}
