// Sprig's string functions (strings.go): case, trimming, quoting, indenting, substrings,
// splitting and joining. Results that would pass MAX_VALUE fail before they are built.
import { FunctionError, MAX_ELEMENTS, type TemplateFunction, tooMany, within } from '../execute.ts';
import { fromBytes, GoBytes, goQuote } from '../values.ts';
import { alias, goBytes, intParam, strval, toInt, withArity } from './arguments.ts';

/** Width of indent's pad, failing first when the indented text would pass MAX_VALUE. */
function padWidth(fn: string, n: number, lines: string[]): number {
  within(fn, lines.reduce((sum, l) => sum + l.length + 1, 0) + Math.max(0, n) * lines.length);
  return n;
}

/** parts joined by sep, failing first when that would pass MAX_VALUE. */
function joined(fn: string, parts: string[], sep: string): string {
  within(fn, parts.reduce((sum, p) => sum + p.length, 0) + sep.length * Math.max(0, parts.length - 1));
  return parts.join(sep);
}

/**
 * Go's strings.SplitN (n < 0: all pieces; the last piece holds the rest), stopping past
 * MAX_ELEMENTS pieces rather than building them. An empty separator splits into characters.
 */
export function goSplit(fn: string, s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const max = n < 0 ? MAX_ELEMENTS + 1 : Math.min(n, MAX_ELEMENTS + 1);
  const parts: string[] = [];
  if (sep === '') {
    // A character is one or two UTF-16 units: past 2 × max units there are more than max.
    if (n < 0 && s.length > 2 * max) tooMany(fn);
    let from = 0;
    for (const c of s) {
      if (parts.length === max - 1 && from + c.length < s.length) break;
      parts.push(c);
      from += c.length;
    }
    if (from < s.length) parts.push(s.slice(from));
  } else {
    let from = 0;
    while (parts.length < max - 1) {
      const at = s.indexOf(sep, from);
      if (at < 0) break;
      parts.push(s.slice(from, at));
      from = at + sep.length;
    }
    parts.push(s.slice(from));
  }
  if (parts.length > MAX_ELEMENTS) tooMany(fn);
  return parts;
}

/** Pieces as Sprig's split returns them: a dict `_0`, `_1`, ..., refused before it passes MAX_VALUE. */
export function numbered(fn: string, parts: string[]): Record<string, string> {
  within(
    fn,
    parts.reduce((sum, p, i) => sum + p.length + String(i).length + 3, 1),
  );
  return Object.fromEntries(parts.map((p, i) => [`_${i}`, p]));
}

/** Sprig's strslice: a list's elements as strings, nils left out; nil is empty; anything else one string. */
export function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(strval);
  return v === null || v === undefined ? [] : [strval(v)];
}

/** Go's b[i:j], which panics out of range. */
function cut(b: Buffer, i: number, j: number): Buffer {
  if (i < 0 || j < i || j > b.length) throw new FunctionError(`runtime error: slice bounds out of range [${i}:${j}]`);
  return b.subarray(i, j);
}

const table: Record<string, TemplateFunction> = {
  upper: (s) => strval(s).toUpperCase(),
  lower: (s) => strval(s).toLowerCase(),
  title: (s) => strval(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, p, c: string) => p + c.toUpperCase()),
  trim: (s) => strval(s).trim(),
  trimAll: (cut, s) => {
    const set = [...strval(cut)];
    const chars = [...strval(s)];
    let a = 0;
    let b = chars.length;
    while (a < b && set.includes(chars[a] ?? '')) a++;
    while (b > a && set.includes(chars[b - 1] ?? '')) b--;
    return chars.slice(a, b).join('');
  },
  trimPrefix: (p, s) => (strval(s).startsWith(strval(p)) ? strval(s).slice(strval(p).length) : strval(s)),
  trimSuffix: (p, s) =>
    strval(p) !== '' && strval(s).endsWith(strval(p)) ? strval(s).slice(0, -strval(p).length) : strval(s),
  replace: (o, n, s) => {
    const old = strval(o);
    const src = strval(s);
    // strings.Replace with an empty old inserts new before each rune and at the end.
    if (old === '') return joined('replace', ['', ...src, ''], strval(n));
    return joined('replace', src.split(old), strval(n));
  },
  quote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => goQuote(x instanceof GoBytes ? x : strval(x)))
      .join(' '),
  squote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => `'${strval(x)}'`)
      .join(' '),
  cat: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map(strval)
      .join(' '),
  indent: (n, s) => {
    const lines = strval(s).split('\n');
    const pad = ' '.repeat(padWidth('indent', toInt(n), lines));
    return pad + lines.join(`\n${pad}`);
  },
  nindent: (n, s) => {
    const lines = strval(s).split('\n');
    const pad = ' '.repeat(padWidth('nindent', toInt(n), lines));
    return `\n${pad}${lines.join(`\n${pad}`)}`;
  },
  nospace: (s) => strval(s).replace(/\s/g, ''),
  repeat: (n, s) => {
    const t = strval(s);
    const count = Math.max(0, toInt(n));
    within('repeat', t.length * count);
    return t.repeat(count);
  },
  // substr and trunc cut bytes, as Go's s[i:j]; bounds Go would panic on fail the render.
  substr: (start, end, s) => {
    const t = goBytes(s);
    const a = toInt(start);
    const b = toInt(end);
    if (a < 0) return fromBytes(cut(t, 0, b));
    if (b < 0 || b > t.length) return fromBytes(cut(t, a, t.length));
    return fromBytes(cut(t, a, b));
  },
  trunc: (n, s) => {
    const t = goBytes(s);
    const c = toInt(n);
    if (c < 0 && t.length + c > 0) return fromBytes(t.subarray(t.length + c));
    if (c >= 0 && t.length > c) return fromBytes(t.subarray(0, c));
    return fromBytes(t);
  },
  contains: (sub, s) => strval(s).includes(strval(sub)),
  hasPrefix: (p, s) => strval(s).startsWith(strval(p)),
  hasSuffix: (p, s) => strval(s).endsWith(strval(p)),
  split: (sep, s) => numbered('split', goSplit('split', strval(s), strval(sep), -1)),
  splitList: (sep, s) => goSplit('splitList', strval(s), strval(sep), -1),
  join: (sep, v) => joined('join', strslice(v), strval(sep)),
  toString: (v: unknown) => strval(v),
  toStrings: (v) => strslice(v),
  splitn: (sep, n, s) => numbered('splitn', goSplit('splitn', strval(s), strval(sep), intParam(n, 'splitn'))),
  hello: () => 'Hello!',
  plural: (one, many, n) => (intParam(n, 'plural') === 1 ? strval(one) : strval(many)),
};

export const stringFunctions: Record<string, TemplateFunction> = {
  ...withArity(table, {
    upper: 1,
    lower: 1,
    title: 1,
    trim: 1,
    trimAll: 2,
    trimPrefix: 2,
    trimSuffix: 2,
    replace: 3,
    indent: 2,
    nindent: 2,
    nospace: 1,
    repeat: 2,
    substr: 3,
    trunc: 2,
    contains: 2,
    hasPrefix: 2,
    hasSuffix: 2,
    split: 2,
    splitList: 2,
    join: 2,
    toString: 1,
    toStrings: 1,
    splitn: 3,
    hello: 0,
    plural: 3,
  }),
  ...Object.fromEntries([alias('trimall', table.trimAll, 2)]),
};
