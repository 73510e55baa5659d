// Sprig's list functions (list.go) and sequences (until, untilStep, seq). The must* forms are
// the same functions: Ferry's plain forms already fail where Sprig's must* would.
import { FunctionError, MAX_ELEMENTS, type TemplateFunction } from '../execute.ts';
import { typeName } from '../values.ts';
import { alias, fixed, intParam, strval, toFloat } from './arguments.ts';
import { empty } from './logic.ts';

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

const table: Record<string, TemplateFunction> = {
  list: (...a) => a,
  first: (l) => sliceOf(l, 'first')[0] ?? null,
  last: (l) => sliceOf(l, 'last').at(-1) ?? null,
  rest: (l) => sliceOf(l, 'rest').slice(1),
  initial: (l) => sliceOf(l, 'initial').slice(0, -1),
  append: (l, v) => [...sliceOf(l, 'append'), v],
  prepend: (l, v) => [v, ...sliceOf(l, 'prepend')],
  concat: (...ls) => ls.flatMap((l) => sliceOf(l, 'concat')),
  has: (needle, l) => sliceOf(l, 'has').some((x) => x === needle),
  compact: (l) => sliceOf(l, 'compact').filter((x) => !empty(x)),
  uniq: (l) => [...new Set(sliceOf(l, 'uniq'))],
  without: (l, ...omit) => sliceOf(l, 'without').filter((x) => !omit.includes(x)),
  reverse: (l) => [...sliceOf(l, 'reverse')].reverse(),
  sortAlpha: (l) => sliceOf(l, 'sortAlpha').map(strval).sort(),
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
  ]),
};
