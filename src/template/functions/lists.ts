// Sprig's list functions (list.go) and sequences (until, untilStep, seq). The must* forms are
// the same functions: Ferry's plain forms already fail where Sprig's must* would.
import { FunctionError, MAX_ELEMENTS, type TemplateFunction } from '../execute.ts';
import { deepEqual, GoBytes, GoNumber, NIL_SLICES, numberOf, typeName } from '../values.ts';
import { alias, fixed, intParam, strval, toInt } from './arguments.ts';
import { empty } from './logic.ts';
import { strslice } from './strings.ts';

function sliceOf(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new FunctionError(`${fn}: cannot find ${fn} on type ${typeName(v)}`);
}

function listOf(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new FunctionError(`${fn}: list should be type of slice or array but ${typeName(v)}`);
}

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

function nilSlice(): unknown[] {
  const l: unknown[] = [];
  NIL_SLICES.add(l);
  return l;
}

/** Sprig's uniq (reflect.DeepEqual): scalars by type and value in a set, lists and maps by comparison. */
function uniq(items: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const x of items) {
    if (x === null || typeof x !== 'object' || x instanceof GoNumber || x instanceof GoBytes) {
      const text =
        x instanceof GoBytes
          ? x.bytes.toString('latin1')
          : typeof x === 'string'
            ? Buffer.from(x, 'utf8').toString('latin1')
            : String(numberOf(x) ?? x);
      const key = `${typeName(x)}\u0000${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
    } else if (out.some((y) => deepEqual(x, y))) continue;
    out.push(x);
  }
  return out;
}

/** Sprig's slice and mustSlice: a list's elements from start to end (nil for an empty list). */
function sliceList(l: unknown, idx: unknown[], fn: string): unknown {
  const items = listOf(l, fn);
  if (items.length === 0) return null;
  const start = idx.length > 0 ? toInt(idx[0]) : 0;
  const end = idx.length > 1 ? toInt(idx[1]) : items.length;
  if (start < 0 || end < start || end > items.length) throw new FunctionError(`${fn}: slice index out of range`);
  return items.slice(start, end);
}

const table: Record<string, TemplateFunction> = {
  list: (...a) => a,
  first: (l) => sliceOf(l, 'first')[0] ?? null,
  last: (l) => sliceOf(l, 'last').at(-1) ?? null,
  // Sprig's rest and initial of an empty list are a nil list: printed [], JSON null.
  rest: (l) => (sliceOf(l, 'rest').length === 0 ? nilSlice() : (l as unknown[]).slice(1)),
  initial: (l) => (sliceOf(l, 'initial').length === 0 ? nilSlice() : (l as unknown[]).slice(0, -1)),
  append: (l, v) => [...sliceOf(l, 'append'), v],
  prepend: (l, v) => [v, ...sliceOf(l, 'prepend')],
  concat: (...ls) => ls.flatMap((l) => sliceOf(l, 'concat')),
  // Sprig's has finds nothing in nil.
  has: (needle, l) => l !== null && l !== undefined && sliceOf(l, 'has').some((x) => deepEqual(x, needle)),
  compact: (l) => sliceOf(l, 'compact').filter((x) => !empty(x)),
  uniq: (l) => uniq(sliceOf(l, 'uniq')),
  without: (l, ...omit) => sliceOf(l, 'without').filter((x) => !omit.some((o) => deepEqual(x, o))),
  reverse: (l) => [...sliceOf(l, 'reverse')].reverse(),
  // Sprig's sortAlpha takes anything: a value that is not a list is a list of its strval.
  sortAlpha: (l) => (Array.isArray(l) ? strslice(l).sort() : [strval(l)]),
};

export const listFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    alias('tuple', table.list),
    alias('push', table.append, 2),
    alias('mustPush', table.append, 2),
    alias('mustAppend', table.append, 2),
    alias('mustPrepend', table.prepend, 2),
    alias('mustFirst', table.first, 1),
    alias('mustLast', table.last, 1),
    alias('mustRest', table.rest, 1),
    alias('mustInitial', table.initial, 1),
    alias('mustReverse', table.reverse, 1),
    alias('mustUniq', table.uniq, 1),
    alias('mustWithout', table.without),
    alias('mustHas', table.has, 2),
    alias('mustCompact', table.compact, 1),
    ['seq', (...a: unknown[]) => seq(a.map((x) => intParam(x, 'seq')))],
    fixed('until', 1, (n) => {
      const count = intParam(n, 'until');
      return untilStep(0, count, count < 0 ? -1 : 1, 'until');
    }),
    fixed('untilStep', 3, (a, b, c) =>
      untilStep(intParam(a, 'untilStep'), intParam(b, 'untilStep'), intParam(c, 'untilStep'), 'untilStep'),
    ),
    fixed('chunk', 2, (n, l) => chunk(intParam(n, 'chunk'), listOf(l, 'chunk'))),
    fixed('mustChunk', 2, (n, l) => chunk(intParam(n, 'mustChunk'), listOf(l, 'mustChunk'))),
    ['mustSlice', (l: unknown, ...idx: unknown[]) => sliceList(l, idx, 'mustSlice')],
    // ESO's FuncMap has Sprig's slice, which replaces Go's builtin: lists only, no strings.
    ['slice', (l: unknown, ...idx: unknown[]) => sliceList(l, idx, 'slice')],
  ]),
};
