// Per-item stores (data[].sourceRef.storeRef, dataFrom[].sourceRef.storeRef) end to end against
// the real API server: admission, one read per store and key, the same key in two stores kept
// apart, and all-or-nothing when one store fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'storerefs');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

const fakeReads = () =>
  ctl.controller.metrics.total(ctl.controller.metrics.providerCalls as never, { provider: 'fake', operation: 'read' });

async function fakeStore(entries: { key: string; value: string }[]): Promise<string> {
  const name = uniqueName('store');
  await o.secretStore(name, { fake: { data: entries } });
  return name;
}

/** The API server's refusal message for creating this ExternalSecret, or '' if it accepts it. */
async function refusal(spec: unknown): Promise<string> {
  try {
    await o.externalSecret(uniqueName('refused'), spec as ExternalSecretSpec);
    return '';
  } catch (err) {
    return String((err as { body?: unknown }).body ?? err);
  }
}

describe('per-item stores (sourceRef.storeRef)', () => {
  it('reads each item from its own store, keeps the same key of two stores apart, one read per store and key', async () => {
    const a = await fakeStore([{ key: 'db', value: '{"user":"from-a"}' }]);
    const b = await fakeStore([
      { key: 'db', value: '{"user":"from-b"}' },
      { key: 'bundle', value: '{"x":"1","y":"2"}' },
    ]);
    const before = await fakeReads();
    const spec = (i: number): ExternalSecretSpec => ({
      // No spec.secretStoreRef: every item names its store.
      data: [
        { secretKey: `a${i}`, remoteRef: { key: 'db', property: 'user' }, sourceRef: { storeRef: { name: a } } },
        {
          secretKey: `b${i}`,
          remoteRef: { key: 'db', property: 'user' },
          sourceRef: { storeRef: { name: b, kind: 'SecretStore' } },
        },
      ],
      dataFrom: [{ extract: { key: 'bundle' }, sourceRef: { storeRef: { name: b } } }],
    });
    await Promise.all([o.externalSecret('two-stores-0', spec(0)), o.externalSecret('two-stores-1', spec(1))]);
    await o.waitForSecret('two-stores-0', (d) => d.b0 !== undefined, 'two stores, first');
    await o.waitForSecret('two-stores-1', (d) => d.b1 !== undefined, 'two stores, second');
    expect(await o.secretText('two-stores-0')).toEqual({ a0: 'from-a', b0: 'from-b', x: '1', y: '2' });
    // a/db, b/db, b/bundle: three reads for both ExternalSecrets.
    expect((await fakeReads()) - before).toBe(3);

    // An item naming the default store and items naming another mix with spec.secretStoreRef.
    await o.externalSecret('mixed', {
      secretStoreRef: { name: a },
      data: [
        { secretKey: 'a', remoteRef: { key: 'db', property: 'user' } },
        { secretKey: 'same', remoteRef: { key: 'db', property: 'user' }, sourceRef: { storeRef: { name: a } } },
        { secretKey: 'b', remoteRef: { key: 'db', property: 'user' }, sourceRef: { storeRef: { name: b } } },
      ],
    });
    await o.waitForSecret('mixed', (d) => d.b !== undefined, 'mixed stores');
    expect(await o.secretText('mixed')).toEqual({ a: 'from-a', same: 'from-a', b: 'from-b' });
  });

  it('leaves the whole Secret untouched when one of its stores fails, naming the store', async () => {
    const a = await fakeStore([{ key: 'k', value: 'va' }]);
    const b = await fakeStore([{ key: 'k', value: 'vb' }]);
    await o.externalSecret('all-or-nothing', {
      refreshInterval: '1s',
      data: [
        { secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: a } } },
        { secretKey: 'b', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: b } } },
      ],
    });
    await o.waitForSecret('all-or-nothing', (d) => d.b === 'vb', 'synced from both');
    const written = await o.secret('all-or-nothing');
    // Store b loses the key, then store a changes value: nothing of a's new value may be written.
    await o.patch('secretstores', b, { spec: { provider: { fake: { data: [{ key: 'other', value: 'x' }] } } } });
    await o.patch('secretstores', a, { spec: { provider: { fake: { data: [{ key: 'k', value: 'va2' }] } } } });
    const { ready } = await o.waitForReady('all-or-nothing', {
      status: 'False',
      reason: 'SecretMissing',
      message: new RegExp(`remote key "k" in SecretStore "${b}": NotFound`),
    });
    expect(ready.message).not.toContain('va2');
    // Two more refreshes (every second) that read a's new value and still fail on b.
    await new Promise((r) => setTimeout(r, 2500));
    const after = await o.secret('all-or-nothing');
    expect(after?.metadata?.resourceVersion).toBe(written?.metadata?.resourceVersion);
    expect(await o.secretText('all-or-nothing')).toEqual({ a: 'va', b: 'vb' });

    // A store that does not exist is named by its field; nothing is read from the other.
    await o.externalSecret('missing-store', {
      data: [
        { secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: a } } },
        {
          secretKey: 'b',
          remoteRef: { key: 'k' },
          sourceRef: { storeRef: { name: 'nope', kind: 'ClusterSecretStore' } },
        },
      ],
    });
    await o.waitForReady('missing-store', {
      status: 'False',
      message: /^spec\.data\[1\]\.sourceRef\.storeRef: ClusterSecretStore "nope" does not exist$/,
    });
    expect(await o.secret('missing-store')).toBeUndefined();
  });

  it('refuses at admission: no store for an item, and generatorRef, each named', async () => {
    const noStore = await refusal({
      data: [
        { secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 's' } } },
        { secretKey: 'b', remoteRef: { key: 'k' } },
      ],
    });
    expect(noStore).toContain(
      'spec.secretStoreRef is required unless every data and dataFrom item names its store in sourceRef.storeRef',
    );
    const generator = await refusal({
      secretStoreRef: { name: 's' },
      dataFrom: [
        {
          sourceRef: {
            generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'p' },
          },
        },
      ],
    });
    expect(generator).toMatch(/sourceRef\.generatorRef: Forbidden: generators are not supported by Ferry/);
    expect(
      await refusal({ data: [{ secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 's' } } }] }),
    ).toBe('');
  });
});
