// ClusterExternalSecret: one ExternalSecret spec stamped into every namespace a selector picks.
import { arrayOf, type Field, integer, mapOf, object, required, string, type TypeOf } from '../schema.ts';
import { conditions, GO_DURATION_PATTERN } from './common.ts';
import { DNS_SUBDOMAIN_PATTERN, externalSecretSpec } from './external-secret.ts';
import { labelSelector } from './secret-store.ts';

/** A DNS-1123 label: what a namespace name must be. */
const NAMESPACE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

// What LabelSelectorAsSelector refuses at run time, refused at admission instead.
const selectorValidations = [
  {
    rule: "!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator == 'In' || e.operator == 'NotIn' ? has(e.values) && size(e.values) > 0 : !has(e.values) || size(e.values) == 0)",
    message: 'matchExpressions: In and NotIn need at least one value; Exists and DoesNotExist take no values',
    fieldPath: '.matchExpressions',
  },
];

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a 1-63 character name. */
const QUALIFIED_NAME =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

/** A string map whose keys must be label/annotation keys, refused at admission rather than per copy. */
function metadataMap<V>(description: string, values: Field<V, boolean>, what: string): Field<Record<string, V>> {
  const f = mapOf(description, values);
  const schema = {
    ...f.schema,
    maxProperties: 256,
    'x-kubernetes-validations': [
      {
        rule: `self.all(k, size(k) <= 317 && k.matches('${QUALIFIED_NAME}'))`,
        message: `${what} keys must be an optional DNS-1123 subdomain prefix and '/', then 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
      },
    ],
  };
  return { ...f, schema };
}

function namespaceSelector(description: string): typeof labelSelector {
  const schema = { ...labelSelector.schema, description, 'x-kubernetes-validations': selectorValidations };
  return { ...labelSelector, schema } as Field<TypeOf<typeof labelSelector>>;
}

export const clusterExternalSecretSpec = object(
  'An ExternalSecret spec and the namespaces it is created in. Ferry creates one ExternalSecret per selected namespace, owned by this object; each syncs as any ExternalSecret does, and copies reading the same key through a ClusterSecretStore share one provider read per refresh.',
  {
    externalSecretSpec: required({
      ...externalSecretSpec,
      schema: {
        ...externalSecretSpec.schema,
        description:
          'The spec of the ExternalSecrets to create, exactly as in an ExternalSecret (kubectl explain externalsecret.spec). A SecretStore named here is looked up in each target namespace; a ClusterSecretStore is shared by all.',
      },
    }),
    externalSecretName: string(
      'Name of the ExternalSecrets to create, a DNS-1123 subdomain. Default: the name of this ClusterExternalSecret. Changing it deletes the copies under the old name and creates new ones.',
      { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN },
    ),
    externalSecretMetadata: object(
      'Labels and annotations of the ExternalSecrets to create. They replace whatever labels and annotations the copies carry, as in ESO; the ferry.dev/force-sync and external-secrets.io/force-sync annotations of this ClusterExternalSecret are copied too, so annotating it forces every copy to re-read its provider.',
      {
        labels: metadataMap(
          'Labels of each created ExternalSecret.',
          string('Label value: empty, or up to 63 letters, digits, -, _ and . starting and ending alphanumeric.', {
            maxLength: 63,
            pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
          }),
          'label',
        ),
        annotations: metadataMap(
          'Annotations of each created ExternalSecret.',
          string('Annotation value.'),
          'annotation',
        ),
      },
    ),
    namespaceSelectors: arrayOf(
      'Label selectors choosing the namespaces to create the ExternalSecret in. A namespace matching any of them is selected (ORed), as are the namespaces listed in `namespaces`. An empty selector ({}) selects every namespace.',
      namespaceSelector('A label selector over namespace labels.'),
      { maxItems: 32 },
    ),
    namespaceSelector: namespaceSelector(
      'Deprecated (use namespaceSelectors): a label selector choosing namespaces, ORed with namespaceSelectors and namespaces.',
    ),
    namespaces: arrayOf(
      'Deprecated (use namespaceSelectors): namespaces chosen by name, ORed with the selectors. A listed namespace that does not exist is skipped until it is created.',
      string('A namespace name.', { minLength: 1, maxLength: 63, pattern: NAMESPACE_NAME_PATTERN }),
      { maxItems: 1024 },
    ),
    refreshTime: string(
      'How often the namespace list is checked again, as a Go duration (`1m`, `10m`). Default 1m. Namespace changes (new namespaces, label changes) and changes to the copies are acted on at once from watch events; this is a safety net. `0` turns the periodic check off.',
      { pattern: GO_DURATION_PATTERN, maxLength: 64 },
    ),
  },
);

export const clusterExternalSecretStatus = object('Observed state, written by the controller.', {
  conditions,
  observedGeneration: integer('Generation of the spec the controller last acted on.', { format: 'int64' }),
  externalSecretName: string('Name of the ExternalSecrets created in the selected namespaces.', { maxLength: 253 }),
  provisionedNamespaces: arrayOf(
    'Namespaces holding an up-to-date ExternalSecret created from this object, sorted.',
    string('A namespace name.', { maxLength: 63 }),
  ),
  failedNamespaces: arrayOf(
    'Selected namespaces where the ExternalSecret could not be created or updated, and why.',
    object('One namespace and its failure.', {
      namespace: required(string('The namespace.', { maxLength: 63 })),
      reason: string('Why the ExternalSecret could not be created or updated there.', { maxLength: 4096 }),
    }),
  ),
});

export type ClusterExternalSecretSpec = TypeOf<typeof clusterExternalSecretSpec>;
export type ClusterExternalSecretStatus = TypeOf<typeof clusterExternalSecretStatus>;
