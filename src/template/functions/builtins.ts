// Go text/template's predefined functions (and/or are lazy and live in the executor).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { sprintArgs, sprintf } from '../format.ts';
import { GoBytes, isMap, STRING_MAPS, sprint, truth, typeName } from '../values.ts';
import { arity } from './arguments.ts';

function basicKind(v: unknown): 'string' | 'number' | 'bool' | 'nil' | 'other' {
  if (typeof v === 'string' || v instanceof GoBytes) return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || v === undefined) return 'nil';
  return 'other';
}

function plain(v: unknown): unknown {
  return v instanceof GoBytes ? v.bytes.toString('latin1') : v;
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === 'other' || kb === 'other') throw new FunctionError('non-comparable type');
  if (ka !== kb) throw new FunctionError('incompatible types for comparison');
  return plain(a) === plain(b);
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if ((ka !== 'string' && ka !== 'number') || ka !== kb) {
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
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string' || v instanceof GoBytes) {
      if (typeof k !== 'number' || !Number.isInteger(k))
        throw new FunctionError('cannot index slice/array with non-integer');
      const len = length(v);
      if (k < 0 || k >= len) throw new FunctionError(`index out of range: ${k}`);
      v = Array.isArray(v) ? v[k] : (v instanceof GoBytes ? v.bytes : Buffer.from(v, 'utf8'))[k];
    } else if (isMap(v)) {
      if (typeof k !== 'string') throw new FunctionError('value has type int; should be string');
      // Go returns the zero value for a missing key: "" in a string map, nil otherwise.
      v = Object.hasOwn(v, k) ? v[k] : STRING_MAPS.has(v) ? '' : null;
    } else if (v === null || v === undefined) {
      throw new FunctionError('index of untyped nil');
    } else throw new FunctionError(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

function slice(item: unknown, ...bounds: unknown[]): unknown {
  if (bounds.length > 3) throw new FunctionError('too many slice indexes');
  const len = length(item);
  const [i = 0, j = len] = bounds as number[];
  if (bounds.some((b) => typeof b !== 'number' || !Number.isInteger(b)))
    throw new FunctionError('non-integer slice index');
  if (i < 0 || j < i || j > len) throw new FunctionError(`index out of range: ${j < i ? i : j}`);
  if (Array.isArray(item)) return item.slice(i, j);
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(i, j).toString('utf8');
  if (item instanceof GoBytes) return new GoBytes(item.bytes.subarray(i, j));
  throw new FunctionError(`can't slice item of type ${typeName(item)}`);
}

function html(...args: unknown[]): string {
  return sprintArgs(args).replace(/[&'<>"\0]/g, (c) =>
    c === '\0' ? '\uFFFD' : ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' }[c] ?? c),
  );
}

function urlquery(...args: unknown[]): string {
  return encodeURIComponent(sprintArgs(args))
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
  slice,
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
  js: (...a) =>
    sprintArgs(a).replace(/[\\'"<>&=\n\r\t]/g, (c) =>
      c === '\\' || c === "'" || c === '"'
        ? `\\${c}`
        : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
    ),
};
