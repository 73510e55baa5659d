// Conditions and status patches: written only when something a reader would see has changed.
import { createHash } from 'node:crypto';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** `next` with lastTransitionTime carried over when the status did not flip. */
export function withTransitionTime(next: Condition, previous: Condition[] | undefined, now: Date): Condition {
  const old = previous?.find((c) => c.type === next.type);
  const since = old && old.status === next.status ? old.lastTransitionTime : undefined;
  return { ...next, lastTransitionTime: since ?? now.toISOString() };
}

export function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  return (
    a?.status === b?.status &&
    a?.reason === b?.reason &&
    a?.message === b?.message &&
    a?.observedGeneration === b?.observedGeneration
  );
}

/** What an ExternalSecret's metadata says about when it last changed: generation, labels, annotations. */
export function objectVersion(obj: {
  metadata: { generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
}): string {
  const sorted = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const digest = createHash('sha256')
    .update(JSON.stringify([sorted(obj.metadata.labels), sorted(obj.metadata.annotations)]))
    .digest('hex')
    .slice(0, 12);
  return `${obj.metadata.generation ?? 0}-${digest}`;
}
