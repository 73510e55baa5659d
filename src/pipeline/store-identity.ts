// Whose identity a store may authenticate as. A SecretStore is written by a tenant: it names its
// own credentials, never the process's (the controller's, or the node's in the CSI plugin), unless
// the platform admin opted in. ClusterSecretStores are the admin's and keep every method.
import type { AnyStore } from '../api/v1alpha1/types.ts';
import { type Provider, ProviderError } from '../providers/provider.ts';

export const AMBIENT_IDENTITY_FLAG = '--namespaced-ambient-identity';
export const AMBIENT_IDENTITY_VALUE = 'namespacedAmbientIdentity';

/**
 * The refusal of `store` when it would authenticate as the process itself and that is not
 * allowed; undefined when it may be used. Checked at every client build, so a store admitted
 * before the rule existed is refused too.
 */
export function ambientIdentityRefusal<Spec>(
  store: AnyStore,
  provider: Provider<Spec>,
  spec: Spec,
  allowed: boolean,
): ProviderError | undefined {
  if (allowed || store.kind !== 'SecretStore') return undefined;
  const use = provider.ambientIdentity?.(spec);
  if (!use) return undefined;
  return new ProviderError(
    'Invalid',
    `${use}: a SecretStore may not authenticate as Ferry itself (the controller's identity, or the node's in the CSI plugin) unless Ferry runs with ${AMBIENT_IDENTITY_FLAG}=on (chart value ${AMBIENT_IDENTITY_VALUE}); give the store its own credentials, or use a ClusterSecretStore`,
  );
}
