// What dataFrom[].find checks on Ferry's side, the same for every provider: the name regexp
// (Go RE2 syntax, matched anywhere in the name as Go's MatchString does) and exact tag values.
import { compileGoRegexp, type GoRegexp } from '../go-regexp.ts';
import { type FindQuery, ProviderError } from './provider.ts';

/** The compiled find.name.regexp, or undefined when the query has none. Throws Invalid. */
export function findNameRegexp(query: FindQuery): GoRegexp | undefined {
  if (query.nameRegexp === undefined) return undefined;
  try {
    return compileGoRegexp(query.nameRegexp);
  } catch {
    throw new ProviderError('Invalid', `find.name.regexp "${query.nameRegexp}" does not compile`);
  }
}

/** Every tag of the query is present with exactly its value. */
export function tagsMatch(
  wanted: Record<string, string> | undefined,
  actual: Record<string, string | undefined> | undefined,
): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => actual?.[k] === v);
}

/** Runs `fn` over `items` with at most `limit` at a time; the first failure rejects. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
