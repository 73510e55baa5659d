// goutils' word functions as Sprig offers them: abbrev, abbrevboth, initials, untitle, swapcase,
// wrap, wrapWith. Byte-oriented, as Go's: a width counts bytes, not characters.
import { type TemplateFunction, within } from '../execute.ts';
import { fromBytes } from '../values.ts';
import { fixed, goBytes, intParam, strval } from './arguments.ts';

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

export const wordFunctions: Record<string, TemplateFunction> = Object.fromEntries([
  fixed('abbrev', 2, (w, s) => {
    const width = intParam(w, 'abbrev');
    return width < 4 ? strval(s) : fromBytes(abbreviateFull(goBytes(s), 0, width));
  }),
  fixed('abbrevboth', 3, (l, r, s) => {
    const left = intParam(l, 'abbrevboth');
    const right = intParam(r, 'abbrevboth');
    if (right < 4 || (left > 0 && right < 7)) return strval(s);
    return fromBytes(abbreviateFull(goBytes(s), left, right));
  }),
  fixed('initials', 1, (s) => initials(goBytes(s))),
  fixed('untitle', 1, (s) => untitle(strval(s))),
  fixed('swapcase', 1, (s) => swapcase(strval(s))),
  fixed('wrap', 2, (l, s) => fromBytes(wrapCustom('wrap', goBytes(s), intParam(l, 'wrap'), '', false))),
  fixed('wrapWith', 3, (l, sep, s) =>
    fromBytes(wrapCustom('wrapWith', goBytes(s), intParam(l, 'wrapWith'), strval(sep), true)),
  ),
]);
