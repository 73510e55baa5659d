// What a volume holds: the same resolve → fetch → render path as the Secret sink, through the
// shared reads (so every volume and the controller's own reads of a key are one provider call
// per window), then laid out as files. Any failure throws, before a single file is touched.

import type { AnyStore, ExternalSecret } from '../../api/v1alpha1/types.ts';
import { describeErrors, fetchRemoteValues } from '../../controller/externalsecret/fetch.ts';
import {
  type KeyPolicy,
  resolveStoreAndPolicy,
  storeLabel,
} from '../../controller/externalsecret/remote-key-policy.ts';
import { RenderError, readId, remoteReads, renderSecretData } from '../../controller/externalsecret/render.ts';
import { type StoreLookup, StoreRefError, TenancyError } from '../../controller/externalsecret/resolve-store.ts';
import { settingsOf } from '../../controller/externalsecret/settings.ts';
import { renderTarget } from '../../controller/externalsecret/template-target.ts';
import type { StoreClients, WorkloadIdentity } from '../../controller/store-clients.ts';
import type { Metrics } from '../../observability/metrics.ts';
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
  let handle: Awaited<ReturnType<StoreClients['handle']>>;
  let policy: KeyPolicy | undefined;
  let resolvedStore: AnyStore | undefined;
  try {
    const resolved = await resolveStoreAndPolicy(es, deps.stores);
    policy = resolved.policy;
    resolvedStore = resolved.store;
    handle = await deps.clients.handle(resolved.store, namespace, workload);
  } catch (err) {
    if (err instanceof TenancyError) deps.metrics?.tenancyDenials.inc({ store: err.store, reason: err.reason });
    if (err instanceof StoreRefError) throw new VolumeSourceError('BadReference', err.message);
    if (err instanceof ProviderError) throw new VolumeSourceError(err.kind, `store: ${err.message}`, err.retryAfterMs);
    throw new VolumeSourceError('Transient', `store: ${(err as Error).message}`);
  }
  const interval = settingsOf(es).refreshIntervalMs;
  const window = interval > 0 ? Math.min(deps.shareWindowMs, interval / 2) : deps.shareWindowMs;
  const fetched = await fetchRemoteValues(es.spec, handle, deps.reads, started - window, policy?.allows);
  const filtered = [...fetched.filtered.values()].reduce((a, b) => a + b, 0);
  if (filtered > 0 && resolvedStore) {
    deps.metrics?.tenancyDenials.inc({ store: storeLabel(resolvedStore), reason: 'find_result_filtered' }, filtered);
  }
  if (fetched.errors.size > 0) {
    const errors = [...fetched.errors.values()];
    if (errors.some((e) => e.kind === 'Denied') && !handle.client.keepsCredentialsFresh)
      deps.clients.invalidate(handle);
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
    for (const ref of remoteReads(es.spec)) {
      const version = fetched.values.get(readId(ref))?.versionId;
      if (version !== undefined) versions[ref.key] = version;
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
