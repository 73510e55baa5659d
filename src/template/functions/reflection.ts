// Sprig's reflection functions (reflect.go): a value's Go type and kind as ESO's engine would
// name them, and deepEqual (reflect.DeepEqual).
import type { TemplateFunction } from '../execute.ts';
import { deepEqual, typeName } from '../values.ts';
import { fixed, strval } from './arguments.ts';

/** reflect.Kind's name for a value's type. */
function kindOf(v: unknown): string {
  const t = typeName(v);
  if (t === '<nil>') return 'invalid';
  if (t.startsWith('map[')) return 'map';
  if (t.startsWith('[]')) return 'slice';
  if (t.startsWith('*')) return 'ptr';
  return t.includes('.') ? 'struct' : t;
}

export const reflectionFunctions: Record<string, TemplateFunction> = {
  kindOf: (v) => kindOf(v),
  typeOf: (v) => typeName(v),
  ...Object.fromEntries([
    fixed('typeIs', 2, (t, v) => strval(t) === typeName(v)),
    fixed('typeIsLike', 2, (t, v) => strval(t) === typeName(v) || `*${strval(t)}` === typeName(v)),
    fixed('kindIs', 2, (t, v) => strval(t) === kindOf(v)),
    fixed('deepEqual', 2, deepEqual),
  ]),
};
