// Wires informers, indexes and work queues into the running controller. Secrets are watched
// only with Ferry's managed label, never cluster-wide (ESO #2608, VSO #982).
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { ClusterSecretStore, SecretStore } from '../api/v1alpha1/types.ts';
import { KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { Informer, objectKey, type WatchTimings } from '../kube/informer.ts';
import { shareDispatcher } from '../kube/kubeconfig.ts';
import type { LeaderElector } from '../kube/leader-election.ts';
import { aborted } from '../kube/signals.ts';
import { groupWorkerLimit, WorkQueue } from '../kube/work-queue.ts';
import type { Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { ReadSide, type RenderPoolOptions } from '../pipeline/index.ts';
import { objectVersion, settingsOf } from '../pipeline/settings.ts';
import { EgressAllowList } from '../providers/egress.ts';
import { MANAGED_LABEL, SecretWriter, trimManagedSecret } from '../sinks/secret/secret-writer.ts';
import { ClusterExternalSecretController } from './clusterexternalsecret/controller.ts';
import { isIntact } from './externalsecret/drift.ts';
import type { ObjectState } from './externalsecret/object-state.ts';
import { type ExternalSecretDeps, reconcileExternalSecret } from './externalsecret/reconcile.ts';
import { FirstList } from './first-list.ts';
import { KeyIndex } from './key-index.ts';
import { RolloutRestarter } from './rollout/restarter.ts';
import { reconcileStore } from './secretstore/reconcile.ts';
import { storeKey, storeKeysOf, storeNamespace, targetKeyOf } from './store-keys.ts';

export interface ControllerConfig {
  /** Watch ExternalSecrets, SecretStores and Secrets of this namespace only. */
  namespace?: string;
  concurrency: number;
  kubeQps: number;
  kubeBurst: number;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  /** SecretStores may authenticate as the controller itself (--namespaced-ambient-identity; default off). */
  namespacedAmbientIdentity?: boolean;
  /**
   * Hosts, *.suffixes and CIDRs namespaced SecretStores may reach although they are loopback,
   * link-local or private, or may name in an endpoint override (--namespaced-store-allowed-hosts).
   */
  namespacedStoreAllowedHosts: readonly string[];
  /** false: ClusterSecretStores are not watched (a namespace-scoped install with Roles only). */
  clusterStores?: boolean;
  /** How long changes to one workload's Secret settle before it is rolled (target.rolloutRestartTargets). */
  rolloutDebounceMs?: number;
  /**
   * true: workloads that consent (ferry.dev/rollout-from) are rolled and repointed; otherwise no
   * workload is written and a rollout asked for is refused with an Event.
   */
  workloadRollouts?: boolean;
  /** The API server's token audiences besides its published issuer. */
  apiAudiences?: string[];
  /** false: ClusterExternalSecrets are not served. Always off with `namespace` (they span namespaces). */
  clusterExternalSecrets?: boolean;
  /** Shortest periodic refresh served; a shorter refreshInterval is raised to it and an Event says so. Default 10 s. */
  minRefreshIntervalMs?: number;
  /** Forced syncs of one object re-read the provider at most once per this; later ones wait their turn. Default 10 s. */
  forceSyncIntervalMs?: number;
  /** Watch timings for every informer (the inactivity watchdog, server-side watch timeouts); tests shorten them. */
  watch?: WatchTimings;
  /** The render pool (--render-workers, --render-timeout); default one worker, 10 s. */
  renders?: RenderPoolOptions;
}

type Store = SecretStore | ClusterSecretStore;

/** --min-refresh-interval's default: see ControllerConfig.minRefreshIntervalMs. */
export const DEFAULT_MIN_REFRESH_MS = 10_000;
/** --force-sync-interval's default: see ControllerConfig.forceSyncIntervalMs. */
export const DEFAULT_FORCE_SYNC_MS = 10_000;

export class Controller {
  readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly config: ControllerConfig;
  private readonly kube: KubeClient;
  private readonly side: ReadSide;
  private readonly secrets: Informer<V1Secret>;
  private readonly esQueue: WorkQueue;
  private readonly storeQueue: WorkQueue;
  private readonly clusterExternalSecrets: ClusterExternalSecretController | undefined;
  private readonly states = new Map<string, ObjectState>();
  private readonly byStore = new KeyIndex();
  private readonly byTarget = new KeyIndex();
  private readonly stop = new AbortController();
  private readonly deps: ExternalSecretDeps;
  private readonly events: EventRecorder;
  private readonly restarter: RolloutRestarter | undefined;
  private readonly elector: LeaderElector | undefined;
  private electedAt: Promise<void> | undefined;
  private markElected: (() => void) | undefined;
  ready = false;
  private readonly firstList: FirstList;
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
    this.side = new ReadSide({
      kc,
      kube: this.kube,
      storeKube: this.kube,
      logger,
      metrics: this.metrics,
      namespace: ns,
      providerQps: config.providerQps,
      providerBurst: config.providerBurst,
      shareWindowMs: config.shareWindowMs,
      minRefreshIntervalMs: config.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_MS,
      namespacedAmbientIdentity: config.namespacedAmbientIdentity,
      namespacedStoreAllowList: new EgressAllowList(config.namespacedStoreAllowedHosts),
      renders: config.renders,
      apiAudiences: config.apiAudiences,
      signal: this.stop.signal,
      onStoreRecovered: (key) => this.storeRecovered(key),
      watch: config.watch,
    });
    const common = { kc, logger, metrics: this.metrics, ...config.watch };
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
      // Namespaces are served in turn; one namespace may hold all workers but a tenth (at least
      // one), so a tenant whose stores never answer leaves workers for the others.
      maxPerGroup: ns ? config.concurrency : groupWorkerLimit(config.concurrency),
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
        externalSecrets: this.side.externalSecrets,
        concurrency: config.concurrency,
        watch: config.watch,
      });
    }
    const storeConcurrency = Math.max(1, Math.ceil(config.concurrency / 4));
    this.storeQueue = new WorkQueue({
      name: 'stores',
      concurrency: storeConcurrency,
      groupOf: storeNamespace,
      maxPerGroup: ns ? storeConcurrency : groupWorkerLimit(storeConcurrency),
      metrics: this.metrics,
      onError,
      handler: (key) => this.reconcileStore(key),
    });
    this.events = new EventRecorder(this.kube, logger);
    this.restarter = config.workloadRollouts
      ? new RolloutRestarter({
          kube: this.kube,
          events: this.events,
          metrics: this.metrics,
          logger,
          debounceMs: config.rolloutDebounceMs ?? 5000,
        })
      : undefined;
    this.deps = {
      restarter: this.restarter,
      managedSecrets: (namespace) => this.secrets.list().filter((s) => s.metadata?.namespace === namespace),
      pipeline: this.side.pipeline,
      writer: new SecretWriter(this.kube),
      kube: this.kube,
      events: this.events,
      metrics: this.metrics,
      logger,
      managedSecret: (namespace, name) => this.secrets.get(`${namespace}/${name}`),
      queued: {
        // New, changed, forced and unsynced objects only. Periodic refreshes (a storm after a
        // restart included) are not read ahead: reads then keep pace with the reconciles instead
        // of running ahead in bursts of full batches (S4's provider-rate target).
        peek: (limit) => this.esQueue.peek(limit, ['urgent']),
        externalSecret: (key) => this.side.externalSecrets.get(key),
        storeKey: (store, namespace) => this.side.clients.keyOf(store, namespace),
      },
    };
    this.firstList = new FirstList({
      queue: this.esQueue,
      externalSecret: (key) => this.side.externalSecrets.get(key),
      targetSecret: (namespace, name) => this.secrets.get(`${namespace}/${name}`),
      state: (key) => this.state(key),
      storeByKey: (key) => this.side.storeByKey(key),
      settings: (es) => this.side.pipeline.settings(es),
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
      externalsecrets: of(this.side.externalSecrets),
      secretstores: of(this.side.secretStores),
      clustersecretstores: of(this.side.clusterSecretStores),
      secrets: of(this.secrets),
    };
  }

  /** Runs until `signal` aborts; in-flight reconciles finish before it resolves. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = this.stop.signal;
    signal.addEventListener('abort', () => this.stop.abort(signal.reason), { once: true });
    this.wireHandlers();

    const watched: { run(signal: AbortSignal): Promise<void>; synced: Promise<void> }[] = [
      this.secrets,
      this.side.secretStores,
    ];
    if (this.config.clusterStores !== false) watched.push(this.side.clusterSecretStores);
    if (this.clusterExternalSecrets) watched.push(...this.clusterExternalSecrets.informers);
    const loops = watched.map((i) => i.run(stop));
    await Promise.race([Promise.all(watched.map((i) => i.synced)), aborted(stop)]);
    // ExternalSecrets last: deciding whether one needs a sync now looks at its Secret and store.
    loops.push(this.side.externalSecrets.run(stop));
    await Promise.race([this.side.externalSecrets.synced, aborted(stop)]);
    await this.firstList.complete();
    if (!stop.aborted) {
      this.ready = true;
      this.logger.info({ namespace: this.config.namespace ?? '(all)' }, 'controller started');
    }
    if (this.elector) loops.push(this.campaign(stop));
    await this.leading(stop);
    if (!stop.aborted) this.metrics.leader.set(1);
    const cesLoop = this.clusterExternalSecrets?.run(stop, this.events) ?? Promise.resolve();
    await Promise.all([this.esQueue.run(stop), this.storeQueue.run(stop), cesLoop, ...loops]);
    this.metrics.leader.set(0);
    this.restarter?.stop();
    await this.side.close();
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
    this.side.externalSecrets.on({
      add: (es) => {
        const key = objectKey(es);
        for (const store of storeKeysOf(es)) this.byStore.add(store, key);
        this.byTarget.add(targetKeyOf(es), key);
        this.firstList.added(es);
      },
      update: (es, old) => {
        const key = objectKey(es);
        for (const store of storeKeysOf(old)) this.byStore.remove(store, key);
        this.byTarget.remove(targetKeyOf(old), key);
        for (const store of storeKeysOf(es)) this.byStore.add(store, key);
        this.byTarget.add(targetKeyOf(es), key);
        if (objectVersion(es) === objectVersion(old)) return; // only status or resourceVersion moved
        const forced = JSON.stringify(es.metadata.annotations) !== JSON.stringify(old.metadata.annotations);
        if (forced) this.state(key).forcePending = true; // force-sync: re-read the provider
        const wait = this.forceWait(key);
        // A forced sync within --force-sync-interval of the last one waits for it to pass (a
        // changed spec is synced now, from reads already shared, and re-read then).
        if (forced && wait > 0 && es.metadata.generation === old.metadata.generation) {
          this.esQueue.addAfter(key, wait, 'urgent');
          return;
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
    this.side.secretStores.on(onStore);
    this.side.clusterSecretStores.on(onStore);

    this.secrets.on({
      update: (secret) => this.secretChanged(secret, false),
      delete: (secret) => this.secretChanged(secret, true),
    });
  }

  private storeChanged(store: Store, exists: boolean): void {
    this.side.clients.forgetStore(store.metadata.uid ?? '');
    if (exists) this.storeQueue.add(storeKey(store), 'urgent');
    else this.storeQueue.forget(storeKey(store));
    for (const key of this.byStore.get(storeKey(store))) this.esQueue.add(key, 'urgent');
  }

  private secretChanged(secret: V1Secret, deleted: boolean): void {
    for (const key of this.byTarget.get(objectKey(secret))) {
      const es = this.side.externalSecrets.get(key);
      if (!es) continue;
      if (deleted || !isIntact(secret, settingsOf(es), this.state(key))) {
        this.logger.info({ key, secret: objectKey(secret), deleted }, 'target Secret drifted; restoring');
        this.esQueue.add(key, 'urgent');
      }
    }
  }

  private async reconcileExternalSecret(key: string) {
    const es = this.side.externalSecrets.get(key);
    if (!es) {
      this.states.delete(key);
      return undefined;
    }
    const state = this.state(key);
    if (state.forcePending && this.forceWait(key) <= 0) {
      state.forcePending = false;
      state.forcedAt = Date.now();
      state.freshAfter = state.forcedAt;
    }
    const result = await reconcileExternalSecret(es, state, this.deps);
    if (!state.forcePending) return result;
    const wait = Math.max(this.forceWait(key), 1);
    return result.failed || (result.requeueAfterMs ?? Number.POSITIVE_INFINITY) <= wait
      ? result
      : { ...result, requeueAfterMs: wait };
  }

  /** How long a forced sync of `key` must still wait (see ControllerConfig.forceSyncIntervalMs). */
  private forceWait(key: string): number {
    const forcedAt = this.states.get(key)?.forcedAt;
    return forcedAt === undefined
      ? 0
      : forcedAt + (this.config.forceSyncIntervalMs ?? DEFAULT_FORCE_SYNC_MS) - Date.now();
  }

  private async reconcileStore(key: string) {
    const store = this.side.storeByKey(key);
    if (!store) return undefined;
    return reconcileStore(store, { ...this.deps, clients: this.side.clients });
  }
}
