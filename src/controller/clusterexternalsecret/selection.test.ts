import type { V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ClusterExternalSecretSpec } from '../../api/v1alpha1/cluster-external-secret.ts';
import { checkSelector, SelectorError, selectNamespaces } from './selection.ts';

const esSpec = { secretStoreRef: { name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] };
const ns = (name: string, labels: Record<string, string> = {}, terminating = false): V1Namespace => ({
  metadata: {
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
    deletionTimestamp: terminating ? new Date() : undefined,
  },
});
const all = [ns('a', { team: 'x' }), ns('b', { team: 'y', env: 'prod' }), ns('c'), ns('d', { team: 'x' }, true)];
const select = (spec: Partial<ClusterExternalSecretSpec>) =>
  selectNamespaces({ externalSecretSpec: esSpec, ...spec }, all);

describe('namespace selection (ESO rules)', () => {
  it('selects nothing without selectors or names', () => {
    expect(select({})).toEqual([]);
  });

  it('ORs namespaceSelectors, the deprecated namespaceSelector and names, leaving out terminating namespaces', () => {
    expect(select({ namespaceSelectors: [{ matchLabels: { team: 'x' } }] })).toEqual(['a']);
    expect(
      select({
        namespaceSelectors: [{ matchLabels: { team: 'x' } }],
        namespaceSelector: { matchLabels: { env: 'prod' } },
      }),
    ).toEqual(['a', 'b']);
    expect(select({ namespaces: ['c', 'missing'], namespaceSelectors: [{ matchLabels: { team: 'y' } }] })).toEqual([
      'b',
      'c',
    ]);
  });

  it('an empty selector selects every namespace; matchLabels and matchExpressions must both hold', () => {
    expect(select({ namespaceSelectors: [{}] })).toEqual(['a', 'b', 'c']);
    expect(
      select({
        namespaceSelectors: [
          { matchLabels: { team: 'y' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
        ],
      }),
    ).toEqual([]);
    expect(select({ namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }] })).toEqual(
      ['c'],
    );
  });

  it('refuses a selector LabelSelectorAsSelector would refuse, naming the field', () => {
    const bad = (s: Parameters<typeof checkSelector>[0]) => () => checkSelector(s, 'spec.namespaceSelectors[1]');
    expect(bad({ matchExpressions: [{ key: 'team', operator: 'In' }] })).toThrow(
      'spec.namespaceSelectors[1].matchExpressions[0].values: operator In needs at least one value',
    );
    expect(bad({ matchExpressions: [{ key: 'team', operator: 'Exists', values: ['x'] }] })).toThrow(
      /matchExpressions\[0\]\.values: operator Exists takes no values/,
    );
    expect(bad({ matchLabels: { 'bad key!': 'x' } })).toThrow(
      /spec\.namespaceSelectors\[1\]\.matchLabels: label key "bad key!"/,
    );
    expect(bad({ matchLabels: { team: 'not valid' } })).toThrow(/label value "not valid"/);
    expect(bad({ matchExpressions: [{ key: 'Example.com/x', operator: 'Exists' }] })).toThrow(/prefix/);
    expect(bad({ matchLabels: { 'example.com/team': 'a-b_c.d' } })).not.toThrow();
    expect(() =>
      selectNamespaces(
        {
          externalSecretSpec: esSpec,
          namespaceSelector: { matchExpressions: [{ key: 'k', operator: 'Within' as 'In' }] },
        },
        all,
      ),
    ).toThrow(SelectorError);
  });
});
