// Conditions and status patches: written only when something a reader would see has changed.

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
