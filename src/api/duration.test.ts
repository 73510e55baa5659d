import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['1h', 3_600_000],
    ['1h0m0s', 3_600_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['1.5s', 1500],
    ['250ms', 250],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', 'h', '1d', '1h foo', 'every hour', '-1s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });
});
