// The CustomResourceDefinitions, assembled from the schemas in this folder.
import type { JSONSchemaProps } from '../schema.ts';
import { clusterExternalSecretSpec, clusterExternalSecretStatus } from './cluster-external-secret.ts';
import { GROUP, VERSION } from './common.ts';
import { externalSecretSpec, externalSecretStatus } from './external-secret.ts';
import { clusterSecretStoreSpec, secretStoreSpec, storeStatus } from './secret-store.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'boolean';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdInput {
  kind: string;
  plural: string;
  shortName: string;
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: JSONSchemaProps;
  status: JSONSchemaProps;
  columns: PrinterColumn[];
}

const READY = '.status.conditions[?(@.type=="Ready")]';
const readyColumns: PrinterColumn[] = [
  { name: 'Status', type: 'string', jsonPath: `${READY}.reason`, description: 'Reason of the Ready condition' },
  { name: 'Ready', type: 'string', jsonPath: `${READY}.status`, description: 'Whether the object is Ready' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

function crd(input: CrdInput) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${input.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'ferry', 'app.kubernetes.io/part-of': 'ferry' },
    },
    spec: {
      group: GROUP,
      scope: input.scope,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.kind.toLowerCase(),
        shortNames: [input.shortName],
        categories: ['ferry'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: input.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'API version of this object: ferry.dev/v1alpha1.' },
                kind: { type: 'string', description: `Kind of this object: ${input.kind}.` },
                metadata: { type: 'object' },
                spec: input.spec,
                status: input.status,
              },
            },
          },
        },
      ],
    },
  };
}

export function customResourceDefinitions() {
  return [
    crd({
      kind: 'ExternalSecret',
      plural: 'externalsecrets',
      shortName: 'es',
      scope: 'Namespaced',
      description:
        'ExternalSecret reads values from a provider through a SecretStore or ClusterSecretStore and keeps a Kubernetes Secret in sync with them.',
      spec: externalSecretSpec.schema,
      status: externalSecretStatus.schema,
      columns: [
        {
          name: 'Store',
          type: 'string',
          jsonPath: '.spec.secretStoreRef.name',
          description: 'Store the values come from',
        },
        { name: 'Refresh', type: 'string', jsonPath: '.spec.refreshInterval', description: 'Refresh interval' },
        ...readyColumns,
        { name: 'Last Sync', type: 'date', jsonPath: '.status.refreshTime', priority: 1 },
      ],
    }),
    crd({
      kind: 'SecretStore',
      plural: 'secretstores',
      shortName: 'ss',
      scope: 'Namespaced',
      description:
        'SecretStore says how to reach and authenticate to one provider, for ExternalSecrets in its namespace.',
      spec: secretStoreSpec.schema,
      status: storeStatus.schema,
      columns: readyColumns,
    }),
    crd({
      kind: 'ClusterSecretStore',
      plural: 'clustersecretstores',
      shortName: 'css',
      scope: 'Cluster',
      description:
        'ClusterSecretStore says how to reach and authenticate to one provider, for ExternalSecrets in the namespaces its conditions allow.',
      spec: clusterSecretStoreSpec.schema,
      status: storeStatus.schema,
      columns: readyColumns,
    }),
    crd({
      kind: 'ClusterExternalSecret',
      plural: 'clusterexternalsecrets',
      shortName: 'ces',
      scope: 'Cluster',
      description:
        'ClusterExternalSecret creates the same ExternalSecret in every namespace its selectors choose, keeps the copies up to date, and removes them from namespaces that stop matching.',
      spec: clusterExternalSecretSpec.schema,
      status: clusterExternalSecretStatus.schema,
      columns: [
        {
          name: 'Store',
          type: 'string',
          jsonPath: '.spec.externalSecretSpec.secretStoreRef.name',
          description: 'Store the copies read from',
        },
        {
          name: 'Refresh Interval',
          type: 'string',
          jsonPath: '.spec.refreshTime',
          description: 'How often the namespace list is checked again',
        },
        ...readyColumns,
        {
          name: 'Provisioned',
          type: 'string',
          jsonPath: '.status.provisionedNamespaces',
          description: 'Namespaces holding a copy',
          priority: 1,
        },
      ],
    }),
  ];
}
