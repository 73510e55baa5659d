import { inspect } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SecretValue } from './values.ts';

const CANARY = 'canary-7f3a9c1e-value';

describe('SecretValue', () => {
  const value = SecretValue.fromString(CANARY);

  it('prints as [redacted] through every ordinary route', () => {
    const routes = [
      String(value),
      `${value}`,
      JSON.stringify({ value }),
      inspect(value),
      inspect({ nested: { value } }, { depth: 10 }),
      `${[value]}`,
      String(new Error(`failed for ${value}`)),
    ];
    for (const out of routes) {
      expect(out).not.toContain(CANARY);
      expect(out).toContain('[redacted]');
    }
  });

  it('never reaches a pino log line, even when logged as an object', () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (l: string) => lines.push(l) });
    log.info({ value, map: new Map([['k', value]]), arr: [value] }, `value is ${value}`);
    expect(lines.join('')).not.toContain(CANARY);
  });

  it('gives the bytes back only through reveal', () => {
    expect(value.revealText()).toBe(CANARY);
    expect(value.byteLength).toBe(CANARY.length);
    expect(value.equals(SecretValue.fromString(CANARY))).toBe(true);
    expect(value.equals(SecretValue.fromString(`${CANARY}x`))).toBe(false);
  });
});
