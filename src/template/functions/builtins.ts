// Go text/template's predefined functions (and/or are lazy and live in the executor; `slice` is
// Sprig's in ESO's engine, which replaces Go's: see lists.ts).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { sprintArgs, sprintf } from '../format.ts';
import { GoBytes, GoNumber, isGoInteger, isMap, numberOf, STRING_MAPS, sprint, truth, typeName } from '../values.ts';
import { arity } from './arguments.ts';

type Kind = 'string' | 'int' | 'uint' | 'float' | 'bool' | 'nil' | 'other';

/** Go's basicKind for comparisons: ints of any size compare with each other, floats only with floats. */
function basicKind(v: unknown): Kind {
  if (typeof v === 'string' || v instanceof GoBytes) return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof GoNumber) return v.type === 'float64' ? 'float' : v.type === 'uint64' ? 'uint' : 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || v === undefined) return 'nil';
  return 'other';
}

function plain(v: unknown): unknown {
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  return numberOf(v) ?? v;
}

/**
 * Go compares an int with a uint by value and refuses other mixed kinds. Ferry also compares a
 * float with an int by value (deliberately: a JSON number from fromJson equals the literal 5432).
 */
function comparable(ka: Kind, kb: Kind): boolean {
  const number = (k: Kind) => k === 'int' || k === 'uint' || k === 'float';
  return ka === kb || (number(ka) && number(kb));
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === 'other' || kb === 'other') throw new FunctionError('non-comparable type');
  if (!comparable(ka, kb)) throw new FunctionError('incompatible types for comparison');
  return plain(a) === plain(b);
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'bool' || ka === 'nil' || ka === 'other' || !comparable(ka, kb)) {
    throw new FunctionError(ka === kb ? 'invalid type for comparison' : 'incompatible types for comparison');
  }
  return (plain(a) as string | number) < (plain(b) as string | number);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v instanceof GoBytes) return v.bytes.length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new FunctionError(`len of type ${typeName(v)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  if (item === null || item === undefined) throw new FunctionError('index of untyped nil');
  let v: unknown = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string' || v instanceof GoBytes) {
      if (k === null || k === undefined) throw new FunctionError('cannot index slice/array with nil');
      if (!isGoInteger(k)) throw new FunctionError(`cannot index slice/array with type ${typeName(k)}`);
      const len = length(v);
      const at = numberOf(k) as number;
      if (at < 0 || at >= len) throw new FunctionError(`index out of range: ${at}`);
      v = Array.isArray(v) ? v[at] : (v instanceof GoBytes ? v.bytes : Buffer.from(v, 'utf8'))[at];
    } else if (isMap(v)) {
      const key = k instanceof GoBytes ? k.bytes.toString('latin1') : k;
      if (typeof key !== 'string') throw new FunctionError(`value has type ${typeName(k)}; should be string`);
      // Go returns the zero value for a missing key: "" in a string map, nil otherwise.
      v = Object.hasOwn(v, key) ? v[key] : STRING_MAPS.has(v) ? '' : null;
    } else if (v === null || v === undefined) {
      throw new FunctionError('index of untyped nil');
    } else throw new FunctionError(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

/** text/template's evalArgs for html, js and urlquery: a nil operand prints as "<no value>". */
function escaperArgs(args: unknown[]): string {
  return sprintArgs(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

function html(...args: unknown[]): string {
  return escaperArgs(args).replace(/[&'<>"\0]/g, (c) =>
    c === '\0' ? '\uFFFD' : ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' }[c] ?? c),
  );
}

function urlquery(...args: unknown[]): string {
  return encodeURIComponent(escaperArgs(args))
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const builtins: Record<string, TemplateFunction> = {
  not: (...a) => {
    arity('not', a, 1);
    return !truth(a[0]);
  },
  len: (...a) => {
    arity('len', a, 1);
    return length(a[0]);
  },
  index,
  print: (...a) => sprintArgs(a),
  println: (...a) => `${a.map(sprint).join(' ')}\n`,
  printf: (format, ...a) => {
    if (typeof format !== 'string') throw new FunctionError('printf format must be a string');
    return sprintf(format, a);
  },
  eq: (a, ...rest) => {
    if (rest.length === 0) throw new FunctionError('missing argument for comparison');
    return rest.some((b) => equal(a, b));
  },
  ne: (...a) => {
    arity('ne', a, 2);
    return !equal(a[0], a[1]);
  },
  lt: (...a) => {
    arity('lt', a, 2);
    return less(a[0], a[1]);
  },
  le: (...a) => {
    arity('le', a, 2);
    return less(a[0], a[1]) || equal(a[0], a[1]);
  },
  gt: (...a) => {
    arity('gt', a, 2);
    return !less(a[0], a[1]) && !equal(a[0], a[1]);
  },
  ge: (...a) => {
    arity('ge', a, 2);
    return !less(a[0], a[1]);
  },
  html,
  urlquery,
  // Go's JSEscape: quotes and backslash escaped, < > & = and control and non-printable runes as \uXXXX.
  js: (...a) =>
    escaperArgs(a).replace(/[\\'"<>&=\p{C}\p{Z}]/gu, (c) =>
      c === '\\' || c === "'" || c === '"'
        ? `\\${c}`
        : c === ' ' || c === '\uFFFD'
          ? c
          : `\\u${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`,
    ),
};
