// Key Vault and Entra errors → Ferry's error classes. Key Vault answers with an HTTP status and
// {error: {code, message, innererror: {code}}}; the @azure/keyvault-* clients raise it as a RestError
// (statusCode, code, details.error.innerError). @azure/identity raises AuthenticationError (the
// token endpoint answered) or CredentialUnavailableError (no such credential here).
import { AnswerTooLargeError, answerTooLargeText } from '../answer-cap.ts';
import { ProviderError, type ProviderErrorKind, providerMessage } from '../provider.ts';

interface AzureLikeError {
  name?: unknown;
  message?: unknown;
  statusCode?: unknown;
  code?: unknown;
  details?: { error?: { code?: unknown; innerError?: { code?: unknown } } };
  response?: { headers?: { get?(name: string): string | undefined } };
  errorResponse?: { error?: unknown; errorDescription?: unknown };
  cause?: { status?: unknown; errorCode?: unknown };
}

/** OAuth error codes with which Entra refuses the credentials themselves. */
const OAUTH_REFUSALS =
  /^(invalid_client|unauthorized_client|invalid_grant|invalid_request|invalid_scope|invalid_resource|access_denied)$/;

/** Milliseconds a Retry-After header asks for: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function kindOfStatus(status: number): ProviderErrorKind {
  if (status === 404) return 'NotFound';
  if (status === 401 || status === 403) return 'Denied';
  if (status === 429) return 'Throttled';
  if (status === 400) return 'Invalid';
  return 'Transient';
}

const TOKEN_ERRORS = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError']);

function tokenError(e: AzureLikeError, what: string): ProviderError {
  // AuthenticationError carries the answer itself; the others wrap MSAL's error as their cause.
  const status =
    typeof e.statusCode === 'number' ? e.statusCode : typeof e.cause?.status === 'number' ? e.cause.status : undefined;
  const raw = e.errorResponse?.error ?? e.cause?.errorCode;
  const oauth = typeof raw === 'string' && raw !== '' ? raw : undefined;
  // MSAL spells the Entra answer as "… - Description: AADSTS…: text - Correlation ID: …"; keep only what was wrong.
  const full = String(e.errorResponse?.errorDescription ?? e.message ?? '');
  const described = /Description: (.*?)(?: - (?:Correlation|Trace) ID:|$)/s.exec(full)?.[1] ?? full;
  const text = providerMessage((described.split(/\r?\n/)[0] ?? '').replace(/Trace ID:.*$/, ''));
  let kind: ProviderErrorKind;
  if (status === 429) kind = 'Throttled';
  else if (status !== undefined && status >= 500) kind = 'Transient';
  else if ((status !== undefined && status >= 400) || OAUTH_REFUSALS.test(oauth ?? '')) kind = 'Denied';
  else if (e.name === 'CredentialUnavailableError' && !/ECONN|ETIMEDOUT|socket|network/i.test(full)) kind = 'Denied';
  else kind = 'Transient';
  return new ProviderError(
    kind,
    `Azure ${what}: ${oauth && !text.startsWith(oauth) ? `${oauth}: ` : ''}${text || 'no token'}`,
  );
}

/** Classifies an error from a Key Vault or token call about `what` (e.g. `reading "db"`). */
export function classifyAzureError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof AnswerTooLargeError || String((err as Error)?.message).includes(answerTooLargeText)) {
    return new ProviderError('Invalid', `Azure ${what}: ${answerTooLargeText}`);
  }
  const e = (err ?? {}) as AzureLikeError;
  if (TOKEN_ERRORS.has(String(e.name))) return tokenError(e, what);
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const text = providerMessage(e.message);
  if (status === undefined) {
    // No HTTP answer: refused, reset, timed out or a TLS failure.
    return new ProviderError('Transient', `Azure ${what}: no answer (${text || String(e.code ?? 'error')})`);
  }
  const code = typeof e.code === 'string' ? e.code : `HTTP ${status}`;
  const inner = e.details?.error?.innerError?.code;
  if (status === 403 && inner === 'SecretDisabled') {
    // A disabled version is gone for readers, but not deleted: said distinctly, never a deletion by itself.
    return new ProviderError('NotFound', `Azure SecretDisabled ${what}: the secret version is disabled (${text})`);
  }
  const kind = kindOfStatus(status);
  const header = e.response?.headers?.get?.('retry-after');
  return new ProviderError(kind, `Azure ${typeof inner === 'string' ? inner : code} ${what}: ${text}`, {
    retryAfterMs: kind === 'Throttled' ? retryAfterMs(header) : undefined,
  });
}
