// Executes a parsed Go template with `missingkey=error` (as ESO does): a field that is not in
// the data stops the render instead of printing "<no value>" into a Secret. Error messages name
// the template, line and construct, never a data value.
import {
  ArgumentError,
  arityError,
  checkArgument,
  literalForFunction,
  parameterType,
  typedResult,
} from './call-types.ts';
import { type CostBudget, costBudget } from './cost-budget.ts';
import { SIGNATURES } from './functions/signatures.ts';
import { TemplateError } from './lexer.ts';
import type { Arg, Command, Node, Parsed, Pipeline } from './parse.ts';
import { GoBytes, GoNumber, GoValue, isMap, sprintBytes, truth, typeName } from './values.ts';

/** A template function: receives evaluated arguments, returns a value or throws FunctionError. */
export type TemplateFunction = (...args: unknown[]) => unknown;

/** A function's own failure; the executor adds where it happened. */
export class FunctionError extends Error {
  override name = 'FunctionError';
}

class Break {}
class Continue {}

interface Scope {
  vars: { name: string; value: unknown }[];
}

// Limits that keep one template from exhausting the controller. A render is synchronous, so a
// template that allocates without end or loops for minutes would stall every other object (and
// the controller's memory limit is 512 MiB); a Secret holds at most 1 MiB, so no template that
// produces a valid one comes near these.
/**
 * Largest rendered output, and largest value any function may return (measured by `weigh`): what
 * a Secret holds. JavaScript's string functions need tens of bytes per character while they work
 * (swapcase on 4 MiB took 300 MiB), so this also bounds what one call can allocate.
 */
export const MAX_VALUE = 1024 * 1024;
const MAX_RANGE_STEPS = 1_000_000;
/**
 * Most elements a function may return as a list or dict (`until`, `split`, `regexFindAll`, ...):
 * each weighs at least 2, so a longer one could not pass MAX_VALUE anyway; this stops it unbuilt.
 */
export const MAX_ELEMENTS = MAX_VALUE / 2;
const MAX_DEPTH = 100;
const MAX_NESTING = 1000;
/** Work one render may do: the sum of the sizes of every function's result. */
const MAX_WORK = 64 * 1024 * 1024;

/** Fails a function before it builds a result longer than MAX_VALUE. */
export function within(fn: string, length: number): void {
  if (length > MAX_VALUE) throw new FunctionError(`${fn}: result over ${MAX_VALUE} bytes`);
}

/** Fails a function that would return more than MAX_ELEMENTS elements. */
export function tooMany(fn: string): never {
  throw new FunctionError(`${fn}: more than ${MAX_ELEMENTS} elements`);
}

/**
 * The size of a value as printing or serializing it would spell it out: characters of strings
 * and keys, bytes, one per scalar and one more per element (its separator), counting a shared
 * value every time it appears.
 * Stops past `limit`. A value that contains itself never ends, and one nested deeper than
 * MAX_NESTING cannot be printed; both weigh Infinity.
 */
export function weigh(v: unknown, limit: number): number {
  const path = new Set<object>();
  const go = (x: unknown, budget: number): number => {
    if (typeof x === 'string') return x.length;
    if (x instanceof GoBytes) return x.bytes.length;
    if (x === null || typeof x !== 'object' || x instanceof GoValue || x instanceof GoNumber) return 1;
    // Printing recurses as deep as the value nests; past MAX_NESTING it would overflow the stack.
    if (path.has(x) || path.size >= MAX_NESTING) return Number.POSITIVE_INFINITY;
    path.add(x);
    let total = 1;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length && total <= budget; i++) total += 1 + go(x[i], budget - total);
    } else {
      for (const k in x) {
        total += k.length + 1 + go((x as Record<string, unknown>)[k], budget - total);
        if (total > budget) break;
      }
    }
    path.delete(x);
    return total;
  };
  return go(v, limit);
}

export class Executor {
  private readonly out: Buffer[] = [];
  private size = 0;
  private steps = 0;
  private work = 0;
  private readonly parsed: Parsed;
  private readonly funcs: Record<string, TemplateFunction>;
  private readonly name: string;
  private readonly budget: CostBudget;

  constructor(parsed: Parsed, funcs: Record<string, TemplateFunction>, name: string) {
    this.parsed = parsed;
    this.funcs = funcs;
    this.name = name;
    this.budget = costBudget();
  }

  run(data: unknown): Buffer {
    this.walk(this.parsed.root, data, { vars: [{ name: '$', value: data }] }, 0);
    return Buffer.concat(this.out);
  }

  private fail(line: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${line}: executing "${this.name}": ${msg}`);
  }

  private write(v: unknown): void {
    let b: Buffer;
    try {
      b = typeof v === 'string' ? Buffer.from(v, 'utf8') : sprintBytes(v);
    } catch (err) {
      // A dict made to hold itself (`set $d "k" $d`) has no end to print; Go overflows its stack.
      if (err instanceof RangeError)
        throw new TemplateError(`template: ${this.name}: a value that contains itself cannot be printed`);
      throw err;
    }
    this.size += b.length;
    this.budget.wrote(b.length);
    if (this.size > MAX_VALUE) throw new TemplateError(`template: ${this.name}: output over ${MAX_VALUE} bytes`);
    this.out.push(b);
  }

  private walk(nodes: Node[], dot: unknown, scope: Scope, depth: number): void {
    for (const node of nodes) this.node(node, dot, scope, depth);
  }

  private node(node: Node, dot: unknown, scope: Scope, depth: number): void {
    switch (node.kind) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        const v = this.pipeline(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) this.write(this.printable(v));
        return;
      }
      case 'if':
      case 'with': {
        const mark = scope.vars.length;
        const v = this.pipeline(node.pipe, dot, scope);
        if (truth(v)) this.walk(node.list, node.kind === 'with' ? v : dot, scope, depth);
        else if (node.elseList) this.walk(node.elseList, dot, scope, depth);
        scope.vars.length = mark;
        return;
      }
      case 'range':
        this.range(node, dot, scope, depth);
        return;
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      case 'template': {
        const body = this.parsed.defines.get(node.name);
        if (!body) this.fail(node.line, `no such template "${node.name}"`);
        if (depth >= MAX_DEPTH) this.fail(node.line, `exceeded maximum template depth (${MAX_DEPTH})`);
        const v = node.pipe ? this.pipeline(node.pipe, dot, scope) : null;
        this.walk(body, v, { vars: [{ name: '$', value: v }] }, depth + 1);
        return;
      }
    }
  }

  /** Go prints a nil that reaches an action (a function's nil result, a map's nil element) as "<no value>". */
  private printable(v: unknown): unknown {
    return v === null || v === undefined ? '<no value>' : v;
  }

  private range(node: Extract<Node, { kind: 'range' }>, dot: unknown, scope: Scope, depth: number): void {
    const mark = scope.vars.length;
    const pipe = { ...node.pipe, decl: [] };
    const v = this.pipeline(pipe, dot, scope);
    let entries: Iterable<[unknown, unknown]>;
    let empty: boolean;
    if (Array.isArray(v)) {
      entries = v.map((e, i) => [i, e]);
      empty = v.length === 0;
    } else if (isMap(v)) {
      const keys = Object.keys(v).sort();
      entries = keys.map((k) => [k, v[k]]);
      empty = keys.length === 0;
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      // Counted lazily: `range 4000000000` must stop at MAX_RANGE_STEPS, not build the array first.
      if (node.pipe.decl.length > 1) this.fail(node.pipe.line, `can't use ${v} to iterate over more than one variable`);
      entries = countTo(v);
      empty = v <= 0;
    } else if (v === null || v === undefined) {
      entries = [];
      empty = true;
    } else this.fail(node.pipe.line, `range can't iterate over ${typeName(v)}`);
    if (empty) {
      if (node.elseList) this.walk(node.elseList, dot, scope, depth);
      scope.vars.length = mark;
      return;
    }
    for (const [k, e] of entries) {
      if (++this.steps > MAX_RANGE_STEPS) this.fail(node.pipe.line, 'range over too many elements');
      const [first, second] = node.pipe.decl;
      if (first !== undefined && second === undefined) this.setVar(scope, first, e, !node.pipe.assign, node.pipe.line);
      if (first !== undefined && second !== undefined) {
        this.setVar(scope, first, k, !node.pipe.assign, node.pipe.line);
        this.setVar(scope, second, e, !node.pipe.assign, node.pipe.line);
      }
      try {
        this.walk(node.list, e, scope, depth);
      } catch (err) {
        if (err instanceof Break) break;
        if (!(err instanceof Continue)) throw err;
      }
    }
    scope.vars.length = mark;
  }

  private setVar(scope: Scope, name: string, value: unknown, declare: boolean, line: number): void {
    if (declare) {
      scope.vars.push({ name, value });
      return;
    }
    for (let i = scope.vars.length - 1; i >= 0; i--) {
      const v = scope.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.fail(line, `undefined variable: ${name}`);
  }

  private variable(scope: Scope, name: string, line: number): unknown {
    for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i]?.name === name) return scope.vars[i]?.value;
    return this.fail(line, `undefined variable: ${name}`);
  }

  private pipeline(pipe: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    let piped = false;
    for (const cmd of pipe.commands) {
      value = this.command(cmd, dot, scope, pipe.line, piped ? { value } : undefined);
      piped = true;
    }
    for (const name of pipe.decl) this.setVar(scope, name, value, !pipe.assign, pipe.line);
    return value;
  }

  private command(cmd: Command, dot: unknown, scope: Scope, line: number, final?: { value: unknown }): unknown {
    const [first, ...rest] = cmd.args;
    if (!first) return this.fail(line, 'empty command');
    if (first.kind === 'literal' && first.value === null) this.fail(line, 'nil is not a command');
    if (first.kind === 'function') return this.call(first.name, rest, dot, scope, line, final);
    if (rest.length > 0 || final) {
      const what = first.kind === 'field' ? `.${first.names.join('.')}` : first.kind;
      this.fail(line, `can't give argument to non-function ${what}`);
    }
    return this.arg(first, dot, scope, line);
  }

  private call(
    name: string,
    argNodes: Arg[],
    dot: unknown,
    scope: Scope,
    line: number,
    final?: { value: unknown },
  ): unknown {
    // and / or evaluate lazily and return the deciding operand itself.
    if (name === 'and' || name === 'or') {
      const count = argNodes.length + (final ? 1 : 0);
      if (count < 1) this.fail(line, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (let i = 0; i < count; i++) {
        const node = argNodes[i];
        v = node ? this.arg(node, dot, scope, line) : final?.value;
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    if (name === 'call' && !this.funcs.call) return this.callFunctionValue(argNodes, dot, scope, line, final);
    const fn = this.funcs[name];
    if (!fn) return this.fail(line, `function "${name}" not defined`);
    const sig = SIGNATURES.get(name);
    let args: unknown[];
    if (sig) {
      const arity = arityError(name, sig, argNodes.length, final !== undefined);
      if (arity) this.fail(line, arity);
      args = argNodes.map((a, i) => this.typedArg(a, parameterType(sig, i), dot, scope, line));
      if (final) args.push(this.typed(() => checkArgument(final.value, parameterType(sig, argNodes.length)), line));
    } else {
      args = argNodes.map((a) => this.arg(a, dot, scope, line));
      if (final) args.push(final.value);
    }
    this.budget.charge(name, args, `template: ${this.name}:${line}: executing "${this.name}"`);
    let result: unknown;
    try {
      result = fn(...args);
    } catch (err) {
      // fail's message is shown only when written in the template: one computed from the data
      // could carry a value.
      if (err instanceof FunctionError && name === 'fail' && !(argNodes[0]?.kind === 'literal' && !final)) {
        this.fail(line, 'error calling fail: (message withheld: it is computed from the data)');
      }
      if (err instanceof FunctionError) this.fail(line, `error calling ${name}: ${err.message}`);
      if (err instanceof TemplateError) throw err;
      return this.fail(line, `error calling ${name}: ${(err as Error)?.name ?? 'error'}`);
    }
    if (sig) result = typedResult(result, sig.result);
    const size = weigh(result, MAX_VALUE);
    if (size === Number.POSITIVE_INFINITY)
      this.fail(line, `error calling ${name}: its result contains itself or nests over ${MAX_NESTING} deep`);
    if (size > MAX_VALUE) this.fail(line, `error calling ${name}: result over ${MAX_VALUE} bytes`);
    this.work += size + 1;
    this.budget.handled(args, size);
    if (this.work > MAX_WORK)
      this.fail(line, `the template does too much work (its functions' results add up to over ${MAX_WORK} bytes)`);
    return result;
  }

  /**
   * Go's builtin `call` calls a function value. A template's data here (the provider's values,
   * strings) holds none, so it always ends as Go's does for a non-function, after evaluating its
   * arguments as Go does. Go names a piped callee by its value; that could be a secret, so it is
   * withheld.
   */
  private callFunctionValue(
    argNodes: Arg[],
    dot: unknown,
    scope: Scope,
    line: number,
    final?: { value: unknown },
  ): never {
    const count = argNodes.length + (final ? 1 : 0);
    if (count < 1) this.fail(line, 'wrong number of args for call: want at least 1 got 0');
    const [first] = argNodes;
    const callee = first ? this.arg(first, dot, scope, line) : final?.value;
    for (const a of argNodes.slice(1)) this.arg(a, dot, scope, line);
    if (callee === null || callee === undefined) this.fail(line, 'error calling call: call of nil');
    const calleeName = first ? argText(first) : '(piped value withheld)';
    return this.fail(line, `error calling call: non-function ${calleeName} of type ${typeName(callee)}`);
  }

  /** An argument evaluated and matched to its parameter's Go type, as Go does before a call. */
  private typedArg(a: Arg, type: string, dot: unknown, scope: Scope, line: number): unknown {
    if (a.kind === 'literal') return this.typed(() => literalForFunction(a, type), line);
    const v = this.arg(a, dot, scope, line);
    return this.typed(() => checkArgument(v, type), line);
  }

  private typed(check: () => unknown, line: number): unknown {
    try {
      return check();
    } catch (err) {
      if (err instanceof ArgumentError) this.fail(line, err.message);
      throw err;
    }
  }

  private arg(a: Arg, dot: unknown, scope: Scope, line: number): unknown {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return a.value;
      case 'field':
        return this.fields(dot, a.names, line);
      case 'variable':
        return this.fields(this.variable(scope, a.name, line), a.names, line);
      case 'pipeline': {
        const mark = scope.vars.length;
        const v = this.pipeline(a.pipe, dot, scope);
        scope.vars.length = mark;
        return this.fields(v, a.names, line);
      }
      case 'function':
        return this.call(a.name, [], dot, scope, line);
    }
  }

  private fields(start: unknown, names: string[], line: number): unknown {
    let v = start;
    for (const name of names) {
      if (v === null || v === undefined) this.fail(line, `nil pointer evaluating interface {}.${name}`);
      if (v instanceof GoValue) {
        const f = v.field(name);
        if (f === undefined) this.fail(line, `can't evaluate field ${name} in type ${typeName(v)}`);
        v = f;
        continue;
      }
      if (!isMap(v)) this.fail(line, `can't evaluate field ${name} in type ${typeName(v)}`);
      if (!Object.hasOwn(v, name)) this.fail(line, `map has no entry for key "${name}"`);
      v = v[name];
    }
    return v;
  }
}

/** How Go's parse nodes print an argument (node.String()), for `call`'s error; literals are the template's own text. */
function argText(a: Arg): string {
  switch (a.kind) {
    case 'dot':
      return '.';
    case 'field':
      return `.${a.names.join('.')}`;
    case 'variable':
      return [a.name, ...a.names].join('.');
    case 'function':
      return a.name;
    case 'literal':
      return typeof a.value === 'string' ? JSON.stringify(a.value) : a.value === null ? 'nil' : String(a.value);
    case 'pipeline':
      return `(…)${a.names.map((n) => `.${n}`).join('')}`;
  }
}

function* countTo(n: number): Generator<[number, number]> {
  for (let i = 0; i < n; i++) yield [i, i];
}
