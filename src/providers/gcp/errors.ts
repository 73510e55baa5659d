// Secret Manager errors → Ferry's error classes, by gRPC status code. The REST transport reports
// the same codes (gax translates the HTTP error body), so one mapping serves both transports.
import { answerTooLargeText } from '../answer-cap.ts';
import { ProviderError, type ProviderErrorKind, providerMessage } from '../provider.ts';

const STATUS_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

const KIND_BY_CODE: Record<number, ProviderErrorKind> = {
  3: 'Invalid',
  5: 'NotFound',
  7: 'Denied',
  8: 'Throttled',
  // Accessing a disabled or destroyed version: gone for a reader, said distinctly below.
  9: 'NotFound',
  11: 'Invalid',
  16: 'Denied',
};

interface GaxLikeError {
  code?: unknown;
  message?: unknown;
  statusDetails?: unknown;
  details?: unknown;
}

/** Seconds from a protobuf Duration: "1.5s" in JSON, {seconds, nanos} decoded. */
function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return match ? Math.round(Number(match[1]) * 1000) : undefined;
  }
  if (value && typeof value === 'object' && 'seconds' in value) {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(String(seconds ?? 0));
    const n = Number(nanos ?? 0);
    return Number.isFinite(s) && Number.isFinite(n) ? Math.round(s * 1000 + n / 1e6) : undefined;
  }
  return undefined;
}

/** The delay a google.rpc.RetryInfo detail asks for, from either transport's error shape. */
export function retryInfoMs(err: GaxLikeError): number | undefined {
  const lists = [err.statusDetails, err.details].filter(Array.isArray) as unknown[][];
  for (const detail of lists.flat()) {
    if (detail && typeof detail === 'object' && 'retryDelay' in detail) {
      const ms = durationMs((detail as { retryDelay?: unknown }).retryDelay);
      if (ms !== undefined) return Math.max(0, ms);
    }
  }
  return undefined;
}

/** Classifies an error from a Secret Manager call about `what` (e.g. `reading "db" version latest`). */
export function classifyGcpError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (String((err as Error)?.message).includes(answerTooLargeText)) {
    return new ProviderError('Invalid', `GCP ${what}: ${answerTooLargeText}`);
  }
  const e = (err ?? {}) as GaxLikeError;
  const text = providerMessage(e.message);
  const code = typeof e.code === 'number' ? e.code : undefined;
  if (code === undefined) {
    // No status: the credentials could not be obtained, or the request never got an answer.
    const credentials = /default credentials|access token|invalid_grant|private key/i.test(text);
    return new ProviderError(
      credentials ? 'Denied' : 'Transient',
      `GCP ${what}: ${credentials ? 'no usable credentials' : 'no answer'} (${text || 'error'})`,
    );
  }
  // gRPC's own receive limit (set to MAX_ANSWER_BYTES), not the service's quota: not a throttle.
  if (code === 8 && /larger than max/i.test(text))
    return new ProviderError('Invalid', `GCP ${what}: ${answerTooLargeText}`);
  const status = STATUS_NAMES[code] ?? `code ${code}`;
  const kind = KIND_BY_CODE[code] ?? 'Transient';
  const detail = code === 9 ? `version not accessible (disabled or destroyed): ${text}` : text;
  return new ProviderError(kind, `GCP ${status} ${what}: ${detail}`, {
    retryAfterMs: kind === 'Throttled' ? retryInfoMs(e) : undefined,
  });
}
