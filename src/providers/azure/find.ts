// dataFrom[].find for Azure Key Vault, as ESO does it: list the vault's secret properties (paged,
// 25 a page), skip disabled secrets, and match find.tags exactly and find.name.regexp on the name.
// Key Vault names have no folders; find.path, which ESO ignores here, is a name prefix in Ferry
// as for the other providers.
import type { SecretClient } from '@azure/keyvault-secrets';
import { findNameRegexp, tagsMatch } from '../find-match.ts';
import { type FindQuery, ProviderError } from '../provider.ts';
import { classifyAzureError } from './errors.ts';

const PAGE_SIZE = 25;
const MAX_PAGES = 400;

export async function findAzureSecrets(
  client: Pick<SecretClient, 'listPropertiesOfSecrets'>,
  query: FindQuery,
  signal: AbortSignal,
  pace: () => Promise<void> = async () => {},
): Promise<string[]> {
  const nameRe = findNameRegexp(query);
  const names: string[] = [];
  const pages = client.listPropertiesOfSecrets({ abortSignal: signal }).byPage({ maxPageSize: PAGE_SIZE });
  for (let page = 0; page < MAX_PAGES; page++) {
    if (page > 0) await pace();
    let next: Awaited<ReturnType<typeof pages.next>>;
    try {
      next = await pages.next();
    } catch (err) {
      throw classifyAzureError(err, 'listing secrets for dataFrom find');
    }
    if (next.done) return names.sort();
    for (const secret of next.value) {
      if (secret.enabled === false) continue;
      if (query.path && !secret.name.startsWith(query.path)) continue;
      if (!tagsMatch(query.tags, secret.tags)) continue;
      if (nameRe && !nameRe.test(secret.name)) continue;
      names.push(secret.name);
    }
  }
  throw new ProviderError(
    'Invalid',
    `dataFrom find matched more than ${MAX_PAGES * PAGE_SIZE} secrets; narrow the query`,
  );
}
