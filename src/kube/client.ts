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
  WellKnownApi,
} from '@kubernetes/client-node';
import type { Metrics } from '../observability/metrics.ts';
import { backoffDelay, sleep, TokenBucket } from '../rate-limit.ts';

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

/** client-go retries a 429 up to 10 times before it returns it. */
const MAX_THROTTLE_RETRIES = 10;

/**
 * For a 429 Too Many Requests, the wait the server asks for (Retry-After, in seconds; 0 when it
 * names none); undefined for any other outcome.
 */
export function tooManyRequests(err: unknown): number | undefined {
  if (!(err instanceof ApiException) || err.code !== 429) return undefined;
  const header = Object.entries(err.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 0;
}

async function orNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
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

  /**
   * One API request, paced by the client-side token bucket. A 429 (the API server's Priority and
   * Fairness, or max-inflight, rejecting it before it ran, so a retry is safe) holds back every
   * new request of this client for the server's Retry-After, or a backoff growing with this
   * request's attempts when it names none; the request itself retries after that plus a random
   * part of it, so requests rejected together do not return together. Up to 10 retries, as
   * client-go; other errors are the caller's.
   */
  private async send<T>(verb: string, resource: string, fn: () => Promise<T>, write = false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.limiter.take();
      // Refused unless the write gate allows it at the moment the request leaves.
      if (write && this.writeGate && !this.writeGate()) throw new NotLeaderError();
      this.metrics.kubeRequests.inc({ verb, resource });
      try {
        return await fn();
      } catch (err) {
        const retryAfterMs = tooManyRequests(err);
        if (retryAfterMs === undefined || attempt >= MAX_THROTTLE_RETRIES) throw err;
        this.metrics.kubeThrottled.inc({ verb, resource });
        const pause = retryAfterMs > 0 ? retryAfterMs : backoffDelay(attempt, 250, 30_000);
        this.limiter.pauseUntil(Date.now() + pause);
        await sleep(pause + Math.random() * pause);
      }
    }
  }

  /**
   * Server-side apply: fields `fieldManager` does not set are left alone. A `metadata.
   * resourceVersion` in `secret` makes it conditional (409 when the Secret changed since).
   */
  async applySecret(secret: V1Secret, fieldManager: string): Promise<V1Secret> {
    return this.send(
      'apply',
      'secrets',
      () =>
        this.objects.patch(
          { apiVersion: 'v1', kind: 'Secret', ...secret },
          undefined,
          undefined,
          fieldManager,
          true,
          PatchStrategy.ServerSideApply,
        ),
      true,
    );
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceSecret(secret: V1Secret): Promise<V1Secret> {
    const request = {
      namespace: secret.metadata?.namespace ?? '',
      name: secret.metadata?.name ?? '',
      body: secret,
      fieldManager: FIELD_MANAGER,
    };
    return this.send('update', 'secrets', () => this.core.replaceNamespacedSecret(request), true);
  }

  async createSecret(secret: V1Secret): Promise<V1Secret> {
    const request = { namespace: secret.metadata?.namespace ?? '', body: secret, fieldManager: FIELD_MANAGER };
    return this.send('create', 'secrets', () => this.core.createNamespacedSecret(request), true);
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return orNotFound(this.send('get', 'secrets', () => this.core.readNamespacedSecret({ namespace, name })));
  }

  async readConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return orNotFound(this.send('get', 'configmaps', () => this.core.readNamespacedConfigMap({ namespace, name })));
  }

  async readServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    return orNotFound(
      this.send('get', 'serviceaccounts', () => this.core.readNamespacedServiceAccount({ namespace, name })),
    );
  }

  /**
   * Deletes a Secret only if it is still the object with `uid` and, when given, still at
   * `resourceVersion` (what the caller decided on: a newer write, e.g. by a new leader, wins).
   */
  async deleteSecret(namespace: string, name: string, uid: string, resourceVersion?: string): Promise<void> {
    await orNotFound(
      this.send(
        'delete',
        'secrets',
        () => this.core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid, resourceVersion } } }),
        true,
      ),
    );
  }

  async readWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<Workload | undefined> {
    return orNotFound(
      this.send('get', kind.toLowerCase(), (): Promise<Workload> => {
        if (kind === 'Deployment') return this.apps.readNamespacedDeployment({ namespace, name });
        if (kind === 'StatefulSet') return this.apps.readNamespacedStatefulSet({ namespace, name });
        return this.apps.readNamespacedDaemonSet({ namespace, name });
      }),
    );
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceWorkload(kind: WorkloadKind, workload: Workload): Promise<void> {
    const namespace = workload.metadata?.namespace ?? '';
    const name = workload.metadata?.name ?? '';
    await this.send(
      'update',
      kind.toLowerCase(),
      (): Promise<unknown> => {
        if (kind === 'Deployment')
          return this.apps.replaceNamespacedDeployment({ namespace, name, body: workload as V1Deployment });
        if (kind === 'StatefulSet')
          return this.apps.replaceNamespacedStatefulSet({ namespace, name, body: workload as V1StatefulSet });
        return this.apps.replaceNamespacedDaemonSet({ namespace, name, body: workload as V1DaemonSet });
      },
      true,
    );
  }

  /** Every workload of `kind` in the namespace. */
  async listWorkloads(kind: WorkloadKind, namespace: string): Promise<Workload[]> {
    return this.send('list', kind.toLowerCase(), async (): Promise<Workload[]> => {
      if (kind === 'Deployment') return (await this.apps.listNamespacedDeployment({ namespace })).items;
      if (kind === 'StatefulSet') return (await this.apps.listNamespacedStatefulSet({ namespace })).items;
      return (await this.apps.listNamespacedDaemonSet({ namespace })).items;
    });
  }

  /** Pod specs that may reference a Secret: workloads, ReplicaSets (rollback history) and pods. */
  async listPodTemplates(namespace: string): Promise<V1PodTemplateSpec[]> {
    const kinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
    const workloads = (await Promise.all(kinds.map((k) => this.listWorkloads(k, namespace)))).flat();
    const replicaSets = (
      await this.send('list', 'replicasets', () => this.apps.listNamespacedReplicaSet({ namespace }))
    ).items;
    const pods = (await this.send('list', 'pods', () => this.core.listNamespacedPod({ namespace }))).items;
    return [
      ...workloads.map((w) => w.spec?.template as V1PodTemplateSpec),
      ...replicaSets.map((r) => r.spec?.template ?? {}),
      ...pods.map((p) => ({ metadata: p.metadata, spec: p.spec })),
    ];
  }

  async readNamespace(name: string): Promise<V1Namespace> {
    return this.send('get', 'namespaces', () => this.core.readNamespace({ name }));
  }

  /**
   * Merge-patches the status subresource. With `resourceVersion` the patch is refused (409) when
   * the object changed since it was read: a former leader's late write never overwrites a newer one.
   */
  async patchStatus(
    plural: string,
    namespace: string | undefined,
    name: string,
    status: unknown,
    resourceVersion?: string,
  ): Promise<void> {
    const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
    const common = { group: 'ferry.dev', version: 'v1alpha1', plural, name, body };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await this.send(
      'patch',
      `${plural}/status`,
      () =>
        namespace
          ? this.custom.patchNamespacedCustomObjectStatus({ ...common, namespace }, merge)
          : this.custom.patchClusterCustomObjectStatus(common, merge),
      true,
    );
  }

  /** Creates a Ferry custom object in `namespace` (ClusterExternalSecret copies). */
  async createCustomObject<T extends object>(plural: string, namespace: string, body: T): Promise<T> {
    return (await this.send(
      'create',
      plural,
      () =>
        this.custom.createNamespacedCustomObject({
          group: 'ferry.dev',
          version: 'v1alpha1',
          plural,
          namespace,
          body,
          fieldManager: FIELD_MANAGER,
        }),
      true,
    )) as T;
  }

  /** PUT under the object's resourceVersion: fails with 409 if it changed since it was read. */
  async replaceCustomObject<T extends { metadata?: { namespace?: string; name?: string } }>(
    plural: string,
    body: T,
  ): Promise<T> {
    return (await this.send(
      'update',
      plural,
      () =>
        this.custom.replaceNamespacedCustomObject({
          group: 'ferry.dev',
          version: 'v1alpha1',
          plural,
          namespace: body.metadata?.namespace ?? '',
          name: body.metadata?.name ?? '',
          body,
          fieldManager: FIELD_MANAGER,
        }),
      true,
    )) as T;
  }

  /** Deletes a namespaced Ferry object only if it is still the object with `uid`. */
  async deleteCustomObject(plural: string, namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.send(
        'delete',
        plural,
        () =>
          this.custom.deleteNamespacedCustomObject({
            group: 'ferry.dev',
            version: 'v1alpha1',
            plural,
            namespace,
            name,
            body: { preconditions: { uid } },
          }),
        true,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Merge-patches a cluster-scoped Ferry object (e.g. its finalizers, under a resourceVersion). */
  async patchClusterCustomObject(plural: string, name: string, patch: object): Promise<void> {
    await this.send(
      'patch',
      plural,
      () =>
        this.custom.patchClusterCustomObject(
          { group: 'ferry.dev', version: 'v1alpha1', plural, name, body: patch },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      true,
    );
  }

  /** Not paced by the shared limiter: events are best-effort and budgeted by the recorder. */
  async createEvent(event: CoreV1Event): Promise<void> {
    if (this.writeGate && !this.writeGate()) throw new NotLeaderError();
    this.metrics.kubeRequests.inc({ verb: 'create', resource: 'events' });
    await this.core.createNamespacedEvent({ namespace: event.metadata.namespace ?? 'default', body: event });
  }

  /**
   * The service-account issuer the API server publishes (/.well-known/openid-configuration, open to
   * every ServiceAccount by default): also its default token audience.
   */
  async serviceAccountIssuer(): Promise<string | undefined> {
    const answer: unknown = await this.send('get', 'openid-configuration', () =>
      this.kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration(),
    );
    // Typed as a string, but the generated client parses the JSON body.
    const config = (typeof answer === 'string' ? JSON.parse(answer) : answer) as { issuer?: unknown } | undefined;
    const issuer = config?.issuer;
    return typeof issuer === 'string' ? issuer : undefined;
  }

  async requestToken(namespace: string, name: string, audiences: string[], expirationSeconds: number): Promise<string> {
    const res = await this.send('create', 'serviceaccounts/token', () =>
      this.core.createNamespacedServiceAccountToken({
        namespace,
        name,
        body: { spec: { audiences, expirationSeconds } },
      }),
    );
    const token = res.status?.token;
    if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
    return token;
  }
}
