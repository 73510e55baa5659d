// SharedReads.list: dataFrom[].find listings are shared like reads.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../observability/metrics.ts';
import { TokenBucket } from '../rate-limit.ts';
import type { FindQuery, ProviderClient } from './provider.ts';
import { SharedReads, type StoreHandle } from './shared-reads.ts';

function setup(find?: ProviderClient['find']) {
  const client: ProviderClient = {
    read: async () => {
      throw new Error('not used');
    },
    find,
    async validate() {},
    close() {},
  };
  const reads = new SharedReads({ metrics: new Metrics(), signal: new AbortController().signal });
  const store: StoreHandle = { key: 's', providerName: 'test', client, budget: new TokenBucket(1000, 1000) };
  return { reads, store };
}

describe('SharedReads.list', () => {
  it('lists once for every caller with the same query, again for another query or a stale one', async () => {
    const queries: FindQuery[] = [];
    const { reads, store } = setup(async (q) => {
      queries.push(q);
      await new Promise((r) => setTimeout(r, 5));
      return ['a', 'b'];
    });
    const q = { path: 'p/', tags: { b: '2', a: '1' } };
    const all = await Promise.all(Array.from({ length: 20 }, () => reads.list(store, q, 0)));
    expect(all.every((names) => names.join() === 'a,b')).toBe(true);
    await reads.list(store, { path: 'p/', tags: { a: '1', b: '2' } }, 0); // same query, tags in another order
    expect(queries).toHaveLength(1);
    await reads.list(store, { path: 'other/' }, 0);
    await reads.list(store, q, Date.now() + 1);
    expect(queries).toHaveLength(3);
  });

  it('takes one budget token for the listing and one more for each further call it paces', async () => {
    const { reads, store } = setup(async (_q, _signal, pace) => {
      for (let page = 1; page < 4; page++) await pace?.();
      return ['a'];
    });
    // Five tokens, refilled too slowly to matter: the listing of four calls leaves one.
    store.budget = new TokenBucket(0.0001, 5);
    await reads.list(store, { path: 'p/' }, 0);
    expect(store.budget.tryTake()).toBe(true);
    expect(store.budget.tryTake()).toBe(false);
  });

  it('refuses find on a provider without it, naming the provider', async () => {
    const { reads, store } = setup(undefined);
    await expect(reads.list(store, { path: 'x' }, 0)).rejects.toThrow(
      'dataFrom find is not supported by the test provider',
    );
  });
});
