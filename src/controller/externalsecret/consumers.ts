// What follows a write for the pods that consume the Secret: versioned Secrets (a new immutable
// Secret per content, old ones collected once unreferenced) and rollouts of the workloads that
// read it. Runs after the Secret is written; a failure here is reported, never undoes the write.
import type { V1Secret } from '@kubernetes/client-node';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { apiErrorMessage, type KubeClient, type Workload, type WorkloadKind } from '../../kube/client.ts';
import { consents, ROLLOUT_CONSENT_ANNOTATION } from '../../kube/consent.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Settings } from '../../pipeline/settings.ts';
import { OWNER_ANNOTATION, type WriteOutcome } from '../../sinks/secret/secret-writer.ts';
import type { RolloutRestarter, WorkloadRef } from '../rollout/restarter.ts';
import { referencedSecrets } from '../rollout/secret-references.ts';

/** Marks a versioned Secret with the target name it is a version of. */
export const VERSIONS_OF_ANNOTATION = 'ferry.dev/versions-of';

export function versionName(targetName: string, contentHash: string): string {
  return `${targetName}-${contentHash.slice(0, 10)}`;
}

/** The target's plain name, or any of its versions. */
export function isVersionOf(targetName: string): (name: string) => boolean {
  return (name) =>
    name === targetName ||
    (name.length === targetName.length + 11 &&
      name.startsWith(`${targetName}-`) &&
      /^[0-9a-f]{10}$/.test(name.slice(-10)));
}

export interface ConsumerDeps {
  kube: KubeClient;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  /** Absent when workload rollouts are off in this installation (--workload-rollouts). */
  restarter?: RolloutRestarter;
  /** Managed Secrets of a namespace, from the cache. */
  managedSecrets(namespace: string): V1Secret[];
}

export interface Written {
  secretName: string;
  contentHash: string;
  outcome: WriteOutcome;
  /**
   * Files only (creationPolicy None): the content hash of the previous sync in this process, or
   * undefined on the first one since start.
   */
  previous?: string;
}

/**
 * Returns, when this write asked for rollouts, what the status should say about the workloads
 * left alone ('' when none were): undefined when no rollout was asked for (the last note stands).
 */
export async function afterWrite(
  es: ExternalSecret,
  s: Settings,
  written: Written,
  deps: ConsumerDeps,
): Promise<string | undefined> {
  let note: string | undefined;
  const versioned = s.versionsKept !== undefined;
  const filesOnly = s.creationPolicy === 'None';
  // Versioned: a new version repoints consumers. Plain: a changed Secret restarts them; a first
  // create restarts nothing (its pods are starting with it). Files only: the content changed since
  // the last sync, or, on the first sync after a restart, a workload already rolled for an older one.
  const changed = versioned
    ? written.outcome === 'created'
    : filesOnly
      ? written.previous !== written.contentHash
      : written.outcome === 'updated' || written.outcome === 'replaced';
  if (changed && !deps.restarter && (s.rolloutTargets.length > 0 || s.rolloutDiscovery)) {
    // The fields are admitted by the CRD; say why they did nothing rather than ignore them.
    const field = s.rolloutTargets.length > 0 ? 'rolloutRestartTargets' : 'rolloutRestartDiscovery';
    note = `spec.target.${field}: no workload rolled: workload rollouts are off in this installation (controller flag --workload-rollouts, chart value controller.workloadRollouts)`;
    deps.events.record(es, 'Warning', 'RolloutRefused', note);
  }
  if (changed && deps.restarter && (s.rolloutTargets.length > 0 || s.rolloutDiscovery || versioned)) {
    const found = await restartTargets(es, s, deps).catch((err: unknown) => {
      deps.events.record(es, 'Warning', 'RolloutRestartFailed', `listing workloads: ${apiErrorMessage(err)}`);
      return [] as Found[];
    });
    const refs = found.map((f) => f.ref);
    // The restarter checks consent again when it writes (and records the Event); this is the status.
    const refused = found.filter(
      (f) =>
        f.workload && !consents(f.workload.metadata?.annotations, ROLLOUT_CONSENT_ANNOTATION, es.metadata.name ?? ''),
    );
    note =
      refused.length === 0
        ? ''
        : `not rolled, no ${ROLLOUT_CONSENT_ANNOTATION}: ${es.metadata.name} on them: ${refused.map((f) => `${f.ref.kind} ${f.ref.name}`).join(', ')}`;
    deps.restarter.request(es, refs, {
      namespace: es.metadata.namespace ?? '',
      secretName: written.secretName,
      contentHash: written.contentHash,
      targetName: s.targetName,
      repoint: versioned ? isVersionOf(s.targetName) : undefined,
      onlyIfRolledBefore: filesOnly && written.previous === undefined,
    });
  }
  if (versioned && !changed && s.rolloutTargets.length > 0 && deps.restarter) {
    // A listed workload created after the version was written still names the plain target.
    deps.restarter.request(es, s.rolloutTargets, {
      namespace: es.metadata.namespace ?? '',
      secretName: written.secretName,
      contentHash: written.contentHash,
      targetName: s.targetName,
      repoint: isVersionOf(s.targetName),
      plainNameOnly: true,
    });
  }
  if (versioned) {
    await collectOldVersions(es, s, written.secretName, deps).catch((err: unknown) => {
      deps.logger.warn(
        { namespace: es.metadata.namespace, name: es.metadata.name, error: apiErrorMessage(err) },
        'old Secret versions not collected',
      );
    });
  }
  return note;
}

/** A workload to roll, and its object when it could be read (a missing one is the restarter's to report). */
interface Found {
  ref: WorkloadRef;
  workload?: Workload;
}

/** The listed workloads, plus (with discovery) every workload whose template reads the Secret. */
async function restartTargets(es: ExternalSecret, s: Settings, deps: ConsumerDeps): Promise<Found[]> {
  const namespace = es.metadata.namespace ?? '';
  const found = new Map<string, Found>();
  if (s.rolloutDiscovery) {
    const reads = isVersionOf(s.targetName);
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as WorkloadKind[]) {
      for (const w of await deps.kube.listWorkloads(kind, namespace)) {
        if ([...referencedSecrets(w.spec?.template?.spec)].some(reads)) {
          found.set(`${kind}/${w.metadata?.name}`, { ref: { kind, name: w.metadata?.name ?? '' }, workload: w });
        }
      }
    }
  }
  for (const t of s.rolloutTargets) {
    if (found.has(`${t.kind}/${t.name}`)) continue;
    const ref = t as WorkloadRef;
    // Read for the status only: a failed read leaves the verdict to the restarter.
    const workload = await deps.kube.readWorkload(ref.kind, namespace, ref.name).catch(() => undefined);
    found.set(`${t.kind}/${t.name}`, { ref, workload });
  }
  return [...found.values()];
}

/**
 * Deletes versions of this target that no pod, pod template or ReplicaSet references and that
 * have at least `versionsKept` newer versions. The current version is never deleted.
 */
async function collectOldVersions(es: ExternalSecret, s: Settings, current: string, deps: ConsumerDeps): Promise<void> {
  const namespace = es.metadata.namespace ?? '';
  const versions = deps
    .managedSecrets(namespace)
    .filter(
      (secret) =>
        secret.metadata?.annotations?.[VERSIONS_OF_ANNOTATION] === s.targetName &&
        secret.metadata?.annotations?.[OWNER_ANNOTATION] === es.metadata.name,
    )
    .sort(
      (a, b) => Date.parse(String(b.metadata?.creationTimestamp)) - Date.parse(String(a.metadata?.creationTimestamp)),
    );
  const keep = s.versionsKept ?? 0;
  // Newest first: a version is a candidate once `keep` newer versions exist besides it.
  const candidates = versions.slice(keep + 1).filter((v) => v.metadata?.name !== current);
  if (candidates.length === 0) return;
  const referenced = new Set<string>();
  for (const template of await deps.kube.listPodTemplates(namespace)) {
    for (const name of referencedSecrets(template.spec)) referenced.add(name);
  }
  for (const old of candidates) {
    const name = old.metadata?.name ?? '';
    if (referenced.has(name)) continue;
    await deps.kube.deleteSecret(namespace, name, old.metadata?.uid ?? '', old.metadata?.resourceVersion);
    deps.metrics.secretVersionsDeleted.inc();
    deps.events.record(
      es,
      'Normal',
      'VersionDeleted',
      `old Secret version "${name}" deleted: no workload references it`,
    );
  }
}
