// Vault HTTP answers → Ferry's error classes. Messages keep Vault's own error strings (which
// name paths and causes, never values) and never any part of a successful response body.
import { ProviderError, type ProviderErrorKind, providerMessage } from '../provider.ts';

interface VaultErrorBody {
  errors?: unknown;
  warnings?: unknown;
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

/**
 * A 404 about the path rather than the secret: no engine is mounted there ("no handler for
 * route"), or a KV v1 path on a KV v2 engine (OpenBao and Vault answer that with a warning). A KV
 * v2 path on a KV v1 engine cannot be told from a missing key; see missing.ts for that case.
 */
function wrongPath(body: unknown, text: string): string | undefined {
  if (/no handler for route/i.test(text)) {
    return `${text} (no secrets engine is mounted at this path: check the store's server and path)`;
  }
  const warnings = (body as VaultErrorBody | undefined)?.warnings;
  const warning = Array.isArray(warnings)
    ? warnings.find((w) => typeof w === 'string' && /versioned K\/V/i.test(w))
    : undefined;
  if (typeof warning === 'string') {
    return `the engine at this path is KV version 2, the store says version "v1" (${providerMessage(warning.split('.')[0] ?? '')})`;
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
  const misrouted = status === 404 ? wrongPath(body, text) : undefined;
  if (misrouted) {
    // Not an answer about the secret: the store points at no engine, or the wrong KV version.
    // Counted as not-found, one bad store edit would delete every Secret read through it.
    kind = 'Invalid';
    detail = misrouted;
  } else if (status === 404) {
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
