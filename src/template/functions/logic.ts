// Sprig's defaults and logic (defaults.go): default, empty, coalesce, ternary, all, any; and
// fail, which stops the render with its message.
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { sprint, truth } from '../values.ts';
import { checked, withArity } from './arguments.ts';

/** Sprig's empty: Go's template truth, negated. */
export function empty(v: unknown): boolean {
  return !truth(v);
}

export const logicFunctions: Record<string, TemplateFunction> = withArity(
  {
    default: (d, ...given) => (given.length === 0 || empty(given[0]) ? d : given[0]),
    empty: (v) => empty(v),
    coalesce: (...a) => a.find((x) => !empty(x)) ?? null,
    ternary: (t, f, cond) => (truth(cond) ? t : f),
    all: (...a) => a.every(truth),
    any: (...a) => a.some(truth),
    fail: checked('fail', 1, (msg) => {
      throw new FunctionError(sprint(msg));
    }),
  },
  { ternary: 3 },
);
