// One reconcile of an ExternalSecret: resolve the stores, fetch, render, write, report.
// Data safety: any provider error (down, timeout, denied, throttled, invalid) stops before the
// write, so the existing Secret stays exactly as it is. Only a not-found, with deletionPolicy
// Delete or Merge, seen again at least one refresh later, removes anything.
import type { V1Secret } from '@kubernetes/client-node';
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileResult } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { describeErrors, type FetchOutcome, fetchRemoteValues } from '../../pipeline/fetch.ts';
import { allowedBySlot, filteredFinds, resolveStoresAndPolicies, storeLabel } from '../../pipeline/key-policy.ts';
import { nextRefreshAt, readNotBefore } from '../../pipeline/refresh-timing.ts';
import { RenderError, readId, renderSecretData } from '../../pipeline/render.ts';
import { currentTargetName, objectVersion, refreshSeed, type Settings, settingsOf } from '../../pipeline/settings.ts';
import type { StoreClients } from '../../pipeline/store-clients.ts';
import { itemSlot, type StoreLookup, StoreRefError, TenancyError } from '../../pipeline/stores.ts';
import { kubeTemplateSources, type RenderedTarget, renderTarget } from '../../pipeline/target-template.ts';
import { ProviderError } from '../../providers/provider.ts';
import type { SharedReads } from '../../providers/shared-reads.ts';
import type { SecretWriter } from '../../sinks/secret/secret-writer.ts';
import { dataHash, OWNER_ANNOTATION, TargetConflictError } from '../../sinks/secret/secret-writer.ts';
import type { SecretData } from '../../values.ts';
import { type Condition, sameCondition, withTransitionTime } from '../status.ts';
import { afterWrite, type ConsumerDeps, VERSIONS_OF_ANNOTATION, versionName } from './consumers.ts';
import { isIntact, writtenRecord } from './drift.ts';
import type { ObjectState } from './object-state.ts';
import { type ReadAheadSource, readAhead } from './read-ahead.ts';

export interface ExternalSecretDeps extends ConsumerDeps {
  stores: StoreLookup;
  clients: StoreClients;
  reads: SharedReads;
  writer: SecretWriter;
  kube: KubeClient;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  /** The target Secret from the managed-Secret cache. */
  managedSecret(namespace: string, name: string): V1Secret | undefined;
  /** How old a shared read may be and still serve a refresh. */
  shareWindowMs: number;
  /** Queued ExternalSecrets, for read-ahead into batch calls (see read-ahead.ts). */
  queued?: ReadAheadSource;
}

interface Report {
  reason: string;
  message: string;
  ready: boolean;
  synced?: boolean;
  /** The Secret written (status.binding.name). */
  binding?: string;
}

const MAX_CONFIRM_MS = 5 * 60_000;

function confirmDelay(s: Settings): number {
  return s.refreshIntervalMs > 0 ? Math.min(s.refreshIntervalMs, MAX_CONFIRM_MS) : 30_000;
}

function without(spec: ExternalSecretSpec, gone: Set<string>): ExternalSecretSpec {
  return {
    ...spec,
    data: spec.data?.filter((d) => !gone.has(readId(d.remoteRef, itemSlot(spec, d)))),
    dataFrom: spec.dataFrom?.filter((d) => !d.extract || !gone.has(readId(d.extract, itemSlot(spec, d)))),
  };
}

export async function reconcileExternalSecret(
  es: ExternalSecret,
  state: ObjectState,
  deps: ExternalSecretDeps,
): Promise<ReconcileResult> {
  const started = Date.now();
  const namespace = es.metadata.namespace ?? '';
  const name = es.metadata.name ?? '';
  const log = deps.logger.child({ namespace, name });

  const report = async (r: Report): Promise<void> => {
    await writeStatus(es, r, started, deps);
    deps.metrics.externalSecretReady.set({ namespace, name }, r.ready ? 1 : 0);
  };
  const fail = async (
    reason: string,
    message: string,
    retryAfterMs?: number,
    eventReason = reason === 'SecretMissing' ? 'MissingProviderSecret' : 'UpdateFailed',
  ): Promise<ReconcileResult> => {
    log.warn({ reason, error: message }, 'sync failed; the target Secret is left as it was');
    deps.events.record(es, 'Warning', eventReason, message);
    await report({ reason, message, ready: false });
    deps.metrics.reconciles.inc({ kind: 'ExternalSecret', result: 'error' });
    return { failed: true, retryAfterMs };
  };

  let settings: Settings;
  try {
    settings = settingsOf(es);
  } catch (err) {
    return fail('SecretSyncedError', `spec.refreshInterval: ${(err as Error).message}`);
  }
  const schedule = (): ReconcileResult =>
    settings.refreshIntervalMs > 0
      ? { requeueAfterMs: nextRefreshAt(Date.now(), settings.refreshIntervalMs, refreshSeed(es)) - Date.now() }
      : {};

  const target =
    settings.creationPolicy === 'None' ? undefined : deps.managedSecret(namespace, currentTargetName(es, settings));
  // ESO's shouldRefresh: OnChange syncs again when the generation, labels or annotations changed
  // (a force-sync annotation is one such change); CreatedOnce, and Periodic with interval 0, never
  // once synced. All of them sync when the target is not intact (deleted or its data edited).
  if (settings.refreshIntervalMs === 0) {
    const synced = es.status?.syncedResourceVersion;
    const intact = isIntact(target, settings, state);
    const upToDate = settings.syncOnce ? synced !== undefined : synced === objectVersion(es);
    if (upToDate && intact) return {};
  }

  // Every store the ExternalSecret reads from (spec.secretStoreRef and items' sourceRef.storeRef),
  // each resolved and checked — ClusterSecretStore conditions and remoteKeyPolicy included —
  // before the first provider call, a login included; any failure stops here.
  const handles = new Map<string, Awaited<ReturnType<StoreClients['handle']>>>();
  let resolved: Awaited<ReturnType<typeof resolveStoresAndPolicies>>;
  let storeField = 'store';
  try {
    resolved = await resolveStoresAndPolicies(es, deps.stores);
    for (const [slot, { store, field }] of resolved) {
      storeField = slot ? `${field} (${slot})` : 'store';
      handles.set(slot, await deps.clients.handle(store, namespace));
    }
  } catch (err) {
    if (err instanceof TenancyError) {
      deps.metrics.tenancyDenials.inc({ store: err.store, reason: err.reason });
      return fail('SecretSyncedError', err.message, undefined, 'TenancyDenied');
    }
    if (err instanceof StoreRefError) return fail('SecretSyncedError', err.message);
    if (err instanceof ProviderError)
      return fail('SecretSyncedError', `${storeField}: ${err.kind}: ${err.message}`, err.retryAfterMs);
    return fail('SecretSyncedError', `${storeField}: ${apiErrorMessage(err)}`);
  }

  // A shared read must have started less than half this object's interval before the sync (or, for
  // a refresh processed late, before the instant it was due), or a refresh could be served the
  // value read for the previous refresh.
  const window =
    settings.refreshIntervalMs > 0 ? Math.min(deps.shareWindowMs, settings.refreshIntervalMs / 2) : deps.shareWindowMs;
  const lastSync = state.syncedAt ?? (Date.parse(es.status?.refreshTime ?? '') || 0);
  const notBefore = Math.max(
    readNotBefore(started, window, settings.refreshIntervalMs, lastSync, refreshSeed(es)),
    state.freshAfter ?? 0,
  );
  // A forced sync may share a read another forced sync started within the window, but never one
  // from before this object's own last sync: forcing it again after a change reads again.
  const forcedSince = state.freshAfter === undefined ? undefined : Math.max(started - window, lastSync + 1);
  const single = resolved.get('');
  const singleHandle = handles.get('');
  if (deps.queued && handles.size === 1 && single && singleHandle) {
    readAhead(es, singleHandle, single.store, single.policy, notBefore, forcedSince, deps.reads, deps.queued).catch(
      (err: unknown) => log.debug({ err: String(err) }, 'read-ahead skipped'),
    );
  }
  const fetched = await fetchRemoteValues(
    es.spec,
    handles,
    deps.reads,
    notBefore,
    allowedBySlot(resolved),
    forcedSince,
  );
  const transient = [...fetched.errors].find(([, e]) => e.kind === 'Transient');
  state.waitingOn = transient ? handles.get(fetched.slots.get(transient[0]) ?? '')?.key : undefined;
  const filtered = filteredFinds(es, fetched.filtered, resolved);
  for (const f of filtered) {
    deps.metrics.tenancyDenials.inc({ store: storeLabel(f.store), reason: 'find_result_filtered' }, f.count);
  }
  const filteredNote = filtered
    .map((f) => `dataFrom[${f.index}].find: ${f.count} listed names not allowed by ${f.policy.source} were left out`)
    .join('; ');
  if (filteredNote) deps.events.record(es, 'Warning', 'TenancyDenied', filteredNote);
  // A refused credential may have been rotated: rebuild the client, unless it re-reads and renews
  // its credentials itself (rebuilding it would only cost a login).
  const deniedSlots = new Set(
    [...fetched.errors].filter(([, e]) => e.kind === 'Denied').map(([id]) => fetched.slots.get(id) ?? ''),
  );
  for (const slot of deniedSlots) {
    const handle = handles.get(slot);
    if (handle && !handle.client.keepsCredentialsFresh) deps.clients.invalidate(handle);
  }

  let spec = es.spec;
  let missingNote = '';
  if (fetched.errors.size > 0) {
    const onlyMissing = [...fetched.errors.values()].every((e) => e.kind === 'NotFound');
    const retryAfter = Math.max(0, ...[...fetched.errors.values()].map((e) => e.retryAfterMs ?? 0));
    if (!onlyMissing) return fail('SecretSyncedError', describeErrors(fetched), retryAfter || undefined);
    const decision = decideMissing(fetched, settings, state, started);
    if (decision.kind === 'wait') {
      const result = await fail('SecretMissing', `${describeErrors(fetched)}${decision.note}`);
      return decision.retryInMs === undefined ? result : { ...result, retryAfterMs: decision.retryInMs };
    }
    if (decision.kind === 'delete') return deleteTarget(es, settings, target, fetched, deps, report, schedule);
    spec = without(es.spec, decision.gone);
    missingNote = `; removed keys whose remote value is gone (deletionPolicy Merge): ${describeErrors(fetched)}`;
  } else {
    state.missing = undefined;
  }

  let data: SecretData;
  let rendered: RenderedTarget;
  try {
    rendered = await renderTarget(
      es.spec.target?.template,
      renderSecretData(spec, fetched.values, fetched.found),
      kubeTemplateSources(deps.kube, namespace),
    );
    data = rendered.data;
  } catch (err) {
    if (err instanceof RenderError) return fail('SecretSyncedError', err.message);
    return fail('SecretSyncedError', `reading templateFrom: ${apiErrorMessage(err)}`);
  }

  // With versioning each content is its own immutable Secret, named after its hash.
  const contentHash = dataHash(settings.type, data);
  const versioned = settings.versionsKept !== undefined;
  const secretName = versioned ? versionName(settings.targetName, contentHash) : settings.targetName;
  if (settings.creationPolicy !== 'None') {
    const plan = {
      namespace,
      name: secretName,
      creationPolicy: settings.creationPolicy,
      immutable: settings.immutable || versioned,
      type: settings.type,
      labels: rendered.labels,
      annotations: versioned
        ? { ...rendered.annotations, [VERSIONS_OF_ANNOTATION]: settings.targetName }
        : rendered.annotations,
      externalSecretName: name,
      fieldManager: `ferry-${es.metadata.uid}`,
      ownerReference:
        settings.creationPolicy === 'Owner'
          ? {
              apiVersion: es.apiVersion,
              kind: es.kind,
              name,
              uid: es.metadata.uid ?? '',
              controller: true,
              blockOwnerDeletion: true,
            }
          : undefined,
    };
    const record = writtenRecord(settings, data);
    state.writing = record;
    try {
      const current = versioned ? deps.managedSecret(namespace, secretName) : target;
      const outcome = await deps.writer.write(plan, data, current);
      state.written = record;
      if (outcome !== 'unchanged') {
        const what = outcome === 'replaced' ? 'replaced (immutable Secret)' : outcome;
        log.info({ target: secretName, outcome, keys: data.size }, `Secret ${what}`);
        deps.events.record(
          es,
          'Normal',
          outcome === 'created' ? 'Created' : 'Updated',
          `Secret "${secretName}" ${what}`,
        );
      }
      await afterWrite(es, settings, { secretName, contentHash, outcome }, deps);
      if (settings.creationPolicy === 'Owner' && !versioned) await deleteFormerTarget(es, secretName, deps);
    } catch (err) {
      if (err instanceof TargetConflictError) return fail('SecretSyncedError', err.message);
      if (isConflict(err)) return { failed: true, retryAfterMs: 0 };
      return fail('SecretSyncedError', `writing Secret "${secretName}": ${apiErrorMessage(err)}`);
    } finally {
      state.writing = undefined;
    }
  } else {
    // Files only (CSI): no Secret to write, but apps that read their files at start still roll.
    const previous = state.contentHash;
    state.contentHash = contentHash;
    await afterWrite(es, settings, { secretName, contentHash, outcome: 'unchanged', previous }, deps);
  }

  state.freshAfter = undefined;
  state.syncedAt = Date.now();
  const where =
    settings.creationPolicy === 'None'
      ? 'fetched (creationPolicy None writes no Secret)'
      : `written to Secret "${secretName}"`;
  const binding = settings.creationPolicy === 'None' ? undefined : secretName;
  const keyCount = `${data.size} ${data.size === 1 ? 'key' : 'keys'}`;
  const note = filteredNote ? `; ${filteredNote}` : '';
  await report(
    missingNote
      ? {
          reason: 'SecretMissing',
          message: `${keyCount} ${where}${missingNote}${note}`,
          ready: false,
          synced: true,
          binding,
        }
      : { reason: 'SecretSynced', message: `${keyCount} ${where}${note}`, ready: true, synced: true, binding },
  );
  deps.metrics.reconciles.inc({ kind: 'ExternalSecret', result: 'synced' });
  deps.metrics.reconcileSeconds.observe({ kind: 'ExternalSecret' }, (Date.now() - started) / 1000);
  return schedule();
}

type MissingDecision =
  | { kind: 'wait'; note: string; retryInMs?: number }
  | { kind: 'delete' }
  | { kind: 'merge'; gone: Set<string> };

/** Not-found only counts when seen again at least one refresh later (and deletion is opted into). */
function decideMissing(fetched: FetchOutcome, s: Settings, state: ObjectState, now: number): MissingDecision {
  if (s.deletionPolicy === 'Retain') return { kind: 'wait', note: ' (deletionPolicy Retain keeps the Secret)' };
  const ids = [...fetched.errors.keys()].sort().join('|');
  if (state.missing?.ids !== ids) state.missing = { ids, firstAt: now };
  const remaining = state.missing.firstAt + confirmDelay(s) - now;
  if (remaining > 0) {
    return {
      kind: 'wait',
      note: `; if still missing at the next refresh, deletionPolicy ${s.deletionPolicy} will remove it`,
      retryInMs: remaining,
    };
  }
  if (s.deletionPolicy === 'Merge') return { kind: 'merge', gone: new Set(fetched.errors.keys()) };
  if (fetched.values.size > 0) {
    return { kind: 'wait', note: '; deletionPolicy Delete removes the Secret only when every remote key is gone' };
  }
  return { kind: 'delete' };
}

async function deleteTarget(
  es: ExternalSecret,
  s: Settings,
  target: V1Secret | undefined,
  fetched: FetchOutcome,
  deps: ExternalSecretDeps,
  report: (r: Report) => Promise<void>,
  schedule: () => ReconcileResult,
): Promise<ReconcileResult> {
  const namespace = es.metadata.namespace ?? '';
  // Only a Secret this ExternalSecret wrote: the name alone could be another ExternalSecret's target.
  if (target?.metadata?.uid && target.metadata.annotations?.[OWNER_ANNOTATION] === es.metadata.name) {
    await deps.kube.deleteSecret(namespace, s.targetName, target.metadata.uid);
    deps.logger.info(
      { namespace, name: es.metadata.name, target: s.targetName },
      'Secret deleted: every remote key is gone',
    );
    deps.events.record(
      es,
      'Normal',
      'Deleted',
      `Secret "${s.targetName}" deleted: every remote key is gone (deletionPolicy Delete)`,
    );
  }
  await report({
    reason: 'SecretDeleted',
    message: `Secret "${s.targetName}" deleted (deletionPolicy Delete): ${describeErrors(fetched)}`,
    ready: false,
  });
  return schedule();
}

/**
 * After target.name changed: the Secret this ExternalSecret last wrote (status.binding.name) under
 * the former name goes, when it still owns it (its controller ownerReference), as ESO's
 * deleteOrphanedSecrets does for Owner. It would be garbage-collected with the ExternalSecret
 * anyway; nothing else refers to it. One cache lookup, no scan.
 */
async function deleteFormerTarget(es: ExternalSecret, current: string, deps: ExternalSecretDeps): Promise<void> {
  const namespace = es.metadata.namespace ?? '';
  const former = es.status?.binding?.name;
  const uid = es.metadata.uid;
  if (!former || former === current || !uid) return;
  const meta = deps.managedSecret(namespace, former)?.metadata;
  if (!meta?.uid || meta.annotations?.[OWNER_ANNOTATION] !== es.metadata.name) return;
  if (meta.annotations?.[VERSIONS_OF_ANNOTATION] !== undefined) return;
  if (!meta.ownerReferences?.some((r) => r.uid === uid && r.controller)) return;
  try {
    await deps.kube.deleteSecret(namespace, former, meta.uid);
  } catch (err) {
    // The new target is written; the former one goes with the ExternalSecret in any case.
    deps.logger.warn(
      { namespace, name: es.metadata.name, target: former, error: apiErrorMessage(err) },
      'former target Secret not deleted',
    );
    return;
  }
  deps.logger.info({ namespace, name: es.metadata.name, target: former }, 'former target Secret deleted');
  deps.events.record(es, 'Normal', 'Deleted', `Secret "${former}" deleted: target.name is now "${current}"`);
}

async function writeStatus(es: ExternalSecret, r: Report, started: number, deps: ExternalSecretDeps): Promise<void> {
  const now = new Date(started);
  const generation = es.metadata.generation;
  const previous = es.status?.conditions as Condition[] | undefined;
  const ready = withTransitionTime(
    {
      type: 'Ready',
      status: r.ready ? 'True' : 'False',
      reason: r.reason,
      message: r.message,
      observedGeneration: generation,
    },
    previous,
    now,
  );
  const unchanged =
    sameCondition(
      ready,
      previous?.find((c) => c.type === 'Ready'),
    ) && es.status?.observedGeneration === generation;
  if (unchanged && !r.synced) return;
  const status: Record<string, unknown> = { conditions: [ready], observedGeneration: generation };
  if (r.synced) {
    status.refreshTime = now.toISOString();
    status.syncedResourceVersion = objectVersion(es);
    if (r.binding) status.binding = { name: r.binding };
  }
  try {
    await deps.kube.patchStatus('externalsecrets', es.metadata.namespace, es.metadata.name ?? '', status);
  } catch (err) {
    deps.logger.warn(
      { namespace: es.metadata.namespace, name: es.metadata.name, error: apiErrorMessage(err) },
      'status not written',
    );
  }
}
