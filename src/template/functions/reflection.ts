// Sprig's reflection functions (reflect.go): a value's Go type and kind as ESO's engine would
// name them, and deepEqual (reflect.DeepEqual).
import type { TemplateFunction } from '../execute.ts';
import { GoBytes, GoValue, isMap, typeName } from '../values.ts';
import { fixed, goBytes, strval } from './arguments.ts';

function kindOf(v: unknown): string {
  const t = typeName(v);
  return t === '<nil>' ? 'invalid' : t.startsWith('map') ? 'map' : t.startsWith('[]') ? 'slice' : t;
}

/** reflect.DeepEqual over template values: same shape, same Go type at every leaf. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
  }
  if (a instanceof GoBytes || b instanceof GoBytes) return goBytes(a).equals(goBytes(b));
  if (a instanceof GoValue && b instanceof GoValue) return a.goString() === b.goString();
  return a === b || (a == null && b == null);
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
