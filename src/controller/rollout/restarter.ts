// Rolls workloads when the Secret they consume changes: their pod template gets the content hash
// as an annotation (and, for versioned Secrets, its references repointed to the new version), so
// the workload controller replaces the pods. One rollout per workload per change: requests are
// debounced per workload, a hash already on the template is a no-op, and a workload whose
// previous rollout is still in progress waits for it to finish. Only a workload that names the
// ExternalSecret in its ferry.dev/rollout-from annotation is ever written.
import { createHash } from 'node:crypto';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { apiErrorMessage, isConflict, type KubeClient, type Workload, type WorkloadKind } from '../../kube/client.ts';
import { consents, ROLLOUT_CONSENT_ANNOTATION } from '../../kube/consent.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { referencedSecrets, repointSecrets } from './secret-references.ts';

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

export interface ContentChange {
  namespace: string;
  /** The Secret name consumers should read (the current version with versioning). */
  secretName: string;
  contentHash: string;
  /** With versioning: references to any of these names are repointed to secretName. */
  repoint?: (name: string) => boolean;
  /** The base name the annotation is keyed on (the target name). */
  targetName: string;
  /**
   * Versioned, nothing new written: only point workloads still naming the plain target (which
   * never exists as a Secret) at the current version. A rollback to an older version is left alone.
   */
  plainNameOnly?: boolean;
  /** Roll only a workload that already carries a (different) hash: the first sync after a restart. */
  onlyIfRolledBefore?: boolean;
}

interface Pending {
  es: ExternalSecret;
  change: ContentChange;
  ref: WorkloadRef;
  timer: NodeJS.Timeout;
}

const IN_PROGRESS_RETRY_MS = 2000;

/** checksum.ferry.dev/<target>, with the name part kept within the 63 characters a key allows. */
export function checksumAnnotation(targetName: string): string {
  const name =
    targetName.length <= 63
      ? targetName
      : `${targetName.slice(0, 52)}-${createHash('sha256').update(targetName).digest('hex').slice(0, 10)}`;
  return `checksum.ferry.dev/${name}`;
}

/** A rollout is in progress while the controller has not caught up or old pods remain. */
export function rolloutInProgress(kind: WorkloadKind, w: Workload): boolean {
  const generation = w.metadata?.generation ?? 0;
  const status = (w.status ?? {}) as Record<string, number | string | undefined>;
  if (Number(status.observedGeneration ?? 0) < generation) return true;
  if (kind === 'Deployment') {
    const replicas = (w.spec as { replicas?: number }).replicas ?? 1;
    return (
      Number(status.updatedReplicas ?? 0) < replicas ||
      Number(status.replicas ?? 0) > Number(status.updatedReplicas ?? 0) ||
      Number(status.unavailableReplicas ?? 0) > 0
    );
  }
  if (kind === 'StatefulSet') {
    return (
      status.currentRevision !== status.updateRevision ||
      Number(status.readyReplicas ?? 0) < Number(status.replicas ?? 0)
    );
  }
  return (
    Number(status.updatedNumberScheduled ?? 0) < Number(status.desiredNumberScheduled ?? 0) ||
    Number(status.numberUnavailable ?? 0) > 0
  );
}

/** Why a workload was left alone, and what its owner adds to allow it. */
export function rolloutRefusal(ref: WorkloadRef, externalSecretName: string): string {
  return `${ref.kind} ${ref.name} not rolled: it does not consent to rollouts by this ExternalSecret; whoever owns it may allow them by annotating it ${ROLLOUT_CONSENT_ANNOTATION}: ${externalSecretName}`;
}

export class RolloutRestarter {
  private readonly pending = new Map<string, Pending>();
  private readonly opts: {
    kube: KubeClient;
    events: EventRecorder;
    metrics: Metrics;
    logger: Logger;
    debounceMs: number;
  };
  private stopped = false;

  constructor(opts: RolloutRestarter['opts']) {
    this.opts = opts;
  }

  /** Rolls each workload once the changes to it have settled for the debounce window. */
  request(es: ExternalSecret, refs: WorkloadRef[], change: ContentChange): void {
    for (const ref of refs) {
      // A periodic check never postpones a change that is already waiting for its debounce.
      if (change.plainNameOnly && this.pending.has(`${change.namespace}/${ref.kind}/${ref.name}`)) continue;
      this.schedule(es, ref, change, change.plainNameOnly ? 0 : this.opts.debounceMs);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  /** Resolves when no rollout is waiting (tests). */
  get waiting(): number {
    return this.pending.size;
  }

  private schedule(es: ExternalSecret, ref: WorkloadRef, change: ContentChange, delayMs: number): void {
    if (this.stopped) return;
    const key = `${change.namespace}/${ref.kind}/${ref.name}`;
    const existing = this.pending.get(key);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => void this.fire(key), delayMs);
    timer.unref();
    this.pending.set(key, { es, change, ref, timer });
  }

  private async fire(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const { kube, events, metrics, logger } = this.opts;
    const { ref, change, es } = p;
    const labels = { kind: ref.kind };
    try {
      const workload = await kube.readWorkload(ref.kind, change.namespace, ref.name);
      if (!workload) {
        if (change.plainNameOnly) return;
        metrics.rolloutRestarts.inc({ ...labels, result: 'missing' });
        events.record(
          es,
          'Warning',
          'RolloutTargetMissing',
          `${ref.kind} ${ref.name} does not exist; nothing to restart`,
        );
        return;
      }
      if (!consents(workload.metadata?.annotations, ROLLOUT_CONSENT_ANNOTATION, es.metadata.name ?? '')) {
        // Naming a Secret a workload reads is no right to rewrite the workload's pods. Periodic
        // checks and catch-ups after a restart, which seldom write, are refused without a word.
        if (change.plainNameOnly || change.onlyIfRolledBefore) return;
        metrics.rolloutRestarts.inc({ ...labels, result: 'refused' });
        events.record(es, 'Warning', 'RolloutRefused', rolloutRefusal(ref, es.metadata.name ?? ''));
        return;
      }
      // A template naming the plain target points at a Secret that never exists under versioning:
      // its pods cannot start, so its rollout never finishes; repointing it is the way out.
      const waitsForMissing =
        change.repoint !== undefined && referencedSecrets(workload.spec?.template?.spec).has(change.targetName);
      if (!waitsForMissing && rolloutInProgress(ref.kind, workload)) {
        // Never two rollouts of one workload at once: come back when this one has finished.
        if (!this.pending.has(key)) this.schedule(es, ref, change, IN_PROGRESS_RETRY_MS);
        return;
      }
      const template = workload.spec?.template;
      if (!template) return;
      const annotation = checksumAnnotation(change.targetName);
      const matches = change.plainNameOnly ? (name: string) => name === change.targetName : change.repoint;
      const repointed = matches ? repointSecrets(template.spec, matches, change.secretName) : false;
      const annotations = template.metadata?.annotations ?? {};
      if (change.plainNameOnly && !repointed) return;
      if (change.onlyIfRolledBefore && annotations[annotation] === undefined) return;
      if (!repointed && annotations[annotation] === change.contentHash) {
        metrics.rolloutRestarts.inc({ ...labels, result: 'unchanged' });
        return;
      }
      template.metadata = { ...template.metadata, annotations: { ...annotations, [annotation]: change.contentHash } };
      await kube.replaceWorkload(ref.kind, workload);
      metrics.rolloutRestarts.inc({ ...labels, result: 'restarted' });
      const what = repointed ? `repointed to Secret "${change.secretName}"` : `Secret "${change.secretName}" changed`;
      events.record(es, 'Normal', 'RolloutRestart', `${ref.kind} ${ref.name} rolled out: ${what}`);
      logger.info(
        { namespace: change.namespace, workload: `${ref.kind}/${ref.name}`, secret: change.secretName },
        'workload rolled out for a Secret change',
      );
    } catch (err) {
      if (isConflict(err) && !this.pending.has(key)) {
        this.schedule(es, ref, change, 0);
        return;
      }
      metrics.rolloutRestarts.inc({ ...labels, result: 'error' });
      events.record(es, 'Warning', 'RolloutRestartFailed', `${ref.kind} ${ref.name}: ${apiErrorMessage(err)}`);
    }
  }
}
