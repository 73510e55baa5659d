// Random values (crypto/rand, as goutils' Crypto* functions and Sprig's randBytes, randInt,
// uuidv4, shuffle). Never deterministic; lengths are bounded so a template cannot ask for
// gigabytes.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { checked, fixed, intParam, strval } from './arguments.ts';

function count(v: unknown, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FunctionError(`${fn}: the length must be an integer`);
  if (v < 0 || v > 1_000_000) throw new FunctionError(`${fn}: the length must be between 0 and 1000000`);
  return v;
}

function random(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
/** Printable ASCII, 32 to 126, as goutils.CryptoRandomAscii. */
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

function shuffle(s: string): string {
  const chars = [...s];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

function randBytes(n: number): string {
  if (n < 0) throw new FunctionError('randBytes: the count must not be negative');
  if (n > 1_000_000) throw new FunctionError('randBytes: the count must be at most 1000000');
  return randomBytes(n).toString('base64');
}

export const randomFunctions: Record<string, TemplateFunction> = {
  randAlphaNum: checked('randAlphaNum', 1, (n) => random(LOWER + UPPER + DIGITS, count(n, 'randAlphaNum'))),
  randAlpha: checked('randAlpha', 1, (n) => random(LOWER + UPPER, count(n, 'randAlpha'))),
  randNumeric: checked('randNumeric', 1, (n) => random(DIGITS, count(n, 'randNumeric'))),
  randAscii: checked('randAscii', 1, (n) => random(ASCII, count(n, 'randAscii'))),
  randBytes: checked('randBytes', 1, (n) => randBytes(intParam(n, 'randBytes'))),
  uuidv4: checked('uuidv4', 0, () => randomUUID()),
  ...Object.fromEntries([
    fixed('shuffle', 1, (s) => shuffle(strval(s))),
    fixed('randInt', 2, (lo, hi) => {
      const min = intParam(lo, 'randInt');
      const max = intParam(hi, 'randInt');
      if (max - min <= 0) throw new FunctionError('randInt: invalid argument to Intn (max must be greater than min)');
      if (max - min > 2 ** 48 - 1) throw new FunctionError('randInt: the range must be below 2^48');
      return randomInt(min, max);
    }),
  ]),
};
