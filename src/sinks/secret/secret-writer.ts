// Writes rendered data into the target Secret, and only when something differs.
//   Owner / Orphan: the Secret is Ferry's alone. Created with POST; an existing Secret is taken
//     over only when Ferry already manages it for this ExternalSecret. Updated with PUT from the
//     cached object under its resourceVersion, so labels and annotations others set are kept.
//   Merge: server-side apply of Ferry's keys into a Secret that must already exist, with a field
//     manager per ExternalSecret so several ExternalSecrets can merge into one Secret. Only into a
//     Secret an ExternalSecret created, or one that consents (annotation ferry.dev/merge-from).
//   immutable: a data change deletes (uid and resourceVersion preconditions) and re-creates the
//     Secret; if the new one is refused, the previous one is created again.
import { createHash } from 'node:crypto';
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { FerryError } from '../../errors.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import { consents, MERGE_CONSENT_ANNOTATION } from '../../kube/consent.ts';
import { lostLastApplied, trimBookkeeping } from '../../kube/informer.ts';
import type { SecretData } from '../../values.ts';

export const MANAGED_LABEL = 'ferry.dev/managed';
export const OWNER_ANNOTATION = 'ferry.dev/external-secret';
export const HASH_ANNOTATION = 'ferry.dev/data-hash';

export interface TargetPlan {
  namespace: string;
  name: string;
  creationPolicy: 'Owner' | 'Orphan' | 'Merge';
  immutable: boolean;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Name of the ExternalSecret writing this target, recorded on Secrets it owns. */
  externalSecretName: string;
  ownerReference?: V1OwnerReference;
  /** Field manager for server-side apply (Merge). */
  fieldManager: string;
}

const SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';

export type WriteOutcome = 'created' | 'updated' | 'replaced' | 'unchanged';

/** The target Secret belongs to someone else, or cannot be taken over as the ExternalSecret asks. */
export class TargetConflictError extends FerryError {
  constructor(message: string) {
    super('TargetConflict', message);
    this.name = 'TargetConflictError';
  }
}

export function dataHash(type: string, data: SecretData): string {
  const h = createHash('sha256').update(type).update('\0');
  for (const key of [...data.keys()].sort()) {
    h.update(key)
      .update('\0')
      .update(data.get(key)?.reveal() ?? Buffer.alloc(0))
      .update('\0');
  }
  // Hex of the first 16 bytes, not a slice of the 64-character hex: a sliced string keeps its
  // whole parent alive, and this hash is kept per ExternalSecret.
  return h.digest().subarray(0, 16).toString('hex');
}

function encode(data: SecretData): Record<string, string> {
  return Object.fromEntries([...data].map(([k, v]) => [k, v.reveal().toString('base64')]));
}

function sameData(
  existing: Record<string, string> | undefined,
  wanted: Record<string, string>,
  onlyWanted: boolean,
): boolean {
  const have = existing ?? {};
  for (const [k, v] of Object.entries(wanted)) if (have[k] !== v) return false;
  return onlyWanted || Object.keys(have).length === Object.keys(wanted).length;
}

function includes(have: Record<string, string> | undefined, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

/**
 * An ownerReference to this plan's ExternalSecret (by name: an earlier ExternalSecret of that name
 * counts too). Kept only under creationPolicy Owner: after a switch to Orphan or Merge it is
 * removed, as ESO does, or the garbage collector would still delete the Secret with the
 * ExternalSecret the user meant it to outlive.
 */
function isOwnReference(r: V1OwnerReference, plan: TargetPlan): boolean {
  return r.kind === 'ExternalSecret' && r.name === plan.externalSecretName && r.apiVersion.startsWith('ferry.dev/');
}

function staleOwnerReference(existing: V1Secret, plan: TargetPlan): boolean {
  return (
    plan.ownerReference === undefined &&
    Boolean(existing.metadata?.ownerReferences?.some((r) => isOwnReference(r, plan)))
  );
}

function ownedMetadata(plan: TargetPlan, hash: string) {
  return {
    labels: { ...plan.labels, [MANAGED_LABEL]: 'true' },
    annotations: { ...plan.annotations, [OWNER_ANNOTATION]: plan.externalSecretName, [HASH_ANNOTATION]: hash },
  };
}

/** Prefix of the per-ExternalSecret field managers that merge keys by server-side apply. */
export const MERGE_MANAGER_PREFIX = 'ferry-';

/**
 * The managed-Secret cache's transform: no managedFields but the `data` keys of Ferry's own
 * server-side apply managers (appliedKeys reads them for creationPolicy Merge), no last-applied
 * annotation. Data stays: drift detection and the no-op check compare it.
 */
export function trimManagedSecret(secret: V1Secret): V1Secret {
  trimBookkeeping(secret, (m) => m.operation === 'Apply' && (m.manager ?? '').startsWith(MERGE_MANAGER_PREFIX));
  const meta = secret.metadata;
  if (meta?.managedFields) {
    // New entries rather than deleting from the parsed ones: see trimBookkeeping.
    meta.managedFields = meta.managedFields.map((m) => {
      const data = (m.fieldsV1 as { 'f:data'?: Record<string, unknown> } | undefined)?.['f:data'];
      return {
        manager: m.manager,
        operation: m.operation,
        fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data ?? {}).map((k) => [k, {}])) },
      };
    });
  }
  return secret;
}

/** Keys of `data` that `fieldManager` set by server-side apply, read from managedFields. */
export function appliedKeys(existing: V1Secret, fieldManager: string): string[] {
  const entry = existing.metadata?.managedFields?.find((m) => m.manager === fieldManager && m.operation === 'Apply');
  const fields = (entry?.fieldsV1 as { 'f:data'?: Record<string, unknown> } | undefined)?.['f:data'] ?? {};
  return Object.keys(fields)
    .filter((k) => k.startsWith('f:'))
    .map((k) => k.slice(2));
}

/** Whether `existing` already holds exactly what `plan` and `data` describe. */
export function isUpToDate(existing: V1Secret, plan: TargetPlan, data: SecretData): boolean {
  const wanted = encode(data);
  if (plan.creationPolicy === 'Merge') {
    const dropped = appliedKeys(existing, plan.fieldManager).some((k) => !(k in wanted));
    return (
      !dropped &&
      !staleOwnerReference(existing, plan) &&
      sameData(existing.data, wanted, true) &&
      includes(existing.metadata?.labels, { ...plan.labels, [MANAGED_LABEL]: 'true' })
    );
  }
  const meta = ownedMetadata(plan, dataHash(plan.type, data));
  return (
    sameData(existing.data, wanted, false) &&
    (existing.type ?? 'Opaque') === plan.type &&
    Boolean(existing.immutable) === plan.immutable &&
    includes(existing.metadata?.labels, meta.labels) &&
    includes(existing.metadata?.annotations, meta.annotations) &&
    !staleOwnerReference(existing, plan) &&
    (!plan.ownerReference ||
      Boolean(existing.metadata?.ownerReferences?.some((r) => r.uid === plan.ownerReference?.uid)))
  );
}

export class SecretWriter {
  private readonly kube: KubeClient;

  constructor(kube: KubeClient) {
    this.kube = kube;
  }

  /**
   * Brings the target in line with `data`. `cached` is the Secret from the managed-Secret cache;
   * undefined means Ferry does not know it (it may still exist unmanaged).
   */
  async write(plan: TargetPlan, data: SecretData, cached: V1Secret | undefined): Promise<WriteOutcome> {
    // Refused at admission too (CRD rule); here for objects admitted before the rule existed.
    if (plan.type === SERVICE_ACCOUNT_TOKEN) {
      throw new FerryError(
        'InvalidSpec',
        `spec.target.template.type: ${SERVICE_ACCOUNT_TOKEN} is refused: the token controller would fill the Secret with a non-expiring ServiceAccount token`,
      );
    }
    if (plan.creationPolicy === 'Merge') return this.merge(plan, data, cached);
    return cached ? this.update(plan, data, cached) : this.create(plan, data);
  }

  private desired(plan: TargetPlan, data: SecretData, base?: V1Secret): V1Secret {
    const meta = ownedMetadata(plan, dataHash(plan.type, data));
    const baseMeta = base?.metadata ?? {};
    const owners = (baseMeta.ownerReferences ?? []).filter(
      (r) => r.uid !== plan.ownerReference?.uid && !isOwnReference(r, plan),
    );
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        ...baseMeta,
        name: plan.name,
        namespace: plan.namespace,
        labels: { ...baseMeta.labels, ...meta.labels },
        annotations: { ...baseMeta.annotations, ...meta.annotations },
        ownerReferences: plan.ownerReference ? [...owners, plan.ownerReference] : owners,
      },
      type: plan.type,
      immutable: plan.immutable || undefined,
      data: encode(data),
    };
  }

  private async create(plan: TargetPlan, data: SecretData): Promise<WriteOutcome> {
    try {
      await this.kube.createSecret(this.desired(plan, data));
      return 'created';
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    // It exists but is not in the managed cache: someone else's Secret, or ours not yet seen.
    const existing = await this.kube.readSecret(plan.namespace, plan.name);
    if (!existing) return this.create(plan, data);
    const ours =
      existing.metadata?.labels?.[MANAGED_LABEL] === 'true' &&
      existing.metadata?.annotations?.[OWNER_ANNOTATION] === plan.externalSecretName;
    if (!ours) {
      throw new TargetConflictError(
        `Secret ${plan.namespace}/${plan.name} already exists and is not managed by this ExternalSecret; Ferry will not take it over (use target.creationPolicy Merge to write keys into it)`,
      );
    }
    return this.update(plan, data, existing);
  }

  private async update(plan: TargetPlan, data: SecretData, existing: V1Secret): Promise<WriteOutcome> {
    const owner = existing.metadata?.annotations?.[OWNER_ANNOTATION];
    if (owner !== undefined && owner !== plan.externalSecretName) {
      throw new TargetConflictError(
        `Secret ${plan.namespace}/${plan.name} is managed by ExternalSecret "${owner}"; two ExternalSecrets cannot own one Secret`,
      );
    }
    if (isUpToDate(existing, plan, data)) return 'unchanged';
    // The cache dropped kubectl's last-applied annotation; a PUT from it would delete it.
    if (lostLastApplied(existing)) {
      const fresh = await this.kube.readSecret(plan.namespace, plan.name);
      return fresh ? this.update(plan, data, fresh) : this.create(plan, data);
    }
    const dataChanged = !sameData(existing.data, encode(data), false) || (existing.type ?? 'Opaque') !== plan.type;
    // The API forbids changing an immutable Secret's data or making it mutable again.
    if (existing.immutable && (dataChanged || !plan.immutable)) {
      await this.replaceImmutable(existing, this.desired(plan, data, existing));
      return 'replaced';
    }
    await this.kube.replaceSecret(this.desired(plan, data, existing));
    return 'updated';
  }

  /**
   * An immutable Secret's data can only change by delete and create. The delete is conditional on
   * the version decided on; when the create is then refused (an admission policy, a quota), the
   * previous Secret is created again, so a refused replacement never leaves the Secret missing.
   */
  private async replaceImmutable(existing: V1Secret, wanted: V1Secret): Promise<void> {
    const meta = existing.metadata ?? {};
    await this.kube.deleteSecret(meta.namespace ?? '', meta.name ?? '', meta.uid ?? '', meta.resourceVersion);
    try {
      await this.kube.createSecret(asNew(wanted));
    } catch (err) {
      try {
        await this.kube.createSecret(asNew(existing));
      } catch (restoreErr) {
        throw new FerryError(
          'Transient',
          `replacing immutable Secret ${meta.namespace}/${meta.name}: the new Secret was refused (${apiErrorMessage(err)}) and the previous one could not be created again (${apiErrorMessage(restoreErr)}); the next sync creates it`,
        );
      }
      throw new FerryError(
        'Transient',
        `replacing immutable Secret ${meta.namespace}/${meta.name}: the new Secret was refused (${apiErrorMessage(err)}); the previous one was created again as it was`,
      );
    }
  }

  private async merge(plan: TargetPlan, data: SecretData, cached: V1Secret | undefined): Promise<WriteOutcome> {
    const existing = cached ?? (await this.kube.readSecret(plan.namespace, plan.name));
    if (!existing) {
      throw new TargetConflictError(
        `Secret ${plan.namespace}/${plan.name} does not exist; creationPolicy Merge only writes into an existing Secret`,
      );
    }
    if (!mayMerge(existing, plan.externalSecretName)) {
      throw new TargetConflictError(
        `spec.target.creationPolicy: Merge into Secret ${plan.namespace}/${plan.name} refused: no ExternalSecret created it and it does not consent; whoever owns it may allow this by annotating it ${MERGE_CONSENT_ANNOTATION}: ${plan.externalSecretName}`,
      );
    }
    if (isUpToDate(existing, plan, data)) return 'unchanged';
    let resourceVersion = existing.metadata?.resourceVersion;
    if (staleOwnerReference(existing, plan)) {
      // Server-side apply cannot drop a field another manager set: a PUT under the cached
      // resourceVersion removes the reference (a conflict retries the reconcile).
      const owners = existing.metadata?.ownerReferences?.filter((r) => !isOwnReference(r, plan)) ?? [];
      const replaced = await this.kube.replaceSecret({
        ...existing,
        metadata: { ...existing.metadata, ownerReferences: owners },
      });
      resourceVersion = replaced.metadata?.resourceVersion;
    }
    // Conditional on the version the decision was made on, like every other write: a former
    // leader's late apply never overwrites a newer one (409, and the reconcile runs again).
    await this.kube.applySecret(
      {
        metadata: {
          name: plan.name,
          namespace: plan.namespace,
          resourceVersion,
          labels: { ...plan.labels, [MANAGED_LABEL]: 'true' },
        },
        data: encode(data),
      },
      plan.fieldManager,
    );
    return 'updated';
  }
}

/**
 * Merge writes into a Secret only when an ExternalSecret created it (Owner or Orphan: it carries
 * the owner annotation) or it names this ExternalSecret in ferry.dev/merge-from: otherwise a
 * tenant could rewrite any Secret of the namespace, a Helm release's included.
 */
export function mayMerge(existing: V1Secret, externalSecretName: string): boolean {
  const meta = existing.metadata;
  if (meta?.labels?.[MANAGED_LABEL] === 'true' && meta.annotations?.[OWNER_ANNOTATION] !== undefined) return true;
  return consents(meta?.annotations, MERGE_CONSENT_ANNOTATION, externalSecretName);
}

/** `secret` as a body for create: without what the server assigned. */
function asNew(secret: V1Secret): V1Secret {
  const { resourceVersion, uid, creationTimestamp, managedFields, ...metadata } = secret.metadata ?? {};
  return { ...secret, metadata };
}
