// Validates a SecretStore or ClusterSecretStore with one cheap provider call and reports Ready.
import type { StoreReason } from '../../api/v1alpha1/reasons.ts';
import type { AnyStore } from '../../api/v1alpha1/types.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileResult } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { NeedsConsumerNamespaceError, type StoreClients } from '../../pipeline/store-clients.ts';
import { ProviderError } from '../../providers/provider.ts';
import { type Condition, sameCondition, withTransitionTime } from '../status.ts';

export interface StoreDeps {
  clients: StoreClients;
  kube: KubeClient;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
}

const DEFAULT_REVALIDATE_S = 300;

type Validation = Omit<Condition, 'type' | 'reason'> & { reason: StoreReason };

async function validate(store: AnyStore, deps: StoreDeps): Promise<Validation> {
  let provider = 'unknown';
  try {
    const handle = await deps.clients.handle(store, '');
    provider = handle.providerName;
    await handle.budget.take();
    await handle.client.validate(AbortSignal.timeout(15_000));
    deps.metrics.providerCalls.inc({ provider, operation: 'validate', outcome: 'ok' });
    return { status: 'True', reason: 'Valid', message: 'provider reachable and credentials accepted' };
  } catch (err) {
    if (err instanceof NeedsConsumerNamespaceError) {
      return {
        status: 'Unknown',
        reason: 'ValidationUnknown',
        message: `${err.message}; validated when an ExternalSecret uses it`,
      };
    }
    if (err instanceof ProviderError) {
      deps.metrics.providerCalls.inc({ provider, operation: 'validate', outcome: err.kind });
      const reason: StoreReason = err.kind === 'Invalid' ? 'InvalidProviderConfig' : 'ValidationFailed';
      return { status: 'False', reason, message: `${err.kind}: ${err.message}` };
    }
    return { status: 'False', reason: 'ValidationFailed', message: apiErrorMessage(err) };
  }
}

export async function reconcileStore(store: AnyStore, deps: StoreDeps): Promise<ReconcileResult> {
  const now = new Date();
  const result = await validate(store, deps);
  const previous = store.status?.conditions as Condition[] | undefined;
  const ready = withTransitionTime(
    { type: 'Ready', ...result, observedGeneration: store.metadata.generation },
    previous,
    now,
  );
  if (
    !sameCondition(
      ready,
      previous?.find((c) => c.type === 'Ready'),
    )
  ) {
    const plural = store.kind === 'SecretStore' ? 'secretstores' : 'clustersecretstores';
    const namespace = store.kind === 'SecretStore' ? store.metadata.namespace : undefined;
    try {
      // Conditional on the version validated: a newer one (or a new leader's write) wins, and
      // this store is validated again from the newer object.
      const status = { conditions: [ready], capabilities: 'ReadOnly' };
      await deps.kube.patchStatus(plural, namespace, store.metadata.name ?? '', status, store.metadata.resourceVersion);
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: 1000 };
      deps.logger.warn({ store: store.metadata.name, error: apiErrorMessage(err) }, 'store status not written');
    }
    if (result.status === 'False') deps.events.record(store, 'Warning', result.reason, result.message ?? '');
    else if (result.status === 'True') deps.events.record(store, 'Normal', 'Valid', result.message ?? '');
  }
  deps.metrics.reconciles.inc({ kind: store.kind, result: result.status === 'False' ? 'error' : 'ok' });
  if (result.status === 'False') return { failed: true };
  const seconds = store.spec.refreshInterval ?? DEFAULT_REVALIDATE_S;
  return seconds > 0 ? { requeueAfterMs: seconds * 1000 * (0.9 + Math.random() * 0.2) } : {};
}
