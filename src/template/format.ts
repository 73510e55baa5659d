// Go's fmt.Sprintf for the verbs templates use: %v %s %q %d %x %X %o %b %c %f %F %e %g %t %%,
// with flags (- + # 0 space), width and precision. A wrong verb prints Go's %!x(type=value)
// form without the value, so a misuse can never copy a secret into an error.
import { FunctionError, MAX_VALUE } from './execute.ts';
import { formatFloat, GoBytes, goQuote, isGoInteger, numberOf, sprint, typeName } from './values.ts';

/** fmt's bound on a width or precision: past a million it is Go's BADWIDTH / BADPREC. */
const TOO_LARGE = 1e6;

/** fmt's parsenum: digits to a number, or undefined once it overflows (checked before each digit, as Go does). */
function parseNum(digits: string): number | undefined {
  let n = 0;
  for (const d of digits) {
    if (n > TOO_LARGE) return undefined;
    n = n * 10 + Number(d);
  }
  return n;
}

/** fmt's intFromArg: an integer argument within TOO_LARGE, else undefined. */
function numArg(v: unknown): number | undefined {
  const n = numberOf(v);
  return isGoInteger(v) && n !== undefined && Math.abs(n) <= TOO_LARGE ? n : undefined;
}

function pad(s: string, width: number | undefined, flags: string): string {
  if (width === undefined || s.length >= width) return s;
  if (flags.includes('-')) return s.padEnd(width, ' ');
  if (flags.includes('0') && /^[+-]?[0-9a-fA-F.]/.test(s) && !/^[+-]?(NaN|Inf)/.test(s)) {
    const sign = /^[+-]/.test(s) ? (s[0] ?? '') : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width, ' ');
}

function signed(s: string, n: number, flags: string): string {
  if (n >= 0 && flags.includes('+')) return `+${s}`;
  if (n >= 0 && flags.includes(' ')) return ` ${s}`;
  return s;
}

function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function formatOne(verb: string, arg: unknown, flags: string, precision: number | undefined): string {
  const bad = () => `%!${verb}(${typeName(arg)})`;
  const int = isGoInteger(arg) ? (numberOf(arg) as number) : undefined;
  const float = int === undefined ? numberOf(arg) : undefined;
  switch (verb) {
    case 'v':
      return typeof arg === 'string' ? arg : sprint(arg);
    case 'T':
      return typeName(arg);
    case 's': {
      if (numberOf(arg) !== undefined || typeof arg === 'boolean' || arg === null || arg === undefined) return bad();
      const s = arg instanceof GoBytes ? arg.bytes.toString('latin1') : sprint(arg);
      return precision === undefined ? s : [...s].slice(0, precision).join('');
    }
    case 'q':
      if (typeof arg === 'string') return goQuote(arg);
      if (arg instanceof GoBytes) return goQuote(arg);
      if (int !== undefined)
        return `'${goQuote(String.fromCodePoint(int)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
      return bad();
    case 'd':
      if (int === undefined) return bad();
      return signed(String(int), int, flags);
    case 'x':
    case 'X': {
      let s: string;
      if (int !== undefined) s = (int < 0 ? '-' : '') + Math.abs(int).toString(16);
      else if (typeof arg === 'string') s = Buffer.from(arg, 'utf8').toString('hex');
      else if (arg instanceof GoBytes) s = arg.bytes.toString('hex');
      else return bad();
      if (flags.includes('#')) s = s.startsWith('-') ? `-0x${s.slice(1)}` : `0x${s}`;
      return verb === 'X' ? s.toUpperCase() : s;
    }
    case 'o':
    case 'b':
      if (int === undefined) return bad();
      return int.toString(verb === 'o' ? 8 : 2);
    case 'c':
      if (int === undefined) return bad();
      return String.fromCodePoint(int);
    case 't':
      return typeof arg === 'boolean' ? String(arg) : bad();
    case 'f':
    case 'F':
    case 'e':
    case 'g': {
      if (float === undefined) return bad();
      const s =
        verb === 'e'
          ? goExp(float.toExponential(precision ?? 6))
          : verb === 'g'
            ? precision === undefined
              ? formatFloat(float)
              : String(Number(float.toPrecision(precision)))
            : float.toFixed(precision ?? 6);
      return signed(s, float, flags);
    }
    default:
      return `%!${verb}(${typeName(arg)})`;
  }
}

export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])?/.exec(format.slice(i + 1));
    const [all = '', flagsIn = '', w, p, verb] = m ?? [];
    let flags = flagsIn;
    i += all.length;
    // A literal width or precision past a million makes Go give up on the rest of the format.
    if (
      (w !== undefined && w !== '*' && parseNum(w) === undefined) ||
      (p !== undefined && p !== '*' && parseNum(p) === undefined)
    ) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === undefined) {
      out += '%!(NOVERB)';
      continue;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    let width: number | undefined;
    if (w === '*') {
      width = numArg(args[argIndex++]);
      if (width === undefined) out += '%!(BADWIDTH)';
      else if (width < 0) {
        width = -width;
        flags = `${flags.replaceAll('0', '')}-`;
      }
    } else if (w !== undefined) width = parseNum(w);
    let precision: number | undefined;
    if (p === '*') {
      precision = numArg(args[argIndex++]);
      if (precision === undefined || precision < 0) {
        precision = undefined;
        out += '%!(BADPREC)';
      }
    } else if (p !== undefined) precision = parseNum(p);
    else if (all.includes('.')) precision = 0;
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += pad(formatOne(verb, args[argIndex++], flags, precision), width, flags);
    if (out.length > MAX_VALUE) throw new FunctionError(`printf: result over ${MAX_VALUE} bytes`);
  }
  if (argIndex < args.length) {
    out += `%!(EXTRA ${args
      .slice(argIndex)
      .map((a) => typeName(a))
      .join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: a space between operands when neither side is a string. */
export function sprintArgs(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    const isStr = typeof a === 'string' || a instanceof GoBytes;
    const prevStr = i > 0 && (typeof args[i - 1] === 'string' || args[i - 1] instanceof GoBytes);
    if (i > 0 && !isStr && !prevStr) out += ' ';
    out += sprint(a);
  });
  return out;
}
