// Schema pieces shared by ExternalSecret, SecretStore and ClusterSecretStore.
import { arrayOf, enumOf, integer, object, required, string, timestamp } from '../schema.ts';

export const GROUP = 'ferry.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Go duration syntax (`1h`, `1h30m`, `90s`, `0`), the spelling ESO manifests use. */
export const GO_DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$';

export type StoreScope = 'Namespaced' | 'Cluster';

export const namespaceOnlyInClusterStore = {
  rule: '!has(self.namespace)',
  message: 'namespace may only be set in a ClusterSecretStore; a SecretStore reads from its own namespace',
  fieldPath: '.namespace',
  reason: 'FieldValueForbidden' as const,
};

/**
 * CEL: none of the audiences in `list` is the API server's own (blank, or an in-cluster name of
 * it; src/kube/api-audiences.ts also refuses the published issuer, which admission cannot know).
 */
export function noApiServerAudience(list: string) {
  return `!has(self.${list}) || self.${list}.all(a, !a.matches('^[[:space:]]*$') && !a.matches('^(https://)?kubernetes([.]default([.]svc([.]cluster[.]local)?)?)?/*$') && a != 'api' && a != 'k3s')`;
}

/** A token for the API server's audience is a credential to the cluster; a SecretStore may not send one out. */
export const noApiServerAudienceInSecretStore = {
  rule: noApiServerAudience('audiences'),
  message:
    "audiences may not be the API server's own (blank or kubernetes.default.svc and its variants) in a SecretStore: the token would be a credential to the cluster",
  fieldPath: '.audiences',
  reason: 'FieldValueForbidden' as const,
};

/** A key of a Kubernetes Secret. In a SecretStore it always points into the store's namespace. */
export function secretKeySelector(description: string, scope: StoreScope) {
  return object(
    description,
    {
      name: required(string('Name of the Secret.', { maxLength: 253, minLength: 1 })),
      key: required(string('Key inside the Secret whose value is used.', { maxLength: 253, minLength: 1 })),
      namespace: string(
        'Namespace of the Secret. Only honoured in a ClusterSecretStore; when omitted there, the namespace of the ExternalSecret using the store is used.',
        { maxLength: 63 },
      ),
    },
    scope === 'Namespaced' ? { validations: [namespaceOnlyInClusterStore] } : {},
  );
}

/** A ServiceAccount whose token Ferry requests (TokenRequest) to authenticate to a provider. */
export function serviceAccountSelector(description: string, scope: StoreScope) {
  return object(
    description,
    {
      name: required(string('Name of the ServiceAccount.', { maxLength: 253, minLength: 1 })),
      namespace: string(
        'Namespace of the ServiceAccount. Only honoured in a ClusterSecretStore; when omitted there, the namespace of the ExternalSecret using the store is used.',
        { maxLength: 63 },
      ),
      audiences: arrayOf(
        'Audiences requested for the token. Defaults depend on the provider. In a SecretStore never the API server’s own (blank, kubernetes.default.svc and its variants, or its service-account issuer): such a token is a credential to the cluster.',
        string('One audience.', { maxLength: 1024 }),
        { maxItems: 16 },
      ),
    },
    scope === 'Namespaced' ? { validations: [namespaceOnlyInClusterStore, noApiServerAudienceInSecretStore] } : {},
  );
}

export const conditions = arrayOf(
  'Observations of the object, one per condition type.',
  object('One condition.', {
    type: required(string('Condition type, e.g. Ready.', { maxLength: 64 })),
    status: required(enumOf('Whether the condition holds.', ['True', 'False', 'Unknown'] as const)),
    reason: string('Machine-readable reason in CamelCase, e.g. SecretSynced.', { maxLength: 128 }),
    message: string('Human-readable explanation. Never contains a secret value.', { maxLength: 32768 }),
    lastTransitionTime: timestamp('When the status last changed.'),
    observedGeneration: integer('Generation of the object this condition was computed from.', { format: 'int64' }),
  }),
  { listMapKeys: ['type'], maxItems: 16 },
);
