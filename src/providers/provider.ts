// The contract every provider implements, and the error classes the controller's data-safety
// rules switch on. Providers return whole remote values; `property` and decoding are applied
// later (render), so one read serves every property of the same remote secret.
import type { ProviderName } from '../api/v1alpha1/providers/index.ts';
import { FerryError } from '../errors.ts';
import type { SecretValue } from '../values.ts';
import type { EgressPolicy } from './egress.ts';

export type ProviderErrorKind = 'NotFound' | 'Denied' | 'Throttled' | 'Invalid' | 'Transient';

/** A provider failure. Its message names keys and the provider's error code, never a value. */
export class ProviderError extends FerryError {
  declare readonly code: ProviderErrorKind;

  constructor(kind: ProviderErrorKind, message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(kind, message, opts);
    this.name = `ProviderError(${kind})`;
  }

  /** The code, by the name the data-safety rules have always used. */
  get kind(): ProviderErrorKind {
    return this.code;
  }
}

export interface RemoteRef {
  key: string;
  /** Provider-specific version selector; undefined means the current version. */
  version?: string;
  /** Fetch reads the secret's metadata (a JSON object) instead of its value. */
  metadataPolicy?: 'None' | 'Fetch';
}

/** dataFrom[].find: which remote secrets to list. */
export interface FindQuery {
  /** Name prefix. */
  path?: string;
  /** Go (RE2) regexp the name must match. */
  nameRegexp?: string;
  /** Tags the secret must carry, each with exactly this value. */
  tags?: Record<string, string>;
}

export interface FetchedValue {
  value: SecretValue;
  /** The provider's identifier of the version that was read, when it reports one. */
  versionId?: string;
}

export interface ProviderClient {
  /** Reads one remote secret, whole. Throws ProviderError. */
  read(ref: RemoteRef, signal: AbortSignal): Promise<FetchedValue>;
  /** Reads several refs in one call; each slot is a value or that ref's error. */
  readMany?(refs: RemoteRef[], signal: AbortSignal): Promise<(FetchedValue | ProviderError)[]>;
  /** The client can read metadata (RemoteRef.metadataPolicy Fetch); others are never asked to. */
  readonly readsMetadata?: boolean;
  /** Refs readMany accepts, and how many per call. */
  batchable?(ref: RemoteRef): boolean;
  readonly maxBatch?: number;
  /**
   * Names of the remote secrets matching `query`, as `read` takes them (dataFrom[].find). A listing
   * that needs more than one call awaits `pace` before each further call (the store's budget).
   */
  find?(query: FindQuery, signal: AbortSignal, pace?: () => Promise<void>): Promise<string[]>;
  /** A cheap call that proves reachability and credentials. */
  validate(signal: AbortSignal): Promise<void>;
  /**
   * The client renews its own credentials and re-reads them when they are refused, so it is kept
   * for as long as its store is unchanged rather than rebuilt every few minutes.
   */
  readonly keepsCredentialsFresh?: boolean;
  /** Releases connections, and revokes credentials the client created where that is cheap. */
  close(): void | Promise<void>;
}

/** A reference to a key of a Kubernetes Secret, as written in a store spec. */
export interface SecretKeyRef {
  name: string;
  key: string;
  namespace?: string;
}

export interface ServiceAccountRef {
  name: string;
  namespace?: string;
  audiences?: string[];
}

/** What a provider may ask of Kubernetes, while building a client or later: reads, never writes. */
export interface StoreContext {
  storeKind: 'SecretStore' | 'ClusterSecretStore';
  storeName: string;
  /** Namespace that namespace-less references resolve in (see resolveNamespace). */
  defaultNamespace: string;
  readSecretKey(ref: SecretKeyRef): Promise<SecretValue>;
  /** A key of a ConfigMap (CA bundles); returned as a SecretValue only for a uniform shape. */
  readConfigMapKey(ref: SecretKeyRef): Promise<SecretValue>;
  requestToken(ref: ServiceAccountRef, defaultAudiences: string[], expirationSeconds?: number): Promise<string>;
  /** Annotations of a ServiceAccount (GKE Workload Identity names a Google service account there). */
  readServiceAccountAnnotations(ref: ServiceAccountRef): Promise<Record<string, string>>;
  /**
   * Where the store may make Ferry connect (egress.ts): unrestricted for a ClusterSecretStore,
   * the admin's allow-list for a namespaced SecretStore.
   */
  egress: EgressPolicy;
  /** Counts one login to the provider (a call that creates a session or token), by method and outcome. */
  recordLogin(method: string, outcome: 'ok' | ProviderErrorKind): void;
}

export interface Provider<Spec> {
  readonly name: ProviderName;
  /**
   * Identifies the credentials a client for `spec` uses, given the namespace namespace-less
   * references resolve in. Reads are shared only between clients with the same identity.
   */
  identity(spec: Spec, defaultNamespace: string): string;
  /**
   * The store authenticates with a ServiceAccount token (StoreContext.requestToken). Where a pod's
   * own token is at hand (the CSI driver), that token is used instead, and reads are shared only
   * between pods of the same ServiceAccount.
   */
  usesServiceAccountToken?(spec: Spec): boolean;
  /**
   * The store authenticates as the process itself (the controller's or the node's own identity:
   * a default credential chain, a managed identity, Application Default Credentials): the field
   * that makes it so, and what it borrows. Undefined when the store names its own credentials.
   */
  ambientIdentity?(spec: Spec): string | undefined;
  createClient(spec: Spec, ctx: StoreContext): Promise<ProviderClient>;
  /**
   * Clients for `spec` read many keys per call (ProviderClient.readMany), so the store's call
   * budget is seldom what limits its reads: a restart's overdue refreshes then read every key
   * first and the rest reuse those reads (Controller.queueFirstList). Where each key costs a
   * call, the budget paces reads and the refreshes that reuse them are better done meanwhile.
   */
  readsInBatches?(spec: Spec): boolean;
}

/** Message text from a provider, cut short so a verbose error can never carry much. */
export function providerMessage(text: unknown): string {
  const s = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
