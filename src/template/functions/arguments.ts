// How template functions take their arguments: Go's arity check before a call, and the
// conversions Sprig applies to an interface{} argument (strval, cast.ToInt, cast.ToFloat64) or
// Go's text/template applies to a typed one (a string, an int). Messages name the function and
// the type, never the value.
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { GoBytes, numberOf, sprint, typeName } from '../values.ts';

export function arity(name: string, args: unknown[], want: number): void {
  if (args.length !== want)
    throw new FunctionError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
}

/** `fn` called only with exactly `n` arguments, as Go checks a function's arity before the call. */
export function checked(name: string, n: number, fn: TemplateFunction): TemplateFunction {
  return (...a) => {
    arity(name, a, n);
    return fn(...a);
  };
}

/** A table entry `[name, fn]` whose arity is checked. */
export function fixed(name: string, n: number, fn: TemplateFunction): [string, TemplateFunction] {
  return [name, checked(name, n, fn)];
}

/** Another name for a function of the same table (Sprig's old names and must* forms). */
export function alias(name: string, target: TemplateFunction | undefined, n?: number): [string, TemplateFunction] {
  if (!target) throw new Error(`template function alias ${name} has no target`);
  return [name, n === undefined ? target : checked(name, n, target)];
}

/** `table` with the arity of the functions named in `counts` checked before each call. */
export function withArity(
  table: Record<string, TemplateFunction>,
  counts: Record<string, number>,
): Record<string, TemplateFunction> {
  const out = { ...table };
  for (const [name, n] of Object.entries(counts)) {
    const fn = out[name];
    if (!fn) throw new Error(`template function ${name} has an arity but no body`);
    out[name] = checked(name, n, fn);
  }
  return out;
}

/** Sprig's strval: strings as they are, everything else as %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  return sprint(v);
}

/** Text for rune-by-rune rules: bytes that are not UTF-8 decode to U+FFFD, Go's RuneError. */
export function utf8(v: unknown): string {
  return v instanceof GoBytes ? v.bytes.toString('utf8') : strval(v);
}

/** A Go string's bytes: UTF-8 for text, the bytes themselves for binary values. */
export function goBytes(v: unknown): Buffer {
  return v instanceof GoBytes ? v.bytes : Buffer.from(strval(v), 'utf8');
}

/**
 * Sprig's toInt/toInt64 of an interface{} argument (spf13/cast): numbers truncated, booleans 0/1,
 * text as strconv.ParseInt(s, 0, 64) reads it once cast drops a zero fraction ("3.0"): decimal,
 * 0x 0o 0b and leading-0 octal, no spaces; anything else 0.
 */
export function toInt(v: unknown): number {
  const n = numberOf(v);
  if (n !== undefined) return Math.trunc(n);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' || v instanceof GoBytes) return parseGoInt(trimZeroDecimal(strval(v)));
  return 0;
}

/** cast's trimZeroDecimal: "12.000" → "12"; anything else unchanged. */
function trimZeroDecimal(s: string): string {
  const m = /^(.*)\.0+$/.exec(s);
  return m && /0$/.test(`${s}`) && m[1] !== undefined ? m[1] : s;
}

const GO_INT = /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/;

/** strconv.ParseInt(s, 0, 64), 0 on error (bad syntax or out of int64's range). */
function parseGoInt(s: string): number {
  if (!GO_INT.test(s)) return 0;
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '').replace(/_/g, '');
  const digits = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body;
  const n = BigInt(digits) * (neg ? -1n : 1n);
  return n === BigInt.asIntN(64, n) ? Number(n) : 0;
}

/** cast.ToFloat64: numbers, booleans, numeric strings; anything else 0. */
export function toFloat(v: unknown): number {
  const n = numberOf(v);
  if (n !== undefined) return n;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' || v instanceof GoBytes) {
    // strconv.ParseFloat: decimal with an exponent, Inf and NaN in any case; no spaces.
    const s = strval(v);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(s)) return Number.NaN;
    const digits = /^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/;
    return digits.test(s) ? Number(s.replace(/_/g, '')) : 0;
  }
  return 0;
}

export function wrongType(want: string, v: unknown, fn: string): FunctionError {
  return new FunctionError(`wrong type for value; expected ${want}; got ${typeName(v)} (${fn})`);
}

/** An `int` parameter: text/template refuses anything but an integer there. */
export function intParam(v: unknown, fn: string, want = 'int'): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw wrongType(want, v, fn);
}

/** A `string` parameter. */
export function stringParam(v: unknown, fn: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  throw wrongType('string', v, fn);
}

/** A `string` parameter as bytes (UTF-8 for text, the bytes themselves for binary values). */
export function bytesParam(v: unknown, fn: string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof GoBytes) return v.bytes;
  throw wrongType('string', v, fn);
}

/** A string argument, named in the error by what it is (`the layout`, `the password`). */
export function stringNamed(v: unknown, fn: string, what = 'argument'): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  throw new FunctionError(`${fn}: ${what} must be a string, got ${typeName(v)}`);
}

/** A `[]string` parameter given as a list (nil is empty); each element must be a string. */
export function stringList(v: unknown, fn: string, what: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw wrongType('[]interface {}', v, fn);
  return v.map((e) => {
    if (typeof e !== 'string') throw new FunctionError(`${fn}: error parsing ${what}: an element is not a string`);
    return e;
  });
}
