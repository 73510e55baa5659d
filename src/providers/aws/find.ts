// dataFrom[].find for AWS Secrets Manager: ListSecrets with server-side name and tag filters,
// then the exact checks the filters cannot make (tag key/value pairs, name regexp) on our side.
import {
  type Filter,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { findNameRegexp } from '../find-match.ts';
import { type FindQuery, ProviderError } from '../provider.ts';
import { classifyAwsError } from './errors.ts';

const MAX_PAGES = 100;

/** Names (without the store prefix) of the secrets matching `query`. */
export async function findSecretNames(
  sm: SecretsManagerClient,
  prefix: string,
  query: FindQuery,
  signal: AbortSignal,
): Promise<string[]> {
  const nameRe = findNameRegexp(query);
  const namePrefix = prefix + (query.path ?? '');
  const filters: Filter[] = [];
  if (namePrefix) filters.push({ Key: 'name', Values: [namePrefix] });
  for (const [k, v] of Object.entries(query.tags ?? {})) {
    filters.push({ Key: 'tag-key', Values: [k] }, { Key: 'tag-value', Values: [v] });
  }
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let out: ListSecretsCommandOutput;
    try {
      out = await sm.send(
        new ListSecretsCommand({ Filters: filters.length ? filters : undefined, MaxResults: 100, NextToken: token }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw classifyAwsError(err, 'listing secrets for dataFrom find');
    }
    for (const s of out.SecretList ?? []) {
      const full = s.Name ?? '';
      // The name filter matches prefixes of words, and tag filters keys and values separately.
      if (!full.startsWith(namePrefix)) continue;
      const tags = new Map((s.Tags ?? []).map((t) => [t.Key, t.Value]));
      if (!Object.entries(query.tags ?? {}).every(([k, v]) => tags.get(k) === v)) continue;
      const name = full.slice(prefix.length);
      if (nameRe && !nameRe.test(name)) continue;
      names.push(name);
    }
    token = out.NextToken;
    if (!token) return names.sort();
  }
  throw new ProviderError('Invalid', `dataFrom find matched more than ${MAX_PAGES * 100} secrets; narrow the query`);
}
