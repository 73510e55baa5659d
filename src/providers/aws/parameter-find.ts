// dataFrom[].find for AWS Parameter Store, as ESO lists: with tags, DescribeParameters with
// `tag:<key>` Equals filters (and a recursive Path filter for `path`); without, GetParametersByPath
// under `path` (default `/`), recursively, falling back to DescribeParameters when that is denied.
// The name regexp is checked on our side. Values are then read through the shared, batched reads.
import {
  DescribeParametersCommand,
  type DescribeParametersCommandOutput,
  GetParametersByPathCommand,
  type GetParametersByPathCommandOutput,
  type ParameterStringFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { findNameRegexp } from '../find-match.ts';
import { type FindQuery, ProviderError } from '../provider.ts';
import { classifyAwsError } from './errors.ts';

/** At most 10,000 parameters per listing (pages of 10 by path, 50 described). */
const MAX_PARAMETERS = 10_000;

/** `/a/b/` and `a/b` both mean the hierarchy `/a/b`; the root is `/`. */
function hierarchy(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '/';
}

function under(name: string, path: string): boolean {
  const full = `/${name.replace(/^\/+/, '')}`;
  return path === '/' || full.startsWith(`${path}/`);
}

/** Names (without the store prefix) of the parameters matching `query`. */
export async function findParameterNames(
  ssm: SSMClient,
  prefix: string,
  query: FindQuery,
  signal: AbortSignal,
): Promise<string[]> {
  const nameRe = findNameRegexp(query);
  // The store prefix is part of every name; without a path only its hierarchy part (up to the last
  // `/`) can be listed, and the rest is checked on the names.
  const path = hierarchy(query.path !== undefined ? prefix + query.path : prefix.replace(/[^/]*$/, ''));
  const tags = Object.entries(query.tags ?? {});
  const listed =
    tags.length > 0
      ? await describe(ssm, path, tags, signal)
      : await byPath(ssm, path, signal).catch((err: unknown) => {
          // ESO's fallback: GetParametersByPath needs its own permission; DescribeParameters may be granted instead.
          if (err instanceof ProviderError && err.kind === 'Denied') return describe(ssm, path, [], signal);
          throw err;
        });
  const names = new Set<string>();
  for (const full of listed) {
    if (!full.startsWith(prefix) || !under(full, path)) continue;
    const name = full.slice(prefix.length);
    if (nameRe && !nameRe.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

async function byPath(ssm: SSMClient, path: string, signal: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    let out: GetParametersByPathCommandOutput;
    try {
      // Only the names are used: the values are read through the batched reads, so nothing is
      // decrypted here.
      out = await ssm.send(
        new GetParametersByPathCommand({
          Path: path,
          Recursive: true,
          WithDecryption: false,
          MaxResults: 10,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw classifyAwsError(err, `listing parameters under "${path}" for dataFrom find`);
    }
    for (const p of out.Parameters ?? []) if (p.Name) names.push(p.Name);
    token = out.NextToken;
    if (names.length > MAX_PARAMETERS) throw tooMany();
  } while (token);
  return names;
}

async function describe(
  ssm: SSMClient,
  path: string,
  tags: [string, string][],
  signal: AbortSignal,
): Promise<string[]> {
  const filters: ParameterStringFilter[] = tags.map(([k, v]) => ({ Key: `tag:${k}`, Option: 'Equals', Values: [v] }));
  if (path !== '/') filters.push({ Key: 'Path', Option: 'Recursive', Values: [path] });
  const names: string[] = [];
  let token: string | undefined;
  do {
    let out: DescribeParametersCommandOutput;
    try {
      out = await ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: filters.length ? filters : undefined,
          MaxResults: 50,
          NextToken: token,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw classifyAwsError(err, 'describing parameters for dataFrom find');
    }
    for (const p of out.Parameters ?? []) if (p.Name) names.push(p.Name);
    token = out.NextToken;
    if (names.length > MAX_PARAMETERS) throw tooMany();
  } while (token);
  return names;
}

function tooMany(): ProviderError {
  return new ProviderError('Invalid', `dataFrom find matched more than ${MAX_PARAMETERS} parameters; narrow the query`);
}
