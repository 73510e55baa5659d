// The controller-side defaults of an ExternalSecret (the CRD sets none, to avoid GitOps drift),
// and what identifies a version of one.
import { createHash } from 'node:crypto';
import { parseDuration } from '../api/duration.ts';
import type { ExternalSecret } from '../api/v1alpha1/types.ts';

export const DEFAULT_REFRESH_INTERVAL_MS = 3_600_000;

export interface Settings {
  targetName: string;
  creationPolicy: 'Owner' | 'Orphan' | 'Merge' | 'None';
  deletionPolicy: 'Retain' | 'Delete' | 'Merge';
  refreshPolicy: 'Periodic' | 'OnChange' | 'CreatedOnce';
  /** 0 when the object is not refreshed periodically. */
  refreshIntervalMs: number;
  /**
   * Synced once and never again while the target is intact, whatever changes on the
   * ExternalSecret: CreatedOnce, and (as in ESO) Periodic with refreshInterval 0.
   */
  syncOnce: boolean;
  immutable: boolean;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** target.versioning: versions kept besides an unreferenced one; undefined when off. */
  versionsKept?: number;
  rolloutTargets: { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; name: string }[];
  rolloutDiscovery: boolean;
}

export const DEFAULT_VERSIONS_KEPT = 2;

/**
 * `s` with a periodic refresh no shorter than `floorMs` (the controller's --min-refresh-interval):
 * `refreshInterval: 1ms` would otherwise re-read the provider and write status without pause.
 * An interval of 0 (never refresh) stays 0.
 */
export function withRefreshFloor(s: Settings, floorMs: number): Settings & { requestedRefreshMs?: number } {
  if (s.refreshIntervalMs <= 0 || s.refreshIntervalMs >= floorMs) return s;
  return { ...s, refreshIntervalMs: floorMs, requestedRefreshMs: s.refreshIntervalMs };
}

export function settingsOf(es: ExternalSecret): Settings {
  const target = es.spec.target ?? {};
  const interval =
    es.spec.refreshInterval === undefined ? DEFAULT_REFRESH_INTERVAL_MS : parseDuration(es.spec.refreshInterval);
  const refreshPolicy = es.spec.refreshPolicy ?? 'Periodic';
  return {
    targetName: target.name ?? es.metadata.name ?? '',
    creationPolicy: target.creationPolicy ?? 'Owner',
    deletionPolicy: target.deletionPolicy ?? 'Retain',
    refreshPolicy,
    refreshIntervalMs: refreshPolicy === 'Periodic' ? interval : 0,
    syncOnce: refreshPolicy === 'CreatedOnce' || (refreshPolicy === 'Periodic' && interval <= 0),
    immutable: target.immutable ?? false,
    type: target.template?.type ?? 'Opaque',
    labels: target.template?.metadata?.labels ?? {},
    annotations: target.template?.metadata?.annotations ?? {},
    versionsKept: target.versioning ? (target.versioning.keep ?? DEFAULT_VERSIONS_KEPT) : undefined,
    rolloutTargets: target.rolloutRestartTargets ?? [],
    rolloutDiscovery: target.rolloutRestartDiscovery ?? false,
  };
}

/** The Secret the ExternalSecret's consumers read now: with versioning, the last version written. */
export function currentTargetName(es: ExternalSecret, s: Settings): string {
  return s.versionsKept === undefined ? s.targetName : (es.status?.binding?.name ?? s.targetName);
}

/** Seed of the refresh phase: objects reading the same first key of the same store share it. */
export function refreshSeed(es: ExternalSecret): string {
  const ref = es.spec.secretStoreRef ??
    es.spec.data?.[0]?.sourceRef?.storeRef ??
    es.spec.dataFrom?.[0]?.sourceRef?.storeRef ?? { name: '' };
  const storeId = ref.kind === 'ClusterSecretStore' ? `css/${ref.name}` : `ss/${es.metadata.namespace}/${ref.name}`;
  const first =
    es.spec.data?.[0]?.remoteRef.key ?? es.spec.dataFrom?.[0]?.extract?.key ?? es.spec.dataFrom?.[0]?.find?.path ?? '';
  return `${storeId}/${first}`;
}

/** What an ExternalSecret's metadata says about when it last changed: generation, labels, annotations. */
export function objectVersion(obj: {
  metadata: { generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
}): string {
  const sorted = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const digest = createHash('sha256')
    .update(JSON.stringify([sorted(obj.metadata.labels), sorted(obj.metadata.annotations)]))
    .digest('hex')
    .slice(0, 12);
  return `${obj.metadata.generation ?? 0}-${digest}`;
}
