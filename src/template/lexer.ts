// Splits a Go text/template source into text and action tokens, with Go's rules for `{{-`/`-}}`
// whitespace trimming, `{{/* comments */}}`, string/raw-string/char/number literals.

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TokenKind =
  | 'text'
  | 'open'
  | 'close'
  | 'identifier'
  | 'keyword'
  | 'field'
  | 'variable'
  | 'dot'
  | 'string'
  | 'number'
  | 'bool'
  | 'nil'
  | 'char'
  | 'lparen'
  | 'rparen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'comma'
  /** The lexer stopped here; the parser reports it when it reaches it, as Go's does. */
  | 'error';

export interface Token {
  kind: TokenKind;
  /** Source text; for strings, chars and text the decoded value. */
  value: string;
  line: number;
  /** A field token written right after the term before it (`$x.a`, `.a.b`, `(f).a`). */
  chained?: boolean;
  /** A quoted string's or a character's source text, as Go's messages show the literal. */
  raw?: string;
  /** Written after a space: Go's parser needs one between the operands of a command. */
  spaced?: boolean;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const SPACE = /[ \t\r\n]/;
const NUMBER = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?)/;

function decodeQuoted(body: string, line: number, where: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '\\': '\\',
      '"': '"',
      "'": "'",
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (n !== undefined && n in simple) out += simple[n];
    else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new TemplateError(`${where}:${line}: bad escape`);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += len;
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const oct = body.slice(i, i + 3);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw new TemplateError(`${where}:${line}: unknown escape sequence`);
  }
  return out;
}

/** Tokens of `source`; `name` prefixes error positions (Go's `template: name:line:`). */
export function lex(source: string, name: string, delims: [string, string] = ['{{', '}}']): Token[] {
  const [left, right] = delims;
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let trimNext = false;
  const fail = (msg: string): never => {
    throw new TemplateError(`template: ${name}:${line}: ${msg}`);
  };
  /** Go's atTerminator after a word: a space, ( ) , | : . or the closing delimiter, else "bad character". */
  const terminated = (at: number): void => {
    const c = source[at];
    if (c === undefined || SPACE.test(c) || '.,|:()'.includes(c) || source.startsWith(right, at)) return;
    const code = c.codePointAt(0) ?? 0;
    fail(`bad character U+${code.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(code)}'`);
  };
  try {
    lexInto();
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    // Go lexes as the parser reads: an error earlier in the template (an undefined function) wins.
    tokens.push({ kind: 'error', value: err.message, line });
  }
  return tokens;

  function lexInto(): void {
    while (pos < source.length) {
      const start = source.indexOf(left, pos);
      let text = source.slice(pos, start < 0 ? source.length : start);
      if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
      const trimLeft =
        start >= 0 && source[start + left.length] === '-' && SPACE.test(source[start + left.length + 1] ?? '');
      if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
      if (text) tokens.push({ kind: 'text', value: text, line });
      line += (source.slice(pos, start < 0 ? source.length : start).match(/\n/g) ?? []).length;
      if (start < 0) break;
      pos = start + left.length + (trimLeft ? 2 : 0);
      trimNext = false;
      // Comments: {{/* ... */}} with optional trim markers, nothing else inside the action.
      const afterSpace = source.slice(pos).match(/^[ \t\r\n]*/)?.[0] ?? '';
      if (source.startsWith('/*', pos + (trimLeft ? afterSpace.length : 0))) {
        const cstart = pos + (trimLeft ? afterSpace.length : 0);
        const cend = source.indexOf('*/', cstart + 2);
        if (cend < 0) fail('unclosed comment');
        let after = cend + 2;
        const tail = source.slice(after).match(/^([ \t\r\n]+-)?/)?.[0] ?? '';
        if (tail) {
          trimNext = true;
          after += tail.length;
        }
        if (!source.startsWith(right, after)) fail('comment ends before closing delimiter');
        line += (source.slice(pos, after).match(/\n/g) ?? []).length;
        pos = after + right.length;
        continue;
      }
      tokens.push({ kind: 'open', value: left, line });
      // Action body.
      for (;;) {
        if (pos >= source.length) fail('unclosed action');
        const c = source[pos] ?? '';
        if (c === '-' && SPACE.test(source[pos - 1] ?? '') && source.startsWith(right, pos + 1)) {
          trimNext = true;
          pos += 1 + right.length;
          tokens.push({ kind: 'close', value: right, line });
          break;
        }
        if (source.startsWith(right, pos)) {
          pos += right.length;
          tokens.push({ kind: 'close', value: right, line });
          break;
        }
        if (SPACE.test(c)) {
          if (c === '\n') line++;
          pos++;
          continue;
        }
        const rest = source.slice(pos);
        const before = tokens.length;
        const spaced = SPACE.test(source[pos - 1] ?? '');
        let m: RegExpMatchArray | null;
        const num = NUMBER.exec(rest);
        const variable = /^\$[\p{L}_\d]*/u.exec(rest);
        const field = /^\.[\p{L}_][\p{L}_\d]*/u.exec(rest);
        const ident = /^[\p{L}_][\p{L}_\d]*/u.exec(rest);
        if (c === '(' || c === ')' || c === '|' || c === ',') {
          const kinds = { '(': 'lparen', ')': 'rparen', '|': 'pipe', ',': 'comma' } as const;
          tokens.push({ kind: kinds[c], value: c, line });
          pos++;
        } else if (rest.startsWith(':=')) {
          tokens.push({ kind: 'declare', value: ':=', line });
          pos += 2;
        } else if (c === '=') {
          tokens.push({ kind: 'assign', value: '=', line });
          pos++;
        } else if (c === '"') {
          m = rest.match(/^"((?:[^"\\\n]|\\.)*)"/);
          if (!m) fail('unterminated quoted string');
          tokens.push({
            kind: 'string',
            value: decodeQuoted(m?.[1] ?? '', line, `template: ${name}`),
            line,
            raw: m?.[0],
          });
          pos += m?.[0].length ?? 0;
        } else if (c === '`') {
          const end = source.indexOf('`', pos + 1);
          if (end < 0) fail('unterminated raw quoted string');
          const raw = source.slice(pos + 1, end);
          tokens.push({ kind: 'string', value: raw.replace(/\r/g, ''), line, raw: `\`${raw}\`` });
          line += (raw.match(/\n/g) ?? []).length;
          pos = end + 1;
        } else if (c === "'") {
          m = rest.match(/^'((?:[^'\\\n]|\\.)+)'/);
          if (!m) fail('unterminated character constant');
          const ch = decodeQuoted(m?.[1] ?? '', line, `template: ${name}`);
          if ([...ch].length !== 1) fail('malformed character constant');
          tokens.push({ kind: 'char', value: String(ch.codePointAt(0)), line, raw: m?.[0] });
          pos += m?.[0].length ?? 0;
        } else if (num) {
          m = num;
          if (/^[+-]?\.[a-zA-Z_]/.test(rest)) fail('bad number syntax');
          const after = source[pos + m[0].length] ?? '';
          if (/[\p{L}\p{N}_]/u.test(after)) fail(`bad number syntax: ${JSON.stringify(m[0] + after)}`);
          tokens.push({ kind: 'number', value: m[0], line });
          pos += m[0].length;
        } else if (variable) {
          m = variable;
          terminated(pos + m[0].length);
          tokens.push({ kind: 'variable', value: m[0], line });
          pos += m[0].length;
          pos = chainFields(source, pos, tokens, line, true);
          terminated(pos);
        } else if (field) {
          pos = chainFields(source, pos, tokens, line, false);
          terminated(pos);
        } else if (c === '.') {
          tokens.push({ kind: 'dot', value: '.', line });
          pos++;
        } else if (ident) {
          m = ident;
          const word = m[0];
          terminated(pos + word.length);
          const kind = KEYWORDS.has(word)
            ? 'keyword'
            : word === 'true' || word === 'false'
              ? 'bool'
              : word === 'nil'
                ? 'nil'
                : 'identifier';
          tokens.push({ kind, value: word, line });
          pos += word.length;
          if (source[pos] === '.' && /[\p{L}_]/u.test(source[pos + 1] ?? '') && kind === 'identifier') {
            fail(`unexpected . after term "${word}"`);
          }
        } else fail(`unexpected "${c}" in command`);
        const first = tokens[before];
        if (first && spaced) first.spaced = true;
        // A field chain may follow a closing parenthesis: (x).Field.
        if (tokens.at(-1)?.kind === 'rparen') pos = chainFields(source, pos, tokens, line, true);
      }
    }
  }
}

/** `.a.b` right after a term: one field token per segment. */
function chainFields(source: string, pos: number, tokens: Token[], line: number, chained: boolean): number {
  let p = pos;
  let first = true;
  for (;;) {
    const m = source.slice(p).match(/^\.[\p{L}_][\p{L}_\d]*/u);
    if (!m) return p;
    tokens.push({ kind: 'field', value: m[0].slice(1), line, chained: chained || !first });
    first = false;
    p += m[0].length;
  }
}
