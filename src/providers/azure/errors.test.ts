import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.ts';
import { classifyAzureError, retryAfterMs } from './errors.ts';

/** The shape @azure/keyvault-secrets throws for a Key Vault error answer. */
function restError(statusCode: number, code: string, inner?: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${code} message`), {
    name: 'RestError',
    statusCode,
    code,
    details: { error: { code, message: `${code} message`, innerError: inner ? { code: inner } : undefined } },
    response: { headers: { get: (n: string) => headers[n.toLowerCase()] } },
  });
}

describe('Azure error mapping', () => {
  it('maps a missing secret to NotFound', () => {
    expect(classifyAzureError(restError(404, 'SecretNotFound'), 'reading "db"')).toMatchObject({
      kind: 'NotFound',
      message: 'Azure SecretNotFound reading "db": SecretNotFound message',
    });
  });

  it('maps a disabled version to NotFound with its own message, and any other 403 to Denied', () => {
    const disabled = classifyAzureError(restError(403, 'Forbidden', 'SecretDisabled'), 'reading "db"');
    expect(disabled).toMatchObject({ kind: 'NotFound' });
    expect(disabled.message).toMatch(/^Azure SecretDisabled reading "db": the secret version is disabled/);
    expect(classifyAzureError(restError(403, 'Forbidden', 'ForbiddenByPolicy'), 'x').kind).toBe('Denied');
    expect(classifyAzureError(restError(401, 'Unauthorized'), 'x').kind).toBe('Denied');
  });

  it('maps 429 to Throttled with the delay Retry-After asks for', () => {
    const e = classifyAzureError(restError(429, 'Throttled', undefined, { 'retry-after': '3' }), 'x');
    expect(e).toMatchObject({ kind: 'Throttled', retryAfterMs: 3000 });
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('maps 5xx and no answer at all to Transient', () => {
    expect(classifyAzureError(restError(503, 'ServiceUnavailable'), 'x').kind).toBe('Transient');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyAzureError(refused, 'reading "db"')).toMatchObject({
      kind: 'Transient',
      message: expect.stringMatching(/no answer \(connect ECONNREFUSED/),
    });
  });

  it('maps refused credentials to Denied and an unavailable managed identity to Denied, keeping only the first line', () => {
    const refused = Object.assign(new Error('x'), {
      name: 'AuthenticationError',
      statusCode: 401,
      errorResponse: {
        error: 'invalid_client',
        errorDescription: 'AADSTS7000215: Invalid client secret.\nTrace ID: 1',
      },
    });
    expect(classifyAzureError(refused, 'obtaining a token')).toMatchObject({
      kind: 'Denied',
      message: 'Azure obtaining a token: invalid_client: AADSTS7000215: Invalid client secret.',
    });
    const none = Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint'), {
      name: 'CredentialUnavailableError',
    });
    expect(classifyAzureError(none, 'x').kind).toBe('Denied');
    const busy = Object.assign(new Error('x'), {
      name: 'AuthenticationError',
      statusCode: 429,
      errorResponse: { error: 'throttled' },
    });
    expect(classifyAzureError(busy, 'x').kind).toBe('Throttled');
  });

  it('reads MSAL’s wrapped refusal (AuthenticationRequiredError with a ServerError cause) as Denied', () => {
    const wrapped = Object.assign(
      new Error(
        'invalid_client: Error(s): Not Available - Timestamp: Not Available - Description: AADSTS7000215: Invalid client secret provided. - Correlation ID: x',
      ),
      { name: 'AuthenticationRequiredError', cause: { status: 401, errorCode: 'invalid_client' } },
    );
    expect(classifyAzureError(wrapped, 'obtaining a token')).toMatchObject({
      kind: 'Denied',
      message: 'Azure obtaining a token: invalid_client: AADSTS7000215: Invalid client secret provided.',
    });
  });

  it('passes a ProviderError through unchanged', () => {
    const e = new ProviderError('Invalid', 'already classified');
    expect(classifyAzureError(e, 'x')).toBe(e);
  });
});
