// What every process that reads ExternalSecrets holds once: watches of ExternalSecrets and their
// stores, the shared reads, the store clients, and the read pipeline over them. The controller and
// the CSI plugin each build one; they differ only in what the store clients may read.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  type AnyStore,
  API_VERSION,
  type ClusterSecretStore,
  type ExternalSecret,
  type SecretStore,
} from '../api/v1alpha1/types.ts';
import type { KubeClient } from '../kube/client.ts';
import { Informer, type WatchTimings } from '../kube/informer.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { SharedReads } from '../providers/shared-reads.ts';
import { ReadPipeline } from './read-pipeline.ts';
import { DEFAULT_RENDERS, RenderPool, type RenderPoolOptions } from './render-pool.ts';
import { StoreClients, type StoreClientsOptions } from './store-clients.ts';
import { cachedStoreLookup, type StoreLookup } from './stores.ts';

export interface ReadSideOptions {
  kc: KubeConfig;
  /** Reads namespace labels (ClusterSecretStore conditions). */
  kube: KubeClient;
  /** What store clients may ask of Kubernetes: credentials, CA bundles, tokens. */
  storeKube: StoreClientsOptions['kube'];
  logger: Logger;
  metrics: Metrics;
  /** Watch ExternalSecrets and SecretStores of this namespace only. */
  namespace?: string;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  /** Shortest periodic refresh served (see withRefreshFloor). */
  minRefreshIntervalMs?: number;
  /** SecretStores may authenticate as this process itself (StoreClientsOptions). */
  namespacedAmbientIdentity?: boolean;
  namespacedStoreAllowList: StoreClientsOptions['namespacedStoreAllowList'];
  /** The API server's token audiences besides its published issuer. */
  apiAudiences?: string[];
  /** Aborts provider calls on shutdown. */
  signal: AbortSignal;
  /** A store's provider answers again after failing (SharedReads). */
  onStoreRecovered?: (storeKey: string) => void;
  watch?: WatchTimings;
  /** The render pool's size and time limit (default: one worker, 10 s). */
  renders?: RenderPoolOptions;
}

export class ReadSide {
  readonly externalSecrets: Informer<ExternalSecret>;
  readonly secretStores: Informer<SecretStore>;
  readonly clusterSecretStores: Informer<ClusterSecretStore>;
  readonly reads: SharedReads;
  readonly clients: StoreClients;
  readonly stores: StoreLookup;
  readonly pipeline: ReadPipeline;
  /** Where templates render; closed with the process (close()). */
  readonly renders: RenderPool;

  constructor(opts: ReadSideOptions) {
    const { kc, logger, metrics, namespace } = opts;
    const ferry = (plural: string, scoped: boolean) =>
      `/apis/${API_VERSION}${scoped && namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
    const common = { kc, logger, metrics, ...opts.watch };
    this.externalSecrets = new Informer({
      ...common,
      path: ferry('externalsecrets', true),
      resource: 'externalsecrets',
    });
    this.secretStores = new Informer({ ...common, path: ferry('secretstores', true), resource: 'secretstores' });
    this.clusterSecretStores = new Informer({
      ...common,
      path: ferry('clustersecretstores', false),
      resource: 'clustersecretstores',
    });
    this.reads = new SharedReads({ metrics, logger, signal: opts.signal, onStoreRecovered: opts.onStoreRecovered });
    this.clients = new StoreClients({
      kube: opts.storeKube,
      serviceAccountIssuer: () => opts.kube.serviceAccountIssuer(),
      apiAudiences: opts.apiAudiences,
      sharedReads: this.reads,
      logger,
      metrics,
      providerQps: opts.providerQps,
      providerBurst: opts.providerBurst,
      namespacedAmbientIdentity: opts.namespacedAmbientIdentity,
      namespacedStoreAllowList: opts.namespacedStoreAllowList,
    });
    this.stores = cachedStoreLookup({
      secretStore: (ns, name) => this.secretStores.get(`${ns}/${name}`),
      clusterSecretStore: (name) => this.clusterSecretStores.get(name),
      readNamespaceLabels: async (ns) => (await opts.kube.readNamespace(ns)).metadata?.labels ?? {},
    });
    this.renders = new RenderPool(opts.renders ?? DEFAULT_RENDERS);
    this.pipeline = new ReadPipeline({
      renders: this.renders,
      stores: this.stores,
      clients: this.clients,
      reads: this.reads,
      shareWindowMs: opts.shareWindowMs,
      metrics,
      minRefreshIntervalMs: opts.minRefreshIntervalMs,
    });
  }

  /** Ends what the read side holds open: provider clients and render workers. */
  async close(): Promise<void> {
    await Promise.all([this.clients.closeAll(), this.renders.close()]);
  }

  /** The cached store behind a store key: `SecretStore/<ns>/<name>` or `ClusterSecretStore/<name>`. */
  storeByKey(key: string): AnyStore | undefined {
    const [kind, ...rest] = key.split('/');
    return kind === 'ClusterSecretStore'
      ? this.clusterSecretStores.get(rest.join('/'))
      : this.secretStores.get(rest.join('/'));
  }
}
