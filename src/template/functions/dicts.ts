// Sprig's dict functions (dict.go): building, reading and changing map[string]interface{}
// values, merging, digging, deep copies. A template's data map is one too (a missing key of it
// reads as "", Go's zero value for its strings).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { isMap, STRING_MAPS, typeName } from '../values.ts';
import { alias, fixed, strval, withArity } from './arguments.ts';
import { empty } from './logic.ts';

/** A dict argument; nil is Go's nil map, which reads as empty. */
function dictOf(v: unknown, fn: string): Record<string, unknown> {
  if (isMap(v)) return v;
  if (v === null || v === undefined) return {};
  throw new FunctionError(`${fn}: expected a dict, got ${typeName(v)}`);
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const [k, v] of Object.entries(src)) {
    const have = dst[k];
    if (isMap(have) && isMap(v)) mergeInto(have, v, overwrite);
    else if (!(k in dst) || overwrite || empty(have)) dst[k] = v;
  }
}

/** Sprig's deepCopy (copystructure); nil fails, as Go's reflection panics on it. */
function deepCopy(v: unknown): unknown {
  if (v === null || v === undefined) throw new FunctionError('deepCopy: cannot copy nil');
  return copyValue(v);
}

function copyValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyValue);
  if (isMap(v)) {
    const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(v));
    for (const k of Object.keys(v)) copy[k] = copyValue(v[k]);
    if (STRING_MAPS.has(v)) STRING_MAPS.add(copy);
    return copy;
  }
  return v; // strings, numbers, GoBytes and Go values are immutable here
}

const table: Record<string, TemplateFunction> = withArity(
  {
    dict: (...a) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < a.length; i += 2) out[strval(a[i])] = i + 1 < a.length ? a[i + 1] : '';
      return out;
    },
    get: (d, k) => {
      const m = dictOf(d, 'get');
      return Object.hasOwn(m, strval(k)) ? m[strval(k)] : '';
    },
    set: (d, k, v) => {
      if (d === null || d === undefined) throw new FunctionError('assignment to entry in nil map');
      dictOf(d, 'set')[strval(k)] = v;
      return d;
    },
    unset: (d, k) => {
      const m = dictOf(d, 'unset');
      delete m[strval(k)];
      return m;
    },
    hasKey: (d, k) => Object.hasOwn(dictOf(d, 'hasKey'), strval(k)),
    keys: (...ds) => ds.flatMap((d) => Object.keys(dictOf(d, 'keys'))).sort(),
    values: (d) => Object.values(dictOf(d, 'values')),
    pick: (d, ...ks) => {
      const m = dictOf(d, 'pick');
      return Object.fromEntries(
        ks
          .map(strval)
          .filter((k) => Object.hasOwn(m, k))
          .map((k) => [k, m[k]]),
      );
    },
    omit: (d, ...ks) => {
      const drop = new Set(ks.map(strval));
      return Object.fromEntries(Object.entries(dictOf(d, 'omit')).filter(([k]) => !drop.has(k)));
    },
    merge: (dst, ...srcs) => {
      const target = dictOf(dst, 'merge');
      for (const s of srcs) mergeInto(target, dictOf(s, 'merge'), false);
      return target;
    },
    mergeOverwrite: (dst, ...srcs) => {
      const target = dictOf(dst, 'mergeOverwrite');
      for (const s of srcs) mergeInto(target, dictOf(s, 'mergeOverwrite'), true);
      return target;
    },
    pluck: (k, ...ds) =>
      ds
        .map((d) => dictOf(d, 'pluck'))
        .filter((d) => Object.hasOwn(d, strval(k)))
        .map((d) => d[strval(k)]),
    dig: (...a) => {
      // Sprig's type assertions: keys are strings, the dict and every step before the last key a
      // map[string]interface {}, or it panics (a missing key gives the default).
      if (a.length < 3) throw new FunctionError('dig needs at least three arguments');
      const fallback = a.at(-2);
      const keys = a.slice(0, -2).map((k) => {
        if (typeof k !== 'string') throw new FunctionError(`interface conversion: a key is ${typeName(k)}, not string`);
        return k;
      });
      let v: unknown = a.at(-1);
      for (const k of keys) {
        if (typeName(v) !== 'map[string]interface {}')
          throw new FunctionError(`interface conversion: interface {} is ${typeName(v)}, not map[string]interface {}`);
        const m = v as Record<string, unknown>;
        if (!Object.hasOwn(m, k)) return fallback;
        v = m[k];
      }
      return v;
    },
  },
  { get: 2, set: 3, unset: 2, hasKey: 2 },
);

export const dictFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    alias('mustMerge', table.merge),
    alias('mustMergeOverwrite', table.mergeOverwrite),
    fixed('deepCopy', 1, deepCopy),
    fixed('mustDeepCopy', 1, deepCopy),
  ]),
};
