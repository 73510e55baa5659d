// The read pipeline: an ExternalSecret and its stores in, the rendered target out. Reads only;
// nothing here writes to Kubernetes. The controller (Secret sink), the CSI plugin (file sink) and
// `ferry render` all read through it, in the same steps:
//   resolve  stores, tenancy (conditions, remoteKeyPolicy) and clients, before any provider call
//   fetch    every remote value through the shared reads, within the share window; errors per key
//   render   property, decoding, dataFrom, rewrite, then the target template
// Every failure is a FerryError whose code the sinks switch on.
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { AnyStore, ExternalSecret } from '../api/v1alpha1/types.ts';
import { FerryError } from '../errors.ts';
import { apiErrorMessage } from '../kube/client.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ProviderError, type ProviderErrorKind } from '../providers/provider.ts';
import type { SharedReads, StoreHandle } from '../providers/shared-reads.ts';
import { describeErrors, type FetchOutcome, fetchRemoteValues } from './fetch.ts';
import { allowedBySlot, filteredFinds, type KeyPolicy, resolveStoresAndPolicies, storeLabel } from './key-policy.ts';
import { readNotBefore } from './refresh-timing.ts';
import { RenderError, readId, remoteReads } from './render.ts';
import { runRenderJob } from './render-job.ts';
import type { RenderPool } from './render-pool.ts';
import { refreshSeed, type Settings, settingsOf, withRefreshFloor } from './settings.ts';
import type { StoreClients, WorkloadIdentity } from './store-clients.ts';
import { type StoreLookup, StoreRefError, TenancyError } from './stores.ts';
import {
  type RenderedTarget,
  readTemplateSources,
  type TemplateFromSources,
  type TemplateSources,
} from './target-template.ts';

export interface ReadPipelineDeps {
  stores: StoreLookup;
  clients: StoreClients;
  reads: SharedReads;
  /** How old a shared read may be and still serve a refresh (at most half an object's interval). */
  shareWindowMs: number;
  /** For ferry_tenancy_denials_total. */
  metrics?: Metrics;
  /** Shortest periodic refresh served; shorter refreshIntervals are raised to it (withRefreshFloor). */
  minRefreshIntervalMs?: number;
  /** Where renders with templates run; without one, every render runs on the calling thread. */
  renders?: RenderPool;
}

export interface ResolvedStore {
  store: AnyStore;
  /** The field that names the store, for messages. */
  field: string;
  /** The store's remoteKeyPolicy for the ExternalSecret's namespace; undefined allows any key. */
  policy: KeyPolicy | undefined;
  handle: StoreHandle;
}

/** Every store an ExternalSecret reads from, by slot ('' for spec.secretStoreRef; see itemSlot). */
export type Resolved = Map<string, ResolvedStore>;

/** Which shared reads may serve a read (see SharedReads.read). */
export interface ReadTiming {
  notBefore: number;
  /** Set for a forced sync. */
  forcedSince?: number;
}

export interface Fetched extends FetchOutcome {
  /** The client key of a store whose read failed for want of an answer (Transient), if any. */
  waitingOn?: string;
  /** The identity (UID, generation, credentials) of every store read: an edit changes it. */
  storeIdentity: string;
}

/** The most actionable class first: a missing key or a refusal says more than a timeout. */
const BY_ACTION: ProviderErrorKind[] = ['NotFound', 'Denied', 'Invalid', 'Throttled', 'Transient'];

export class ReadPipeline {
  private readonly deps: ReadPipelineDeps;

  constructor(deps: ReadPipelineDeps) {
    this.deps = deps;
  }

  get clients(): StoreClients {
    return this.deps.clients;
  }

  get reads(): SharedReads {
    return this.deps.reads;
  }

  /**
   * Every store `es` reads from, resolved, admitted and with its remoteKeyPolicy checked against
   * the keys read through it, and a client for each (a pod's `workload` logs in as the pod).
   * Nothing reaches a provider before all of it passed. Throws FerryError.
   */
  async resolve(es: ExternalSecret, workload?: WorkloadIdentity): Promise<Resolved> {
    const namespace = es.metadata.namespace ?? '';
    const out: Resolved = new Map();
    let field = 'store';
    try {
      for (const [slot, { store, field: named, policy }] of await resolveStoresAndPolicies(es, this.deps.stores)) {
        field = slot ? `${named} (${slot})` : 'store';
        const handle = await this.deps.clients.handle(store, namespace, workload);
        out.set(slot, { store, field: named, policy, handle });
      }
    } catch (err) {
      if (err instanceof TenancyError) this.deps.metrics?.tenancyDenials.inc({ store: err.store, reason: err.reason });
      if (err instanceof TenancyError || err instanceof StoreRefError) throw err;
      if (err instanceof ProviderError) {
        throw new ProviderError(err.kind, `${field}: ${err.kind}: ${err.message}`, { retryAfterMs: err.retryAfterMs });
      }
      throw new ProviderError('Transient', `${field}: ${apiErrorMessage(err)}`);
    }
    return out;
  }

  /** The object's settings as this process serves them: its refresh no shorter than the floor. Throws on a bad spec. */
  settings(es: ExternalSecret): Settings & { requestedRefreshMs?: number } {
    return withRefreshFloor(settingsOf(es), this.deps.minRefreshIntervalMs ?? 0);
  }

  /**
   * How old a shared read may be for a sync of `es` that started at `started`: the share window,
   * at most half the object's refresh interval, counted from the instant a late refresh was due
   * (readNotBefore). A forced sync may share a read another forced sync started within the
   * window, never one from before this object's own last sync.
   */
  timing(es: ExternalSecret, at: { started: number; lastSyncAt?: number; forcedAt?: number }): ReadTiming {
    const interval = this.settings(es).refreshIntervalMs;
    const window = interval > 0 ? Math.min(this.deps.shareWindowMs, interval / 2) : this.deps.shareWindowMs;
    const lastSync = at.lastSyncAt ?? 0;
    const notBefore = Math.max(
      readNotBefore(at.started, window, interval, lastSync, refreshSeed(es)),
      at.forcedAt ?? 0,
    );
    const forcedSince = at.forcedAt === undefined ? undefined : Math.max(at.started - window, lastSync + 1);
    return { notBefore, forcedSince };
  }

  /**
   * Reads every value `es` needs through its resolved stores; a failure is recorded per key, never
   * thrown. Names a policy filters out of a listing are left unread and counted; a client whose
   * credentials were refused is rebuilt on next use (unless it renews them itself).
   */
  async fetch(es: ExternalSecret, resolved: Resolved, timing: ReadTiming): Promise<Fetched> {
    const handles = new Map([...resolved].map(([slot, r]) => [slot, r.handle]));
    const fetched = await fetchRemoteValues(
      es.spec,
      handles,
      this.deps.reads,
      timing.notBefore,
      allowedBySlot(resolved),
      timing.forcedSince,
      es.metadata.namespace ?? '',
    );
    // How many listed names a policy refused goes to the metric only: in status or an Event it
    // would tell the tenant how many secrets of others match a pattern.
    for (const f of filteredFinds(es, fetched.filtered, resolved)) {
      this.deps.metrics?.tenancyDenials.inc({ store: storeLabel(f.store), reason: 'find_result_filtered' }, f.count);
    }
    const deniedSlots = new Set(
      [...fetched.errors].filter(([, e]) => e.kind === 'Denied').map(([id]) => fetched.slots.get(id) ?? ''),
    );
    for (const slot of deniedSlots) {
      const handle = handles.get(slot);
      if (handle && !handle.client.keepsCredentialsFresh) this.deps.clients.invalidate(handle);
    }
    const transient = [...fetched.errors].find(([, e]) => e.kind === 'Transient');
    const waitingOn = transient ? handles.get(fetched.slots.get(transient[0]) ?? '')?.key : undefined;
    const storeIdentity = [...handles.values()]
      .map((h) => h.key)
      .sort()
      .join(' ');
    return { ...fetched, waitingOn, storeIdentity };
  }

  /**
   * The stores with not-found reads in `fetched` through which nothing at all is found now
   * (SharedReads.findsNothing), by label: misconfigured stores, whose not-founds must not delete
   * anything. Asked only where a deletion is at stake: it scans the shared reads.
   */
  findingNothing(fetched: FetchOutcome, resolved: Resolved): string[] {
    const notFoundSlots = new Set(
      [...fetched.errors].filter(([, e]) => e.kind === 'NotFound').map(([id]) => fetched.slots.get(id) ?? ''),
    );
    return [...notFoundSlots].flatMap((slot) => {
      const r = resolved.get(slot);
      return r && this.deps.reads.findsNothing(r.handle.key) ? [storeLabel(r.store)] : [];
    });
  }

  /**
   * The target `spec` makes of the fetched values: its data, then the target template over it.
   * `spec` may be the ExternalSecret's with keys left out (deletionPolicy Merge). The templateFrom
   * objects are read here; the render itself runs in the pool (if any) in `tenant`'s turn (its
   * namespace). Throws FerryError.
   */
  async render(
    spec: ExternalSecretSpec,
    fetched: FetchOutcome,
    sources: TemplateSources,
    tenant = '',
  ): Promise<RenderedTarget> {
    let templateFrom: TemplateFromSources;
    try {
      templateFrom = await readTemplateSources(spec.target?.template, sources);
    } catch (err) {
      if (err instanceof FerryError) throw err;
      throw new FerryError('TemplateSource', `reading templateFrom: ${apiErrorMessage(err)}`);
    }
    const job = { spec, values: fetched.values, found: fetched.found, templateFrom };
    return this.deps.renders ? await this.deps.renders.render(job, tenant) : runRenderJob(job);
  }

  /**
   * resolve → fetch → render, for a sink that fails on any error (a volume, `ferry render`): the
   * first failed key makes the whole read fail, with the most actionable error class.
   */
  async read(
    es: ExternalSecret,
    opts: { sources: TemplateSources; workload?: WorkloadIdentity; started?: number; lastSyncAt?: number },
  ): Promise<{ rendered: RenderedTarget; fetched: Fetched; resolved: Resolved }> {
    const resolved = await this.resolve(es, opts.workload);
    const timing = this.timing(es, { started: opts.started ?? Date.now(), lastSyncAt: opts.lastSyncAt });
    const fetched = await this.fetch(es, resolved, timing);
    if (fetched.errors.size > 0) {
      const errors = [...fetched.errors.values()];
      const kind = BY_ACTION.find((k) => errors.some((e) => e.kind === k)) ?? 'Transient';
      const retryAfter = Math.max(0, ...errors.map((e) => e.retryAfterMs ?? 0));
      throw new ProviderError(kind, describeErrors(fetched), { retryAfterMs: retryAfter || undefined });
    }
    const rendered = await this.render(es.spec, fetched, opts.sources, es.metadata.namespace ?? '');
    return { rendered, fetched, resolved };
  }
}

/** The provider version read for each remote key (`slot:key` for an item's own store), where reported. */
export function versionsRead(es: ExternalSecret, resolved: Resolved, fetched: FetchOutcome): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const slot of resolved.keys()) {
    for (const ref of remoteReads(es.spec, slot)) {
      const version = fetched.values.get(readId(ref, slot))?.versionId;
      if (version !== undefined) versions[slot ? `${slot}:${ref.key}` : ref.key] = version;
    }
  }
  return versions;
}

/** templateFrom sources for a reader with no Kubernetes objects to offer (a CSI volume). */
export const noTemplateSources = (what: string): TemplateSources => {
  const refuse = async (): Promise<never> => {
    throw new RenderError(
      `target.template.templateFrom with a configMap or secret is not supported for ${what} (use template.data or literal)`,
    );
  };
  return { configMap: refuse, secret: refuse };
};
