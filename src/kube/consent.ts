// Consent of an object Ferry did not create to being written by an ExternalSecret: an annotation
// on the object naming the ExternalSecrets of its namespace allowed to write it (a comma-separated
// list, or `*` for any). Only someone who may edit the object can grant it (docs/security.md).

/** On a Secret: the ExternalSecrets that may merge keys into it (target.creationPolicy Merge). */
export const MERGE_CONSENT_ANNOTATION = 'ferry.dev/merge-from';
/** On a Deployment, StatefulSet or DaemonSet: the ExternalSecrets that may roll or repoint it. */
export const ROLLOUT_CONSENT_ANNOTATION = 'ferry.dev/rollout-from';

/** Whether `annotations[key]` names the ExternalSecret `name` (or is `*`). */
export function consents(annotations: Record<string, string> | undefined, key: string, name: string): boolean {
  const value = annotations?.[key];
  if (value === undefined) return false;
  return value
    .split(',')
    .map((n) => n.trim())
    .some((n) => n === '*' || (n !== '' && n === name));
}
