// Sprig's integer and float arithmetic (numeric.go). Integers follow Sprig's toInt of an
// interface{} argument; addf/subf/mulf/divf use shopspring/decimal's exact sums and products and
// its 16-place division, as Sprig does.
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { sprint } from '../values.ts';
import { alias, arity, fixed, intParam, strval, toFloat, toInt, withArity } from './arguments.ts';

// shopspring/decimal, as Sprig's addf/subf/mulf/divf use it.
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

const table: Record<string, TemplateFunction> = withArity(
  {
    int: (v) => toInt(v),
    int64: (v) => toInt(v),
    atoi: (v) => {
      const t = strval(v);
      return /^[+-]?\d+$/.test(t) ? Number(t) : 0;
    },
    float64: (v) => toFloat(v),
    add: (...a) => a.reduce<number>((s, x) => s + toInt(x), 0),
    add1: (v) => toInt(v) + 1,
    sub: (a, b) => toInt(a) - toInt(b),
    mul: (...a) => a.reduce<number>((s, x) => s * toInt(x), 1),
    div: (a, b) => {
      if (toInt(b) === 0) throw new FunctionError('integer divide by zero');
      return Math.trunc(toInt(a) / toInt(b));
    },
    mod: (a, b) => {
      if (toInt(b) === 0) throw new FunctionError('integer divide by zero');
      return toInt(a) % toInt(b);
    },
    max: (...a) => Math.max(...a.map(toInt)),
    min: (...a) => Math.min(...a.map(toInt)),
  },
  { sub: 2, div: 2, mod: 2 },
);

export const mathFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    alias('biggest', table.max),
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
        return round(a, intParam(p, 'round'), on[0]);
      },
    ],
    fixed('toDecimal', 1, toDecimal),
  ]),
};
