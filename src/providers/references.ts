// Namespaces of Secret and ServiceAccount references in a store. A SecretStore always reads from
// its own namespace (admission rejects another; referenceNamespace refuses it again for stores
// admitted before, or past, that rule); in a ClusterSecretStore a reference without namespace
// resolves in the namespace of the ExternalSecret using it (ESO's "referent authentication").
import { ProviderError } from './provider.ts';

export function resolveNamespace(ref: { namespace?: string }, defaultNamespace: string): string {
  return ref.namespace ?? defaultNamespace;
}

/**
 * The namespace a store's reference reads from. For a SecretStore, `defaultNamespace` is its own
 * namespace and a reference naming another is refused. Throws ProviderError('Invalid').
 */
export function referenceNamespace(
  ref: { namespace?: string },
  storeKind: 'SecretStore' | 'ClusterSecretStore',
  defaultNamespace: string,
  what: string,
): string {
  if (storeKind === 'SecretStore' && ref.namespace !== undefined && ref.namespace !== defaultNamespace) {
    throw new ProviderError(
      'Invalid',
      `${what}: namespace "${ref.namespace}" is not the SecretStore's own ("${defaultNamespace}"); a SecretStore reads only from its own namespace (use a ClusterSecretStore to read elsewhere)`,
    );
  }
  return resolveNamespace(ref, defaultNamespace);
}

export function refIdentity(ref: { name: string; namespace?: string; key?: string }, defaultNamespace: string): string {
  return `${resolveNamespace(ref, defaultNamespace)}/${ref.name}${ref.key ? `#${ref.key}` : ''}`;
}
