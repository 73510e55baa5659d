// Provider clients per store: built once per (store UID, generation, credential identity) and
// reused by every reconcile, rebuilt after a while so rotated credentials are picked up (unless
// the client keeps its credentials fresh itself), and dropped when the store changes or its
// credentials are refused. One rate budget per store.
import { MAX_TOKEN_SECONDS } from '../api/v1alpha1/providers/vault.ts';
import type { AnyStore } from '../api/v1alpha1/types.ts';
import { apiServerAudiencesIn } from '../kube/api-audiences.ts';
import { apiErrorMessage, type KubeClient } from '../kube/client.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type EgressAllowList, EgressPolicy } from '../providers/egress.ts';
import { ProviderError, type SecretKeyRef, type ServiceAccountRef, type StoreContext } from '../providers/provider.ts';
import { referenceNamespace } from '../providers/references.ts';
import { selectProvider } from '../providers/registry.ts';
import type { SharedReads, StoreHandle } from '../providers/shared-reads.ts';
import { TokenBucket } from '../rate-limit.ts';
import { SecretValue } from '../values.ts';
import { ambientIdentityRefusal } from './store-identity.ts';

export interface StoreClientsOptions {
  /** Only these reads (`ferry render` answers them from local manifests). */
  kube: Pick<KubeClient, 'readSecret' | 'readConfigMap' | 'readServiceAccount' | 'requestToken'>;
  sharedReads: SharedReads;
  logger: Logger;
  metrics: Metrics;
  /** Provider calls per second per store, and burst. */
  providerQps: number;
  providerBurst: number;
  clientTtlMs?: number;
  /**
   * SecretStores (not only ClusterSecretStores) may authenticate as this process itself: its
   * default credential chains, managed identity or Application Default Credentials. The admin's
   * opt-in (--namespaced-ambient-identity); off, such a store is refused (store-identity.ts).
   */
  namespacedAmbientIdentity?: boolean;
  /**
   * Where namespaced SecretStores may make Ferry connect beyond public addresses (the admin's
   * --namespaced-store-allowed-hosts); undefined: no restriction (`ferry render` on a workstation).
   */
  namespacedStoreAllowList: EgressAllowList | undefined;
  /** The API server's published service-account issuer (one of its token audiences); absent offline. */
  serviceAccountIssuer?: () => Promise<string | undefined>;
  /** Further API server audiences an admin names (--api-audiences). */
  apiAudiences?: readonly string[];
}

interface CachedHandle {
  handle: Promise<StoreHandle>;
  createdAt: number;
  /** Set once the client is built, if it keeps its credentials fresh itself. */
  lasting?: boolean;
}

const CLOSE_GRACE_MS = 60_000;
/** Every token Ferry mints lives 10 minutes to an hour (the TokenRequest minimum is 10 minutes). */
const MIN_TOKEN_SECONDS = 600;
const MIN_REBUILD_AGE_MS = 10_000;
const SHUTDOWN_CLOSE_MS = 5_000;

/** A store reference that needs the consuming ExternalSecret's namespace, used where there is none. */
export class NeedsConsumerNamespaceError extends Error {}

/** A pod's own identity (CSI volumes): its ServiceAccount and the tokens kubelet minted for it. */
export interface WorkloadIdentity {
  /** `namespace/serviceAccount`. */
  key: string;
  namespace: string;
  serviceAccount: string;
  /** The current token for `audience` ('' is the API server's own audience). Throws ProviderError. */
  token(audience: string): string;
}

export class StoreClients {
  private readonly handles = new Map<string, CachedHandle>();
  private readonly budgets = new Map<string, TokenBucket>();
  private readonly opts: StoreClientsOptions & { clientTtlMs: number; namespacedAmbientIdentity: boolean };
  private readonly namespacedEgress: EgressPolicy;
  private issuer: Promise<ReadonlySet<string>> | undefined;

  constructor(opts: StoreClientsOptions) {
    // Only an explicit true opts in: an option passed through as undefined keeps the refusal.
    this.opts = {
      clientTtlMs: 10 * 60_000,
      ...opts,
      namespacedAmbientIdentity: opts.namespacedAmbientIdentity === true,
    };
    this.namespacedEgress = opts.namespacedStoreAllowList
      ? new EgressPolicy(opts.namespacedStoreAllowList)
      : EgressPolicy.unrestricted;
  }

  /**
   * The audiences learnt from the API server; asked once, and again after a failure, which fails
   * the token request (unknown audiences cannot be told apart from the API server's).
   */
  private apiAudiences(): Promise<ReadonlySet<string>> {
    const ask = this.opts.serviceAccountIssuer;
    const named = (this.opts.apiAudiences ?? []).map((a) => a.replace(/\/+$/, ''));
    if (!ask) return Promise.resolve(new Set(named));
    this.issuer ??= ask().then(
      (issuer) => new Set([...named, ...(issuer ? [issuer.replace(/\/+$/, '')] : [])]),
      (err: unknown) => {
        this.issuer = undefined;
        throw new ProviderError(
          'Transient',
          `could not read the API server's service-account issuer (/.well-known/openid-configuration), needed to check a SecretStore's token audiences: ${apiErrorMessage(err)}`,
        );
      },
    );
    return this.issuer;
  }

  /**
   * A client for `store` as used from `consumerNamespace` (the ExternalSecret's namespace;
   * empty when validating a ClusterSecretStore on its own).
   */
  async handle(store: AnyStore, consumerNamespace: string, workload?: WorkloadIdentity): Promise<StoreHandle> {
    const { provider, spec, defaultNamespace, uid, pod, key } = await this.identify(store, consumerNamespace, workload);
    const refusal = ambientIdentityRefusal(store, provider, spec, this.opts.namespacedAmbientIdentity);
    if (refusal) throw refusal;
    const cached = this.handles.get(key);
    if (cached && (cached.lasting || Date.now() - cached.createdAt < this.opts.clientTtlMs)) return cached.handle;
    if (cached) this.retire(key, cached);

    const ctx = this.context(store, defaultNamespace, provider.name, pod);
    const handle = provider
      .createClient(spec, ctx)
      .then((client): StoreHandle => ({ key, providerName: provider.name, client, budget: this.budget(uid) }));
    const entry: CachedHandle = { handle, createdAt: Date.now() };
    handle.then(
      (h) => {
        entry.lasting = h.client.keepsCredentialsFresh === true;
      },
      () => {},
    );
    this.handles.set(key, entry);
    handle.catch(() => {
      if (this.handles.get(key) === entry) this.handles.delete(key);
    });
    return handle;
  }

  /** The key handle() would give `store` used from `consumerNamespace`, without building a client. */
  async keyOf(store: AnyStore, consumerNamespace: string): Promise<string> {
    return (await this.identify(store, consumerNamespace)).key;
  }

  private async identify(store: AnyStore, consumerNamespace: string, workload?: WorkloadIdentity) {
    const { provider, spec } = await selectProvider(store.spec.provider);
    const defaultNamespace = store.kind === 'SecretStore' ? (store.metadata.namespace ?? '') : consumerNamespace;
    const uid = store.metadata.uid ?? `${store.kind}/${store.metadata.namespace}/${store.metadata.name}`;
    const pod = workload && provider.usesServiceAccountToken?.(spec) ? workload : undefined;
    const who = `${provider.identity(spec, defaultNamespace)}${pod ? `|pod=${pod.key}` : ''}`;
    return { provider, spec, defaultNamespace, uid, pod, key: `${uid}/${store.metadata.generation ?? 0}/${who}` };
  }

  /** Drops the client behind `handle` (its credentials were refused) so the next use rebuilds it. */
  invalidate(handle: StoreHandle): void {
    const cached = this.handles.get(handle.key);
    // A client built moments ago already holds the current credentials: refusing it again is an
    // answer about access, not stale credentials, and rebuilding would cost a login per object.
    if (cached && Date.now() - cached.createdAt >= MIN_REBUILD_AGE_MS) this.retire(handle.key, cached);
  }

  /** Drops every client of a store (it changed or was deleted). */
  forgetStore(uid: string): void {
    for (const [key, cached] of this.handles) if (key.startsWith(`${uid}/`)) this.retire(key, cached);
    this.budgets.delete(uid);
  }

  /** Closes every client now (shutdown: reconciles have drained), waiting at most a few seconds. */
  async closeAll(): Promise<void> {
    const closing = [...this.handles].map(([key, cached]) => {
      this.handles.delete(key);
      return close(cached);
    });
    await Promise.race([Promise.allSettled(closing), new Promise((r) => setTimeout(r, SHUTDOWN_CLOSE_MS).unref())]);
  }

  private retire(key: string, cached: CachedHandle): void {
    this.handles.delete(key);
    this.opts.sharedReads.forgetStore(key);
    // Reads in flight may still use the client; close it once they have had time to finish.
    setTimeout(() => void close(cached), CLOSE_GRACE_MS).unref();
  }

  private budget(uid: string): TokenBucket {
    let bucket = this.budgets.get(uid);
    if (!bucket) {
      bucket = new TokenBucket(this.opts.providerQps, this.opts.providerBurst);
      this.budgets.set(uid, bucket);
    }
    return bucket;
  }

  private context(
    store: AnyStore,
    defaultNamespace: string,
    provider: string,
    pod: WorkloadIdentity | undefined,
  ): StoreContext {
    const { kube, metrics } = this.opts;
    const apiAudiences = () => this.apiAudiences();
    const namespaceOf = (ref: { namespace?: string }, what: string) => {
      const ns = referenceNamespace(ref, store.kind, defaultNamespace, what);
      if (!ns)
        throw new NeedsConsumerNamespaceError(
          `${what} has no namespace; it is resolved in each ExternalSecret's namespace`,
        );
      return ns;
    };
    return {
      storeKind: store.kind,
      storeName: store.metadata.name ?? '',
      defaultNamespace,
      egress: store.kind === 'SecretStore' ? this.namespacedEgress : EgressPolicy.unrestricted,
      async readSecretKey(ref: SecretKeyRef) {
        const ns = namespaceOf(ref, `Secret reference "${ref.name}"`);
        const secret = await kube.readSecret(ns, ref.name);
        if (!secret) throw new ProviderError('Invalid', `credentials Secret ${ns}/${ref.name} does not exist`);
        const encoded = secret.data?.[ref.key];
        if (encoded === undefined)
          throw new ProviderError('Invalid', `credentials Secret ${ns}/${ref.name} has no key "${ref.key}"`);
        return SecretValue.fromBytes(Buffer.from(encoded, 'base64'));
      },
      async readConfigMapKey(ref: SecretKeyRef) {
        const ns = namespaceOf(ref, `ConfigMap reference "${ref.name}"`);
        const configMap = await kube.readConfigMap(ns, ref.name);
        if (!configMap) throw new ProviderError('Invalid', `ConfigMap ${ns}/${ref.name} does not exist`);
        const text = configMap.data?.[ref.key];
        if (text === undefined)
          throw new ProviderError('Invalid', `ConfigMap ${ns}/${ref.name} has no key "${ref.key}"`);
        return SecretValue.fromString(text);
      },
      recordLogin(method, outcome) {
        metrics.providerLogins.inc({ provider, method, outcome });
      },
      async readServiceAccountAnnotations(storeRef: ServiceAccountRef) {
        // A pod's volume logs in as the pod: its own ServiceAccount names the role, client or account.
        const ref = pod ? { name: pod.serviceAccount, namespace: pod.namespace } : storeRef;
        const ns = namespaceOf(ref, `ServiceAccount reference "${ref.name}"`);
        const account = await kube.readServiceAccount(ns, ref.name).catch((err: unknown) => {
          throw new ProviderError(
            'Transient',
            `could not read ServiceAccount ${ns}/${ref.name}: ${apiErrorMessage(err)}`,
          );
        });
        if (!account) throw new ProviderError('Invalid', `ServiceAccount ${ns}/${ref.name} does not exist`);
        return account.metadata?.annotations ?? {};
      },
      async requestToken(ref: ServiceAccountRef, defaultAudiences: string[], expirationSeconds = 600) {
        const audiences = ref.audiences?.length ? ref.audiences : defaultAudiences;
        // Refused at admission too where fixed (CRD rule); here always, the issuer included.
        if (store.kind === 'SecretStore') {
          const refused = apiServerAudiencesIn(audiences, await apiAudiences());
          if (refused.length > 0) {
            throw new ProviderError(
              'Invalid',
              `token audiences for ServiceAccount "${ref.name}" (serviceAccountRef.audiences, or kubernetesServiceAccountToken.audiences for Vault JWT): ${refused.join(', ')} is the API server's own audience, refused in a SecretStore (the token would be a credential to the cluster, sent to the store's server); set the audience the provider expects, e.g. vault, and the same audience on the provider's side`,
            );
          }
        }
        if (expirationSeconds > MAX_TOKEN_SECONDS || expirationSeconds < MIN_TOKEN_SECONDS) {
          throw new ProviderError(
            'Invalid',
            `a ServiceAccount token of ${expirationSeconds} s: Ferry asks for ${MIN_TOKEN_SECONDS} to ${MAX_TOKEN_SECONDS} s`,
          );
        }
        // A pod's volume authenticates as the pod: its own token, for the audience the store asks.
        if (pod) return pod.token(audiences[0] ?? '');
        const ns = namespaceOf(ref, `ServiceAccount reference "${ref.name}"`);
        try {
          return await kube.requestToken(ns, ref.name, audiences, expirationSeconds);
        } catch (err) {
          throw new ProviderError(
            'Denied',
            `could not get a token for ServiceAccount ${ns}/${ref.name}: ${apiErrorMessage(err)}`,
          );
        }
      },
    };
  }
}

async function close(cached: CachedHandle): Promise<void> {
  try {
    const handle = await cached.handle;
    await handle.client.close();
  } catch {
    // A client that never got built, or failed to close, holds nothing worth reporting.
  }
}
