import { describe, expect, it } from 'vitest';
import type { ClusterSecretStore, ExternalSecret } from '../api/v1alpha1/types.ts';
import {
  checkNamedKeys,
  compilePattern,
  isPlainPath,
  keyPolicyFor,
  resolveStoreAndPolicy,
  TenancyError,
} from './key-policy.ts';
import type { StoreLookup } from './stores.ts';

type Policy = ClusterSecretStore['spec']['remoteKeyPolicy'];

function css(remoteKeyPolicy: Policy, conditions?: ClusterSecretStore['spec']['conditions']): ClusterSecretStore {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ClusterSecretStore',
    metadata: { name: 'shared' },
    spec: { provider: { fake: { data: [] } }, remoteKeyPolicy, conditions },
  };
}

const lookup = (store?: ClusterSecretStore, labels: Record<string, Record<string, string>> = {}): StoreLookup => ({
  secretStore: () => undefined,
  clusterSecretStore: () => store,
  namespaceLabels: async (ns) => labels[ns] ?? {},
});

function es(namespace: string, keys: string[], extract: string[] = []): ExternalSecret {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { name: 'app', namespace },
    spec: {
      secretStoreRef: { name: 'shared', kind: 'ClusterSecretStore' },
      data: keys.map((key, i) => ({ secretKey: `k${i}`, remoteRef: { key } })),
      dataFrom: extract.map((key) => ({ extract: { key } })),
    },
  };
}

describe('remote key patterns', () => {
  it.each([
    ['apps/{namespace}/*', 'team-a', 'apps/team-a/db', true],
    ['apps/{namespace}/*', 'team-a', 'apps/team-b/db', false],
    ['apps/{namespace}/*', 'team-a', 'apps/team-a/db/nested', false],
    ['apps/{namespace}/**', 'team-a', 'apps/team-a/db/nested', true],
    ['apps/{namespace}/**', 'team-a', 'apps/team-ab/db', false],
    ['apps/{namespace}-*', 'team', 'apps/team-x', true],
    ['shared.config', 'a', 'sharedXconfig', false],
    ['shared.config', 'a', 'shared.config', true],
    ['/params/{namespace}/*', 'a', '/params/a/x', true],
    ['*', 'a', 'anything', true],
    ['*', 'a', 'any/thing', false],
    ['db(1)', 'a', 'db(1)', true],
    ['db[12]', 'a', 'db1', false],
  ])('%s in namespace %s: %s → %s', (pattern, namespace, key, want) => {
    expect(compilePattern(pattern, namespace).test(key)).toBe(want);
  });

  it('matches a tenant-chosen long key in linear time', () => {
    // As a backtracking RegExp, `^a[^/]*a[^/]*…b$` against 5,000 a's is polynomial of degree 12.
    const pattern = `${'a*'.repeat(12)}b`;
    expect(compilePattern(pattern, 'n').test('a'.repeat(5000))).toBe(false);
    expect(compilePattern(pattern, 'n').test(`${'a'.repeat(5000)}b`)).toBe(true);
  });

  it('refuses traversal and encoding tricks', () => {
    expect(isPlainPath('apps/a/db')).toBe(true);
    expect(isPlainPath('/apps/a/db')).toBe(true);
    for (const key of ['apps/a/../b/db', 'apps/a/./db', 'apps//db', 'apps/a/', 'apps/%2e%2e/db', 'apps\\db', '', '/']) {
      expect(isPlainPath(key), key).toBe(false);
    }
  });
});

describe('keyPolicyFor', () => {
  it('allows any key without a policy', async () => {
    expect(await keyPolicyFor(css(undefined), 'a', lookup())).toBeUndefined();
  });

  it('applies unscoped rules everywhere and scoped rules to matching namespaces only', async () => {
    const store = css({
      rules: [
        { allow: ['apps/{namespace}/*'] },
        { namespaces: ['ops'], allow: ['shared/**'] },
        { namespaceSelector: { matchLabels: { tier: 'gold' } }, allow: ['gold/*'] },
        { namespaceRegexes: ['^ci-'], allow: ['ci/*'] },
      ],
    });
    const l = lookup(store, { gilded: { tier: 'gold' } });
    const ops = await keyPolicyFor(store, 'ops', l);
    expect(ops?.allows('apps/ops/x')).toBe(true);
    expect(ops?.allows('shared/a/b')).toBe(true);
    expect(ops?.allows('gold/x')).toBe(false);
    const dev = await keyPolicyFor(store, 'dev', l);
    expect(dev?.allows('shared/a/b')).toBe(false);
    expect(dev?.allows('apps/ops/x')).toBe(false);
    expect((await keyPolicyFor(store, 'gilded', l))?.allows('gold/x')).toBe(true);
    expect((await keyPolicyFor(store, 'ci-7', l))?.allows('ci/x')).toBe(true);
    expect(dev?.allows('apps/dev/../ops/x')).toBe(false);
  });

  it('refuses every key when no rule applies', async () => {
    const store = css({ rules: [{ namespaces: ['ops'], allow: ['**'] }] });
    expect((await keyPolicyFor(store, 'dev', lookup(store)))?.allows('x')).toBe(false);
  });
});

describe('checking an ExternalSecret', () => {
  const store = css({ rules: [{ allow: ['apps/{namespace}/*'] }] });

  it('names the field and key refused, and the store', async () => {
    const policy = await keyPolicyFor(store, 'team-a', lookup(store));
    expect(() => checkNamedKeys(es('team-a', ['apps/team-a/db']), store, policy)).not.toThrow();
    const refused = es('team-a', ['apps/team-a/db'], ['apps/team-b/db']);
    const err = (() => {
      try {
        checkNamedKeys(refused, store, policy);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TenancyError);
    expect((err as TenancyError).reason).toBe('remote_key_not_allowed');
    expect((err as TenancyError).store).toBe('ClusterSecretStore/shared');
    expect((err as Error).message).toBe(
      'spec.dataFrom[0].extract.key: remote key "apps/team-b/db" is not allowed in namespace "team-a" by ClusterSecretStore "shared" (spec.remoteKeyPolicy)',
    );
  });

  it('checks conditions first, then keys', async () => {
    const guarded = css({ rules: [{ allow: ['apps/{namespace}/*'] }] }, [{ namespaces: ['team-a'] }]);
    await expect(resolveStoreAndPolicy(es('team-b', ['apps/team-b/db']), lookup(guarded))).rejects.toMatchObject({
      reason: 'namespace_not_allowed',
    });
    await expect(resolveStoreAndPolicy(es('team-a', ['apps/team-b/db']), lookup(guarded))).rejects.toMatchObject({
      reason: 'remote_key_not_allowed',
    });
    const ok = await resolveStoreAndPolicy(es('team-a', ['apps/team-a/db']), lookup(guarded));
    expect(ok.policy?.allows('apps/team-a/other')).toBe(true);
  });
});
