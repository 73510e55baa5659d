// How text/template matches a call's arguments to the function's Go parameter types before the
// call, and types its result (exec.go's evalArg, validateType and evalCall): a literal is taken
// as the parameter's type or refused ("expected integer; found 1.5"), any other value must be of
// that type ("wrong type for value; expected int; got int64"). Messages name types and the
// template's own literals, never a value from the data.

import type { Signature } from './functions/signatures.ts';
import type { Arg } from './parse.ts';
import { GoNumber, numberOf, SLICE_TYPES, STRING_MAPS, typeName } from './values.ts';

const NUMERIC = new Set(['int', 'int64', 'int32', 'uint', 'uint32', 'uint64', 'float64', 'float32']);

/** A parameter that takes any value (interface{}, and the builtins' reflect.Value). */
function takesAny(type: string): boolean {
  return type === 'interface {}' || type === 'reflect.Value';
}

function canBeNil(type: string): boolean {
  return takesAny(type) || type.startsWith('[]') || type.startsWith('map[') || type.startsWith('*');
}

/** The parameter type of argument `i` of `numIn` (the last one may be the piped value). */
export function parameterType(sig: Signature, i: number): string {
  const fixed = sig.variadic ? sig.params.length - 1 : sig.params.length;
  if (i < fixed) return sig.params[i] as string;
  return sig.variadic ? (sig.params.at(-1) as string).slice(3) : 'interface {}';
}

/** Go's arity check, made before any argument is evaluated; the message, or undefined when it passes. */
export function arityError(name: string, sig: Signature, explicit: number, piped: boolean): string | undefined {
  const numIn = explicit + (piped ? 1 : 0);
  if (sig.variadic) {
    const fixed = sig.params.length - 1;
    return numIn < fixed ? `wrong number of args for ${name}: want at least ${fixed} got ${explicit}` : undefined;
  }
  return numIn !== sig.params.length
    ? `wrong number of args for ${name}: want ${sig.params.length} got ${numIn}`
    : undefined;
}

/** What a function's implementation receives for a typed number: the plain number. */
function forFunction(value: unknown, type: string): unknown {
  return NUMERIC.has(type) ? numberOf(value) : value;
}

export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/** A literal written as an argument, taken as the parameter's type (Go's evalArg for constants). */
export function literalArgument(arg: Extract<Arg, { kind: 'literal' }>, type: string): unknown {
  if (arg.value === null) {
    if (canBeNil(type)) return null;
    throw new ArgumentError(`cannot assign nil to ${type}`);
  }
  if (takesAny(type)) return arg.value;
  const n = arg.number;
  switch (type) {
    case 'bool':
      if (typeof arg.value === 'boolean') return arg.value;
      throw new ArgumentError(`expected bool; found ${arg.text}`);
    case 'string':
      if (typeof arg.value === 'string' && !n) return arg.value;
      throw new ArgumentError(`expected string; found ${arg.text}`);
    case 'float64':
    case 'float32':
      if (n?.isFloat) return n.value;
      throw new ArgumentError(`expected float; found ${arg.text}`);
    case 'int':
    case 'int32':
    case 'int64':
      if (n?.isInt) return n.value;
      throw new ArgumentError(`expected integer; found ${arg.text}`);
    case 'uint':
    case 'uint32':
    case 'uint64':
      if (n?.isUint) return n.value;
      throw new ArgumentError(`expected unsigned integer; found ${arg.text}`);
    default:
      throw new ArgumentError(`can't handle ${arg.text} for arg of type ${type}`);
  }
}

/** Any other argument's value, which must have the parameter's type (Go's validateType). */
export function checkArgument(value: unknown, type: string): unknown {
  if (takesAny(type)) return value;
  if (value === null || value === undefined) {
    if (canBeNil(type)) return null;
    throw new ArgumentError(`invalid value; expected ${type}`);
  }
  const got = typeName(value);
  if (got !== type) throw new ArgumentError(`wrong type for value; expected ${type}; got ${got}`);
  return forFunction(value, type);
}

/** A literal argument converted for the function (a typed number as a plain number). */
export function literalForFunction(arg: Extract<Arg, { kind: 'literal' }>, type: string): unknown {
  return forFunction(literalArgument(arg, type), type);
}

/** The function's result with the Go type its signature declares. */
export function typedResult(result: unknown, type: string): unknown {
  switch (type) {
    case 'int64':
    case 'uint64':
    case 'float64': {
      const n = numberOf(result);
      return n === undefined ? result : new GoNumber(n, type);
    }
    case 'int':
      return numberOf(result) ?? result;
    case '[]string':
    case '[]int':
    case '[][]interface {}':
      if (Array.isArray(result)) SLICE_TYPES.set(result, type);
      return result;
    case 'map[string]string':
      if (result !== null && typeof result === 'object') STRING_MAPS.add(result);
      return result;
    default:
      return result;
  }
}
