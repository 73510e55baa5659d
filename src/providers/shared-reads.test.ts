import { describe, expect, it } from 'vitest';
import { Metrics } from '../observability/metrics.ts';
import { TokenBucket } from '../rate-limit.ts';
import { SecretValue } from '../values.ts';
import { type FetchedValue, type ProviderClient, ProviderError, type RemoteRef } from './provider.ts';
import { SharedReads, type StoreHandle } from './shared-reads.ts';

function countingClient(opts: { batch?: boolean; fail?: (ref: RemoteRef) => ProviderError | undefined } = {}) {
  const calls: string[] = [];
  const value = (ref: RemoteRef): FetchedValue => ({ value: SecretValue.fromString(`v-${ref.key}`) });
  const client: ProviderClient = {
    async read(ref) {
      calls.push(`read:${ref.key}`);
      await new Promise((r) => setTimeout(r, 5));
      const error = opts.fail?.(ref);
      if (error) throw error;
      return value(ref);
    },
    ...(opts.batch && {
      maxBatch: 20,
      batchable: (ref: RemoteRef) => ref.version === undefined,
      async readMany(refs: RemoteRef[]) {
        calls.push(`many:${refs.length}`);
        return refs.map((ref) => opts.fail?.(ref) ?? value(ref));
      },
    }),
    async validate() {},
    close() {},
  };
  return { client, calls };
}

function setup(client: ProviderClient, key = 'store-1') {
  const metrics = new Metrics();
  const reads = new SharedReads({ metrics, signal: new AbortController().signal });
  const store: StoreHandle = { key, providerName: 'test', client, budget: new TokenBucket(1000, 1000) };
  return { reads, store, metrics };
}

describe('SharedReads', () => {
  it('makes one call for many concurrent readers of the same key', async () => {
    const { client, calls } = countingClient();
    const { reads, store } = setup(client);
    const results = await Promise.all(Array.from({ length: 50 }, () => reads.read(store, { key: 'db' }, 0)));
    expect(calls).toEqual(['read:db']);
    expect(results.every((r) => r.value.revealText() === 'v-db')).toBe(true);
  });

  it("makes a store's calls for each namespace in turn: one namespace's many reads do not hold another's", async () => {
    const { client, calls } = countingClient();
    const { reads } = setup(client);
    const store: StoreHandle = { key: 'css', providerName: 'test', client, budget: new TokenBucket(50, 1) };
    const flood = Array.from({ length: 6 }, (_, i) => reads.read(store, { key: `flood-${i}` }, 0, undefined, 'flood'));
    const quiet = reads.read(store, { key: 'quiet' }, 0, undefined, 'quiet');
    await Promise.all([...flood, quiet]);
    // flood-0 took the one token there was; then the waiting namespaces take turns: flood-1, then
    // the quiet namespace's call, third rather than seventh.
    expect(calls.slice(0, 3)).toEqual(['read:flood-0', 'read:flood-1', 'read:quiet']);
    expect(calls).toHaveLength(7);
  });

  it('reuses a finished read only while it is fresh enough for the caller', async () => {
    const { client, calls } = countingClient();
    const { reads, store } = setup(client);
    await reads.read(store, { key: 'db' }, 0);
    await reads.read(store, { key: 'db' }, Date.now() - 60_000);
    expect(calls).toHaveLength(1);
    await reads.read(store, { key: 'db' }, Date.now() + 1);
    expect(calls).toHaveLength(2);
  });

  it('lets forced syncs share a read another forced sync started, but not a periodic one', async () => {
    const { client, calls } = countingClient();
    const { reads, store } = setup(client);
    const windowStart = Date.now() - 60_000;
    await reads.read(store, { key: 'db' }, 0); // a periodic read
    await new Promise((r) => setTimeout(r, 2));
    // Forced after that read: a new read, which later forced syncs share although they were
    // forced after it started.
    await reads.read(store, { key: 'db' }, Date.now(), windowStart);
    expect(calls).toEqual(['read:db', 'read:db']);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 1));
      await reads.read(store, { key: 'db' }, Date.now(), windowStart);
    }
    expect(calls).toHaveLength(2);
    // Not one older than the caller's forcedSince (its own last sync came after it).
    await reads.read(store, { key: 'db' }, Date.now(), Date.now());
    expect(calls).toHaveLength(3);
    // A periodic caller with the same freshness needs is never served an older read.
    await new Promise((r) => setTimeout(r, 2));
    await reads.read(store, { key: 'db' }, Date.now());
    expect(calls).toHaveLength(4);
  });

  it('keeps versions and stores apart', async () => {
    const { client, calls } = countingClient();
    const { reads, store } = setup(client);
    const other = { ...store, key: 'store-2' };
    await Promise.all([
      reads.read(store, { key: 'db' }, 0),
      reads.read(store, { key: 'db', version: 'v1' }, 0),
      reads.read(other, { key: 'db' }, 0),
    ]);
    expect(calls).toHaveLength(3);
  });

  it('shares an answer about the key (Denied, NotFound) within the window, never a failure without one', async () => {
    let fail: ProviderError | undefined = new ProviderError('Denied', 'refused');
    const { client, calls } = countingClient({ fail: () => fail });
    const metrics = new Metrics();
    const reads = new SharedReads({ metrics, signal: new AbortController().signal, storeBackoffBaseMs: 1 });
    const store: StoreHandle = { key: 's', providerName: 'test', client, budget: new TokenBucket(1000, 1000) };
    await expect(reads.read(store, { key: 'db' }, 0)).rejects.toThrow('refused');
    await expect(reads.read(store, { key: 'db' }, 0)).rejects.toThrow('refused');
    expect(calls).toHaveLength(1);
    // A reader that needs a read younger than the answer gets a new call.
    fail = undefined;
    await expect(reads.read(store, { key: 'db' }, Date.now() + 1)).resolves.toBeDefined();
    expect(calls).toHaveLength(2);
    fail = new ProviderError('Transient', 'reset');
    await expect(reads.read(store, { key: 'other' }, 0)).rejects.toThrow('reset');
    fail = undefined;
    await new Promise((r) => setTimeout(r, 10));
    await expect(reads.read(store, { key: 'other' }, 0)).resolves.toBeDefined();
    expect(calls).toHaveLength(4);
  });

  it('holds the calls of a store that failed to answer until its next backoff step, then probes once', async () => {
    let fail = true;
    const recovered: string[] = [];
    const { client, calls } = countingClient({
      fail: () => (fail ? new ProviderError('Transient', 'connection reset') : undefined),
    });
    const metrics = new Metrics();
    const reads = new SharedReads({
      metrics,
      signal: new AbortController().signal,
      storeBackoffBaseMs: 200,
      onStoreRecovered: (k) => recovered.push(k),
    });
    const store: StoreHandle = { key: 's', providerName: 'test', client, budget: new TokenBucket(1000, 1000) };
    await expect(reads.read(store, { key: 'a' }, 0)).rejects.toThrow('connection reset');
    // Other keys of the same store are held, not called, and say why.
    await expect(reads.read(store, { key: 'b' }, 0)).rejects.toThrow(/backing off after 1 failed attempt/);
    expect(calls).toEqual(['read:a']);
    expect(await metrics.total(metrics.providerCallsHeld)).toBe(1);
    fail = false;
    await new Promise((r) => setTimeout(r, 250));
    await expect(reads.read(store, { key: 'b' }, 0)).resolves.toBeDefined();
    expect(calls).toEqual(['read:a', 'read:b']);
    expect(recovered).toEqual(['s']);
  });

  it('batches reads of one store that are due together, up to maxBatch per call', async () => {
    const { client, calls } = countingClient({ batch: true });
    const { reads, store, metrics } = setup(client);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const results = await Promise.all(keys.map((key) => reads.read(store, { key }, 0)));
    expect(calls.sort()).toEqual(['many:10', 'many:20']);
    expect(results.map((r) => r.value.revealText())).toEqual(keys.map((k) => `v-${k}`));
    expect(await metrics.total(metrics.providerCalls, { operation: 'read_many' })).toBe(2);
  });

  it('gives each ref of a batch its own error', async () => {
    const { client } = countingClient({
      batch: true,
      fail: (ref) => (ref.key === 'gone' ? new ProviderError('NotFound', 'no gone') : undefined),
    });
    const { reads, store } = setup(client);
    const [ok, gone] = await Promise.allSettled([
      reads.read(store, { key: 'ok' }, 0),
      reads.read(store, { key: 'gone' }, 0),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(gone.status === 'rejected' && (gone.reason as ProviderError).kind).toBe('NotFound');
  });

  it('pauses the store budget for Retry-After when the provider throttles', async () => {
    const { client } = countingClient({
      fail: () => new ProviderError('Throttled', 'slow down', { retryAfterMs: 30_000 }),
    });
    const { reads, store } = setup(client);
    await expect(reads.read(store, { key: 'db' }, 0)).rejects.toThrow('slow down');
    expect(store.budget.pausedForMs).toBeGreaterThan(29_000);
  });

  describe('read-ahead hints', () => {
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('fill a batch call that is being made anyway, and the hinted keys are then served without a call', async () => {
      const { client, calls } = countingClient({ batch: true });
      const { reads, store, metrics } = setup(client);
      const ahead = Array.from({ length: 30 }, (_, i) => ({ key: `next${i}` }));
      reads.hint(store, ahead, 0);
      const first = await Promise.all([reads.read(store, { key: 'now1' }, 0), reads.read(store, { key: 'now2' }, 0)]);
      expect(first.map((r) => r.value.revealText())).toEqual(['v-now1', 'v-now2']);
      // Two keys asked for, eighteen hinted ones fill the call up to maxBatch.
      expect(calls).toEqual(['many:20']);
      const later = await Promise.all(ahead.slice(0, 18).map((ref) => reads.read(store, ref, 0)));
      expect(later.map((r) => r.value.revealText())).toEqual(ahead.slice(0, 18).map((r) => `v-${r.key}`));
      expect(calls).toEqual(['many:20']);
      expect(await metrics.total(metrics.readAhead, {})).toBe(18);
      expect(await metrics.total(metrics.sharedReads, { served: 'call' })).toBe(20);
      // The twelve left over wait for the next call; none is read on its own.
      await reads.read(store, { key: 'now3' }, 0);
      expect(calls).toEqual(['many:20', 'many:13']);
    });

    it('never make a call by themselves', async () => {
      const { client, calls } = countingClient({ batch: true });
      const { reads, store } = setup(client);
      reads.hint(
        store,
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}` })),
        0,
      );
      await wait(60);
      expect(calls).toEqual([]);
      expect(reads.wantsHints(store)).toBe(false);
    });

    it('skip keys already read fresh enough, keys another read asked for, and refs the provider cannot batch', async () => {
      const { client, calls } = countingClient({ batch: true });
      const { reads, store } = setup(client);
      await reads.read(store, { key: 'fresh' }, 0);
      calls.length = 0;
      reads.hint(store, [{ key: 'fresh' }, { key: 'pinned', version: 'v1' }, { key: 'asked' }, { key: 'new' }], 0);
      await Promise.all([reads.read(store, { key: 'asked' }, 0), reads.read(store, { key: 'other' }, 0)]);
      // asked + other + new: 'fresh' was usable, the versioned ref is not batchable.
      expect(calls).toEqual(['many:3']);
    });

    it('in a forced wave, keep the forced read other forced syncs share instead of reading ahead again', async () => {
      const { client, calls } = countingClient({ batch: true });
      const { reads, store } = setup(client);
      const waveStart = Date.now() - 1;
      await Promise.all([reads.read(store, { key: 'a' }, Date.now(), waveStart), reads.read(store, { key: 'x' }, 0)]);
      expect(calls).toEqual(['many:2']);
      await wait(2);
      // An object forced after that read hints 'a' for the objects behind it: the forced read
      // started within the wave serves them, so nothing is read ahead or replaced.
      reads.hint(store, [{ key: 'a' }], Date.now(), waveStart);
      await reads.read(store, { key: 'y' }, Date.now(), waveStart);
      expect(calls).toEqual(['many:2', 'read:y']);
      await reads.read(store, { key: 'a' }, Date.now(), waveStart);
      expect(calls).toEqual(['many:2', 'read:y']);
    });

    it('never serve a value from before the hinted freshness, and a failed call is not reused', async () => {
      let failing = true;
      const { client, calls } = countingClient({
        batch: true,
        fail: () => (failing ? new ProviderError('Transient', 'down') : undefined),
      });
      const { reads, store } = setup(client);
      reads.hint(store, [{ key: 'a' }], 0);
      await expect(reads.read(store, { key: 'b' }, 0)).rejects.toThrow('down');
      expect(calls).toEqual(['many:2']);
      failing = false;
      // 'a' was read ahead in the failed call: its reader reads again.
      await wait(1);
      const a = await reads.read(store, { key: 'a' }, 0);
      expect(a.value.revealText()).toBe('v-a');
      expect(calls).toEqual(['many:2', 'read:a']);
    });
  });
});

describe('SharedReads.findsNothing', () => {
  it('is true only when two or more keys read through a store were all not found', async () => {
    const missing = new Set(['a', 'b']);
    const { client } = countingClient({
      fail: (ref) => (missing.has(ref.key) ? new ProviderError('NotFound', 'gone') : undefined),
    });
    const { reads, store } = setup(client);
    await reads.read(store, { key: 'a' }, 0).catch(() => {});
    expect(reads.findsNothing(store.key)).toBe(false); // one key says little
    await reads.read(store, { key: 'b' }, 0).catch(() => {});
    expect(reads.findsNothing(store.key)).toBe(true);
    await reads.read(store, { key: 'c' }, 0);
    expect(reads.findsNothing(store.key)).toBe(false);
    // Another store's answers do not count.
    expect(reads.findsNothing('store-2')).toBe(false);
  });

  it('does not count failures that say nothing about the key', async () => {
    const { client } = countingClient({ fail: () => new ProviderError('Transient', 'down') });
    const { reads, store } = setup(client);
    await reads.read(store, { key: 'a' }, 0).catch(() => {});
    await reads.read(store, { key: 'b' }, 0).catch(() => {});
    expect(reads.findsNothing(store.key)).toBe(false);
  });
});
