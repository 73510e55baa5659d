// Wires informers, indexes and work queues into the running controller. Secrets are watched
// only with Ferry's managed label, never cluster-wide (ESO #2608, VSO #982).
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  type AnyStore,
  API_VERSION,
  type ClusterSecretStore,
  type ExternalSecret,
  type SecretStore,
} from '../api/v1alpha1/types.ts';
import { KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { Informer, objectKey, type WatchTimings } from '../kube/informer.ts';
import { shareDispatcher } from '../kube/kubeconfig.ts';
import type { LeaderElector } from '../kube/leader-election.ts';
import { WorkQueue } from '../kube/work-queue.ts';
import type { Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { nextRefreshAt } from '../pipeline/refresh-timing.ts';
import { currentTargetName, objectVersion, refreshSeed, settingsOf } from '../pipeline/settings.ts';
import { StoreClients } from '../pipeline/store-clients.ts';
import { type StoreLookup, storeRefsOf } from '../pipeline/stores.ts';
import { selectProvider } from '../providers/registry.ts';
import { SharedReads } from '../providers/shared-reads.ts';
import { MANAGED_LABEL, SecretWriter, trimManagedSecret } from '../sinks/secret/secret-writer.ts';
import { ClusterExternalSecretController } from './clusterexternalsecret/controller.ts';
import { isIntact } from './externalsecret/drift.ts';
import type { ObjectState } from './externalsecret/object-state.ts';
import { type ExternalSecretDeps, reconcileExternalSecret } from './externalsecret/reconcile.ts';
import { KeyIndex } from './key-index.ts';
import { groupedOrder, readersFirst } from './queue-order.ts';
import { RolloutRestarter } from './rollout/restarter.ts';
import { reconcileStore } from './secretstore/reconcile.ts';

export interface ControllerConfig {
  /** Watch ExternalSecrets, SecretStores and Secrets of this namespace only. */
  namespace?: string;
  concurrency: number;
  kubeQps: number;
  kubeBurst: number;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  /** false: ClusterSecretStores are not watched (a namespace-scoped install with Roles only). */
  clusterStores?: boolean;
  /** How long changes to one workload's Secret settle before it is rolled (target.rolloutRestartTargets). */
  rolloutDebounceMs?: number;
  /** false: ClusterExternalSecrets are not served. Always off with `namespace` (they span namespaces). */
  clusterExternalSecrets?: boolean;
  /** Watch timings for every informer (the inactivity watchdog, server-side watch timeouts); tests shorten them. */
  watch?: WatchTimings;
}

type Store = SecretStore | ClusterSecretStore;

/** Every store the ExternalSecret reads from (spec.secretStoreRef and items' own storeRef). */
function storeKeysOf(es: ExternalSecret): string[] {
  return [...storeRefsOf(es).values()].map(({ ref }) =>
    ref.kind === 'ClusterSecretStore'
      ? `ClusterSecretStore/${ref.name}`
      : `SecretStore/${es.metadata.namespace}/${ref.name}`,
  );
}

function storeKey(store: Store): string {
  return store.kind === 'ClusterSecretStore'
    ? `ClusterSecretStore/${store.metadata.name}`
    : `SecretStore/${objectKey(store)}`;
}

function targetKeyOf(es: ExternalSecret): string | undefined {
  try {
    const s = settingsOf(es);
    return s.creationPolicy === 'None' ? undefined : `${es.metadata.namespace}/${currentTargetName(es, s)}`;
  } catch {
    return undefined;
  }
}

/** Different keys interleaved when the first list is queued (see queueFirstList). */
const FIRST_LIST_WIDTH = 20;

export class Controller {
  readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly config: ControllerConfig;
  private readonly kube: KubeClient;
  private readonly externalSecrets: Informer<ExternalSecret>;
  private readonly secretStores: Informer<SecretStore>;
  private readonly clusterSecretStores: Informer<ClusterSecretStore>;
  private readonly secrets: Informer<V1Secret>;
  private readonly esQueue: WorkQueue;
  private readonly storeQueue: WorkQueue;
  private readonly clusterExternalSecrets: ClusterExternalSecretController | undefined;
  private readonly states = new Map<string, ObjectState>();
  private readonly byStore = new KeyIndex();
  private readonly byTarget = new KeyIndex();
  private readonly namespaceLabels = new Map<string, { labels: Record<string, string>; at: number }>();
  private readonly stop = new AbortController();
  private deps!: ExternalSecretDeps;
  private clients!: StoreClients;
  private readonly elector: LeaderElector | undefined;
  private electedAt: Promise<void> | undefined;
  private markElected: (() => void) | undefined;
  ready = false;
  /** ExternalSecrets of the first list, queued together once it is complete (see groupedOrder). */
  private firstList: ExternalSecret[] | undefined = [];
  /** Set when run() ended because the Lease was lost (the process should exit non-zero). */
  leadershipLost = false;

  /** With an elector, only the Lease holder reconciles and writes; followers keep caches warm. */
  constructor(
    kc: KubeConfig,
    config: ControllerConfig,
    logger: Logger,
    metrics = new Metrics(),
    elector?: LeaderElector,
  ) {
    shareDispatcher(kc);
    this.metrics = metrics;
    this.logger = logger;
    this.config = config;
    this.elector = elector;
    this.kube = new KubeClient(kc, {
      qps: config.kubeQps,
      burst: config.kubeBurst,
      metrics: this.metrics,
      writeGate: elector ? () => elector.isLeader() : undefined,
    });
    const ns = config.namespace;
    const ferry = (plural: string) => `/apis/${API_VERSION}${ns ? `/namespaces/${ns}` : ''}/${plural}`;
    const common = { kc, logger, metrics: this.metrics, ...config.watch };
    this.externalSecrets = new Informer({ ...common, path: ferry('externalsecrets'), resource: 'externalsecrets' });
    this.secretStores = new Informer({ ...common, path: ferry('secretstores'), resource: 'secretstores' });
    this.clusterSecretStores = new Informer({
      ...common,
      path: `/apis/${API_VERSION}/clustersecretstores`,
      resource: 'clustersecretstores',
    });
    this.secrets = new Informer({
      ...common,
      path: ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets',
      resource: 'secrets',
      // Only Secrets Ferry writes: other Secrets (Helm releases, big certificates) never reach memory.
      labelSelector: `${MANAGED_LABEL}=true`,
      transform: trimManagedSecret,
    });
    const onError = (key: string, err: unknown) => this.logger.error({ key, err: String(err) }, 'reconcile crashed');
    this.esQueue = new WorkQueue({
      name: 'externalsecrets',
      concurrency: config.concurrency,
      // Retries stay cheap however many objects fail together (a store that does not answer holds
      // their calls, see StoreBreaker), so a failed object is retried at least once a minute.
      backoffMaxMs: 60_000,
      metrics: this.metrics,
      onError,
      handler: (key) => this.reconcileExternalSecret(key),
    });
    if (!ns && config.clusterExternalSecrets !== false) {
      this.clusterExternalSecrets = new ClusterExternalSecretController({
        kc,
        kube: this.kube,
        logger,
        metrics: this.metrics,
        externalSecrets: this.externalSecrets,
        concurrency: config.concurrency,
        watch: config.watch,
      });
    }
    this.storeQueue = new WorkQueue({
      name: 'stores',
      concurrency: Math.max(1, Math.ceil(config.concurrency / 4)),
      metrics: this.metrics,
      onError,
      handler: (key) => this.reconcileStore(key),
    });
  }

  /** A store's provider answers again: everything that failed waiting on it syncs now, not at its next backoff. */
  private storeRecovered(storeKey: string): void {
    for (const [key, state] of this.states) if (state.waitingOn === storeKey) this.esQueue.add(key, 'urgent');
  }

  /** Per resource, object key → resourceVersion of what the informers hold (compared with a relist in tests). */
  cachedVersions(): Record<string, Map<string, string>> {
    const of = (informer: { list(): KubernetesObject[] }) =>
      new Map(informer.list().map((o) => [objectKey(o), o.metadata?.resourceVersion ?? '']));
    return {
      externalsecrets: of(this.externalSecrets),
      secretstores: of(this.secretStores),
      clustersecretstores: of(this.clusterSecretStores),
      secrets: of(this.secrets),
    };
  }

  /** Runs until `signal` aborts; in-flight reconciles finish before it resolves. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = this.stop.signal;
    signal.addEventListener('abort', () => this.stop.abort(signal.reason), { once: true });
    const reads = new SharedReads({
      metrics: this.metrics,
      logger: this.logger,
      signal: stop,
      onStoreRecovered: (key) => this.storeRecovered(key),
    });
    this.clients = new StoreClients({
      kube: this.kube,
      sharedReads: reads,
      logger: this.logger,
      metrics: this.metrics,
      providerQps: this.config.providerQps,
      providerBurst: this.config.providerBurst,
    });
    const events = new EventRecorder(this.kube, this.logger);
    const restarter = new RolloutRestarter({
      kube: this.kube,
      events,
      metrics: this.metrics,
      logger: this.logger,
      debounceMs: this.config.rolloutDebounceMs ?? 5000,
    });
    this.deps = {
      restarter,
      managedSecrets: (namespace) => this.secrets.list().filter((s) => s.metadata?.namespace === namespace),
      stores: this.storeLookup(),
      clients: this.clients,
      reads,
      writer: new SecretWriter(this.kube),
      kube: this.kube,
      events,
      metrics: this.metrics,
      logger: this.logger,
      managedSecret: (namespace, name) => this.secrets.get(`${namespace}/${name}`),
      shareWindowMs: this.config.shareWindowMs,
      queued: {
        // New, changed, forced and unsynced objects only. Periodic refreshes (a storm after a
        // restart included) are not read ahead: reads then keep pace with the reconciles instead
        // of running ahead in bursts of full batches (S4's provider-rate target).
        peek: (limit) => this.esQueue.peek(limit, ['urgent']),
        externalSecret: (key) => this.externalSecrets.get(key),
        storeKey: (store, namespace) => this.clients.keyOf(store, namespace),
      },
    };
    this.wireHandlers();

    const watched: { run(signal: AbortSignal): Promise<void>; synced: Promise<void> }[] = [
      this.secrets,
      this.secretStores,
    ];
    if (this.config.clusterStores !== false) watched.push(this.clusterSecretStores);
    if (this.clusterExternalSecrets) watched.push(...this.clusterExternalSecrets.informers);
    const loops = watched.map((i) => i.run(stop));
    await Promise.race([Promise.all(watched.map((i) => i.synced)), aborted(stop)]);
    // ExternalSecrets last: deciding whether one needs a sync now looks at its Secret and store.
    loops.push(this.externalSecrets.run(stop));
    await Promise.race([this.externalSecrets.synced, aborted(stop)]);
    await this.queueFirstList();
    if (!stop.aborted) {
      this.ready = true;
      this.logger.info({ namespace: this.config.namespace ?? '(all)' }, 'controller started');
    }
    if (this.elector) loops.push(this.campaign(stop));
    await this.leading(stop);
    if (!stop.aborted) this.metrics.leader.set(1);
    const cesLoop = this.clusterExternalSecrets?.run(stop, events) ?? Promise.resolve();
    await Promise.all([this.esQueue.run(stop), this.storeQueue.run(stop), cesLoop, ...loops]);
    this.metrics.leader.set(0);
    restarter.stop();
    await this.clients.closeAll();
    this.ready = false;
    this.logger.info('controller stopped');
  }

  /** For /readyz: whether this process reconciles, and who does if not. */
  describe(): string {
    if (!this.ready) return 'not ready: caches not synced';
    if (!this.elector) return 'ok: reconciling (no leader election)';
    if (this.elector.isLeader()) return `ok: leader (${this.elector.identity})`;
    return `ok: follower (${this.elector.identity}), leader ${this.elector.leader || 'unknown'}`;
  }

  /** Resolves once this process may reconcile: at once without an elector, else when elected. */
  private leading(stop: AbortSignal): Promise<void> {
    if (!this.elector) return Promise.resolve();
    this.electedAt ??= new Promise((resolve) => {
      this.markElected = resolve;
    });
    return Promise.race([this.electedAt, aborted(stop)]);
  }

  /** Runs the election; losing the Lease stops the whole controller (the process then exits). */
  private async campaign(stop: AbortSignal): Promise<void> {
    if (!this.elector) return;
    this.electedAt ??= new Promise((resolve) => {
      this.markElected = resolve;
    });
    const end = await this.elector.run(stop, { onStartedLeading: () => this.markElected?.() });
    if (end === 'lost') {
      this.leadershipLost = true;
      this.metrics.leader.set(0);
      this.logger.error('lost the leader-election lease: stopping');
      this.stop.abort(new Error('leadership lost'));
    }
  }

  /** Resolves when no reconcile is queued or running (for tests and the benchmark). */
  async idle(): Promise<void> {
    await Promise.all([this.esQueue.idle(), this.storeQueue.idle(), this.clusterExternalSecrets?.idle()]);
  }

  private state(key: string): ObjectState {
    const s = this.states.get(key) ?? {};
    this.states.set(key, s);
    return s;
  }

  private wireHandlers(): void {
    this.externalSecrets.on({
      add: (es) => {
        const key = objectKey(es);
        for (const store of storeKeysOf(es)) this.byStore.add(store, key);
        this.byTarget.add(targetKeyOf(es), key);
        if (this.firstList) this.firstList.push(es);
        else if (this.scheduleFirst(es) === 'overdue') this.esQueue.add(key, 'periodic');
      },
      update: (es, old) => {
        const key = objectKey(es);
        for (const store of storeKeysOf(old)) this.byStore.remove(store, key);
        this.byTarget.remove(targetKeyOf(old), key);
        for (const store of storeKeysOf(es)) this.byStore.add(store, key);
        this.byTarget.add(targetKeyOf(es), key);
        if (objectVersion(es) === objectVersion(old)) return; // only status or resourceVersion moved
        if (JSON.stringify(es.metadata.annotations) !== JSON.stringify(old.metadata.annotations)) {
          this.state(key).freshAfter = Date.now(); // force-sync: re-read the provider now
        }
        this.esQueue.add(key, 'urgent');
      },
      delete: (es) => {
        const key = objectKey(es);
        for (const store of storeKeysOf(es)) this.byStore.remove(store, key);
        this.byTarget.remove(targetKeyOf(es), key);
        this.esQueue.forget(key);
        this.states.delete(key);
        this.metrics.externalSecretReady.remove({
          namespace: es.metadata.namespace ?? '',
          name: es.metadata.name ?? '',
        });
      },
    });

    const onStore = {
      add: (store: Store) => this.storeChanged(store, true),
      update: (store: Store, old: Store) => {
        if (store.metadata.generation !== old.metadata.generation) this.storeChanged(store, true);
      },
      delete: (store: Store) => this.storeChanged(store, false),
    };
    this.secretStores.on(onStore);
    this.clusterSecretStores.on(onStore);

    this.secrets.on({
      update: (secret) => this.secretChanged(secret, false),
      delete: (secret) => this.secretChanged(secret, true),
    });
  }

  /**
   * Queues the first list's objects grouped by the key they read first: a start that takes longer
   * than the share window still reads each key once, and reads due together are batched.
   */
  private async queueFirstList(): Promise<void> {
    const first = this.firstList ?? [];
    this.firstList = undefined;
    // 20: one BatchGetSecretValue. Wider (it was the worker count) brought 2–3 batches' worth of
    // new keys due at once at each group boundary; urgent syncs fill batches by read-ahead.
    const overdue: ExternalSecret[] = [];
    for (const es of groupedOrder(first, refreshSeed, FIRST_LIST_WIDTH)) {
      const current = this.externalSecrets.get(objectKey(es));
      if (current && this.scheduleFirst(current) === 'overdue') overdue.push(current);
    }
    // Refreshes overdue at a restart (a storm): through a store that reads in batches, the first
    // object of each key goes first, so the store reads its keys at an even pace in full batches
    // and the rest reuse those reads (S4: 1,000 keys in ~5 s instead of pulses over the whole
    // storm). Where each key is a call, the store's budget paces the reads, and the grouped order
    // keeps the workers busy with objects whose key was just read meanwhile.
    const batching = new Map<string, boolean>();
    for (const es of overdue) {
      const [only, ...more] = storeKeysOf(es);
      if (only && more.length === 0 && !batching.has(only)) batching.set(only, await this.readsInBatches(only));
    }
    const lead = (es: ExternalSecret) => {
      const [only, ...more] = storeKeysOf(es);
      return only !== undefined && more.length === 0 && batching.get(only) === true;
    };
    for (const es of readersFirst(overdue, refreshSeed, lead)) this.esQueue.add(objectKey(es), 'periodic');
  }

  /** Whether the cached store of `storeKey` reads in batches (Provider.readsInBatches). */
  private async readsInBatches(storeKey: string): Promise<boolean> {
    const store = this.storeByKey(storeKey);
    if (!store?.spec?.provider) return false;
    try {
      const { provider, spec } = await selectProvider(store.spec.provider);
      return provider.readsInBatches?.(spec) ?? false;
    } catch {
      return false; // an invalid store is reported by the reconcile
    }
  }

  /**
   * After a restart an ExternalSecret synced recently waits for its next refresh, not a sync now.
   * One whose refresh is already due is returned as 'overdue' for the caller to queue.
   */
  private scheduleFirst(es: ExternalSecret): 'overdue' | undefined {
    const key = objectKey(es);
    try {
      const s = settingsOf(es);
      const ready = es.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const refreshed = Date.parse(es.status?.refreshTime ?? '');
      const secret =
        s.creationPolicy === 'None'
          ? undefined
          : this.secrets.get(`${es.metadata.namespace}/${currentTargetName(es, s)}`);
      const intact = isIntact(secret, s, this.state(key));
      if (ready && intact && es.status?.syncedResourceVersion === objectVersion(es) && Number.isFinite(refreshed)) {
        if (s.refreshIntervalMs > 0) {
          const at = nextRefreshAt(refreshed, s.refreshIntervalMs, refreshSeed(es));
          if (at <= Date.now()) return 'overdue';
          this.esQueue.addAfter(key, at - Date.now(), 'periodic');
        }
        return undefined;
      }
    } catch {
      // An unparsable spec is reported by the reconcile.
    }
    this.esQueue.add(key, 'urgent');
    return undefined;
  }

  private storeChanged(store: Store, exists: boolean): void {
    this.clients?.forgetStore(store.metadata.uid ?? '');
    if (exists) this.storeQueue.add(storeKey(store), 'urgent');
    else this.storeQueue.forget(storeKey(store));
    for (const key of this.byStore.get(storeKey(store))) this.esQueue.add(key, 'urgent');
  }

  private secretChanged(secret: V1Secret, deleted: boolean): void {
    for (const key of this.byTarget.get(objectKey(secret))) {
      const es = this.externalSecrets.get(key);
      if (!es) continue;
      if (deleted || !isIntact(secret, settingsOf(es), this.state(key))) {
        this.logger.info({ key, secret: objectKey(secret), deleted }, 'target Secret drifted; restoring');
        this.esQueue.add(key, 'urgent');
      }
    }
  }

  private async reconcileExternalSecret(key: string) {
    const es = this.externalSecrets.get(key);
    if (!es) {
      this.states.delete(key);
      return undefined;
    }
    return reconcileExternalSecret(es, this.state(key), this.deps);
  }

  private async reconcileStore(key: string) {
    const store = this.storeByKey(key);
    if (!store) return undefined;
    return reconcileStore(store, this.deps);
  }

  /** The cached store of a storeKey / storeKeysOf key. */
  private storeByKey(key: string): AnyStore | undefined {
    const [kind, ...rest] = key.split('/');
    return kind === 'ClusterSecretStore'
      ? this.clusterSecretStores.get(rest.join('/'))
      : this.secretStores.get(rest.join('/'));
  }

  private storeLookup(): StoreLookup {
    return {
      secretStore: (namespace, name) => this.secretStores.get(`${namespace}/${name}`),
      clusterSecretStore: (name) => this.clusterSecretStores.get(name),
      namespaceLabels: async (namespace) => {
        const cached = this.namespaceLabels.get(namespace);
        if (cached && Date.now() - cached.at < 30_000) return cached.labels;
        const labels = (await this.kube.readNamespace(namespace)).metadata?.labels ?? {};
        this.namespaceLabels.set(namespace, { labels, at: Date.now() });
        return labels;
      },
    };
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
