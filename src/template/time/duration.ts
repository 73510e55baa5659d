// Go's time.Duration for Sprig's duration functions: Duration.String, ParseDuration, Round.
import { FunctionError } from '../execute.ts';
import { NS_PER_S } from './go-time.ts';

/** Go's Duration.String of `d` nanoseconds: "1h2m3.5s", "1.5ms", "0s". */
export function durationString(d: bigint): string {
  const neg = d < 0n;
  let u = neg ? -d : d;
  const frac = (prec: number): string => {
    const p = 10n ** BigInt(prec);
    const f = u % p;
    u /= p;
    if (f === 0n) return '';
    return `.${f.toString().padStart(prec, '0').replace(/0+$/, '')}`;
  };
  let out: string;
  if (u < NS_PER_S) {
    if (u === 0n) return '0s';
    let unit: string;
    let prec: number;
    if (u < 1000n) {
      unit = 'ns';
      prec = 0;
    } else if (u < 1_000_000n) {
      unit = 'µs';
      prec = 3;
    } else {
      unit = 'ms';
      prec = 6;
    }
    const f = frac(prec);
    out = `${u}${f}${unit}`;
  } else {
    const f = frac(9);
    const secs = u % 60n;
    u /= 60n;
    out = `${secs}${f}s`;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  μs: 1000n,
  ms: 1_000_000n,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

/** Go's time.ParseDuration: "1h30m", "-1.5h", "300ms", "0". Throws FunctionError. */
export function parseDuration(text: string): bigint {
  const bad = (): never => {
    throw new FunctionError(`time: invalid duration ${JSON.stringify(text)}`);
  };
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') bad();
  let total = 0n;
  while (s !== '') {
    // \u00b5 (micro sign) and \u03bc (Greek mu), as Go accepts both; escaped, see build-bundle.ts.
    const m = /^([0-9]*)(?:\.([0-9]*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return bad();
    const unit = UNITS[m[3] as string] as bigint;
    const whole = BigInt(m[1] || '0') * unit;
    const fracDigits = m[2] ?? '';
    const fracPart = fracDigits ? (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length) : 0n;
    total += whole + fracPart;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

/** Rounds `d` to a multiple of `m`, halfway values away from zero (Go's Duration.Round). */
export function roundDuration(d: bigint, m: bigint): bigint {
  const r = d % m;
  if (d < 0n) {
    const nr = -r;
    return nr + nr < m ? d + nr : d - (m - nr);
  }
  return r + r < m ? d - r : d + (m - r);
}
