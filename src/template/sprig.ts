// The Sprig functions ESO templates use, plus ESO's own toYaml/fromYaml/filterPEM. Where Sprig
// would write an error text into the output (b64dec, fromJson, fromYaml on bad input), these
// fail the render instead, so a Secret is never written wrong.
import { createHash } from 'node:crypto';
import type * as Yaml from 'yaml';
import { compileGoRegexp, findAllGo, type GoRegexp, GoRegexpError, replaceAllGo } from '../go-regexp.ts';
import { lazyRequire } from '../lazy-require.ts';
import { checked } from './builtins.ts';
import { DerError, filterPem } from './der.ts';
import { FunctionError, MAX_ELEMENTS, type TemplateFunction, within } from './execute.ts';
import { sprintf } from './format.ts';
import { fromBytes, GoBytes, goQuote, isMap, sprint, toBytes, truth, typeName } from './values.ts';

const yaml = lazyRequire<typeof Yaml>('yaml');

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

/** Go's ReplaceAllString, stopping once the result would pass MAX_VALUE. */
function regexReplace(fn: string, re: GoRegexp, s: string, repl: string, literal: boolean): string {
  return replaceAllGo(re, s, repl, literal, (grown) => within(fn, s.length + grown));
}

function tooMany(fn: string): never {
  throw new FunctionError(`${fn}: more than ${MAX_ELEMENTS} elements`);
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

/** Go's Regexp.Split. */
function regexSplit(pattern: string, re: GoRegexp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [''];
  const matches = findAllGo(re, s, n < 0 ? MAX_ELEMENTS + 1 : n);
  if (matches.length > MAX_ELEMENTS) tooMany('regexSplit');
  const parts: string[] = [];
  let begin = 0;
  let end = 0;
  for (const [start, stop] of matches) {
    if (n > 0 && parts.length === n - 1) break;
    end = start;
    if (stop !== 0) parts.push(s.slice(begin, end));
    begin = stop;
  }
  if (end !== s.length) parts.push(s.slice(begin));
  return parts;
}

/** Sprig's strval: strings as they are, everything else as %v. */
function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  return sprint(v);
}

function int(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  }
  return 0;
}

function list(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new FunctionError(`${fn}: cannot find ${fn} on type ${typeName(v)}`);
}

function dictOf(v: unknown, fn: string): Record<string, unknown> {
  if (isMap(v)) return v;
  throw new FunctionError(`${fn}: expected a dict, got ${typeName(v)}`);
}

function empty(v: unknown): boolean {
  return !truth(v);
}

function regex(pattern: unknown): GoRegexp {
  try {
    return compileGoRegexp(str(pattern));
  } catch (err) {
    if (err instanceof GoRegexpError) throw new FunctionError(err.message);
    throw err;
  }
}

function jsonValue(v: unknown): unknown {
  if (v instanceof GoBytes) return v.bytes.toString('utf8');
  if (Array.isArray(v)) return v.map(jsonValue);
  if (isMap(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, jsonValue(v[k])]),
    );
  }
  return v === undefined ? null : v;
}

/** Go's json.Marshal escapes <, > and & for HTML safety; Sprig's toJson keeps that. */
function htmlEscape(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function b64dec(v: unknown, url = false): string | GoBytes {
  const text = str(v);
  const re = url ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (!re.test(text) || text.length % 4 === 1) throw new FunctionError('illegal base64 data');
  return fromBytes(Buffer.from(text, url ? 'base64url' : 'base64'));
}

/**
 * The yaml package parses flow collections (`[`, `{`) recursively; near its stack's end, a few
 * hundred to a thousand levels deep, it sometimes throws and sometimes returns a structure with
 * levels missing, which would be written as if it were the value. Deeper input is refused first.
 */
const MAX_FLOW_DEPTH = 500;

/** Deepest nesting of YAML flow collections outside quoted scalars and comments. */
function flowDepth(text: string): number {
  // A quote opens a quoted scalar only where a token starts; `#` opens a comment after a space.
  const space = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const tokenStart = (c: string | undefined) => space(c) || c === '[' || c === '{' || c === ',' || c === ':';
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const prev = text[i - 1];
    if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
    else if (c === '"' && tokenStart(prev)) {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === "'" && tokenStart(prev)) {
      for (i++; i < text.length && !(text[i] === "'" && text[i + 1] !== "'"); i++) if (text[i] === "'") i++;
    } else if (c === '#' && space(prev)) {
      while (i < text.length && text[i] !== '\n') i++;
    }
  }
  return max;
}

function parseData(text: string, kind: 'JSON' | 'YAML'): unknown {
  if (kind === 'YAML' && flowDepth(text) > MAX_FLOW_DEPTH) {
    throw new FunctionError(`the value nests YAML [ ] or { } more than ${MAX_FLOW_DEPTH} deep`);
  }
  try {
    return kind === 'JSON'
      ? JSON.parse(text)
      : yaml().parse(text, { schema: 'core', uniqueKeys: false, logLevel: 'silent' });
  } catch {
    // The parser's message quotes the input; say only what failed.
    throw new FunctionError(`the value is not valid ${kind}`);
  }
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const [k, v] of Object.entries(src)) {
    const have = dst[k];
    if (isMap(have) && isMap(v)) mergeInto(have, v, overwrite);
    else if (!(k in dst) || overwrite || empty(have)) dst[k] = v;
  }
}

export const sprig: Record<string, TemplateFunction> = {
  // strings
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  title: (s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, p, c: string) => p + c.toUpperCase()),
  trim: (s) => str(s).trim(),
  trimAll: (cut, s) => {
    const set = [...str(cut)];
    const chars = [...str(s)];
    let a = 0;
    let b = chars.length;
    while (a < b && set.includes(chars[a] ?? '')) a++;
    while (b > a && set.includes(chars[b - 1] ?? '')) b--;
    return chars.slice(a, b).join('');
  },
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s)),
  replace: (o, n, s) => joined('replace', str(s).split(str(o)), str(n)),
  quote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => goQuote(str(x)))
      .join(' '),
  squote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => `'${str(x)}'`)
      .join(' '),
  cat: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map(str)
      .join(' '),
  indent: (n, s) => {
    const lines = str(s).split('\n');
    const pad = ' '.repeat(padWidth('indent', int(n), lines));
    return pad + lines.join(`\n${pad}`);
  },
  nindent: (n, s) => {
    const lines = str(s).split('\n');
    const pad = ' '.repeat(padWidth('nindent', int(n), lines));
    return `\n${pad}${lines.join(`\n${pad}`)}`;
  },
  nospace: (s) => str(s).replace(/\s/g, ''),
  repeat: (n, s) => {
    const t = str(s);
    const count = Math.max(0, int(n));
    within('repeat', t.length * count);
    return t.repeat(count);
  },
  substr: (start, end, s) => {
    const t = str(s);
    const a = int(start);
    const b = int(end);
    if (a < 0) return t.slice(0, b);
    if (b < 0 || b > t.length) return t.slice(a);
    return t.slice(a, b);
  },
  trunc: (n, s) => {
    const t = str(s);
    const c = int(n);
    if (c < 0 && t.length + c > 0) return t.slice(t.length + c);
    if (c >= 0 && t.length > c) return t.slice(0, c);
    return t;
  },
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  split: (sep, s) => numbered('split', goSplit('split', str(s), str(sep), -1)),
  splitList: (sep, s) => goSplit('splitList', str(s), str(sep), -1),
  join: (sep, v) => {
    const items = Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined) : [v];
    return joined('join', items.map(str), str(sep));
  },
  toString: (v: unknown) => str(v),
  printf: (format, ...a) => sprintf(str(format), a),
  // encodings and hashes
  b64enc: (v) => toBytes(v).toString('base64'),
  b64dec: (v) => b64dec(v),
  sha1sum: (v) => createHash('sha1').update(toBytes(v)).digest('hex'),
  sha256sum: (v) => createHash('sha256').update(toBytes(v)).digest('hex'),
  sha512sum: (v) => createHash('sha512').update(toBytes(v)).digest('hex'),
  // ESO's extras
  toJson: (v) => htmlEscape(JSON.stringify(jsonValue(v))),
  toRawJson: (v) => JSON.stringify(jsonValue(v)),
  toPrettyJson: (v) => htmlEscape(JSON.stringify(jsonValue(v), null, 2)),
  fromJson: (v) => parseData(str(v), 'JSON'),
  mustFromJson: (v) => parseData(str(v), 'JSON'),
  toYaml: (v) => yaml().stringify(jsonValue(v), { sortMapEntries: true }).replace(/\n$/, ''),
  fromYaml: (v) => parseData(str(v), 'YAML'),
  filterPEM: (type, v) => {
    try {
      return filterPem(str(type), str(v));
    } catch (err) {
      if (err instanceof DerError) throw new FunctionError(err.message);
      throw err;
    }
  },
  // defaults and logic
  default: (d, ...given) => (given.length === 0 || empty(given[0]) ? d : given[0]),
  empty: (v) => empty(v),
  coalesce: (...a) => a.find((x) => !empty(x)) ?? null,
  ternary: (t, f, cond) => (truth(cond) ? t : f),
  // lists
  list: (...a) => a,
  first: (l) => list(l, 'first')[0] ?? null,
  last: (l) => list(l, 'last').at(-1) ?? null,
  rest: (l) => list(l, 'rest').slice(1),
  initial: (l) => list(l, 'initial').slice(0, -1),
  append: (l, v) => [...list(l, 'append'), v],
  prepend: (l, v) => [v, ...list(l, 'prepend')],
  concat: (...ls) => ls.flatMap((l) => list(l, 'concat')),
  has: (needle, l) => list(l, 'has').some((x) => x === needle),
  compact: (l) => list(l, 'compact').filter((x) => !empty(x)),
  uniq: (l) => [...new Set(list(l, 'uniq'))],
  without: (l, ...omit) => list(l, 'without').filter((x) => !omit.includes(x)),
  reverse: (l) => [...list(l, 'reverse')].reverse(),
  sortAlpha: (l) => list(l, 'sortAlpha').map(str).sort(),
  // dicts
  dict: (...a) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < a.length; i += 2) out[str(a[i])] = i + 1 < a.length ? a[i + 1] : '';
    return out;
  },
  get: (d, k) => {
    const m = dictOf(d, 'get');
    return Object.hasOwn(m, str(k)) ? m[str(k)] : '';
  },
  set: (d, k, v) => {
    dictOf(d, 'set')[str(k)] = v;
    return d;
  },
  unset: (d, k) => {
    delete dictOf(d, 'unset')[str(k)];
    return d;
  },
  hasKey: (d, k) => Object.hasOwn(dictOf(d, 'hasKey'), str(k)),
  keys: (...ds) => ds.flatMap((d) => Object.keys(dictOf(d, 'keys'))).sort(),
  values: (d) => Object.values(dictOf(d, 'values')),
  pick: (d, ...ks) => {
    const m = dictOf(d, 'pick');
    return Object.fromEntries(
      ks
        .map(str)
        .filter((k) => Object.hasOwn(m, k))
        .map((k) => [k, m[k]]),
    );
  },
  omit: (d, ...ks) => {
    const drop = new Set(ks.map(str));
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
      .filter((d) => Object.hasOwn(d, str(k)))
      .map((d) => d[str(k)]),
  dig: (...a) => {
    if (a.length < 3) throw new FunctionError('dig needs at least one key, a default and a dict');
    const dict = a.at(-1);
    const fallback = a.at(-2);
    let v: unknown = dict;
    for (const k of a.slice(0, -2)) {
      if (!isMap(v) || !Object.hasOwn(v, str(k))) return fallback;
      v = v[str(k)];
    }
    return v;
  },
  // numbers
  int: (v) => int(v),
  int64: (v) => int(v),
  atoi: (v) => {
    const t = str(v);
    return /^[+-]?\d+$/.test(t) ? Number(t) : 0;
  },
  float64: (v) => (typeof v === 'number' ? v : Number(str(v)) || 0),
  add: (...a) => a.reduce<number>((s, x) => s + int(x), 0),
  add1: (v) => int(v) + 1,
  sub: (a, b) => int(a) - int(b),
  mul: (...a) => a.reduce<number>((s, x) => s * int(x), 1),
  div: (a, b) => {
    if (int(b) === 0) throw new FunctionError('integer divide by zero');
    return Math.trunc(int(a) / int(b));
  },
  mod: (a, b) => {
    if (int(b) === 0) throw new FunctionError('integer divide by zero');
    return int(a) % int(b);
  },
  max: (...a) => Math.max(...a.map(int)),
  min: (...a) => Math.min(...a.map(int)),
  // regular expressions (Go RE2 syntax)
  regexMatch: (re, s) => regex(re).test(str(s)),
  regexFind: (re, s) => regex(re).exec(str(s))?.[0] ?? '',
  regexFindAll: (re, s, n) => {
    const t = str(s);
    const found = findAllGo(regex(re), t, int(n) < 0 ? MAX_ELEMENTS + 1 : int(n));
    if (found.length > MAX_ELEMENTS) tooMany('regexFindAll');
    return found.map(([start, end]) => t.slice(start, end));
  },
  regexReplaceAll: (re, s, repl) => regexReplace('regexReplaceAll', regex(re), str(s), str(repl), false),
  regexReplaceAllLiteral: (re, s, repl) => regexReplace('regexReplaceAllLiteral', regex(re), str(s), str(repl), true),
  regexSplit: (re, s, n) => regexSplit(str(re), regex(re), str(s), int(n)),
  // types
  kindOf: (v) => {
    const t = typeName(v);
    return t === '<nil>' ? 'invalid' : t.startsWith('map') ? 'map' : t.startsWith('[]') ? 'slice' : t;
  },
  typeOf: (v) => typeName(v),
};

// Sprig's argument counts for the fixed-arity functions, checked before the call.
const FIXED: Record<string, number> = {
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
  b64enc: 1,
  b64dec: 1,
  toJson: 1,
  toRawJson: 1,
  toPrettyJson: 1,
  fromJson: 1,
  toYaml: 1,
  fromYaml: 1,
  filterPEM: 2,
  ternary: 3,
  get: 2,
  set: 3,
  unset: 2,
  hasKey: 2,
  sub: 2,
  div: 2,
  mod: 2,
  regexMatch: 2,
  regexReplaceAll: 3,
};
for (const [name, n] of Object.entries(FIXED)) {
  const fn = sprig[name];
  if (fn) sprig[name] = checked(name, n, fn);
}
