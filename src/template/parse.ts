// Parses Go text/template tokens into a tree: text, actions (pipelines with variable
// declarations), if / range / with with else and `else if` / `else with` chains, break / continue,
// define / template / block.
import { lex, TemplateError, type Token } from './lexer.ts';
import { GoNumber } from './values.ts';

export type Arg =
  | { kind: 'dot' }
  | { kind: 'field'; names: string[] }
  | { kind: 'variable'; name: string; names: string[] }
  | { kind: 'function'; name: string }
  | { kind: 'literal'; value: unknown; text: string; number?: NumberLiteral }
  | { kind: 'pipeline'; pipe: Pipeline; names: string[] };

/** A number constant as Go's parser reads it: which Go types it can be, by its value. */
export interface NumberLiteral {
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  /** The value; for an interface{} parameter a float64 when written with . e E p P, else an int. */
  value: number;
  floatForm: boolean;
}

export interface Command {
  args: Arg[];
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  decl: string[];
  assign: boolean;
  commands: Command[];
  line: number;
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; list: Node[]; elseList?: Node[] }
  | { kind: 'range'; pipe: Pipeline; list: Node[]; elseList?: Node[] }
  | { kind: 'break' | 'continue'; line: number }
  | { kind: 'template'; name: string; pipe?: Pipeline; line: number };

export interface Parsed {
  root: Node[];
  /** Templates from `define` and `block`, by name. */
  defines: Map<string, Node[]>;
}

/** Functions the parser accepts: Go refuses a template naming an undefined function at parse time. */
export type KnownFunction = (name: string) => boolean;

export function parseTemplate(source: string, name: string, known: KnownFunction): Parsed {
  const p = new Parser(lex(source, name), name, known);
  const root = p.list(new Set());
  return { root, defines: p.defines };
}

class Parser {
  private i = 0;
  private rangeDepth = 0;
  readonly defines = new Map<string, Node[]>();
  private readonly tokens: Token[];
  private readonly name: string;
  private readonly known: KnownFunction;

  constructor(tokens: Token[], name: string, known: KnownFunction) {
    this.tokens = tokens;
    this.name = name;
    this.known = known;
  }

  private fail(msg: string, line = this.peek()?.line ?? this.tokens.at(-1)?.line ?? 1): never {
    throw new TemplateError(`template: ${this.name}:${line}: ${msg}`);
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) this.fail('unexpected EOF');
    if (t.kind === 'error') throw new TemplateError(t.value);
    return t;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(`unexpected "${t.value}" in ${what}`, t.line);
    return t;
  }

  /** Nodes until one of the keywords in `stops` opens an action (left unconsumed) or EOF. */
  list(stops: Set<string>): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (stops.size > 0) this.fail('unexpected EOF');
        return nodes;
      }
      if (t.kind === 'error') throw new TemplateError(t.value);
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.value });
        this.i++;
        continue;
      }
      const kw = this.peek(1);
      if (kw?.kind === 'keyword' && stops.has(kw.value)) return nodes;
      this.i++; // open
      nodes.push(...this.action());
    }
  }

  private action(): Node[] {
    const t = this.peek();
    if (t?.kind === 'keyword') {
      this.i++;
      switch (t.value) {
        case 'if':
        case 'with':
          return [this.branch(t.value)];
        case 'range':
          return [this.range()];
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.fail(`{{${t.value}}} outside {{range}}`, t.line);
          this.expect('close', t.value);
          return [{ kind: t.value, line: t.line }];
        case 'template':
          return [this.templateCall(t.line)];
        case 'define':
          this.define();
          return [];
        case 'block': {
          const call = this.templateCall(t.line, true);
          const body = this.list(new Set(['end']));
          this.closeEndAfterOpen();
          if (call.kind === 'template') this.addDefinition(call.name, body, t.line);
          return [call];
        }
        default:
          this.fail(`unexpected {{${t.value}}}`, t.line);
      }
    }
    const pipe = this.pipeline('command', true);
    return [{ kind: 'action', pipe }];
  }

  private closeEnd(): void {
    this.expect('keyword', 'end');
    this.expect('close', 'end');
  }

  private branch(kind: 'if' | 'with'): Node {
    const pipe = this.pipeline(kind, true);
    const list = this.list(new Set(['else', 'end']));
    this.i++; // open
    const kw = this.next();
    if (kw.value === 'end') {
      this.expect('close', 'end');
      return { kind, pipe, list };
    }
    // else, else if, else with
    const chained = this.peek();
    if (chained?.kind === 'keyword' && chained.value === kind) {
      this.i++;
      // `{{else if x}}` shares the outer {{end}}.
      return { kind, pipe, list, elseList: [this.branch(kind)] };
    }
    this.expect('close', 'else');
    const elseList = this.list(new Set(['end']));
    this.closeEndAfterOpen();
    return { kind, pipe, list, elseList };
  }

  private closeEndAfterOpen(): void {
    this.i++; // open
    this.closeEnd();
  }

  private range(): Node {
    const pipe = this.pipeline('range', true);
    this.rangeDepth++;
    const list = this.list(new Set(['else', 'end']));
    this.rangeDepth--;
    this.i++; // open
    const kw = this.next();
    if (kw.value === 'end') {
      this.expect('close', 'end');
      return { kind: 'range', pipe, list };
    }
    this.expect('close', 'else');
    const elseList = this.list(new Set(['end']));
    this.closeEndAfterOpen();
    return { kind: 'range', pipe, list, elseList };
  }

  private templateCall(line: number, isBlock = false): Node {
    const nameTok = this.expect('string', isBlock ? 'block clause' : 'template clause');
    let pipe: Pipeline | undefined;
    if (this.peek()?.kind !== 'close') pipe = this.pipeline('template', false);
    else this.i++;
    return { kind: 'template', name: nameTok.value, pipe, line };
  }

  private define(): void {
    const nameTok = this.expect('string', 'define clause');
    this.expect('close', 'define clause');
    const body = this.list(new Set(['end']));
    this.closeEndAfterOpen();
    this.addDefinition(nameTok.value, body, nameTok.line);
  }

  /** Go's Tree.add: an empty definition gives way to another; two non-empty ones fail. */
  private addDefinition(name: string, body: Node[], line: number): void {
    const have = this.defines.get(name);
    const empty = (nodes: Node[]) => nodes.every((n) => n.kind === 'text' && n.text.trim() === '');
    if (have && !empty(have)) {
      if (!empty(body)) this.fail(`template: multiple definition of template ${JSON.stringify(name)}`, line);
      return;
    }
    this.defines.set(name, body);
  }

  /** A pipeline up to and including the closing delimiter (or `)` when `inParens`). */
  private pipeline(context: string, allowDecl: boolean, inParens = false): Pipeline {
    const line = this.peek()?.line ?? 1;
    const decl: string[] = [];
    let assign = false;
    if (allowDecl && this.peek()?.kind === 'variable') {
      // Look ahead for `$x :=`, `$x =`, or `$i, $e :=` (range).
      const a = this.peek(1);
      if (a?.kind === 'declare' || a?.kind === 'assign') {
        decl.push(this.next().value);
        assign = this.next().kind === 'assign';
      } else if (a?.kind === 'comma' && context === 'range' && this.peek(2)?.kind === 'variable') {
        decl.push(this.next().value);
        this.i++;
        decl.push(this.next().value);
        const op = this.next();
        if (op.kind !== 'declare' && op.kind !== 'assign') this.fail('too many declarations in range', op.line);
        assign = op.kind === 'assign';
      }
    }
    const commands: Command[] = [];
    for (;;) {
      const args = this.command(inParens);
      if (args.length === 0) this.fail(`missing value for ${context}`, line);
      commands.push({ args });
      const t = this.next();
      if (t.kind === 'pipe') continue;
      if (inParens ? t.kind === 'rparen' : t.kind === 'close') break;
      this.fail(`unexpected "${t.value}" in ${context}`, t.line);
    }
    for (const c of commands.slice(1)) {
      const first = c.args[0];
      if (first?.kind === 'literal' || first?.kind === 'dot')
        this.fail(`non executable command in pipeline stage ${commands.indexOf(c) + 1}`, line);
    }
    return { decl, assign, commands, line };
  }

  private command(inParens: boolean): Arg[] {
    const args: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || t.kind === 'pipe' || t.kind === 'close' || (inParens && t.kind === 'rparen')) return args;
      if (args.length > 0 && !t.spaced && t.kind !== 'error')
        this.fail(`unexpected ${JSON.stringify(t.raw ?? t.value)} in operand`, t.line);
      this.i++;
      args.push(this.operand(t));
    }
  }

  private chain(): string[] {
    const names: string[] = [];
    while (this.peek()?.kind === 'field' && this.peek()?.chained) names.push(this.next().value);
    return names;
  }

  private operand(t: Token): Arg {
    switch (t.kind) {
      case 'dot':
        return { kind: 'dot' };
      case 'field':
        return { kind: 'field', names: [t.value, ...this.chain()] };
      case 'variable':
        return { kind: 'variable', name: t.value, names: this.chain() };
      case 'identifier':
        if (!this.known(t.value)) this.fail(`function "${t.value}" not defined`, t.line);
        return { kind: 'function', name: t.value };
      case 'string':
        return { kind: 'literal', value: t.value, text: t.raw ?? JSON.stringify(t.value) };
      case 'char': {
        const n = Number(t.value);
        const number = { isInt: true, isUint: true, isFloat: true, value: n, floatForm: false };
        return { kind: 'literal', value: n, text: t.raw ?? t.value, number };
      }
      case 'bool':
        return { kind: 'literal', value: t.value === 'true', text: t.value };
      case 'nil':
        return { kind: 'literal', value: null, text: 'nil' };
      case 'number': {
        const value = parseNumber(t.value, () => this.fail(`bad number syntax: ${t.value}`, t.line));
        const number = numberLiteral(t.value, value);
        // Go gives a constant written as a float (1.5, 1e6, 3.0) the type float64 where no parameter types it.
        return {
          kind: 'literal',
          value: number.floatForm ? new GoNumber(value, 'float64') : value,
          text: t.value,
          number,
        };
      }
      case 'error':
        throw new TemplateError(t.value);
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', false, true);
        return { kind: 'pipeline', pipe, names: this.chain() };
      }
      default:
        return this.fail(`unexpected "${t.value}" in operand`, t.line);
    }
  }
}

function parseNumber(text: string, fail: () => never): number {
  const clean = text.replace(/_/g, '');
  const sign = clean.startsWith('-') ? -1 : 1;
  const body = clean.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX]/.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) n = Number.parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) n = Number.parseInt(body.slice(2), 8);
  else if (/^0[0-7]+$/.test(body)) n = Number.parseInt(body.slice(1), 8);
  else n = Number(body);
  if (Number.isNaN(n)) fail();
  return sign * n;
}

/** Go's parse.NumberNode flags: a constant is an int, a uint, a float, as its value allows. */
function numberLiteral(text: string, value: number): NumberLiteral {
  const integral = Number.isInteger(value) && Math.abs(value) < 2 ** 63;
  const hex = /^[+-]?0[xX]/.test(text);
  return {
    isInt: integral,
    isUint: integral && value >= 0,
    isFloat: true,
    value,
    floatForm: !hex && /[.eEpP]/.test(text),
  };
}
