// The write of a sync: the target Secret (or, with versioning, a new immutable version of it),
// what follows for the pods that consume it, and the deletions deletionPolicy Delete and a
// renamed target ask for. Only a Secret this ExternalSecret wrote is ever deleted.
import type { V1Secret } from '@kubernetes/client-node';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { FerryError } from '../../errors.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Settings } from '../../pipeline/settings.ts';
import type { RenderedTarget } from '../../pipeline/target-template.ts';
import { dataHash, OWNER_ANNOTATION, type SecretWriter } from '../../sinks/secret/secret-writer.ts';
import { afterWrite, type ConsumerDeps, VERSIONS_OF_ANNOTATION, versionName } from './consumers.ts';
import { writtenRecord } from './drift.ts';
import type { ObjectState } from './object-state.ts';

export interface WriteDeps extends ConsumerDeps {
  writer: SecretWriter;
  kube: KubeClient;
  events: EventRecorder;
  logger: Logger;
  /** The target Secret from the managed-Secret cache. */
  managedSecret(namespace: string, name: string): V1Secret | undefined;
}

/**
 * Writes the rendered target and runs what follows for its consumers. Returns the Secret's name
 * (none with creationPolicy None), or 'conflict' when the Secret changed under the write (retried
 * at once). Throws FerryError.
 */
export async function writeTarget(
  es: ExternalSecret,
  settings: Settings,
  rendered: RenderedTarget,
  target: V1Secret | undefined,
  state: ObjectState,
  deps: WriteDeps,
): Promise<{ secretName?: string } | 'conflict'> {
  const namespace = es.metadata.namespace ?? '';
  const name = es.metadata.name ?? '';
  const { data } = rendered;
  // With versioning each content is its own immutable Secret, named after its hash.
  const contentHash = dataHash(settings.type, data);
  const versioned = settings.versionsKept !== undefined;
  const secretName = versioned ? versionName(settings.targetName, contentHash) : settings.targetName;
  if (settings.creationPolicy === 'None') {
    // Files only (CSI): no Secret to write, but apps that read their files at start still roll.
    const previous = state.contentHash;
    state.contentHash = contentHash;
    noteRollouts(
      state,
      await afterWrite(es, settings, { secretName, contentHash, outcome: 'unchanged', previous }, deps),
    );
    return {};
  }
  const plan = {
    namespace,
    name: secretName,
    creationPolicy: settings.creationPolicy,
    immutable: settings.immutable || versioned,
    type: settings.type,
    labels: rendered.labels,
    annotations: versioned
      ? { ...rendered.annotations, [VERSIONS_OF_ANNOTATION]: settings.targetName }
      : rendered.annotations,
    externalSecretName: name,
    fieldManager: `ferry-${es.metadata.uid}`,
    ownerReference:
      settings.creationPolicy === 'Owner'
        ? {
            apiVersion: es.apiVersion,
            kind: es.kind,
            name,
            uid: es.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          }
        : undefined,
  };
  const record = writtenRecord(settings, data);
  state.writing = record;
  try {
    const current = versioned ? deps.managedSecret(namespace, secretName) : target;
    const outcome = await deps.writer.write(plan, data, current);
    state.written = record;
    if (outcome !== 'unchanged') {
      const what = outcome === 'replaced' ? 'replaced (immutable Secret)' : outcome;
      deps.logger.info({ namespace, name, target: secretName, outcome, keys: data.size }, `Secret ${what}`);
      deps.events.record(es, 'Normal', outcome === 'created' ? 'Created' : 'Updated', `Secret "${secretName}" ${what}`);
    }
    noteRollouts(state, await afterWrite(es, settings, { secretName, contentHash, outcome }, deps));
    if (settings.creationPolicy === 'Owner' && !versioned) await deleteFormerTarget(es, secretName, deps);
  } catch (err) {
    if (err instanceof FerryError) throw err;
    if (isConflict(err)) return 'conflict';
    throw new FerryError('Transient', `writing Secret "${secretName}": ${apiErrorMessage(err)}`);
  } finally {
    state.writing = undefined;
  }
  return { secretName };
}

/** Keeps the note of the last write that asked for rollouts ('' clears it). */
function noteRollouts(state: ObjectState, note: string | undefined): void {
  if (note !== undefined) state.rolloutNote = note || undefined;
}

/** deletionPolicy Delete with every remote key gone: the target goes, if this ExternalSecret wrote it. */
export async function deleteTarget(
  es: ExternalSecret,
  s: Settings,
  target: V1Secret | undefined,
  deps: WriteDeps,
): Promise<void> {
  const namespace = es.metadata.namespace ?? '';
  // Only a Secret this ExternalSecret wrote: the name alone could be another ExternalSecret's target.
  if (!target?.metadata?.uid || target.metadata.annotations?.[OWNER_ANNOTATION] !== es.metadata.name) return;
  await deps.kube.deleteSecret(namespace, s.targetName, target.metadata.uid, target.metadata.resourceVersion);
  deps.logger.info(
    { namespace, name: es.metadata.name, target: s.targetName },
    'Secret deleted: every remote key is gone',
  );
  deps.events.record(
    es,
    'Normal',
    'Deleted',
    `Secret "${s.targetName}" deleted: every remote key is gone (deletionPolicy Delete)`,
  );
}

/**
 * After target.name changed: the Secret this ExternalSecret last wrote (status.binding.name) under
 * the former name goes, when it still owns it (its controller ownerReference), as ESO's
 * deleteOrphanedSecrets does for Owner. It would be garbage-collected with the ExternalSecret
 * anyway; nothing else refers to it. One cache lookup, no scan.
 */
async function deleteFormerTarget(es: ExternalSecret, current: string, deps: WriteDeps): Promise<void> {
  const namespace = es.metadata.namespace ?? '';
  const former = es.status?.binding?.name;
  const uid = es.metadata.uid;
  if (!former || former === current || !uid) return;
  const meta = deps.managedSecret(namespace, former)?.metadata;
  if (!meta?.uid || meta.annotations?.[OWNER_ANNOTATION] !== es.metadata.name) return;
  if (meta.annotations?.[VERSIONS_OF_ANNOTATION] !== undefined) return;
  if (!meta.ownerReferences?.some((r) => r.uid === uid && r.controller)) return;
  try {
    await deps.kube.deleteSecret(namespace, former, meta.uid, meta.resourceVersion);
  } catch (err) {
    // The new target is written; the former one goes with the ExternalSecret in any case.
    deps.logger.warn(
      { namespace, name: es.metadata.name, target: former, error: apiErrorMessage(err) },
      'former target Secret not deleted',
    );
    return;
  }
  deps.logger.info({ namespace, name: es.metadata.name, target: former }, 'former target Secret deleted');
  deps.events.record(es, 'Normal', 'Deleted', `Secret "${former}" deleted: target.name is now "${current}"`);
}
