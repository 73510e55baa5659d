// `ferry csi-node` wired together: watches of ExternalSecrets and stores (as the controller has)
// and of the plugin's own CSIDriver object, the volumes of this node (restored from disk after a
// restart), the CSI gRPC server, and the optional self-registration with the kubelet.

import type { Server } from '@grpc/grpc-js';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { ClusterSecretStore, SecretStore } from '../../api/v1alpha1/types.ts';
import { KubeClient } from '../../kube/client.ts';
import { Informer } from '../../kube/informer.ts';
import { shareDispatcher } from '../../kube/kubeconfig.ts';
import { aborted } from '../../kube/signals.ts';
import type { Logger } from '../../observability/logger.ts';
import { Metrics } from '../../observability/metrics.ts';
import { ReadSide, type RenderPoolOptions } from '../../pipeline/index.ts';
import { objectVersion } from '../../pipeline/settings.ts';
import { storeRefsOf } from '../../pipeline/stores.ts';
import { EgressAllowList } from '../../providers/egress.ts';
import { nodeScopedKube } from './node-kube.ts';
import { DRIVER_NAME, serveCsi } from './node-server.ts';
import { loadCsiServices } from './protocol.ts';
import { type CsiDriverObject, driverPolicy } from './publish-context.ts';
import { registerWithKubelet } from './registration.ts';
import { VolumeManager } from './volumes.ts';

export interface CsiPluginConfig {
  nodeName: string;
  /** Path of the CSI unix socket. */
  socketPath: string;
  /** Where volume records are kept across restarts. */
  dataDir: string;
  /** Directory holding csi.proto and pluginregistration.proto. */
  protoDir: string;
  /** The kubelet's plugins_registry directory, to register without node-driver-registrar. */
  registrationDir?: string;
  kubeQps: number;
  kubeBurst: number;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  /** Shortest periodic refresh of a volume; a shorter refreshInterval is raised to it. */
  minRefreshIntervalMs?: number;
  /** SecretStores may authenticate as the plugin itself, the node's identity (--namespaced-ambient-identity; default off). */
  namespacedAmbientIdentity?: boolean;
  /**
   * Hosts, *.suffixes and CIDRs namespaced SecretStores may reach although they are loopback,
   * link-local or private, or may name in an endpoint override (--namespaced-store-allowed-hosts).
   */
  namespacedStoreAllowedHosts: readonly string[];
  /** The node's budget for volume contents (tmpfs pages count against the plugin's memory). */
  volumeMemoryBytes: number;
  /** The API server's token audiences besides its published issuer. */
  apiAudiences?: string[];
  version: string;
  /** The render pool (--render-workers, --render-timeout); default one worker, 10 s. */
  renders?: RenderPoolOptions;
}

export class CsiPlugin {
  readonly metrics: Metrics;
  readonly volumes: VolumeManager;
  ready = false;
  /** Resolves once the kubelet accepted the registration (when registrationDir is set). */
  registered: Promise<void> = Promise.resolve();
  private readonly config: CsiPluginConfig;
  private readonly logger: Logger;
  private readonly side: ReadSide;
  private readonly csiDriver: Informer<CsiDriverObject & KubernetesObject>;
  private readonly stop = new AbortController();

  constructor(kc: KubeConfig, config: CsiPluginConfig, logger: Logger, metrics = new Metrics()) {
    shareDispatcher(kc);
    this.config = config;
    this.logger = logger;
    this.metrics = metrics;
    const kube = new KubeClient(kc, { qps: config.kubeQps, burst: config.kubeBurst, metrics });
    this.side = new ReadSide({
      kc,
      kube,
      storeKube: nodeScopedKube(kube),
      logger,
      metrics,
      providerQps: config.providerQps,
      providerBurst: config.providerBurst,
      shareWindowMs: config.shareWindowMs,
      minRefreshIntervalMs: config.minRefreshIntervalMs,
      namespacedAmbientIdentity: config.namespacedAmbientIdentity,
      namespacedStoreAllowList: new EgressAllowList(config.namespacedStoreAllowedHosts),
      renders: config.renders,
      apiAudiences: config.apiAudiences,
      signal: this.stop.signal,
    });
    // Its own CSIDriver only (RBAC resourceNames): whether kubelet's pod info can be trusted.
    this.csiDriver = new Informer({
      kc,
      logger,
      metrics,
      path: '/apis/storage.k8s.io/v1/csidrivers',
      resource: 'csidrivers',
      fieldSelector: `metadata.name=${DRIVER_NAME}`,
    });
    this.volumes = new VolumeManager({
      dataDir: config.dataDir,
      pipeline: this.side.pipeline,
      externalSecret: (ns, name) => this.side.externalSecrets.get(`${ns}/${name}`),
      driver: () => driverPolicy(DRIVER_NAME, this.csiDriver.get(DRIVER_NAME)),
      memoryBytes: config.volumeMemoryBytes,
      metrics,
      logger,
    });
  }

  /** Serves until `signal` aborts. Volumes stay mounted: their pods still use them. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = this.stop.signal;
    signal.addEventListener('abort', () => this.stop.abort(signal.reason), { once: true });
    const services = loadCsiServices(this.config.protoDir);
    this.wire();
    const { externalSecrets, secretStores, clusterSecretStores } = this.side;
    const informers = [externalSecrets, secretStores, clusterSecretStores, this.csiDriver];
    const loops = informers.map((i) => i.run(stop));
    await Promise.race([Promise.all(informers.map((i) => i.synced)), aborted(stop)]);
    const servers: Server[] = [];
    if (!stop.aborted) {
      const restored = await this.volumes.restore();
      servers.push(
        await serveCsi(this.config.socketPath, {
          services,
          volumes: this.volumes,
          nodeName: this.config.nodeName,
          version: this.config.version,
          metrics: this.metrics,
          logger: this.logger,
        }),
      );
      if (this.config.registrationDir) {
        const registration = await registerWithKubelet({
          services,
          registrationDir: this.config.registrationDir,
          csiSocket: this.config.socketPath,
          logger: this.logger,
        });
        servers.push(registration.server);
        this.registered = registration.registered;
      }
      this.ready = true;
      this.logger.info(
        { node: this.config.nodeName, socket: this.config.socketPath, restored },
        'CSI node plugin started',
      );
    }
    await Promise.all([this.volumes.run(stop), ...loops]);
    this.ready = false;
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    await this.side.close();
    this.logger.info('CSI node plugin stopped');
  }

  private wire(): void {
    const { externalSecrets, secretStores, clusterSecretStores, clients } = this.side;
    externalSecrets.on({
      update: (es, old) => {
        if (objectVersion(es) !== objectVersion(old)) {
          this.volumes.externalSecretChanged(es.metadata.namespace ?? '', es.metadata.name ?? '');
        }
      },
      add: (es) => this.volumes.externalSecretChanged(es.metadata.namespace ?? '', es.metadata.name ?? ''),
    });
    const storeChanged = (store: SecretStore | ClusterSecretStore) => {
      clients.forgetStore(store.metadata.uid ?? '');
      const kind = store.kind;
      const name = store.metadata.name;
      this.volumes.refreshAll((record) => {
        const es = externalSecrets.get(`${record.namespace}/${record.externalSecret}`);
        if (!es) return false;
        return [...storeRefsOf(es).values()].some(
          ({ ref }) =>
            ref.name === name &&
            (ref.kind ?? 'SecretStore') === kind &&
            (kind === 'ClusterSecretStore' || record.namespace === store.metadata.namespace),
        );
      });
    };
    const onStore = {
      update: (store: SecretStore | ClusterSecretStore, old: SecretStore | ClusterSecretStore) => {
        if (store.metadata.generation !== old.metadata.generation) storeChanged(store);
      },
      delete: storeChanged,
    };
    secretStores.on(onStore);
    clusterSecretStores.on(onStore);
  }
}
