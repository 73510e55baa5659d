// Finds the store an ExternalSecret names and checks a ClusterSecretStore admits its namespace —
// before any provider call, so a refused namespace costs nothing at the provider.
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { AnyStore, ClusterSecretStore, ExternalSecret, SecretStore } from '../../api/v1alpha1/types.ts';

export class StoreRefError extends Error {
  override name = 'StoreRefError';
}

export interface StoreLookup {
  secretStore(namespace: string, name: string): SecretStore | undefined;
  clusterSecretStore(name: string): ClusterSecretStore | undefined;
  namespaceLabels(namespace: string): Promise<Record<string, string>>;
}

export function selectorMatches(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key] ?? '';
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? has && values.includes(value)
        : e.operator === 'NotIn'
          ? !has || !values.includes(value)
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** ESO's rule: any selector, name or regex of any condition admits the namespace. */
export async function admitsNamespace(
  store: ClusterSecretStore,
  namespace: string,
  lookup: StoreLookup,
): Promise<boolean> {
  const conditions = store.spec.conditions ?? [];
  if (conditions.length === 0) return true;
  let labels: Record<string, string> | undefined;
  for (const c of conditions) {
    if (c.namespaces?.includes(namespace)) return true;
    if (c.namespaceRegexes?.some((re) => safeRegex(re)?.test(namespace))) return true;
    if (c.namespaceSelector) {
      labels ??= await lookup.namespaceLabels(namespace);
      if (selectorMatches(c.namespaceSelector as V1LabelSelector, labels)) return true;
    }
  }
  return false;
}

function safeRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

export async function resolveStore(es: ExternalSecret, lookup: StoreLookup): Promise<AnyStore> {
  const ref = es.spec.secretStoreRef;
  const namespace = es.metadata.namespace ?? '';
  if (ref.kind === 'ClusterSecretStore') {
    const store = lookup.clusterSecretStore(ref.name);
    if (!store) throw new StoreRefError(`spec.secretStoreRef: ClusterSecretStore "${ref.name}" does not exist`);
    if (!(await admitsNamespace(store, namespace, lookup))) {
      throw new StoreRefError(
        `spec.secretStoreRef: ClusterSecretStore "${ref.name}" does not allow namespace "${namespace}" (see its spec.conditions)`,
      );
    }
    return store;
  }
  const store = lookup.secretStore(namespace, ref.name);
  if (!store)
    throw new StoreRefError(
      `spec.secretStoreRef: SecretStore "${ref.name}" does not exist in namespace "${namespace}"`,
    );
  return store;
}
