// How Go template values look in JavaScript, and Go's rules for printing them (fmt's %v) and for
// their truth. Strings are JS strings; bytes that are not UTF-8 travel as GoBytes so a binary
// value (a keystore) survives `b64dec`/`b64enc` and printing unchanged.

/** A byte string that is not valid UTF-8 (Go strings are bytes; most are text). */
export class GoBytes {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

/** A Go value with its own type name and %v form (time.Time); never a map. */
export abstract class GoValue {
  abstract get goType(): string;
  abstract goString(): string;
  /** A struct's exported field by name (`.Cert`), or undefined when the type has no such field. */
  field(_name: string): unknown {
    return undefined;
  }
}

/**
 * A Go number of another type than `int`, which JavaScript numbers stand for: float64 (literals
 * like 1.5 or 1e6, Sprig's float functions, JSON numbers), int64 (Sprig's integer arithmetic),
 * uint64 (semver fields). The type decides how Go prints it (1e+06), which parameters take it and
 * what typeOf says.
 */
export class GoNumber {
  readonly value: number;
  readonly type: 'float64' | 'int64' | 'uint64';
  constructor(value: number, type: GoNumber['type']) {
    this.value = value;
    this.type = type;
  }
}

/** The number a Go number value holds, or undefined for anything else. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return v instanceof GoNumber ? v.value : undefined;
}

/** Whether a value is a number of one of Go's integer types. */
export function isGoInteger(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || (v instanceof GoNumber && v.type !== 'float64');
}

/** A map whose values are strings: a missing key reads as "" (Go's zero value), as ESO's data map. */
export const STRING_MAPS = new WeakSet<object>();

/** Go's nil slices: empty lists that print as [] but marshal to JSON null. */
export const NIL_SLICES = new WeakSet<unknown[]>();

/** Lists of another Go type than []interface {} ([]string from splitList, []int from until). */
export const SLICE_TYPES = new WeakMap<unknown[], string>();

/** Bytes as a template value: a string when they are valid UTF-8, else GoBytes. */
export function fromBytes(bytes: Buffer): string | GoBytes {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : new GoBytes(Buffer.from(bytes));
}

export function toBytes(v: unknown): Buffer {
  return v instanceof GoBytes ? v.bytes : Buffer.from(sprint(v), 'utf8');
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof GoBytes) &&
    !(v instanceof GoValue) &&
    !(v instanceof GoNumber)
  );
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (v instanceof GoNumber) return v.type;
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoBytes) return 'string';
  if (v instanceof GoValue) return v.goType;
  if (Array.isArray(v)) return SLICE_TYPES.get(v) ?? '[]interface {}';
  return STRING_MAPS.has(v as object) ? 'map[string]string' : 'map[string]interface {}';
}

/** Go's template truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoNumber) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof GoBytes) return v.bytes.length > 0;
  if (v instanceof GoValue) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's %v of a float64 (strconv's shortest %g): an exponent from 1e+06 up and below 1e-04. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '0', exp = '0'] = n.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const digits = mant.replace(/^-/, '').replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  return digits.length > e + 1
    ? `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`
    : `${sign}${digits}${'0'.repeat(e + 1 - digits.length)}`;
}

/** fmt.Sprint of one value (%v). */
export function sprint(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : formatFloat(v);
  if (v instanceof GoNumber) return v.type === 'float64' ? formatFloat(v.value) : String(v.value);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  if (v instanceof GoValue) return v.goString();
  if (Array.isArray(v)) return `[${v.map(sprint).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.keys(v)
      .sort()
      .map((k) => `${k}:${sprint((v as Record<string, unknown>)[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(v);
}

/** fmt.Sprint of one value as bytes: binary strings inside lists and maps keep their bytes. */
export function sprintBytes(v: unknown): Buffer {
  if (v instanceof GoBytes) return v.bytes;
  if (Array.isArray(v)) {
    const parts = v.flatMap((e, i) => (i === 0 ? [sprintBytes(e)] : [Buffer.from(' '), sprintBytes(e)]));
    return Buffer.concat([Buffer.from('['), ...parts, Buffer.from(']')]);
  }
  if (isMap(v)) {
    const parts = Object.keys(v)
      .sort()
      .flatMap((k, i) => [Buffer.from(`${i === 0 ? '' : ' '}${k}:`, 'utf8'), sprintBytes(v[k])]);
    return Buffer.concat([Buffer.from('map['), ...parts, Buffer.from(']')]);
  }
  return Buffer.from(sprint(v), 'utf8');
}

/** Go's strconv.Quote: printable runes kept, the rest escaped; bytes that are not UTF-8 as \xNN. */
export function goQuote(s: string | GoBytes): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
  let out = '"';
  const rune = (ch: string) => {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (named[c]) out += named[c];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd || /\p{C}/u.test(ch))
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  };
  if (typeof s === 'string') for (const ch of s) rune(ch);
  else {
    const b = s.bytes;
    for (let i = 0; i < b.length; ) {
      const n = utf8Length(b, i);
      if (n === 0) out += `\\x${(b[i++] as number).toString(16).padStart(2, '0')}`;
      else {
        rune(b.subarray(i, i + n).toString('utf8'));
        i += n;
      }
    }
  }
  return `${out}"`;
}

/** The length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i] as number;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
  if (n <= 1) return n;
  const seq = b.subarray(i, i + n);
  return seq.length === n && Buffer.from(seq.toString('utf8'), 'utf8').equals(seq) ? n : 0;
}

/** reflect.DeepEqual over template values: the same Go type and value at every leaf. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
  }
  const bytes = (v: unknown) => (v instanceof GoBytes ? v.bytes : Buffer.from(String(v), 'utf8'));
  if (a instanceof GoBytes || b instanceof GoBytes) return bytes(a).equals(bytes(b));
  if (a instanceof GoNumber && b instanceof GoNumber) return a.value === b.value;
  if (a instanceof GoValue && b instanceof GoValue) return a.goString() === b.goString();
  return a === b || (a == null && b == null);
}
