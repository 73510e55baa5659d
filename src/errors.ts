// One error family: every error Ferry reports to a user carries a stable `code`. The places that
// turn an error into what the user sees — a condition reason and Event (the controller), a gRPC
// status (the CSI plugin), an exit code (`ferry render`) — switch over the code, and the compiler
// checks that each switch covers every code. Messages name fields and keys, never a value.

/** The classes of failure, by where they stop a read or a write. */
export const ERROR_CODES = [
  // A provider call: the kinds the data-safety rules switch on (ProviderError).
  'NotFound',
  'Denied',
  'Throttled',
  'Invalid',
  'Transient',
  // Before any provider call.
  /** A field the CRD admits but that cannot be used as written (a refreshInterval Go cannot parse). */
  'InvalidSpec',
  /** A reference that resolves to nothing: a store (or none where one is needed), the ExternalSecret a volume names. */
  'BadReference',
  /** Tenancy: a ClusterSecretStore's conditions or a store's remoteKeyPolicy refuse the read. */
  'TenancyDenied',
  // After the reads.
  /** The fetched values cannot become the target: a property, a decoding, a key, the size, a template. */
  'Render',
  /** A templateFrom ConfigMap or Secret could not be read from the API server. */
  'TemplateSource',
  // Writing.
  /** The target Secret exists and belongs to another owner, or cannot be taken over as asked. */
  'TargetConflict',
  /** The files of a volume cannot be laid out as target.files asks. */
  'FileLayout',
  /** A volume's content is not what the plugin wrote (a link, another filesystem). */
  'UnsafeEntry',
  // The CSI plugin's calls.
  /** A NodePublishVolume the plugin refuses outright (its arguments). */
  'BadRequest',
  /** The plugin cannot trust what kubelet would tell it (its CSIDriver). */
  'Untrusted',
  /** The node's volume memory is spent. */
  'OverBudget',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class FerryError extends Error {
  readonly code: ErrorCode;
  /** How long to wait before trying again, when the failure says (a provider's Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = `FerryError(${code})`;
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** For the `default` of a switch over a union: the compiler rejects the call when a member is missed. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
