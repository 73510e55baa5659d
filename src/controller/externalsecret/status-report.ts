// What a sync tells the user: the Ready condition (written only when something a reader would see
// changed), the Event of a failure, and the reason each error code gets.
import type { EventReason, ExternalSecretReason } from '../../api/v1alpha1/reasons.ts';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { type ErrorCode, unreachable } from '../../errors.ts';
import { apiErrorMessage, isConflict, type KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../observability/logger.ts';
import { objectVersion } from '../../pipeline/settings.ts';
import { type Condition, sameCondition, withTransitionTime } from '../status.ts';

export interface Report {
  reason: ExternalSecretReason;
  message: string;
  ready: boolean;
  synced?: boolean;
  /** The Secret written (status.binding.name). */
  binding?: string;
}

/** The Event a failed sync records, by the class of its error. */
export function failureEvent(code: ErrorCode): EventReason {
  switch (code) {
    case 'TenancyDenied':
      return 'TenancyDenied';
    case 'NotFound':
    case 'Denied':
    case 'Throttled':
    case 'Invalid':
    case 'Transient':
    case 'InvalidSpec':
    case 'BadReference':
    case 'Render':
    case 'TemplateSource':
    case 'TargetConflict':
    case 'FileLayout':
    case 'UnsafeEntry':
    case 'BadRequest':
    case 'Untrusted':
    case 'OverBudget':
      return 'UpdateFailed';
    default:
      return unreachable(code);
  }
}

/**
 * Writes the Ready condition (and, for a sync, what was synced) when a reader would see a change,
 * conditional on the version of the ExternalSecret the sync read: 'conflict' when it changed
 * meanwhile (a newer sync, or a new leader, wrote; this sync runs again from the newer object).
 */
export async function writeStatus(
  es: ExternalSecret,
  r: Report,
  started: number,
  deps: { kube: KubeClient; logger: Logger },
): Promise<'written' | 'unchanged' | 'conflict' | 'failed'> {
  const now = new Date(started);
  const generation = es.metadata.generation;
  const previous = es.status?.conditions as Condition[] | undefined;
  const ready = withTransitionTime(
    {
      type: 'Ready',
      status: r.ready ? 'True' : 'False',
      reason: r.reason,
      message: r.message,
      observedGeneration: generation,
    },
    previous,
    now,
  );
  const unchanged =
    sameCondition(
      ready,
      previous?.find((c) => c.type === 'Ready'),
    ) && es.status?.observedGeneration === generation;
  if (unchanged && !r.synced) return 'unchanged';
  const status: Record<string, unknown> = { conditions: [ready], observedGeneration: generation };
  if (r.synced) {
    status.refreshTime = now.toISOString();
    status.syncedResourceVersion = objectVersion(es);
    if (r.binding) status.binding = { name: r.binding };
  }
  try {
    const { namespace, name = '', resourceVersion } = es.metadata;
    await deps.kube.patchStatus('externalsecrets', namespace, name, status, resourceVersion);
    return 'written';
  } catch (err) {
    if (isConflict(err)) return 'conflict';
    deps.logger.warn(
      { namespace: es.metadata.namespace, name: es.metadata.name, error: apiErrorMessage(err) },
      'status not written',
    );
    return 'failed';
  }
}
