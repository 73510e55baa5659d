// What a volume holds: the same resolve → fetch → render path as the Secret sink, through the
// shared reads (so every volume and the controller's own reads of a key are one provider call
// per window), then laid out as files. Any failure throws, before a single file is touched.

import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { describeErrors, fetchRemoteValues } from '../../pipeline/fetch.ts';
import { allowedBySlot, filteredFinds, resolveStoresAndPolicies, storeLabel } from '../../pipeline/key-policy.ts';
import { RenderError, readId, remoteReads, renderSecretData } from '../../pipeline/render.ts';
import { settingsOf } from '../../pipeline/settings.ts';
import type { StoreClients, WorkloadIdentity } from '../../pipeline/store-clients.ts';
import { type StoreLookup, StoreRefError, TenancyError } from '../../pipeline/stores.ts';
import { renderTarget } from '../../pipeline/target-template.ts';
import { ProviderError, type ProviderErrorKind } from '../../providers/provider.ts';
import type { SharedReads } from '../../providers/shared-reads.ts';
import type { FileEntry } from './atomic-writer.ts';
import { FileMappingError, volumeFiles } from './volume-files.ts';

export interface VolumeSourceDeps {
  stores: StoreLookup;
  clients: StoreClients;
  reads: SharedReads;
  shareWindowMs: number;
  /** For ferry_tenancy_denials_total. */
  metrics?: Metrics;
}

export type VolumeErrorKind = ProviderErrorKind | 'BadReference';

export class VolumeSourceError extends Error {
  readonly kind: VolumeErrorKind;
  readonly retryAfterMs: number | undefined;
  constructor(kind: VolumeErrorKind, message: string, retryAfterMs?: number) {
    super(message);
    this.name = `VolumeSourceError(${kind})`;
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface VolumeContent {
  files: FileEntry[];
  /** Provider version read for each remote key, when the provider reports one. */
  versions: Record<string, string>;
}

/** Reads and renders `es` for a volume of a pod with `workload` identity. */
export async function readVolumeContent(
  es: ExternalSecret,
  workload: WorkloadIdentity,
  deps: VolumeSourceDeps,
  started = Date.now(),
): Promise<VolumeContent> {
  const namespace = es.metadata.namespace ?? '';
  const handles = new Map<string, Awaited<ReturnType<StoreClients['handle']>>>();
  let resolved: Awaited<ReturnType<typeof resolveStoresAndPolicies>>;
  try {
    // Tenancy (conditions, remoteKeyPolicy) for every store before the first provider call.
    resolved = await resolveStoresAndPolicies(es, deps.stores);
    for (const [slot, { store }] of resolved) {
      handles.set(slot, await deps.clients.handle(store, namespace, workload));
    }
  } catch (err) {
    if (err instanceof TenancyError) deps.metrics?.tenancyDenials.inc({ store: err.store, reason: err.reason });
    if (err instanceof StoreRefError) throw new VolumeSourceError('BadReference', err.message);
    if (err instanceof ProviderError) throw new VolumeSourceError(err.kind, `store: ${err.message}`, err.retryAfterMs);
    throw new VolumeSourceError('Transient', `store: ${(err as Error).message}`);
  }
  const interval = settingsOf(es).refreshIntervalMs;
  const window = interval > 0 ? Math.min(deps.shareWindowMs, interval / 2) : deps.shareWindowMs;
  const fetched = await fetchRemoteValues(es.spec, handles, deps.reads, started - window, allowedBySlot(resolved));
  for (const f of filteredFinds(es, fetched.filtered, resolved)) {
    deps.metrics?.tenancyDenials.inc({ store: storeLabel(f.store), reason: 'find_result_filtered' }, f.count);
  }
  if (fetched.errors.size > 0) {
    const errors = [...fetched.errors.values()];
    for (const [id, e] of fetched.errors) {
      const handle = handles.get(fetched.slots.get(id) ?? '');
      if (e.kind === 'Denied' && handle && !handle.client.keepsCredentialsFresh) deps.clients.invalidate(handle);
    }
    // The most actionable class first: a missing key or a refusal says more than a timeout.
    const order: ProviderErrorKind[] = ['NotFound', 'Denied', 'Invalid', 'Throttled', 'Transient'];
    const kind = order.find((k) => errors.some((e) => e.kind === k)) ?? 'Transient';
    const retryAfter = Math.max(0, ...errors.map((e) => e.retryAfterMs ?? 0));
    throw new VolumeSourceError(kind, describeErrors(fetched), retryAfter || undefined);
  }
  try {
    const rendered = await renderTarget(
      es.spec.target?.template,
      renderSecretData(es.spec, fetched.values, fetched.found),
      {
        configMap: noVolumeSource,
        secret: noVolumeSource,
      },
    );
    const files = volumeFiles(es.spec, rendered.data);
    const versions: Record<string, string> = {};
    for (const slot of handles.keys()) {
      for (const ref of remoteReads(es.spec, slot)) {
        const version = fetched.values.get(readId(ref, slot))?.versionId;
        if (version !== undefined) versions[slot ? `${slot}:${ref.key}` : ref.key] = version;
      }
    }
    return { files, versions };
  } catch (err) {
    if (err instanceof RenderError || err instanceof FileMappingError)
      throw new VolumeSourceError('Invalid', err.message);
    throw err;
  }
}

/** The node driver reads no ConfigMaps or Secrets: templateFrom sources are for the Secret sink. */
async function noVolumeSource(): Promise<never> {
  throw new RenderError(
    'target.template.templateFrom with a configMap or secret is not supported for CSI volumes (use template.data or literal)',
  );
}
