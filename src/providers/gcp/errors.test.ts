import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.ts';
import { classifyGcpError } from './errors.ts';

const grpcError = (code: number, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe('classifyGcpError', () => {
  it('maps gRPC status codes to error classes', () => {
    const kind = (code: number) => classifyGcpError(grpcError(code, 'm'), 'reading "db"').kind;
    expect(kind(5)).toBe('NotFound');
    expect(kind(7)).toBe('Denied');
    expect(kind(16)).toBe('Denied');
    expect(kind(8)).toBe('Throttled');
    expect(kind(14)).toBe('Transient');
    expect(kind(4)).toBe('Transient');
    expect(kind(13)).toBe('Transient');
    expect(kind(3)).toBe('Invalid');
  });

  it('reports a disabled or destroyed version as not found, in its own words', () => {
    const err = classifyGcpError(grpcError(9, 'Secret Version [x] is in DISABLED state.'), 'reading "db" version 2');
    expect(err.kind).toBe('NotFound');
    expect(err.message).toBe(
      'GCP FAILED_PRECONDITION reading "db" version 2: version not accessible (disabled or destroyed): Secret Version [x] is in DISABLED state.',
    );
    expect(classifyGcpError(grpcError(5, 'Secret [x] not found.'), 'reading "db"').message).toMatch(
      /^GCP NOT_FOUND reading "db": Secret \[x\] not found\.$/,
    );
  });

  it('honours RetryInfo on RESOURCE_EXHAUSTED, decoded (gRPC) or as JSON (REST)', () => {
    const grpc = grpcError(8, 'Quota exceeded', {
      statusDetails: [{ retryDelay: { seconds: 3, nanos: 500_000_000 } }],
    });
    expect(classifyGcpError(grpc, 'reading "db"').retryAfterMs).toBe(3500);
    const rest = grpcError(8, 'Quota exceeded', {
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
    });
    expect(classifyGcpError(rest, 'reading "db"').retryAfterMs).toBe(7000);
    expect(classifyGcpError(grpcError(8, 'Quota exceeded'), 'reading "db"').retryAfterMs).toBeUndefined();
  });

  it('treats an answerless failure as transient and missing credentials as denied', () => {
    const refused = Object.assign(new Error('request failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyGcpError(refused, 'reading "db"')).toMatchObject({ kind: 'Transient' });
    const adc = new Error('Could not load the default credentials. Browse to https://cloud.google.com/…');
    expect(classifyGcpError(adc, 'reading "db"').kind).toBe('Denied');
  });

  it('passes ProviderErrors through unchanged', () => {
    const own = new ProviderError('Denied', 'STS refused the token');
    expect(classifyGcpError(own, 'reading "db"')).toBe(own);
  });
});
