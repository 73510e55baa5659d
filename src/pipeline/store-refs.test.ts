// Per-item stores: which store each item reads from, every store resolved and checked on its own
// (ClusterSecretStore conditions per store), and values kept apart by store.
import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { ClusterSecretStore, ExternalSecret, SecretStore } from '../api/v1alpha1/types.ts';
import { SecretValue } from '../values.ts';
import { readId, remoteReads, renderSecretData } from './render.ts';
import { itemSlot, resolveStores, type StoreLookup, storeRefsOf } from './stores.ts';

const es = (spec: ExternalSecretSpec): ExternalSecret => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'ExternalSecret',
  metadata: { name: 'e', namespace: 'team' },
  spec,
});

const store = (name: string): SecretStore => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SecretStore',
  metadata: { name, namespace: 'team' },
  spec: { provider: { fake: { data: [] } } },
});

const closed: ClusterSecretStore = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'ClusterSecretStore',
  metadata: { name: 'closed' },
  spec: { provider: { fake: { data: [] } }, conditions: [{ namespaces: ['other'] }] },
};

const lookup: StoreLookup = {
  secretStore: (_ns, name) => (name === 'a' || name === 'b' ? store(name) : undefined),
  clusterSecretStore: (name) => (name === 'closed' ? closed : undefined),
  namespaceLabels: async () => ({}),
};

const spec: ExternalSecretSpec = {
  secretStoreRef: { name: 'a' },
  data: [
    { secretKey: 'x', remoteRef: { key: 'k' } },
    { secretKey: 'y', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 'b' } } },
    { secretKey: 'z', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 'a', kind: 'SecretStore' } } },
  ],
};

describe('per-item stores', () => {
  it('gives each item a slot: the default store is "", the same store named again too', () => {
    expect(spec.data?.map((d) => itemSlot(spec, d))).toEqual(['', 'SecretStore/b', '']);
    expect([...storeRefsOf(es(spec)).entries()]).toEqual([
      ['', { ref: { name: 'a' }, field: 'spec.secretStoreRef' }],
      ['SecretStore/b', { ref: { name: 'b' }, field: 'spec.data[1].sourceRef.storeRef' }],
    ]);
    expect(remoteReads(spec, 'SecretStore/b')).toEqual([{ key: 'k' }]);
  });

  it('keeps the same key of two stores apart when rendering', () => {
    const fetched = new Map([
      [readId({ key: 'k' }), { value: SecretValue.fromString('from-a') }],
      [readId({ key: 'k' }, 'SecretStore/b'), { value: SecretValue.fromString('from-b') }],
    ]);
    const out = renderSecretData(spec, fetched);
    expect(Object.fromEntries([...out].map(([k, v]) => [k, v.revealText()]))).toEqual({
      x: 'from-a',
      y: 'from-b',
      z: 'from-a',
    });
  });

  it('resolves every store, and names the field of one that is missing or refuses the namespace', async () => {
    const stores = await resolveStores(es(spec), lookup);
    expect([...stores.keys()]).toEqual(['', 'SecretStore/b']);
    const refused = es({
      data: [
        { secretKey: 'x', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 'a' } } },
        {
          secretKey: 'y',
          remoteRef: { key: 'k' },
          sourceRef: { storeRef: { name: 'closed', kind: 'ClusterSecretStore' } },
        },
      ],
    });
    await expect(resolveStores(refused, lookup)).rejects.toThrow(
      'spec.data[1].sourceRef.storeRef: ClusterSecretStore "closed" does not allow namespace "team"',
    );
    const noDefault = es({ data: [{ secretKey: 'x', remoteRef: { key: 'k' } }] });
    await expect(resolveStores(noDefault, lookup)).rejects.toThrow('spec.secretStoreRef is required unless');
  });
});
