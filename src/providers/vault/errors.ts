// Vault HTTP answers → Ferry's error classes. Messages keep Vault's own error strings (which
// name paths and causes, never values) and never any part of a successful response body.
import { ProviderError, type ProviderErrorKind, providerMessage } from '../provider.ts';

interface VaultErrorBody {
  errors?: unknown;
  data?: { metadata?: { deletion_time?: unknown; destroyed?: unknown; version?: unknown } } | null;
}

function errorText(body: unknown): string {
  const errors = (body as VaultErrorBody | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return '';
  return providerMessage(errors.filter((e) => typeof e === 'string').join('; '));
}

export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * A KV v2 404 that still carries version metadata is a deleted or destroyed version, not a path
 * that never existed: both are not-found for a reader, but the message says which.
 */
function deletedVersion(body: unknown): string | undefined {
  const meta = (body as VaultErrorBody | undefined)?.data?.metadata;
  if (!meta) return undefined;
  const version = typeof meta.version === 'number' ? `version ${meta.version}` : 'the version';
  if (meta.destroyed === true) return `${version} was destroyed`;
  if (typeof meta.deletion_time === 'string' && meta.deletion_time !== '') {
    return `${version} was deleted at ${meta.deletion_time}`;
  }
  return undefined;
}

/** Classifies a non-2xx answer to `what` (e.g. `reading "app/db"`). */
export function vaultError(
  status: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  what: string,
  opts: { login?: boolean } = {},
): ProviderError {
  const text = errorText(body);
  let kind: ProviderErrorKind;
  let detail = text;
  if (status === 404) {
    kind = 'NotFound';
    const deleted = deletedVersion(body);
    detail = deleted ? `version deleted: ${deleted}` : text || 'no secret at this path';
  } else if (status === 401 || status === 403) kind = 'Denied';
  else if (status === 400) kind = opts.login ? 'Denied' : 'Invalid';
  else if (status === 429) kind = 'Throttled';
  else if (status === 503 && /sealed/i.test(text)) {
    kind = 'Transient';
    detail = 'the server is sealed';
  } else kind = 'Transient';
  const retryAfter = retryAfterMs(headers['retry-after']);
  return new ProviderError(kind, `Vault ${what} (HTTP ${status})${detail ? `: ${detail}` : ''}`, {
    retryAfterMs: retryAfter,
  });
}

/** A request that got no HTTP answer (refused, reset, timed out, TLS failure). */
export function vaultNetworkError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  const code = e?.code ?? e?.name ?? 'Error';
  // TLS verification failures will not heal by retrying, but a CA fix in the store will.
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code);
  return new ProviderError(
    tls ? 'Invalid' : 'Transient',
    `Vault ${what}: ${tls ? 'TLS verification failed' : 'no answer'} (${code}${e?.message ? `: ${providerMessage(e.message)}` : ''})`,
  );
}
