// One reconcile of an ExternalSecret, as named steps: settings → up to date? → read (resolve,
// fetch, through the read pipeline) → missing keys → render → write → report.
// Data safety: any provider error (down, timeout, denied, throttled, invalid) stops before the
// write, so the existing Secret stays exactly as it is. Only a not-found, with deletionPolicy
// Delete or Merge, seen again at least one refresh later, removes anything.
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import type { ExternalSecretReason } from '../../api/v1alpha1/reasons.ts';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { FerryError } from '../../errors.ts';
import { apiErrorMessage } from '../../kube/client.ts';
import type { ReconcileResult } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { describeErrors } from '../../pipeline/fetch.ts';
import type { Fetched, ReadPipeline, ReadTiming, Resolved } from '../../pipeline/index.ts';
import { nextRefreshAt } from '../../pipeline/refresh-timing.ts';
import { currentTargetName, objectVersion, refreshSeed, type Settings } from '../../pipeline/settings.ts';
import { kubeTemplateSources } from '../../pipeline/target-template.ts';
import { isIntact } from './drift.ts';
import { decideMissing, noteVanishedNames, without } from './missing.ts';
import type { ObjectState } from './object-state.ts';
import { type ReadAheadSource, readAhead } from './read-ahead.ts';
import { failureEvent, type Report, writeStatus } from './status-report.ts';
import { deleteTarget, type WriteDeps, writeTarget } from './write-target.ts';

export interface ExternalSecretDeps extends WriteDeps {
  pipeline: ReadPipeline;
  metrics: Metrics;
  /** Queued ExternalSecrets, for read-ahead into batch calls (see read-ahead.ts). */
  queued?: ReadAheadSource;
}

export function reconcileExternalSecret(
  es: ExternalSecret,
  state: ObjectState,
  deps: ExternalSecretDeps,
): Promise<ReconcileResult> {
  return new Sync(es, state, deps).run();
}

class Sync {
  private readonly started = Date.now();
  private readonly log: Logger;
  private readonly es: ExternalSecret;
  private readonly state: ObjectState;
  private readonly deps: ExternalSecretDeps;

  constructor(es: ExternalSecret, state: ObjectState, deps: ExternalSecretDeps) {
    this.es = es;
    this.state = state;
    this.deps = deps;
    this.log = deps.logger.child({ namespace: es.metadata.namespace, name: es.metadata.name });
  }

  /** A status write found the ExternalSecret changed since it was read (see writeStatus). */
  private statusConflict = false;

  async run(): Promise<ReconcileResult> {
    const result = await this.steps();
    if (!this.statusConflict) return result;
    // Once the cache holds the newer object, the sync runs again from it (its reads are shared,
    // and its write a no-op when nothing changed). A former leader no longer runs its queue.
    this.log.debug('status not written: the ExternalSecret changed since it was read; syncing again');
    return { requeueAfterMs: 1000 };
  }

  private async steps(): Promise<ReconcileResult> {
    const { es, state, deps } = this;
    let settings: Settings;
    try {
      settings = deps.pipeline.settings(es);
    } catch (err) {
      return this.fail(new FerryError('InvalidSpec', `spec.refreshInterval: ${(err as Error).message}`));
    }
    const raised = this.refreshRaised(settings);
    const namespace = es.metadata.namespace ?? '';
    const target =
      settings.creationPolicy === 'None' ? undefined : deps.managedSecret(namespace, currentTargetName(es, settings));
    if (this.upToDate(settings, target)) return {};
    try {
      const resolved = await deps.pipeline.resolve(es);
      const timing = deps.pipeline.timing(es, {
        started: this.started,
        lastSyncAt: state.syncedAt ?? (Date.parse(es.status?.refreshTime ?? '') || 0),
        forcedAt: state.freshAfter,
      });
      this.readAhead(resolved, timing);
      const fetched = await deps.pipeline.fetch(es, resolved, timing);
      state.waitingOn = fetched.waitingOn;
      const generation = es.metadata.generation ?? 0;
      noteVanishedNames(es.spec, generation, fetched, state);
      let spec = es.spec;
      let missingNote = '';
      if (fetched.errors.size > 0) {
        const kept = await this.missingKeys(fetched, resolved, settings, target);
        if ('result' in kept) return kept.result;
        spec = kept.spec;
        missingNote = kept.note;
      } else {
        state.missing = undefined;
      }
      const rendered = await deps.pipeline.render(spec, fetched, kubeTemplateSources(deps.kube, namespace), namespace);
      const written = await writeTarget(es, settings, rendered, target, state, deps);
      if (written === 'conflict') return { failed: true, retryAfterMs: 0 };
      state.freshAfter = undefined;
      state.syncedAt = Date.now();
      state.found = fetched.found.size > 0 ? { generation, names: fetched.found } : undefined;
      const count = `${rendered.data.size} ${rendered.data.size === 1 ? 'key' : 'keys'}`;
      const where = written.secretName
        ? `written to Secret "${written.secretName}"`
        : 'fetched (creationPolicy None writes no Secret)';
      const reason: ExternalSecretReason = missingNote ? 'SecretMissing' : 'SecretSynced';
      await this.report({
        reason,
        message: `${count} ${where}${missingNote}${state.rolloutNote ? `; ${state.rolloutNote}` : ''}${raised}`,
        ready: !missingNote,
        synced: true,
        binding: written.secretName,
      });
      deps.metrics.reconciles.inc({ kind: 'ExternalSecret', result: 'synced' });
      deps.metrics.reconcileSeconds.observe({ kind: 'ExternalSecret' }, (Date.now() - this.started) / 1000);
      return this.schedule(settings);
    } catch (err) {
      return this.fail(err instanceof FerryError ? err : new FerryError('Transient', apiErrorMessage(err)));
    }
  }

  /**
   * ESO's shouldRefresh: OnChange syncs again when the generation, labels or annotations changed
   * (a force-sync annotation is one such change); CreatedOnce, and Periodic with interval 0, never
   * once synced. All of them sync when the target is not intact (deleted or its data edited).
   */
  private upToDate(settings: Settings, target: Parameters<typeof isIntact>[0]): boolean {
    if (settings.refreshIntervalMs !== 0) return false;
    const synced = this.es.status?.syncedResourceVersion;
    const upToDate = settings.syncOnce ? synced !== undefined : synced === objectVersion(this.es);
    return upToDate && isIntact(target, settings, this.state);
  }

  /** Hints the keys of queued objects that read through the same (single) store to its batch calls. */
  private readAhead(resolved: Resolved, timing: ReadTiming): void {
    const single = resolved.get('');
    if (!this.deps.queued || resolved.size !== 1 || !single) return;
    const { notBefore, forcedSince } = timing;
    const { reads } = this.deps.pipeline;
    readAhead(
      this.es,
      single.handle,
      single.store,
      single.policy,
      notBefore,
      forcedSince,
      reads,
      this.deps.queued,
    ).catch((err: unknown) => this.log.debug({ err: String(err) }, 'read-ahead skipped'));
  }

  /** Failed reads: any but a not-found fails the sync; not-founds wait, delete the target, or leave keys out. */
  private async missingKeys(
    fetched: Fetched,
    resolved: Resolved,
    settings: Settings,
    target: Parameters<typeof deleteTarget>[2],
  ): Promise<{ result: ReconcileResult } | { spec: ExternalSecretSpec; note: string }> {
    const errors = [...fetched.errors.values()];
    if (!errors.every((e) => e.kind === 'NotFound')) {
      const retryAfter = Math.max(0, ...errors.map((e) => e.retryAfterMs ?? 0));
      const kind = errors.find((e) => e.kind !== 'NotFound')?.kind ?? 'Transient';
      return {
        result: await this.fail(
          new FerryError(kind, describeErrors(fetched), { retryAfterMs: retryAfter || undefined }),
        ),
      };
    }
    const decision = decideMissing(fetched, settings, this.state, this.started, () =>
      this.deps.pipeline.findingNothing(fetched, resolved),
    );
    if (decision.kind === 'wait') {
      const result = await this.fail(
        new FerryError('NotFound', `${describeErrors(fetched)}${decision.note}`),
        'SecretMissing',
      );
      return { result: decision.retryInMs === undefined ? result : { ...result, retryAfterMs: decision.retryInMs } };
    }
    if (decision.kind === 'delete') {
      await deleteTarget(this.es, settings, target, this.deps);
      const message = `Secret "${settings.targetName}" deleted (deletionPolicy Delete): ${describeErrors(fetched)}`;
      await this.report({ reason: 'SecretDeleted', message, ready: false });
      return { result: this.schedule(settings) };
    }
    const note = `; removed keys whose remote value is gone (deletionPolicy Merge): ${describeErrors(fetched)}`;
    return { spec: without(this.es.spec, decision.gone), note };
  }

  /**
   * A refreshInterval below the controller's minimum is served at the minimum: said in the Ready
   * message, and by a Warning Event once per generation.
   */
  private refreshRaised(settings: Settings & { requestedRefreshMs?: number }): string {
    if (settings.requestedRefreshMs === undefined) return '';
    const note = `; spec.refreshInterval ${this.es.spec.refreshInterval} is below the controller's minimum (--min-refresh-interval), so it refreshes every ${settings.refreshIntervalMs / 1000}s`;
    const generation = this.es.metadata.generation ?? 0;
    if (this.state.refreshRaisedFor !== generation) {
      this.state.refreshRaisedFor = generation;
      this.deps.events.record(this.es, 'Warning', 'RefreshIntervalRaised', note.slice(2));
    }
    return note;
  }

  private schedule(settings: Settings): ReconcileResult {
    if (settings.refreshIntervalMs <= 0) return {};
    return { requeueAfterMs: nextRefreshAt(Date.now(), settings.refreshIntervalMs, refreshSeed(this.es)) - Date.now() };
  }

  private async report(r: Report): Promise<void> {
    if ((await writeStatus(this.es, r, this.started, this.deps)) === 'conflict') this.statusConflict = true;
    const { namespace = '', name = '' } = this.es.metadata;
    this.deps.metrics.externalSecretReady.set({ namespace, name }, r.ready ? 1 : 0);
  }

  /** Reports a failed sync; the target is left as it was. */
  private async fail(err: FerryError, reason: ExternalSecretReason = 'SecretSyncedError'): Promise<ReconcileResult> {
    this.log.warn({ reason, error: err.message }, 'sync failed; the target Secret is left as it was');
    const event = reason === 'SecretMissing' ? 'MissingProviderSecret' : failureEvent(err.code);
    this.deps.events.record(this.es, 'Warning', event, err.message);
    await this.report({ reason, message: err.message, ready: false });
    this.deps.metrics.reconciles.inc({ kind: 'ExternalSecret', result: 'error' });
    return { failed: true, retryAfterMs: err.retryAfterMs };
  }
}
