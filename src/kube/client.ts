// The API-server calls Ferry makes, each paced by a client-side token bucket (QPS/burst) —
// @kubernetes/client-node has none — and counted in metrics.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type CoreV1Event,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1DaemonSet,
  type V1Deployment,
  type V1Namespace,
  type V1PodTemplateSpec,
  type V1Secret,
  type V1ServiceAccount,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { Metrics } from '../observability/metrics.ts';
import { TokenBucket } from '../rate-limit.ts';

export const FIELD_MANAGER = 'ferry';

export interface KubeClientOptions {
  qps: number;
  burst: number;
  metrics: Metrics;
  /** Checked right before every write; false refuses it (a controller that is not the leader). */
  writeGate?: () => boolean;
}

/** A write refused because this process does not hold the leader-election Lease. */
export class NotLeaderError extends Error {
  constructor() {
    super('not the leader: writes are refused until this process holds the lease');
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}

/** The API server's own message from an ApiException, for status and logs. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    try {
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      if (body?.message) return `HTTP ${err.code}: ${body.message}`;
    } catch {}
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;

export class KubeClient {
  readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly objects: KubernetesObjectApi;
  private readonly limiter: TokenBucket;
  private readonly metrics: Metrics;
  private readonly writeGate: (() => boolean) | undefined;

  constructor(kc: KubeConfig, opts: KubeClientOptions) {
    this.writeGate = opts.writeGate;
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.objects = kc.makeApiClient(KubernetesObjectApi);
    this.limiter = new TokenBucket(opts.qps, opts.burst);
    this.metrics = opts.metrics;
  }

  private async paced(verb: string, resource: string): Promise<void> {
    await this.limiter.take();
    this.metrics.kubeRequests.inc({ verb, resource });
  }

  /** Paced, then refused unless the write gate allows it at the moment the request leaves. */
  private async pacedWrite(verb: string, resource: string): Promise<void> {
    await this.limiter.take();
    if (this.writeGate && !this.writeGate()) throw new NotLeaderError();
    this.metrics.kubeRequests.inc({ verb, resource });
  }

  /** Server-side apply: fields `fieldManager` does not set are left alone. */
  async applySecret(secret: V1Secret, fieldManager: string): Promise<V1Secret> {
    await this.pacedWrite('apply', 'secrets');
    return this.objects.patch(
      { apiVersion: 'v1', kind: 'Secret', ...secret },
      undefined,
      undefined,
      fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceSecret(secret: V1Secret): Promise<V1Secret> {
    await this.pacedWrite('update', 'secrets');
    return this.core.replaceNamespacedSecret({
      namespace: secret.metadata?.namespace ?? '',
      name: secret.metadata?.name ?? '',
      body: secret,
      fieldManager: FIELD_MANAGER,
    });
  }

  async createSecret(secret: V1Secret): Promise<V1Secret> {
    await this.pacedWrite('create', 'secrets');
    return this.core.createNamespacedSecret({
      namespace: secret.metadata?.namespace ?? '',
      body: secret,
      fieldManager: FIELD_MANAGER,
    });
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    await this.paced('get', 'secrets');
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async readConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    await this.paced('get', 'configmaps');
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async readServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    await this.paced('get', 'serviceaccounts');
    try {
      return await this.core.readNamespacedServiceAccount({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Deletes a Secret only if it is still the object with `uid`. */
  async deleteSecret(namespace: string, name: string, uid: string): Promise<void> {
    await this.pacedWrite('delete', 'secrets');
    try {
      await this.core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid } } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async readWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<Workload | undefined> {
    await this.paced('get', kind.toLowerCase());
    try {
      if (kind === 'Deployment') return await this.apps.readNamespacedDeployment({ namespace, name });
      if (kind === 'StatefulSet') return await this.apps.readNamespacedStatefulSet({ namespace, name });
      return await this.apps.readNamespacedDaemonSet({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceWorkload(kind: WorkloadKind, workload: Workload): Promise<void> {
    await this.pacedWrite('update', kind.toLowerCase());
    const namespace = workload.metadata?.namespace ?? '';
    const name = workload.metadata?.name ?? '';
    if (kind === 'Deployment')
      await this.apps.replaceNamespacedDeployment({ namespace, name, body: workload as V1Deployment });
    else if (kind === 'StatefulSet')
      await this.apps.replaceNamespacedStatefulSet({ namespace, name, body: workload as V1StatefulSet });
    else await this.apps.replaceNamespacedDaemonSet({ namespace, name, body: workload as V1DaemonSet });
  }

  /** Every workload of `kind` in the namespace. */
  async listWorkloads(kind: WorkloadKind, namespace: string): Promise<Workload[]> {
    await this.paced('list', kind.toLowerCase());
    if (kind === 'Deployment') return (await this.apps.listNamespacedDeployment({ namespace })).items;
    if (kind === 'StatefulSet') return (await this.apps.listNamespacedStatefulSet({ namespace })).items;
    return (await this.apps.listNamespacedDaemonSet({ namespace })).items;
  }

  /** Pod specs that may reference a Secret: workloads, ReplicaSets (rollback history) and pods. */
  async listPodTemplates(namespace: string): Promise<V1PodTemplateSpec[]> {
    const kinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
    const workloads = (await Promise.all(kinds.map((k) => this.listWorkloads(k, namespace)))).flat();
    await this.paced('list', 'replicasets');
    const replicaSets = (await this.apps.listNamespacedReplicaSet({ namespace })).items;
    await this.paced('list', 'pods');
    const pods = (await this.core.listNamespacedPod({ namespace })).items;
    return [
      ...workloads.map((w) => w.spec?.template as V1PodTemplateSpec),
      ...replicaSets.map((r) => r.spec?.template ?? {}),
      ...pods.map((p) => ({ metadata: p.metadata, spec: p.spec })),
    ];
  }

  async readNamespace(name: string): Promise<V1Namespace> {
    await this.paced('get', 'namespaces');
    return this.core.readNamespace({ name });
  }

  async patchStatus(plural: string, namespace: string | undefined, name: string, status: unknown): Promise<void> {
    await this.pacedWrite('patch', `${plural}/status`);
    const common = { group: 'ferry.dev', version: 'v1alpha1', plural, name, body: { status } };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    if (namespace) await this.custom.patchNamespacedCustomObjectStatus({ ...common, namespace }, merge);
    else await this.custom.patchClusterCustomObjectStatus(common, merge);
  }

  /** Creates a Ferry custom object in `namespace` (ClusterExternalSecret copies). */
  async createCustomObject<T extends object>(plural: string, namespace: string, body: T): Promise<T> {
    await this.pacedWrite('create', plural);
    return (await this.custom.createNamespacedCustomObject({
      group: 'ferry.dev',
      version: 'v1alpha1',
      plural,
      namespace,
      body,
      fieldManager: FIELD_MANAGER,
    })) as T;
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceCustomObject<T extends { metadata?: { namespace?: string; name?: string } }>(
    plural: string,
    body: T,
  ): Promise<T> {
    await this.pacedWrite('update', plural);
    return (await this.custom.replaceNamespacedCustomObject({
      group: 'ferry.dev',
      version: 'v1alpha1',
      plural,
      namespace: body.metadata?.namespace ?? '',
      name: body.metadata?.name ?? '',
      body,
      fieldManager: FIELD_MANAGER,
    })) as T;
  }

  /** Deletes a namespaced Ferry object only if it is still the object with `uid`. */
  async deleteCustomObject(plural: string, namespace: string, name: string, uid: string): Promise<void> {
    await this.pacedWrite('delete', plural);
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: 'ferry.dev',
        version: 'v1alpha1',
        plural,
        namespace,
        name,
        body: { preconditions: { uid } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Merge-patches a cluster-scoped Ferry object (e.g. its finalizers, under a resourceVersion). */
  async patchClusterCustomObject(plural: string, name: string, patch: object): Promise<void> {
    await this.pacedWrite('patch', plural);
    await this.custom.patchClusterCustomObject(
      { group: 'ferry.dev', version: 'v1alpha1', plural, name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Not paced by the shared limiter: events are best-effort and budgeted by the recorder. */
  async createEvent(event: CoreV1Event): Promise<void> {
    if (this.writeGate && !this.writeGate()) throw new NotLeaderError();
    this.metrics.kubeRequests.inc({ verb: 'create', resource: 'events' });
    await this.core.createNamespacedEvent({ namespace: event.metadata.namespace ?? 'default', body: event });
  }

  async requestToken(namespace: string, name: string, audiences: string[], expirationSeconds: number): Promise<string> {
    await this.paced('create', 'serviceaccounts/token');
    const res = await this.core.createNamespacedServiceAccountToken({
      namespace,
      name,
      body: { spec: { audiences, expirationSeconds } },
    });
    const token = res.status?.token;
    if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
    return token;
  }
}
