// One reconcile of a ClusterExternalSecret, with ESO's semantics: create or update its
// ExternalSecret in every selected namespace, delete its copies from namespaces that stop
// matching (or under an old name), never touch an ExternalSecret it does not own, and on
// deletion remove its copies before releasing its finalizer. A copy is written only when it
// differs from what is wanted. Secrets are never deleted here: what happens to a copy's Secret
// is that ExternalSecret's own creationPolicy (Owner: garbage-collected with it; Orphan, Merge: kept).
import type { V1Namespace } from '@kubernetes/client-node';
import { parseDuration } from '../../api/duration.ts';
import type { ClusterExternalSecret, ExternalSecret } from '../../api/v1alpha1/types.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileResult } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { type Condition, sameCondition, withTransitionTime } from '../status.ts';
import { copyName, desiredCopy, isCopyOf, updatedCopy } from './copies.ts';
import { SelectorError, selectNamespaces } from './selection.ts';

export const FINALIZER = 'ferry.dev/clusterexternalsecret-cleanup';
export const DEFAULT_REFRESH_TIME_MS = 60_000;
/** Copies written at once; the client's QPS limit paces them further. */
const PARALLEL_WRITES = 8;

export interface ClusterExternalSecretDeps {
  kube: KubeClient;
  events: EventRecorder;
  logger: Logger;
  metrics: Metrics;
  /** Every namespace, from the namespace informer. */
  namespaces(): V1Namespace[];
  /** An ExternalSecret from the ExternalSecret informer. */
  externalSecret(namespace: string, name: string): ExternalSecret | undefined;
  /** Every ExternalSecret whose controller owner reference names this ClusterExternalSecret. */
  copiesOf(cesName: string): ExternalSecret[];
}

interface Outcome {
  provisioned: string[];
  failed: Map<string, string>;
  /** A write raced with another writer: retry soon, report nothing yet. */
  conflict: boolean;
}

/** The API server's complaint about a copy, in the ClusterExternalSecret's own field names. */
export function inCesTerms(message: string): string {
  return message
    .replace(/\bmetadata\.(labels|annotations)\b/g, 'spec.externalSecretMetadata.$1')
    .replace(/\bspec\.(?!externalSecret)/g, 'spec.externalSecretSpec.');
}

export async function reconcileClusterExternalSecret(
  ces: ClusterExternalSecret,
  deps: ClusterExternalSecretDeps,
): Promise<ReconcileResult> {
  const name = ces.metadata.name ?? '';
  const log = deps.logger.child({ clusterExternalSecret: name });
  if (ces.metadata.deletionTimestamp) return cleanUp(ces, deps);
  const started = Date.now();

  if (!ces.metadata.finalizers?.includes(FINALIZER)) {
    try {
      await deps.kube.patchClusterCustomObject('clusterexternalsecrets', name, {
        metadata: {
          finalizers: [...(ces.metadata.finalizers ?? []), FINALIZER],
          resourceVersion: ces.metadata.resourceVersion,
        },
      });
    } catch (err) {
      if (isConflict(err)) return { failed: true, retryAfterMs: 0 };
      throw err;
    }
  }

  // The CRD's pattern admits only Go durations, so this parses.
  const refreshMs = ces.spec.refreshTime === undefined ? DEFAULT_REFRESH_TIME_MS : parseDuration(ces.spec.refreshTime);
  const schedule: ReconcileResult = refreshMs > 0 ? { requeueAfterMs: refreshMs } : {};

  let selected: string[];
  try {
    selected = selectNamespaces(ces.spec, deps.namespaces());
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    log.warn({ error: err.message }, 'invalid namespace selector; copies left as they are');
    deps.events.record(ces, 'Warning', 'InvalidNamespaceSelector', err.message);
    const written = await writeStatus(ces, { reason: 'InvalidNamespaceSelector', message: err.message }, deps);
    deps.metrics.reconciles.inc({ kind: 'ClusterExternalSecret', result: 'error' });
    return written === 'conflict' ? { requeueAfterMs: 1000 } : schedule;
  }

  const outcome = await provision(ces, selected, deps);
  if (outcome.conflict) return { failed: true, retryAfterMs: 0 };
  for (const [namespace, reason] of outcome.failed) {
    deps.events.record(ces, 'Warning', 'ProvisioningFailed', `namespace "${namespace}": ${reason}`);
  }
  const written = await writeStatus(ces, outcome, deps);
  deps.metrics.reconcileSeconds.observe({ kind: 'ClusterExternalSecret' }, (Date.now() - started) / 1000);
  deps.metrics.reconciles.inc({
    kind: 'ClusterExternalSecret',
    result: outcome.failed.size > 0 ? 'error' : 'synced',
  });
  return written === 'conflict' ? { requeueAfterMs: 1000 } : schedule;
}

async function provision(ces: ClusterExternalSecret, selected: string[], deps: ClusterExternalSecretDeps) {
  const name = ces.metadata.name ?? '';
  const esName = copyName(ces);
  const outcome: Outcome = { provisioned: [], failed: new Map(), conflict: false };
  const wanted = new Set(selected);
  const onError = (namespace: string, what: string, err: unknown) => {
    if (isConflict(err)) outcome.conflict = true;
    else outcome.failed.set(namespace, `${what}: ${inCesTerms(apiErrorMessage(err))}`);
  };

  // Copies in namespaces that no longer match, or under a previous externalSecretName.
  const stale = deps
    .copiesOf(name)
    .filter((es) => es.metadata.name !== esName || !wanted.has(es.metadata.namespace ?? ''));
  await inBatches(stale, async (es) => {
    const namespace = es.metadata.namespace ?? '';
    try {
      await deps.kube.deleteCustomObject('externalsecrets', namespace, es.metadata.name ?? '', es.metadata.uid ?? '');
      deps.logger.info({ clusterExternalSecret: name, namespace, externalSecret: es.metadata.name }, 'copy deleted');
      deps.events.record(ces, 'Normal', 'Deleted', `ExternalSecret ${namespace}/${es.metadata.name} deleted`);
    } catch (err) {
      onError(namespace, `deleting ExternalSecret "${es.metadata.name}"`, err);
    }
  });

  await inBatches(selected, async (namespace) => {
    const current = deps.externalSecret(namespace, esName);
    const desired = desiredCopy(ces, namespace);
    try {
      if (!current) {
        await deps.kube.createCustomObject('externalsecrets', namespace, desired);
        deps.logger.info({ clusterExternalSecret: name, namespace, externalSecret: esName }, 'copy created');
        deps.events.record(ces, 'Normal', 'Created', `ExternalSecret ${namespace}/${esName} created`);
      } else if (!isCopyOf(current, name)) {
        outcome.failed.set(
          namespace,
          `ExternalSecret "${esName}" already exists in namespace "${namespace}" and is not owned by this ClusterExternalSecret; it is left as it is`,
        );
        return;
      } else {
        const next = updatedCopy(current, desired);
        if (next) {
          next.metadata.managedFields = undefined;
          await deps.kube.replaceCustomObject('externalsecrets', next);
          deps.logger.info({ clusterExternalSecret: name, namespace, externalSecret: esName }, 'copy updated');
          deps.events.record(ces, 'Normal', 'Updated', `ExternalSecret ${namespace}/${esName} updated`);
        }
      }
      outcome.provisioned.push(namespace);
    } catch (err) {
      onError(namespace, current ? `updating ExternalSecret "${esName}"` : `creating ExternalSecret "${esName}"`, err);
    }
  });
  outcome.provisioned.sort();
  return outcome;
}

/** Deletion: remove every copy, then the finalizer; a copy that cannot be deleted keeps the finalizer. */
async function cleanUp(ces: ClusterExternalSecret, deps: ClusterExternalSecretDeps): Promise<ReconcileResult> {
  const name = ces.metadata.name ?? '';
  if (!ces.metadata.finalizers?.includes(FINALIZER)) return {};
  const errors: string[] = [];
  await inBatches(deps.copiesOf(name), async (es) => {
    const namespace = es.metadata.namespace ?? '';
    try {
      await deps.kube.deleteCustomObject('externalsecrets', namespace, es.metadata.name ?? '', es.metadata.uid ?? '');
      deps.logger.info({ clusterExternalSecret: name, namespace, externalSecret: es.metadata.name }, 'copy deleted');
    } catch (err) {
      errors.push(`${namespace}/${es.metadata.name}: ${apiErrorMessage(err)}`);
    }
  });
  if (errors.length > 0) {
    deps.logger.warn({ clusterExternalSecret: name, errors }, 'copies not deleted; the finalizer stays');
    return { failed: true };
  }
  try {
    await deps.kube.patchClusterCustomObject('clusterexternalsecrets', name, {
      metadata: {
        finalizers: (ces.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
        resourceVersion: ces.metadata.resourceVersion,
      },
    });
  } catch (err) {
    if (isConflict(err)) return { failed: true, retryAfterMs: 0 };
    throw err;
  }
  deps.logger.info({ clusterExternalSecret: name }, 'copies deleted; finalizer removed');
  return {};
}

async function inBatches<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL_WRITES) {
    await Promise.all(items.slice(i, i + PARALLEL_WRITES).map(work));
  }
}

type Report = { reason: 'InvalidNamespaceSelector'; message: string } | Outcome;

/** Conditional on the version reconciled: 'conflict' when the object changed since (it runs again). */
async function writeStatus(
  ces: ClusterExternalSecret,
  report: Report,
  deps: ClusterExternalSecretDeps,
): Promise<'written' | 'unchanged' | 'conflict' | 'failed'> {
  const generation = ces.metadata.generation;
  const previous = ces.status?.conditions as Condition[] | undefined;
  const esName = copyName(ces);
  let condition: Condition;
  const status: Record<string, unknown> = { externalSecretName: esName, observedGeneration: generation };
  if ('reason' in report) {
    condition = { type: 'Ready', status: 'False', reason: report.reason, message: report.message };
  } else {
    const failures = [...report.failed].sort(([a], [b]) => a.localeCompare(b));
    status.provisionedNamespaces = report.provisioned.length > 0 ? report.provisioned : null;
    status.failedNamespaces =
      failures.length > 0 ? failures.map(([namespace, reason]) => ({ namespace, reason })) : null;
    condition =
      failures.length > 0
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'NamespacesFailed',
            message: `one or more namespaces failed (status.failedNamespaces): ${failures
              .slice(0, 3)
              .map(([ns, reason]) => `${ns}: ${reason}`)
              .join('; ')}${failures.length > 3 ? `; and ${failures.length - 3} more` : ''}`,
          }
        : {
            type: 'Ready',
            status: 'True',
            reason: 'Provisioned',
            message:
              report.provisioned.length > 0
                ? `ExternalSecret "${esName}" is in ${report.provisioned.length} namespace${report.provisioned.length === 1 ? '' : 's'}`
                : 'no namespace is selected',
          };
  }
  const ready = withTransitionTime({ ...condition, observedGeneration: generation }, previous, new Date());
  status.conditions = [ready];
  const old = ces.status;
  const sameList = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const unchanged =
    sameCondition(
      ready,
      previous?.find((c) => c.type === 'Ready'),
    ) &&
    old?.observedGeneration === generation &&
    old?.externalSecretName === esName &&
    ('reason' in report ||
      (sameList(old?.provisionedNamespaces, status.provisionedNamespaces) &&
        sameList(old?.failedNamespaces, status.failedNamespaces)));
  if (unchanged) return 'unchanged';
  try {
    const { name = '', resourceVersion } = ces.metadata;
    await deps.kube.patchStatus('clusterexternalsecrets', undefined, name, status, resourceVersion);
    return 'written';
  } catch (err) {
    if (isConflict(err)) return 'conflict';
    deps.logger.warn({ clusterExternalSecret: ces.metadata.name, error: apiErrorMessage(err) }, 'status not written');
    return 'failed';
  }
}
