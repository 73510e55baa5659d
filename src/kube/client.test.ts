import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { tooManyRequests } from './client.ts';

describe('tooManyRequests', () => {
  const error = (code: number, headers: Record<string, string> = {}) => new ApiException(code, 'x', {}, headers);

  it('reads Retry-After (seconds, any header case) from a 429', () => {
    expect(tooManyRequests(error(429, { 'retry-after': '3' }))).toBe(3000);
    expect(tooManyRequests(error(429, { 'Retry-After': '1' }))).toBe(1000);
  });

  it('is 0 for a 429 without a usable Retry-After, and caps long waits at a minute', () => {
    expect(tooManyRequests(error(429))).toBe(0);
    expect(tooManyRequests(error(429, { 'retry-after': 'soon' }))).toBe(0);
    expect(tooManyRequests(error(429, { 'retry-after': '3600' }))).toBe(60_000);
  });

  it('is undefined for anything but a 429', () => {
    expect(tooManyRequests(error(500, { 'retry-after': '3' }))).toBeUndefined();
    expect(tooManyRequests(error(409))).toBeUndefined();
    expect(tooManyRequests(new Error('boom'))).toBeUndefined();
  });
});
