// Sprig's `camelcase`, `snakecase` and `kebabcase`: github.com/huandu/xstrings v1.5.0 (the version
// Sprig v3.3.0's go.mod pins) ToPascalCase, ToSnakeCase and ToKebabCase, re-written from its
// convert.go. Sprig maps `camelcase` to ToPascalCase (upper camel case) since xstrings 1.5 changed
// ToCamelCase to lower camel case. No npm package splits words by xstrings' rules (runs of upper
// case, numbers joining the word before them, punctuation kept, CJK not a letter), so the rules
// live here. Works on code points; like Go, U+FFFD counts as an invalid rune.
import type { TemplateFunction } from '../execute.ts';
import { fixed, utf8 } from './arguments.ts';

const RUNE_ERROR = 0xfffd;

const Word = { Invalid: 0, Number: 1, UpperCase: 2, Alphabet: 3, Connector: 4, Punct: 5, Other: 6 } as const;
type Word = (typeof Word)[keyof typeof Word];

function ch(r: number): string {
  return String.fromCodePoint(r);
}

/** The code points as a string, a slice at a time: spreading a few hundred thousand arguments throws a RangeError. */
function fromCodePoints(points: number[]): string {
  let out = '';
  for (let i = 0; i < points.length; i += 8192) out += String.fromCodePoint(...points.slice(i, i + 8192));
  return out;
}

/** Go's unicode.IsUpper (category Lu). */
function isUpper(r: number): boolean {
  return /\p{Lu}/u.test(ch(r));
}

/** Go's unicode.IsSpace: Latin-1 spaces and the White_Space property. */
function isSpace(r: number): boolean {
  return /\p{White_Space}/u.test(ch(r));
}

function isConnector(r: number): boolean {
  return r === 0x2d || r === 0x5f || isSpace(r);
}

function isPunct(r: number): boolean {
  return /\p{P}/u.test(ch(r));
}

function isNumber(r: number): boolean {
  return /\p{N}/u.test(ch(r));
}

/** xstrings' isAlphabet: a letter that is not a CJK ideograph. */
function isAlphabet(r: number): boolean {
  if (!/\p{L}/u.test(ch(r))) return false;
  if (r < 0x3400) return true;
  if (r >= 0x4e00 && r <= 0x9fcc) return false;
  if (r >= 0x3400 && r <= 0x4d85) return false;
  if (r >= 0x20000 && r <= 0x2b81d) return false;
  return true;
}

/** Go's unicode.ToUpper / ToLower map one rune to one rune; a JS mapping to several keeps it. */
function toUpper(r: number): number {
  const u = ch(r).toUpperCase();
  return [...u].length === 1 ? (u.codePointAt(0) as number) : r;
}

function toLowerRune(r: number): number {
  const l = ch(r).toLowerCase();
  return [...l].length === 1 ? (l.codePointAt(0) as number) : r;
}

/** The next rune at `at` that is not U+FFFD, and how many runes that took; `prev` when none is left. */
function nextValidRune(s: number[], at: number, prev: number): [number, number] {
  let size = 0;
  for (let i = at; i < s.length; i++) {
    size++;
    if (s[i] !== RUNE_ERROR) return [s[i] as number, size];
  }
  return [prev, size];
}

/** xstrings' nextWord: the type of the word starting at `at` and where it ends. */
function nextWord(s: number[], at: number): [Word, number] {
  if (at >= s.length) return [Word.Invalid, at];
  let rem = at;
  let [r, size] = nextValidRune(s, rem, RUNE_ERROR);
  let offset = size;
  if (r === RUNE_ERROR) return [Word.Invalid, at + offset];

  // Consume runes while `keep` holds for the next valid one.
  const run = (keep: (r: number) => boolean): void => {
    while (rem < s.length) {
      [r, size] = nextValidRune(s, rem, r);
      if (!keep(r)) break;
      offset += size;
      rem += size;
    }
  };

  let wt: Word;
  if (isConnector(r)) {
    wt = Word.Connector;
    rem += size;
    run(isConnector);
  } else if (isPunct(r)) {
    wt = Word.Punct;
    rem += size;
    run(isPunct);
  } else if (isUpper(r)) {
    wt = Word.UpperCase;
    rem += size;
    if (rem < s.length) {
      [r, size] = nextValidRune(s, rem, r);
      if (isUpper(r)) {
        let prevSize = size;
        offset += size;
        rem += size;
        while (rem < s.length) {
          [r, size] = nextValidRune(s, rem, r);
          if (!isUpper(r)) break;
          prevSize = size;
          offset += size;
          rem += size;
        }
        // "HTTPStatus" splits into "HTTP" and "Status": the last upper rune starts the next word.
        if (rem < s.length && isAlphabet(r)) offset -= prevSize;
      } else if (isAlphabet(r)) {
        offset += size;
        rem += size;
        run((x) => isAlphabet(x) && !isUpper(x));
      }
    }
  } else if (isAlphabet(r)) {
    wt = Word.Alphabet;
    rem += size;
    run((x) => isAlphabet(x) && !isUpper(x));
  } else if (isNumber(r)) {
    wt = Word.Number;
    rem += size;
    run(isNumber);
  } else {
    wt = Word.Other;
    rem += size;
    run((x) => !(isConnector(x) || isAlphabet(x) || isNumber(x) || isPunct(x)));
  }
  return [wt, at + offset];
}

function writeLower(out: number[], wt: Word, word: number[], connector: number): void {
  if (wt !== Word.UpperCase && wt !== Word.Connector) {
    for (const r of word) out.push(r);
    return;
  }
  for (const r of word) {
    if (isConnector(r)) out.push(connector);
    else if (isUpper(r)) out.push(toLowerRune(r));
    else out.push(r);
  }
}

/** xstrings' camelCaseToLowerCase, the body of ToSnakeCase and ToKebabCase. */
function camelCaseToLowerCase(str: string, connectorChar: string): string {
  if (str === '') return '';
  const s = Array.from(str, (c) => c.codePointAt(0) as number);
  const connector = connectorChar.codePointAt(0) as number;
  const out: number[] = [];
  let pos = 0;
  const next = (): [Word, number[]] => {
    const [wt, end] = nextWord(s, pos);
    const word = s.slice(pos, end);
    pos = end;
    return [wt, word];
  };
  let [wt, word] = next();

  while (pos < s.length) {
    if (wt !== Word.Connector) writeLower(out, wt, word, connector);
    const prev = wt;
    const last = word;
    [wt, word] = next();

    if (prev === Word.Number) {
      while (wt === Word.Alphabet || wt === Word.Number) {
        writeLower(out, wt, word, connector);
        [wt, word] = next();
      }
      if (wt !== Word.Invalid && wt !== Word.Punct && wt !== Word.Connector) out.push(connector);
    } else if (prev === Word.Connector) {
      writeLower(out, prev, last, connector);
    } else if (prev === Word.Punct) {
      // nothing
    } else {
      if (wt !== Word.Number) {
        if (wt !== Word.Connector && wt !== Word.Punct) out.push(connector);
        continue;
      }
      if (pos >= s.length) continue;
      const num = word;
      [wt, word] = next();
      // A number is part of the word before it ("Bld4Floor" → "bld4_floor")…
      if (wt !== Word.Alphabet) {
        writeLower(out, Word.Number, num, connector);
        if (wt !== Word.Connector && wt !== Word.Punct) out.push(connector);
        continue;
      }
      // …unless lower-case letters follow it ("HTTP2xx" → "http_2xx").
      out.push(connector);
      writeLower(out, Word.Number, num, connector);
      while (wt === Word.Alphabet || wt === Word.Number) {
        writeLower(out, wt, word, connector);
        [wt, word] = next();
      }
      if (wt !== Word.Invalid && wt !== Word.Connector && wt !== Word.Punct) out.push(connector);
    }
  }
  writeLower(out, wt, word, connector);
  return fromCodePoints(out);
}

/** xstrings.ToSnakeCase. */
export function toSnakeCase(s: string): string {
  return camelCaseToLowerCase(s, '_');
}

/** xstrings.ToKebabCase. */
export function toKebabCase(s: string): string {
  return camelCaseToLowerCase(s, '-');
}

/** xstrings' toCamelCase; Sprig's `camelcase` is ToPascalCase (`upperFirst` true). */
function toCamelCase(str: string, upperFirst: boolean): string {
  if (str === '') return '';
  const s = Array.from(str, (c) => c.codePointAt(0) as number);
  const out: number[] = [];
  let i = 0;
  let firstUpper = false;
  let r0 = 0;
  let size = 0;
  // Leading connectors stay in the output.
  while (i < s.length) {
    r0 = s[i++] as number;
    size = 1;
    if (!isConnector(r0)) {
      firstUpper = isUpper(r0);
      r0 = upperFirst ? toUpper(r0) : toLowerRune(r0);
      break;
    }
    out.push(r0);
  }
  if (i >= s.length) {
    // As in Go: the last rune is written again even when it was a connector ("__" → "___").
    if (size !== 0) out.push(r0);
    return fromCodePoints(out);
  }
  let r1: number;
  while (i < s.length) {
    r1 = r0;
    r0 = s[i++] as number;
    if (isConnector(r0) && isConnector(r1)) {
      out.push(r1);
      continue;
    }
    if (isConnector(r1)) {
      firstUpper = isUpper(r0);
      r0 = toUpper(r0);
    } else {
      if (firstUpper) {
        if (isUpper(r0)) r0 = toLowerRune(r0);
        else firstUpper = false;
      }
      out.push(r1);
    }
  }
  if (firstUpper && !upperFirst) r0 = toLowerRune(r0);
  out.push(r0);
  return fromCodePoints(out);
}

/** xstrings.ToPascalCase: Sprig's `camelcase`. */
export function toPascalCase(s: string): string {
  return toCamelCase(s, true);
}

/** xstrings.ToCamelCase (lower camel case); not a Sprig function, kept for its test table. */
export function toLowerCamelCase(s: string): string {
  return toCamelCase(s, false);
}

export const caseFunctions: Record<string, TemplateFunction> = Object.fromEntries([
  fixed('camelcase', 1, (s) => toPascalCase(utf8(s))),
  fixed('snakecase', 1, (s) => toSnakeCase(utf8(s))),
  fixed('kebabcase', 1, (s) => toKebabCase(utf8(s))),
]);
