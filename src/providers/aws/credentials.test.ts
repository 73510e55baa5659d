import { describe, expect, it } from 'vitest';
import type { StoreContext } from '../provider.ts';
import { reused, roleSessionTags } from './credentials.ts';
import type { AwsSpec } from './spec.ts';

function logins(expiresInMs: (n: number) => number | undefined) {
  let n = 0;
  const provider = reused(async () => {
    n++;
    const ms = expiresInMs(n);
    if (ms === -1) throw new Error('refused');
    return {
      accessKeyId: `key-${n}`,
      secretAccessKey: 's',
      expiration: ms === undefined ? undefined : new Date(Date.now() + ms),
    };
  });
  return { provider, count: () => n };
}

describe('a shared AWS login', () => {
  it('is made once for concurrent callers and reused while far from expiry', async () => {
    const l = logins(() => 60 * 60_000);
    const got = await Promise.all([l.provider(), l.provider(), l.provider()]);
    expect(new Set(got.map((c) => c.accessKeyId))).toEqual(new Set(['key-1']));
    expect((await l.provider()).accessKeyId).toBe('key-1');
    expect(l.count()).toBe(1);
  });

  it('is renewed within 5 minutes of expiry', async () => {
    const l = logins((n) => (n === 1 ? 4 * 60_000 : 60 * 60_000));
    expect((await l.provider()).accessKeyId).toBe('key-1');
    expect((await l.provider()).accessKeyId).toBe('key-2');
    expect((await l.provider()).accessKeyId).toBe('key-2');
  });

  it('keeps credentials without expiry, and retries a failed login on the next call', async () => {
    const l = logins((n) => (n === 1 ? -1 : undefined));
    await expect(l.provider()).rejects.toThrow('refused');
    expect((await l.provider()).accessKeyId).toBe('key-2');
    expect((await l.provider()).accessKeyId).toBe('key-2');
    expect(l.count()).toBe(2);
  });
});

describe('session tags of role', () => {
  const ctx = { storeKind: 'ClusterSecretStore', storeName: 'shared', defaultNamespace: 'team-a' } as StoreContext;
  const spec = (extra: Partial<AwsSpec>): AwsSpec => ({ region: 'eu-west-1', role: 'arn:r', ...extra });

  it('are sessionTags alone with policy None', () => {
    expect(roleSessionTags(spec({ sessionTags: [{ key: 'a', value: '1' }] }), ctx)).toEqual([{ Key: 'a', Value: '1' }]);
    expect(roleSessionTags(spec({ customSessionTags: { x: 'y' } }), ctx)).toEqual([]);
  });

  it('add the namespace, store name and kind with Simple, and custom tags with Custom, built-ins winning', () => {
    expect(roleSessionTags(spec({ sessionTagsPolicy: 'Simple', customSessionTags: { x: 'y' } }), ctx)).toEqual([
      { Key: 'esoNamespace', Value: 'team-a' },
      { Key: 'esoStoreName', Value: 'shared' },
      { Key: 'esoStoreKind', Value: 'ClusterSecretStore' },
    ]);
    const custom = roleSessionTags(
      spec({
        sessionTagsPolicy: 'Custom',
        sessionTags: [{ key: 'esoStoreName', value: 'spoofed' }],
        customSessionTags: { env: 'prod', empty: '' },
      }),
      ctx,
    );
    expect(Object.fromEntries(custom.map((t) => [t.Key, t.Value]))).toEqual({
      esoStoreName: 'shared',
      env: 'prod',
      esoNamespace: 'team-a',
      esoStoreKind: 'ClusterSecretStore',
    });
  });
});
