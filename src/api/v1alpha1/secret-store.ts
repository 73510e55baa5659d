// SecretStore and ClusterSecretStore: how to reach and authenticate to one provider.
import { arrayOf, enumOf, integer, mapOf, object, required, string, type TypeOf } from '../schema.ts';
import { conditions, GO_DURATION_PATTERN, type StoreScope } from './common.ts';
import { providerSchemas } from './providers/index.ts';

function provider(scope: StoreScope) {
  const schemas = providerSchemas(scope);
  const names = Object.keys(schemas);
  const count = names.map((n) => `(has(self.${n}) ? 1 : 0)`).join(' + ');
  return object('The provider this store reads from. Exactly one must be set.', schemas, {
    validations: [
      {
        rule: `${count} == 1`,
        message: `exactly one provider must be set: one of ${names.join(', ')}`,
      },
    ],
  });
}

const retrySettings = object(
  'Accepted for ESO compatibility and not used yet: Ferry retries a failed sync with jittered exponential backoff (1s doubling to 5m) and waits out any Retry-After the provider sends.',
  {
    maxRetries: integer('Not used yet (see retrySettings).', { format: 'int32', minimum: 0 }),
    retryInterval: string('Not used yet (see retrySettings).', {
      pattern: GO_DURATION_PATTERN,
      maxLength: 64,
    }),
  },
);

export const labelSelector = object('A Kubernetes label selector.', {
  matchLabels: mapOf('Labels that must all match.', string('Label value.', { maxLength: 63 })),
  matchExpressions: arrayOf(
    'Set-based requirements that must all match.',
    object('One requirement.', {
      key: required(string('Label key.', { maxLength: 317 })),
      operator: required(enumOf('How key and values relate.', ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const)),
      values: arrayOf('Values for In and NotIn.', string('A label value.', { maxLength: 63 }), { maxItems: 64 }),
    }),
    { maxItems: 32 },
  ),
});

const namespaceMatchers = {
  namespaceSelector: labelSelector,
  namespaces: arrayOf('Namespace names.', string('A namespace name.', { maxLength: 63 }), { maxItems: 256 }),
  namespaceRegexes: arrayOf(
    'Regular expressions matched against the namespace name; they match anywhere unless anchored with ^ and $.',
    string('A regular expression.', { maxLength: 256 }),
    { maxItems: 64 },
  ),
};

export const REMOTE_KEY_POLICY_DESCRIPTION =
  'Ferry extension (tenancy): which remote keys ExternalSecrets may read through this store, per namespace. Unset: any key, as in ESO. Set: every data[].remoteRef.key and dataFrom[].extract.key must match an `allow` pattern of a rule that applies to the ExternalSecret’s namespace, or the ExternalSecret is refused before any provider call (status, Event TenancyDenied, metric ferry_tenancy_denials_total); names listed by dataFrom[].find that match no pattern are left out and never read. Patterns are matched against the whole key as written in the ExternalSecret: `*` matches within one path segment (never `/`), `**` matches anything, `{namespace}` stands for the ExternalSecret’s namespace, e.g. `apps/{namespace}/*`. Under a policy, keys with an empty, `.` or `..` path segment, or containing `%` or a backslash, are refused. See docs/tenancy.md.';

const remoteKeyPolicy = object(REMOTE_KEY_POLICY_DESCRIPTION, {
  rules: required(
    arrayOf(
      'A key is allowed when any rule that applies to the namespace allows it. No rule applies: every key is refused.',
      object(
        'Remote keys allowed for some namespaces. A rule with no namespaceSelector, namespaces or namespaceRegexes applies to every namespace; otherwise any field that matches makes it apply.',
        {
          ...namespaceMatchers,
          allow: required(
            arrayOf(
              'Remote key patterns (`*`: within one path segment, `**`: anything, `{namespace}`: the ExternalSecret’s namespace).',
              string('A remote key pattern.', { minLength: 1, maxLength: 512 }),
              { minItems: 1, maxItems: 64 },
            ),
          ),
        },
      ),
      { minItems: 1, maxItems: 64 },
    ),
  ),
});

const storeConditions = arrayOf(
  'Namespaces allowed to use this ClusterSecretStore. An ExternalSecret may use it when its namespace matches any namespaceSelector, any listed name or any regex of any entry; with no entries, every namespace may.',
  object('One rule; its namespace is admitted by any field that matches.', namespaceMatchers),
  { maxItems: 32 },
);

function storeSpec(scope: StoreScope) {
  const fields = {
    controller: string('Name of the Ferry controller class that serves this store; empty means the default.', {
      maxLength: 253,
    }),
    provider: required(provider(scope)),
    retrySettings,
    refreshInterval: integer(
      'Seconds between re-validations of the store’s configuration and credentials. Default 300.',
      {
        format: 'int32',
        minimum: 0,
      },
    ),
    remoteKeyPolicy,
  };
  return fields;
}

export const secretStoreSpec = object(
  'Connection and authentication for one provider, usable by ExternalSecrets in the same namespace.',
  storeSpec('Namespaced'),
);

export const clusterSecretStoreSpec = object(
  'Connection and authentication for one provider, usable by ExternalSecrets in the namespaces its conditions allow.',
  { ...storeSpec('Cluster'), conditions: storeConditions },
);

export const storeStatus = object('Observed state, written by the controller.', {
  conditions,
  capabilities: enumOf('What Ferry can do with this store. Always ReadOnly.', [
    'ReadOnly',
    'WriteOnly',
    'ReadWrite',
  ] as const),
});

export type SecretStoreSpec = TypeOf<typeof secretStoreSpec>;
export type ClusterSecretStoreSpec = TypeOf<typeof clusterSecretStoreSpec>;
export type StoreStatus = TypeOf<typeof storeStatus>;
export type ProviderSpec = SecretStoreSpec['provider'] | ClusterSecretStoreSpec['provider'];
