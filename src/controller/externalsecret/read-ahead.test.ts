import { describe, expect, it } from 'vitest';
import type { AnyStore, ExternalSecret } from '../../api/v1alpha1/types.ts';
import type { KeyPolicy } from '../../pipeline/key-policy.ts';
import type { RemoteRef } from '../../providers/provider.ts';
import type { SharedReads, StoreHandle } from '../../providers/shared-reads.ts';
import { readAhead } from './read-ahead.ts';

function es(
  namespace: string,
  name: string,
  keys: string[],
  storeRef: { kind?: 'SecretStore' | 'ClusterSecretStore'; name: string } = { kind: 'ClusterSecretStore', name: 'aws' },
  extra: Partial<ExternalSecret['spec']> = {},
): ExternalSecret {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { namespace, name },
    spec: {
      secretStoreRef: storeRef,
      data: keys.map((key, i) => ({ secretKey: `k${i}`, remoteRef: { key } })),
      ...extra,
    },
  } as ExternalSecret;
}

function clusterStore(spec: Record<string, unknown> = {}): AnyStore {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ClusterSecretStore',
    metadata: { name: 'aws', uid: 'u1' },
    spec: { provider: { fake: { data: [] } }, ...spec },
  } as AnyStore;
}

/** Runs readAhead for `current` with `queued` behind it; returns the keys hinted. */
async function hinted(
  current: ExternalSecret,
  queued: ExternalSecret[],
  store: AnyStore,
  opts: { policy?: KeyPolicy; keyFor?: (ns: string) => string; wants?: boolean } = {},
): Promise<string[]> {
  const got: RemoteRef[] = [];
  const reads = {
    wantsHints: () => opts.wants ?? true,
    hint: (_h: StoreHandle, refs: RemoteRef[]) => got.push(...refs),
  } as unknown as SharedReads;
  const byKey = new Map(queued.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const handle = { key: 'store-key' } as StoreHandle;
  await readAhead(current, handle, store, opts.policy, 0, undefined, reads, {
    peek: (limit) => [...byKey.keys()].slice(0, limit),
    externalSecret: (key) => byKey.get(key),
    storeKey: async (_s, ns) => opts.keyFor?.(ns) ?? 'store-key',
  });
  return got.map((r) => r.key);
}

describe('read-ahead', () => {
  it('hints the keys of queued objects that read through the same store reference and identity', async () => {
    const keys = await hinted(
      es('a', 'now', ['k1']),
      [
        es('a', 'q1', ['k2', 'k3']),
        es('b', 'q2', ['k4']),
        es('a', 'other-store', ['x1'], { kind: 'ClusterSecretStore', name: 'vault' }),
        es('a', 'namespaced', ['x2'], { kind: 'SecretStore', name: 'aws' }),
        es('a', 'two-stores', ['x3'], undefined, {
          dataFrom: [{ extract: { key: 'x4' }, sourceRef: { storeRef: { kind: 'ClusterSecretStore', name: 'gcp' } } }],
        }),
      ],
      clusterStore(),
    );
    expect(keys).toEqual(['k2', 'k3', 'k4']);
  });

  it('stays in the namespace when another namespace would use other credentials or other rules', async () => {
    const queued = [es('a', 'q1', ['k2']), es('b', 'q2', ['k3'])];
    // Referent credentials: the store key differs in namespace b.
    expect(await hinted(es('a', 'now', ['k1']), queued, clusterStore(), { keyFor: (ns) => `key-${ns}` })).toEqual([
      'k2',
    ]);
    // Conditions or a remoteKeyPolicy depend on the namespace: no hint crosses it.
    expect(await hinted(es('a', 'now', ['k1']), queued, clusterStore({ conditions: [{ namespaces: ['a'] }] }))).toEqual(
      ['k2'],
    );
    expect(
      await hinted(es('a', 'now', ['k1']), queued, clusterStore({ remoteKeyPolicy: { allow: [{ keys: ['*'] }] } })),
    ).toEqual(['k2']);
  });

  it('leaves out an object whose keys the store policy refuses, and does nothing when hints are not wanted', async () => {
    const policy: KeyPolicy = { allows: (key) => key.startsWith('team-a/'), source: 'test' };
    const queued = [es('a', 'ok', ['team-a/db']), es('a', 'refused', ['team-a/x', 'team-b/db'])];
    expect(await hinted(es('a', 'now', ['team-a/y']), queued, clusterStore(), { policy })).toEqual(['team-a/db']);
    expect(await hinted(es('a', 'now', ['k1']), queued, clusterStore(), { wants: false })).toEqual([]);
  });
});
