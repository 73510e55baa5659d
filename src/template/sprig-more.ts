// The rest of Sprig v3.3.0's function map that ESO's engine v2 offers: the must* and
// underscore aliases, paths, base32, word and text helpers (goutils), float arithmetic
// (shopspring/decimal's exact add/sub/mul and 16-place division), sequences and reflection.
// Go's text/template would panic or return an error text where these throw FunctionError;
// messages name the function, never an argument's value.
import { randomInt } from 'node:crypto';
import { arity, checked } from './builtins.ts';
import { FunctionError, MAX_ELEMENTS, type TemplateFunction, within } from './execute.ts';
import { extra } from './extra.ts';
import { checkConstraint, newConstraint, newVersion } from './semver.ts';
import { goSplit, numbered, sprig } from './sprig.ts';
import { urlJoin, urlParse } from './url.ts';
import { fromBytes, GoBytes, GoValue, isMap, STRING_MAPS, sprint, truth, typeName } from './values.ts';
import { toKebabCase, toPascalCase, toSnakeCase } from './xstrings.ts';

/** Sprig's strval. */
function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  return sprint(v);
}

/** Text for xstrings' rune rules: bytes that are not UTF-8 decode to U+FFFD, Go's RuneError. */
function utf8(v: unknown): string {
  return v instanceof GoBytes ? v.bytes.toString('utf8') : str(v);
}

function goBytes(v: unknown): Buffer {
  return v instanceof GoBytes ? v.bytes : Buffer.from(str(v), 'utf8');
}

/** An `int` parameter: text/template refuses anything but an integer there. */
function intArg(v: unknown, fn: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new FunctionError(`wrong type for value; expected int; got ${typeName(v)} (${fn})`);
}

/** cast.ToFloat64: numbers, booleans, numeric strings; anything else 0. */
function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' || v instanceof GoBytes) {
    const s = str(v);
    return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : 0;
  }
  return 0;
}

function listOf(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new FunctionError(`${fn}: list should be type of slice or array but ${typeName(v)}`);
}

function alias(name: string, target: TemplateFunction | undefined, n?: number): [string, TemplateFunction] {
  if (!target) throw new Error(`template function alias ${name} has no target`);
  return [name, n === undefined ? target : checked(name, n, target)];
}

function fixed(name: string, n: number, fn: TemplateFunction): [string, TemplateFunction] {
  return [name, checked(name, n, fn)];
}

// ---- paths (Go's path package; path/filepath on Linux is the same) ----

function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out.at(-1) !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = (rooted ? '/' : '') + out.join('/');
  return joined === '' ? '.' : joined;
}

function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dir(p: string): string {
  return clean(p.slice(0, p.lastIndexOf('/') + 1));
}

function ext(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

// ---- base32 (RFC 4648, padded, as Go's base32.StdEncoding) ----

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// Five bits at a time through a small accumulator: a BigInt per five bytes made 4 MiB take a second.
function b32enc(b: Buffer): string {
  const out = Buffer.alloc(Math.ceil(b.length / 5) * 8, '=');
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = ((acc << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[o++] = B32.charCodeAt((acc >> bits) & 31);
    }
  }
  if (bits > 0) out[o] = B32.charCodeAt((acc << (5 - bits)) & 31);
  return out.toString('latin1');
}

function b32dec(text: string): string | GoBytes {
  const s = text.replace(/[\r\n]/g, '');
  const bad = () => new FunctionError('b32dec: illegal base32 data');
  if (s.length % 8 !== 0) throw bad();
  const out = Buffer.alloc((s.length / 8) * 5);
  let o = 0;
  for (let i = 0; i < s.length; i += 8) {
    const block = s.slice(i, i + 8);
    const m = /^([A-Z2-7]*)(=*)$/.exec(block);
    const data = m?.[1] ?? '';
    if (!m || (m[2] !== '' && i + 8 !== s.length) || ![8, 7, 5, 4, 2].includes(data.length)) throw bad();
    // 2, 4, 5, 7 or 8 characters carry 1, 2, 3, 4 or 5 whole bytes; the bits left over are padding.
    let acc = 0;
    let bits = 0;
    for (let k = 0; k < data.length; k++) {
      acc = ((acc << 5) | B32.indexOf(data[k] as string)) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (acc >> bits) & 0xff;
      }
    }
  }
  return fromBytes(out.subarray(0, o));
}

// ---- goutils (byte-oriented, as Go's) ----

function abbreviateFull(s: Buffer, offsetIn: number, maxWidth: number): Buffer {
  const dots = Buffer.from('...');
  if (s.length === 0 || s.length <= maxWidth) return s;
  let offset = Math.min(offsetIn, s.length);
  if (s.length - offset < maxWidth - 3) offset = s.length - (maxWidth - 3);
  if (offset <= 4) return Buffer.concat([s.subarray(0, maxWidth - 3), dots]);
  if (offset + maxWidth - 3 < s.length)
    return Buffer.concat([dots, abbreviateFull(s.subarray(offset), 0, maxWidth - 3)]);
  return Buffer.concat([dots, s.subarray(s.length - (maxWidth - 3))]);
}

/** unicode.IsSpace. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]$/u;

function initials(s: Buffer): string {
  let out = '';
  let gap = true;
  for (const byte of s) {
    const ch = String.fromCharCode(byte);
    if (GO_SPACE.test(ch)) gap = true;
    else if (gap) {
      out += ch;
      gap = false;
    }
  }
  return out;
}

function untitle(s: string): string {
  let next = true;
  return [...s]
    .map((ch) => {
      if (GO_SPACE.test(ch)) {
        next = true;
        return ch;
      }
      if (next) {
        next = false;
        return ch.toLowerCase();
      }
      return ch;
    })
    .join('');
}

/** goutils.SwapCase: upper and title case to lower, lower to upper (title case after a space). */
function swapcase(s: string): string {
  return [...s]
    .map((ch) => {
      if (/\p{Lu}|\p{Lt}/u.test(ch)) return ch.toLowerCase();
      if (/\p{Ll}/u.test(ch)) return ch.toUpperCase();
      return ch;
    })
    .join('');
}

/** goutils.WrapCustom: breaks at spaces past `width` bytes; long words split only when asked. */
function wrapCustom(fn: string, input: Buffer, widthIn: number, newLineIn: string, wrapLong: boolean): Buffer {
  if (input.length === 0) return input;
  const newLine = Buffer.from(newLineIn === '' ? '\n' : newLineIn, 'utf8');
  const width = Math.max(1, widthIn);
  const out: Buffer[] = [];
  let offset = 0;
  let lines = 0;
  while (input.length - offset > width) {
    // Each line adds one newLine; stop before the pieces outgrow MAX_VALUE, not after.
    within(fn, input.length + ++lines * newLine.length);
    if (input[offset] === 0x20) {
      offset++;
      continue;
    }
    const window = input.subarray(offset, width + offset + 1);
    const space = window.lastIndexOf(0x20);
    if (space >= 0) {
      out.push(input.subarray(offset, offset + space), newLine);
      offset += space + 1;
    } else if (wrapLong) {
      out.push(input.subarray(offset, offset + width), newLine);
      offset += width;
    } else {
      const next = input.indexOf(0x20, width + offset);
      if (next < 0) {
        out.push(input.subarray(offset));
        offset = input.length;
      } else {
        out.push(input.subarray(offset, next), newLine);
        offset = next + 1;
      }
    }
  }
  out.push(input.subarray(offset));
  return Buffer.concat(out);
}

// ---- sequences ----

function untilStep(start: number, stop: number, step: number, fn: string): number[] {
  const out: number[] = [];
  const push = (i: number) => {
    if (out.length >= MAX_ELEMENTS) throw new FunctionError(`${fn}: more than ${MAX_ELEMENTS} elements`);
    out.push(i);
  };
  if (stop < start) {
    if (step >= 0) return out;
    for (let i = start; i > stop; i += step) push(i);
    return out;
  }
  if (step <= 0) return out;
  for (let i = start; i < stop; i += step) push(i);
  return out;
}

function seq(params: number[]): string {
  const fn = 'seq';
  let values: number[] = [];
  if (params.length === 1) {
    const end = params[0] as number;
    const inc = end < 1 ? -1 : 1;
    values = untilStep(1, end + inc, inc, fn);
  } else if (params.length === 2) {
    const [start, end] = params as [number, number];
    const step = end < start ? -1 : 1;
    values = untilStep(start, end + step, step, fn);
  } else if (params.length === 3) {
    const [start, step, end] = params as [number, number, number];
    let inc = 1;
    if (end < start) {
      inc = -1;
      if (step > 0) return '';
    }
    values = untilStep(start, end + inc, step, fn);
  }
  return values.join(' ');
}

function chunk(size: number, l: unknown[]): unknown[][] {
  if (size <= 0) throw new FunctionError('chunk: the size must be positive');
  const out: unknown[][] = [];
  for (let i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
  return out;
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

/** reflect.DeepEqual over template values: same shape, same Go type at every leaf. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
  }
  if (a instanceof GoBytes || b instanceof GoBytes) return goBytes(a).equals(goBytes(b));
  if (a instanceof GoValue && b instanceof GoValue) return a.goString() === b.goString();
  return a === b || (a == null && b == null);
}

// ---- decimal arithmetic (shopspring/decimal as Sprig's addf/subf/mulf/divf use it) ----

interface Decimal {
  m: bigint;
  e: number;
}

/** decimal.NewFromFloat: the shortest decimal that reads back as the float. */
function fromFloat(f: number, fn: string): Decimal {
  if (!Number.isFinite(f))
    throw new FunctionError(`${fn}: cannot create a Decimal from ${f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN'}`);
  const [mant = '0', exp = '0'] = f.toExponential().split('e');
  const digits = mant.replace('.', '');
  const fraction = mant.includes('.') ? (mant.split('.')[1] as string).length : 0;
  return { m: BigInt(digits), e: Number(exp) - fraction };
}

const pow10 = (n: number) => 10n ** BigInt(n);

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.m * pow10(a.e - e), b.m * pow10(b.e - e), e];
}

const DIVISION_PRECISION = 16;

function decimalOp(op: 'add' | 'sub' | 'mul' | 'div', a: Decimal, b: Decimal, fn: string): Decimal {
  if (op === 'mul') return { m: a.m * b.m, e: a.e + b.e };
  if (op === 'div') {
    if (b.m === 0n) throw new FunctionError(`${fn}: decimal division by 0`);
    // a / b rounded half away from zero to 16 places.
    let num = a.m * pow10(DIVISION_PRECISION + 1);
    let den = b.m;
    const shift = a.e - b.e;
    if (shift >= 0) num *= pow10(shift);
    else den *= pow10(-shift);
    const q = num / den; // 17 places, truncated
    const last = q % 10n;
    let r = q / 10n;
    if (last >= 5n) r += 1n;
    else if (last <= -5n) r -= 1n;
    return { m: r, e: -DIVISION_PRECISION };
  }
  const [x, y, e] = align(a, b);
  return { m: op === 'add' ? x + y : x - y, e };
}

function decimalFold(op: 'add' | 'sub' | 'mul' | 'div', first: unknown, rest: unknown[], fn: string): number {
  let acc = fromFloat(toFloat(first), fn);
  for (const x of rest) acc = decimalOp(op, acc, fromFloat(toFloat(x), fn), fn);
  return Number(`${acc.m}e${acc.e}`);
}

function round(a: unknown, p: unknown, on: unknown): number {
  const roundOn = on === undefined ? 0.5 : toFloat(on);
  const pow = 10 ** toFloat(p);
  const digit = pow * toFloat(a);
  const fraction = digit % 1;
  return (fraction >= roundOn ? Math.ceil(digit) : Math.floor(digit)) / pow;
}

/** strconv.ParseInt(fmt.Sprint(v), 8, 64), 0 on error (a bad digit or out of int64's range). */
function toDecimal(v: unknown): number {
  const s = sprint(v);
  if (!/^[+-]?[0-7]+$/.test(s)) return 0;
  const n = BigInt(`0o${s.replace(/^[+-]/, '')}`) * (s.startsWith('-') ? -1n : 1n);
  return n === BigInt.asIntN(64, n) ? Number(n) : 0;
}

function shuffle(s: string): string {
  const chars = [...s];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function splitn(sep: string, n: number, s: string): Record<string, string> {
  return numbered('splitn', goSplit('splitn', s, sep, n));
}

function toStrings(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(str);
  if (v === null || v === undefined) return [];
  return [str(v)];
}

export const sprigMore: Record<string, TemplateFunction> = Object.fromEntries([
  // aliases Sprig keeps for old names, and must* forms (Ferry's plain forms already fail on error)
  alias('trimall', sprig.trimAll, 2),
  alias('tuple', sprig.list),
  alias('biggest', sprig.max),
  alias('push', sprig.append, 2),
  alias('mustPush', sprig.append, 2),
  alias('mustAppend', sprig.append, 2),
  alias('mustPrepend', sprig.prepend, 2),
  alias('mustFirst', sprig.first, 1),
  alias('mustLast', sprig.last, 1),
  alias('mustRest', sprig.rest, 1),
  alias('mustInitial', sprig.initial, 1),
  alias('mustReverse', sprig.reverse, 1),
  alias('mustUniq', sprig.uniq, 1),
  alias('mustWithout', sprig.without),
  alias('mustHas', sprig.has, 2),
  alias('mustCompact', sprig.compact, 1),
  alias('mustMerge', sprig.merge),
  alias('mustMergeOverwrite', sprig.mergeOverwrite),
  alias('mustToJson', sprig.toJson, 1),
  alias('mustToPrettyJson', sprig.toPrettyJson, 1),
  alias('mustToRawJson', sprig.toRawJson, 1),
  alias('mustRegexMatch', sprig.regexMatch, 2),
  alias('mustRegexFind', sprig.regexFind, 2),
  alias('mustRegexFindAll', sprig.regexFindAll, 3),
  alias('mustRegexReplaceAll', sprig.regexReplaceAll, 3),
  alias('mustRegexReplaceAllLiteral', sprig.regexReplaceAllLiteral, 3),
  alias('mustRegexSplit', sprig.regexSplit, 3),
  alias('date_modify', extra.dateModify, 2),
  alias('must_date_modify', extra.mustDateModify, 2),
  // paths
  fixed('base', 1, (p) => base(str(p))),
  fixed('dir', 1, (p) => dir(str(p))),
  fixed('clean', 1, (p) => clean(str(p))),
  fixed('ext', 1, (p) => ext(str(p))),
  fixed('isAbs', 1, (p) => str(p).startsWith('/')),
  fixed('osBase', 1, (p) => base(str(p))),
  fixed('osDir', 1, (p) => dir(str(p))),
  fixed('osClean', 1, (p) => clean(str(p))),
  fixed('osExt', 1, (p) => ext(str(p))),
  fixed('osIsAbs', 1, (p) => str(p).startsWith('/')),
  // encodings
  fixed('b32enc', 1, (v) => b32enc(goBytes(v))),
  fixed('b32dec', 1, (v) => b32dec(str(v))),
  // text
  fixed('hello', 0, () => 'Hello!'),
  fixed('abbrev', 2, (w, s) => {
    const width = intArg(w, 'abbrev');
    return width < 4 ? str(s) : fromBytes(abbreviateFull(goBytes(s), 0, width));
  }),
  fixed('abbrevboth', 3, (l, r, s) => {
    const left = intArg(l, 'abbrevboth');
    const right = intArg(r, 'abbrevboth');
    if (right < 4 || (left > 0 && right < 7)) return str(s);
    return fromBytes(abbreviateFull(goBytes(s), left, right));
  }),
  fixed('initials', 1, (s) => initials(goBytes(s))),
  fixed('untitle', 1, (s) => untitle(str(s))),
  fixed('swapcase', 1, (s) => swapcase(str(s))),
  fixed('shuffle', 1, (s) => shuffle(str(s))),
  fixed('camelcase', 1, (s) => toPascalCase(utf8(s))),
  fixed('snakecase', 1, (s) => toSnakeCase(utf8(s))),
  fixed('kebabcase', 1, (s) => toKebabCase(utf8(s))),
  fixed('wrap', 2, (l, s) => fromBytes(wrapCustom('wrap', goBytes(s), intArg(l, 'wrap'), '', false))),
  fixed('wrapWith', 3, (l, sep, s) =>
    fromBytes(wrapCustom('wrapWith', goBytes(s), intArg(l, 'wrapWith'), str(sep), true)),
  ),
  fixed('plural', 3, (one, many, n) => (intArg(n, 'plural') === 1 ? str(one) : str(many))),
  fixed('splitn', 3, (sep, n, s) => splitn(str(sep), intArg(n, 'splitn'), str(s))),
  fixed('toStrings', 1, toStrings),
  fixed('regexQuoteMeta', 1, (s) => quoteMeta(str(s))),
  fixed('urlParse', 1, (u) => urlParse(str(u))),
  fixed('urlJoin', 1, (d) => {
    if (!isMap(d))
      throw new FunctionError(`wrong type for value; expected map[string]interface {}; got ${typeName(d)} (urlJoin)`);
    return urlJoin(d);
  }),
  // versions
  fixed('semver', 1, (v) => newVersion(str(v), 'semver')),
  fixed('semverCompare', 2, (c, v) =>
    checkConstraint(newConstraint(str(c), 'semverCompare'), newVersion(str(v), 'semverCompare')),
  ),
  // sequences and lists
  ['seq', (...a: unknown[]) => seq(a.map((x) => intArg(x, 'seq')))],
  fixed('until', 1, (n) => {
    const count = intArg(n, 'until');
    return untilStep(0, count, count < 0 ? -1 : 1, 'until');
  }),
  fixed('untilStep', 3, (a, b, c) =>
    untilStep(intArg(a, 'untilStep'), intArg(b, 'untilStep'), intArg(c, 'untilStep'), 'untilStep'),
  ),
  fixed('chunk', 2, (n, l) => chunk(intArg(n, 'chunk'), listOf(l, 'chunk'))),
  fixed('mustChunk', 2, (n, l) => chunk(intArg(n, 'mustChunk'), listOf(l, 'mustChunk'))),
  [
    'mustSlice',
    (l: unknown, ...idx: unknown[]) => {
      const items = listOf(l, 'mustSlice');
      if (items.length === 0) return null;
      const start = idx.length > 0 ? Math.trunc(toFloat(idx[0])) : 0;
      const end = idx.length > 1 ? Math.trunc(toFloat(idx[1])) : items.length;
      if (start < 0 || end < start || end > items.length) {
        throw new FunctionError('mustSlice: slice index out of range');
      }
      return items.slice(start, end);
    },
  ],
  fixed('deepCopy', 1, deepCopy),
  fixed('mustDeepCopy', 1, deepCopy),
  fixed('deepEqual', 2, deepEqual),
  ['all', (...a: unknown[]) => a.every(truth)],
  ['any', (...a: unknown[]) => a.some(truth)],
  // types
  fixed('typeIs', 2, (t, v) => str(t) === typeName(v)),
  fixed('typeIsLike', 2, (t, v) => str(t) === typeName(v) || `*${str(t)}` === typeName(v)),
  fixed('kindIs', 2, (t, v) => str(t) === sprig.kindOf?.(v)),
  // numbers
  fixed('randInt', 2, (lo, hi) => {
    const min = intArg(lo, 'randInt');
    const max = intArg(hi, 'randInt');
    if (max - min <= 0) throw new FunctionError('randInt: invalid argument to Intn (max must be greater than min)');
    if (max - min > 2 ** 48 - 1) throw new FunctionError('randInt: the range must be below 2^48');
    return randomInt(min, max);
  }),
  ['addf', (...a: unknown[]) => decimalFold('add', 0, a, 'addf')],
  fixed('add1f', 1, (a) => decimalFold('add', a, [1], 'add1f')),
  ['subf', (a: unknown, ...r: unknown[]) => decimalFold('sub', a, r, 'subf')],
  ['mulf', (a: unknown, ...r: unknown[]) => decimalFold('mul', a, r, 'mulf')],
  ['divf', (a: unknown, ...r: unknown[]) => decimalFold('div', a, r, 'divf')],
  ['maxf', (a: unknown, ...r: unknown[]) => r.reduce<number>((m, x) => Math.max(m, toFloat(x)), toFloat(a))],
  ['minf', (a: unknown, ...r: unknown[]) => r.reduce<number>((m, x) => Math.min(m, toFloat(x)), toFloat(a))],
  fixed('ceil', 1, (a) => Math.ceil(toFloat(a))),
  fixed('floor', 1, (a) => Math.floor(toFloat(a))),
  [
    'round',
    (a: unknown, p: unknown, ...on: unknown[]) => {
      if (on.length > 1) arity('round', [a, p, ...on], 3);
      return round(a, intArg(p, 'round'), on[0]);
    },
  ],
  fixed('toDecimal', 1, toDecimal),
]);
