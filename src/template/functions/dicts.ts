// Sprig's dict functions (dict.go): building, reading and changing map[string]interface{}
// values, merging, digging, deep copies. A template's data map is one too (a missing key of it
// reads as "", Go's zero value for its strings).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { isMap, STRING_MAPS, typeName } from '../values.ts';
import { alias, fixed, strval, withArity } from './arguments.ts';
import { empty } from './logic.ts';

function dictOf(v: unknown, fn: string): Record<string, unknown> {
  if (isMap(v)) return v;
  throw new FunctionError(`${fn}: expected a dict, got ${typeName(v)}`);
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const [k, v] of Object.entries(src)) {
    const have = dst[k];
    if (isMap(have) && isMap(v)) mergeInto(have, v, overwrite);
    else if (!(k in dst) || overwrite || empty(have)) dst[k] = v;
  }
}

function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (isMap(v)) {
    const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(v));
    for (const k of Object.keys(v)) copy[k] = deepCopy(v[k]);
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
      dictOf(d, 'set')[strval(k)] = v;
      return d;
    },
    unset: (d, k) => {
      delete dictOf(d, 'unset')[strval(k)];
      return d;
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
      for (const s of srcs) mergeInto(dictOf(dst, 'merge'), dictOf(s, 'merge'), false);
      return dst;
    },
    mergeOverwrite: (dst, ...srcs) => {
      for (const s of srcs) mergeInto(dictOf(dst, 'mergeOverwrite'), dictOf(s, 'mergeOverwrite'), true);
      return dst;
    },
    pluck: (k, ...ds) =>
      ds
        .map((d) => dictOf(d, 'pluck'))
        .filter((d) => Object.hasOwn(d, strval(k)))
        .map((d) => d[strval(k)]),
    dig: (...a) => {
      if (a.length < 3) throw new FunctionError('dig needs at least one key, a default and a dict');
      const dict = a.at(-1);
      const fallback = a.at(-2);
      let v: unknown = dict;
      for (const k of a.slice(0, -2)) {
        if (!isMap(v) || !Object.hasOwn(v, strval(k))) return fallback;
        v = v[strval(k)];
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
