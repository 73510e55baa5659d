import { describe, expect, it } from 'vitest';
import type { ClusterSecretStore } from '../api/v1alpha1/types.ts';
import { admitsNamespace, type StoreLookup, selectorMatches } from './stores.ts';

const lookup = (labels: Record<string, Record<string, string>>): StoreLookup => ({
  secretStore: () => undefined,
  clusterSecretStore: () => undefined,
  namespaceLabels: async (ns) => labels[ns] ?? {},
});

function css(conditions: ClusterSecretStore['spec']['conditions']): ClusterSecretStore {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ClusterSecretStore',
    metadata: { name: 'shared' },
    spec: { provider: { fake: { data: [] } }, conditions },
  };
}

describe('ClusterSecretStore conditions', () => {
  it('admits every namespace when there are no conditions', async () => {
    expect(await admitsNamespace(css(undefined), 'anything', lookup({}))).toBe(true);
  });

  it('admits by name, by regex, or by label selector, in any entry', async () => {
    const store = css([
      { namespaces: ['payments'] },
      { namespaceRegexes: ['^team-[a-z]+$'] },
      {
        namespaceSelector: {
          matchLabels: { tier: 'prod' },
          matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
        },
      },
    ]);
    const labels = lookup({ web: { tier: 'prod' }, web2: { tier: 'prod', env: 'dev' } });
    expect(await admitsNamespace(store, 'payments', labels)).toBe(true);
    expect(await admitsNamespace(store, 'team-blue', labels)).toBe(true);
    expect(await admitsNamespace(store, 'web', labels)).toBe(true);
    expect(await admitsNamespace(store, 'web2', labels)).toBe(false);
    expect(await admitsNamespace(store, 'team-1', labels)).toBe(false);
    expect(await admitsNamespace(store, 'kube-system', labels)).toBe(false);
  });

  it('matches set-based selector operators', () => {
    const l = { env: 'prod' };
    expect(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, l)).toBe(true);
  });
});
