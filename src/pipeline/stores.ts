// Finds the stores an ExternalSecret names (spec.secretStoreRef and each item's
// sourceRef.storeRef) and checks each ClusterSecretStore admits its namespace — before any
// provider call, so a refused namespace costs nothing at the provider.

import type { V1LabelSelector } from '@kubernetes/client-node';
import type { ExternalSecretSpec, StoreRef } from '../api/v1alpha1/external-secret.ts';
import type { AnyStore, ClusterSecretStore, ExternalSecret, SecretStore } from '../api/v1alpha1/types.ts';
import { FerryError } from '../errors.ts';
import { compileGoRegexp, type GoRegexp } from '../go-regexp.ts';

/** A store reference that resolves to nothing, or none where one is needed. */
export class StoreRefError extends FerryError {
  constructor(message: string) {
    super('BadReference', message);
    this.name = 'StoreRefError';
  }
}

export type TenancyReason = 'namespace_not_allowed' | 'remote_key_not_allowed' | 'find_result_filtered';

/** A refusal for tenancy reasons: counted in ferry_tenancy_denials_total, sent as a TenancyDenied Event. */
export class TenancyError extends FerryError {
  readonly reason: TenancyReason;
  /** The store's metrics label: kind and name, never a key. */
  readonly store: string;
  constructor(reason: TenancyReason, store: string, message: string) {
    super('TenancyDenied', message);
    this.name = 'TenancyError';
    this.reason = reason;
    this.store = store;
  }
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

interface NamespaceMatchers {
  namespaceSelector?: unknown;
  namespaces?: string[];
  namespaceRegexes?: string[];
}

/** Whether any name, regex or selector of `c` matches the namespace. */
export async function namespaceMatches(
  c: NamespaceMatchers,
  namespace: string,
  labels: () => Promise<Record<string, string>>,
): Promise<boolean> {
  if (c.namespaces?.includes(namespace)) return true;
  if (c.namespaceRegexes?.some((re) => safeRegex(re)?.test(namespace))) return true;
  return Boolean(c.namespaceSelector) && selectorMatches(c.namespaceSelector as V1LabelSelector, await labels());
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
  const labelsOf = async () => {
    labels ??= await lookup.namespaceLabels(namespace);
    return labels;
  };
  for (const c of conditions) if (await namespaceMatches(c, namespace, labelsOf)) return true;
  return false;
}

/** A namespaceRegexes entry as Go compiles it (ESO matches with regexp.MatchString); invalid matches nothing. */
function safeRegex(source: string): GoRegexp | undefined {
  try {
    return compileGoRegexp(source);
  } catch {
    return undefined;
  }
}

/**
 * Which store an item reads from: '' for spec.secretStoreRef, else "<Kind>/<name>" of the item's
 * own sourceRef.storeRef (an item naming the same store as spec.secretStoreRef reads from '').
 */
export function itemSlot(spec: ExternalSecretSpec, item: { sourceRef?: { storeRef?: StoreRef } }): string {
  const own = item.sourceRef?.storeRef;
  if (!own) return '';
  const slot = refSlot(own);
  return spec.secretStoreRef && refSlot(spec.secretStoreRef) === slot ? '' : slot;
}

function refSlot(ref: StoreRef): string {
  return `${ref.kind ?? 'SecretStore'}/${ref.name}`;
}

/** Every store the ExternalSecret reads from, by slot, with the field that names it first. */
export function storeRefsOf(es: ExternalSecret): Map<string, { ref: StoreRef; field: string }> {
  const out = new Map<string, { ref: StoreRef; field: string }>();
  const { spec } = es;
  const items: [string, { sourceRef?: { storeRef?: StoreRef } }][] = [
    ...(spec.data ?? []).map((d, i): [string, typeof d] => [`spec.data[${i}]`, d]),
    ...(spec.dataFrom ?? []).map((d, i): [string, typeof d] => [`spec.dataFrom[${i}]`, d]),
  ];
  for (const [where, item] of items) {
    const slot = itemSlot(spec, item);
    const ref = slot ? item.sourceRef?.storeRef : spec.secretStoreRef;
    if (ref && !out.has(slot))
      out.set(slot, { ref, field: slot ? `${where}.sourceRef.storeRef` : 'spec.secretStoreRef' });
  }
  if (spec.secretStoreRef && !out.has('')) out.set('', { ref: spec.secretStoreRef, field: 'spec.secretStoreRef' });
  return out;
}

async function resolveRef(es: ExternalSecret, ref: StoreRef, field: string, lookup: StoreLookup): Promise<AnyStore> {
  const namespace = es.metadata.namespace ?? '';
  if (ref.kind === 'ClusterSecretStore') {
    const store = lookup.clusterSecretStore(ref.name);
    if (!store) throw new StoreRefError(`${field}: ClusterSecretStore "${ref.name}" does not exist`);
    if (!(await admitsNamespace(store, namespace, lookup))) {
      throw new TenancyError(
        'namespace_not_allowed',
        `ClusterSecretStore/${ref.name}`,
        `${field}: ClusterSecretStore "${ref.name}" does not allow namespace "${namespace}" (see its spec.conditions)`,
      );
    }
    return store;
  }
  const store = lookup.secretStore(namespace, ref.name);
  if (!store) throw new StoreRefError(`${field}: SecretStore "${ref.name}" does not exist in namespace "${namespace}"`);
  return store;
}

/**
 * Every store the ExternalSecret reads from, by slot (see itemSlot), each checked on its own.
 * The first store that is missing or refuses the namespace throws, naming its field.
 */
export async function resolveStores(
  es: ExternalSecret,
  lookup: StoreLookup,
): Promise<Map<string, { store: AnyStore; field: string }>> {
  const out = new Map<string, { store: AnyStore; field: string }>();
  const missing = [...(es.spec.data ?? []), ...(es.spec.dataFrom ?? [])].some((item) => itemSlot(es.spec, item) === '');
  if (missing && !es.spec.secretStoreRef) {
    throw new StoreRefError(
      'spec.secretStoreRef is required unless every data and dataFrom item names its store in sourceRef.storeRef',
    );
  }
  for (const [slot, { ref, field }] of storeRefsOf(es)) {
    out.set(slot, { store: await resolveRef(es, ref, field, lookup), field });
  }
  return out;
}

/** The store of spec.secretStoreRef (ExternalSecrets whose items name no store of their own). */
export async function resolveStore(es: ExternalSecret, lookup: StoreLookup): Promise<AnyStore> {
  const ref = es.spec.secretStoreRef;
  if (!ref) throw new StoreRefError('spec.secretStoreRef is not set');
  return resolveRef(es, ref, 'spec.secretStoreRef', lookup);
}

/** How long a namespace's labels are reused for ClusterSecretStore conditions and remoteKeyPolicy rules. */
const NAMESPACE_LABELS_TTL_MS = 30_000;

/** A StoreLookup over cached stores, reading each namespace's labels at most every 30 seconds. */
export function cachedStoreLookup(source: {
  secretStore(namespace: string, name: string): SecretStore | undefined;
  clusterSecretStore(name: string): ClusterSecretStore | undefined;
  readNamespaceLabels(namespace: string): Promise<Record<string, string>>;
}): StoreLookup {
  const labels = new Map<string, { labels: Record<string, string>; at: number }>();
  return {
    secretStore: source.secretStore,
    clusterSecretStore: source.clusterSecretStore,
    async namespaceLabels(namespace) {
      const cached = labels.get(namespace);
      if (cached && Date.now() - cached.at < NAMESPACE_LABELS_TTL_MS) return cached.labels;
      const fresh = await source.readNamespaceLabels(namespace);
      labels.set(namespace, { labels: fresh, at: Date.now() });
      return fresh;
    },
  };
}
