// Namespaces of Secret and ServiceAccount references in a store. A SecretStore always reads from
// its own namespace (admission rejects an explicit one); in a ClusterSecretStore a reference
// without namespace resolves in the namespace of the ExternalSecret using it (ESO's "referent
// authentication").
export function resolveNamespace(ref: { namespace?: string }, defaultNamespace: string): string {
  return ref.namespace ?? defaultNamespace;
}

export function refIdentity(ref: { name: string; namespace?: string; key?: string }, defaultNamespace: string): string {
  return `${resolveNamespace(ref, defaultNamespace)}/${ref.name}${ref.key ? `#${ref.key}` : ''}`;
}
