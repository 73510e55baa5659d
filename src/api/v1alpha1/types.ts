// Typed Ferry resources as the controller reads them from the API server.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { ClusterExternalSecretSpec, ClusterExternalSecretStatus } from './cluster-external-secret.ts';
import type { API_VERSION } from './common.ts';
import type { ExternalSecretSpec, ExternalSecretStatus } from './external-secret.ts';
import type { ClusterSecretStoreSpec, SecretStoreSpec, StoreStatus } from './secret-store.ts';

interface Resource<K extends string, S, T> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: V1ObjectMeta;
  spec: S;
  status?: T;
}

export type ExternalSecret = Resource<'ExternalSecret', ExternalSecretSpec, ExternalSecretStatus>;
export type SecretStore = Resource<'SecretStore', SecretStoreSpec, StoreStatus>;
export type ClusterSecretStore = Resource<'ClusterSecretStore', ClusterSecretStoreSpec, StoreStatus>;
export type AnyStore = SecretStore | ClusterSecretStore;
export type ClusterExternalSecret = Resource<
  'ClusterExternalSecret',
  ClusterExternalSecretSpec,
  ClusterExternalSecretStatus
>;

export type * from './cluster-external-secret.ts';
export * from './common.ts';
export type * from './external-secret.ts';
export type * from './secret-store.ts';
