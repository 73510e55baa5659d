// Tenancy: a store's spec.remoteKeyPolicy (a Ferry extension) says which remote keys the
// ExternalSecrets of each namespace may read through it. Checked before any provider call for
// the keys an ExternalSecret names; names a dataFrom[].find listing returns are filtered before
// they are read. The glob matcher is hand-written (a dozen lines) because its rules are part of
// the security contract: `*` never crosses `/`, and nothing else is special.

import type { AnyStore, ExternalSecret } from '../api/v1alpha1/types.ts';
import { compileGoRegexp, type GoRegexp } from '../go-regexp.ts';
import { itemSlot, namespaceMatches, resolveStore, resolveStores, type StoreLookup, TenancyError } from './stores.ts';

export { TenancyError } from './stores.ts';

/** The store's label in metrics: its kind and name (never a key or a value). */
export function storeLabel(store: AnyStore): string {
  return store.kind === 'ClusterSecretStore'
    ? `ClusterSecretStore/${store.metadata.name}`
    : `SecretStore/${store.metadata.namespace}/${store.metadata.name}`;
}

function describeStore(store: AnyStore): string {
  return `${store.kind} "${store.metadata.name}"`;
}

/** A path free of traversal and encoding tricks: no empty, `.` or `..` segment, no `%`, no backslash. */
export function isPlainPath(key: string): boolean {
  if (key.includes('%') || key.includes('\\')) return false;
  const segments = (key.startsWith('/') ? key.slice(1) : key).split('/');
  return segments.every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * One allow pattern as an anchored Go regexp, with `{namespace}` substituted literally. Matched
 * in linear time: a tenant chooses the key, and `a*a*a*…` as a backtracking RegExp is polynomial
 * in its length.
 */
export function compilePattern(pattern: string, namespace: string): GoRegexp {
  const withNamespace = pattern.split('{namespace}');
  const body = withNamespace
    .map((part) =>
      part
        .split('**')
        .map((p) =>
          p
            .split('*')
            .map((lit) => lit.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
            .join('[^/]*'),
        )
        .join('.*'),
    )
    .join(namespace.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'));
  return compileGoRegexp(`(?s)^${body}$`);
}

export interface KeyPolicy {
  allows(key: string): boolean;
  /** Where the policy comes from, for messages. */
  source: string;
}

/** The policy the store sets for `namespace`, or undefined when it sets none (any key). */
export async function keyPolicyFor(
  store: AnyStore,
  namespace: string,
  lookup: StoreLookup,
): Promise<KeyPolicy | undefined> {
  const policy = store.spec.remoteKeyPolicy;
  if (!policy) return undefined;
  const patterns: GoRegexp[] = [];
  let labels: Record<string, string> | undefined;
  const labelsOf = async () => {
    labels ??= await lookup.namespaceLabels(namespace);
    return labels;
  };
  for (const rule of policy.rules) {
    const scoped = Boolean(rule.namespaceSelector || rule.namespaces || rule.namespaceRegexes);
    if (scoped && !(await namespaceMatches(rule, namespace, labelsOf))) continue;
    for (const p of rule.allow) patterns.push(compilePattern(p, namespace));
  }
  return {
    allows: (key) => isPlainPath(key) && patterns.some((re) => re.test(key)),
    source: `${describeStore(store)} (spec.remoteKeyPolicy)`,
  };
}

/** The keys an ExternalSecret names itself, with the field that names each. */
/** The remote keys `es` names, each with its field and the store slot it is read from (see itemSlot). */
function namedKeys(es: ExternalSecret): { field: string; key: string; slot: string }[] {
  const data = (es.spec.data ?? []).map((d, i) => ({
    field: `spec.data[${i}].remoteRef.key`,
    key: d.remoteRef.key,
    slot: itemSlot(es.spec, d),
  }));
  const dataFrom = (es.spec.dataFrom ?? []).flatMap((d, i) =>
    d.extract ? [{ field: `spec.dataFrom[${i}].extract.key`, key: d.extract.key, slot: itemSlot(es.spec, d) }] : [],
  );
  return [...data, ...dataFrom];
}

/**
 * resolveStore, then the store's remoteKeyPolicy for the ExternalSecret's own keys: everything a
 * caller must pass before its first provider call (a login included). The policy is returned for
 * filtering dataFrom[].find results.
 */
export async function resolveStoreAndPolicy(
  es: ExternalSecret,
  lookup: StoreLookup,
): Promise<{ store: AnyStore; policy: KeyPolicy | undefined }> {
  const store = await resolveStore(es, lookup);
  const policy = await keyPolicyFor(store, es.metadata.namespace ?? '', lookup);
  checkNamedKeys(es, store, policy);
  return { store, policy };
}

/**
 * Every store `es` reads from (spec.secretStoreRef and items' sourceRef.storeRef), by slot, each
 * resolved, admitted and with its remoteKeyPolicy checked against the keys read through it.
 */
export async function resolveStoresAndPolicies(
  es: ExternalSecret,
  lookup: StoreLookup,
): Promise<Map<string, { store: AnyStore; field: string; policy: KeyPolicy | undefined }>> {
  const out = new Map<string, { store: AnyStore; field: string; policy: KeyPolicy | undefined }>();
  for (const [slot, { store, field }] of await resolveStores(es, lookup)) {
    const policy = await keyPolicyFor(store, es.metadata.namespace ?? '', lookup);
    checkNamedKeys(es, store, policy, slot);
    out.set(slot, { store, field, policy });
  }
  return out;
}

type ResolvedStores = Map<string, { store: AnyStore; policy: KeyPolicy | undefined }>;

/** fetchRemoteValues's filter for listed names: each slot's policy; a slot without one allows any key. */
export function allowedBySlot(resolved: ResolvedStores): (key: string, slot: string) => boolean {
  return (key, slot) => resolved.get(slot)?.policy?.allows(key) ?? true;
}

/** Each dataFrom[].find whose listing its store's policy filtered: the index, names left out, store and policy. */
export function filteredFinds(
  es: ExternalSecret,
  filtered: Map<number, number>,
  resolved: ResolvedStores,
): { index: number; count: number; store: AnyStore; policy: KeyPolicy }[] {
  return [...filtered].flatMap(([index, count]) => {
    const r = resolved.get(itemSlot(es.spec, es.spec.dataFrom?.[index] ?? {}));
    return r?.policy ? [{ index, count, store: r.store, policy: r.policy }] : [];
  });
}

/** Throws a TenancyError naming the first key of `es` read from `slot` that the store's policy does not allow. */
export function checkNamedKeys(es: ExternalSecret, store: AnyStore, policy: KeyPolicy | undefined, slot = ''): void {
  if (!policy) return;
  const namespace = es.metadata.namespace ?? '';
  const refused = namedKeys(es).find((k) => k.slot === slot && !policy.allows(k.key));
  if (refused) {
    throw new TenancyError(
      'remote_key_not_allowed',
      storeLabel(store),
      `${refused.field}: remote key "${refused.key}" is not allowed in namespace "${namespace}" by ${policy.source}`,
    );
  }
}
