// The keys the controller indexes ExternalSecrets by: the stores they read from and their target.
import type { ClusterSecretStore, ExternalSecret, SecretStore } from '../api/v1alpha1/types.ts';
import { objectKey } from '../kube/informer.ts';
import { currentTargetName, settingsOf } from '../pipeline/settings.ts';
import { storeRefsOf } from '../pipeline/stores.ts';

/** Every store the ExternalSecret reads from (spec.secretStoreRef and items' own storeRef). */
export function storeKeysOf(es: ExternalSecret): string[] {
  return [...storeRefsOf(es).values()].map(({ ref }) =>
    ref.kind === 'ClusterSecretStore'
      ? `ClusterSecretStore/${ref.name}`
      : `SecretStore/${es.metadata.namespace}/${ref.name}`,
  );
}

export function storeKey(store: SecretStore | ClusterSecretStore): string {
  return store.kind === 'ClusterSecretStore'
    ? `ClusterSecretStore/${store.metadata.name}`
    : `SecretStore/${objectKey(store)}`;
}

/** The namespace of a storeKey() ('' for a ClusterSecretStore): the tenant the store queue serves in turn. */
export function storeNamespace(key: string): string {
  return key.startsWith('SecretStore/') ? (key.split('/')[1] ?? '') : '';
}

/** `namespace/name` of the Secret the ExternalSecret writes; none for creationPolicy None or an unparsable spec. */
export function targetKeyOf(es: ExternalSecret): string | undefined {
  try {
    const s = settingsOf(es);
    return s.creationPolicy === 'None' ? undefined : `${es.metadata.namespace}/${currentTargetName(es, s)}`;
  } catch {
    return undefined;
  }
}
