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

/** A map whose values are strings: a missing key reads as "" (Go's zero value), as ESO's data map. */
export const STRING_MAPS = new WeakSet<object>();

/** Bytes as a template value: a string when they are valid UTF-8, else GoBytes. */
export function fromBytes(bytes: Buffer): string | GoBytes {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : new GoBytes(Buffer.from(bytes));
}

export function toBytes(v: unknown): Buffer {
  return v instanceof GoBytes ? v.bytes : Buffer.from(sprint(v), 'utf8');
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof GoBytes) && !(v instanceof GoValue);
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoBytes) return 'string';
  if (v instanceof GoValue) return v.goType;
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's template truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof GoBytes) return v.bytes.length > 0;
  if (v instanceof GoValue) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's %v of a float64: shortest representation, exponent below 1e-4 and from 1e21. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [mant, exp = '0'] = n.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(n);
}

/** fmt.Sprint of one value (%v). */
export function sprint(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : formatFloat(v);
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

/** Go's strconv.Quote: printable runes kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (named[c]) out += named[c];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd || /\p{C}/u.test(ch))
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
