// The `fake` provider: serves the values declared in the store spec (ESO's fake provider).

import type { TypeOf } from '../../api/schema.ts';
import type { fakeProvider as fakeSchema } from '../../api/v1alpha1/providers/fake.ts';
import { SecretValue } from '../../values.ts';
import { findNameRegexp } from '../find-match.ts';
import { type Provider, type ProviderClient, ProviderError } from '../provider.ts';

export type FakeSpec = TypeOf<ReturnType<typeof fakeSchema>>;

export const fakeProvider: Provider<FakeSpec> = {
  name: 'fake',
  identity: () => 'fake',
  async createClient(spec): Promise<ProviderClient> {
    const entries = spec.data;
    return {
      async read(ref) {
        const entry = entries.find((e) => e.key === ref.key && (e.version ?? undefined) === (ref.version ?? undefined));
        if (!entry) {
          const what = ref.version ? `version "${ref.version}" of key "${ref.key}"` : `key "${ref.key}"`;
          throw new ProviderError('NotFound', `fake store has no ${what}`);
        }
        return { value: SecretValue.fromString(entry.value), versionId: entry.version };
      },
      // dataFrom[].find over the declared keys (ESO's fake provider lists by name too); the fake
      // store has no tags, so a tags filter is refused rather than matching nothing silently.
      async find(query) {
        if (query.tags && Object.keys(query.tags).length > 0) {
          throw new ProviderError('Invalid', 'the fake provider has no tags to filter by');
        }
        const re = findNameRegexp(query);
        const names = [...new Set(entries.filter((e) => e.version === undefined).map((e) => e.key))];
        return names.filter((n) => (!query.path || n.startsWith(query.path)) && (!re || re.test(n)));
      },
      async validate() {},
      close() {},
    };
  },
};
