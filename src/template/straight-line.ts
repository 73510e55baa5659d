// Whether a template runs straight through and cheaply: no `range`, no `define`/`block`/`template`
// (so each action runs at most once) and only functions whose work is linear in their input and
// whose result is checked against MAX_VALUE. A caller may run such a template where a slow one
// would hurt (the read pipeline renders it on the main thread rather than pay a worker's round
// trip); with its actions and inputs bounded, its work is bounded too.
import type { Arg, Node, Parsed, Pipeline } from './parse.ts';

/** Functions of the straight-line subset: the ones ESO's guides use to shape a value. */
export const STRAIGHT_LINE_FUNCTIONS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'not',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'default',
  'empty',
  'coalesce',
  'ternary',
  'len',
  'index',
  'print',
  'println',
  'printf',
  'upper',
  'lower',
  'title',
  'trim',
  'trimPrefix',
  'trimSuffix',
  'trunc',
  'quote',
  'squote',
  'contains',
  'hasPrefix',
  'hasSuffix',
  'replace',
  'indent',
  'nindent',
  'join',
  'list',
  'dict',
  'get',
  'hasKey',
  'toString',
  'toJson',
  'toRawJson',
  'fromJson',
  'b64enc',
  'b64dec',
  'urlquery',
  'sha256sum',
]);

function pipeline(p: Pipeline): boolean {
  return p.commands.every((c) => c.args.every(arg));
}

function arg(a: Arg): boolean {
  if (a.kind === 'function') return STRAIGHT_LINE_FUNCTIONS.has(a.name);
  return a.kind === 'pipeline' ? pipeline(a.pipe) : true;
}

function nodes(list: Node[]): boolean {
  return list.every((n) => {
    switch (n.kind) {
      case 'text':
        return true;
      case 'action':
        return pipeline(n.pipe);
      case 'if':
      case 'with':
        return pipeline(n.pipe) && nodes(n.list) && nodes(n.elseList ?? []);
      default:
        return false;
    }
  });
}

/** True when `parsed` has no loop, no template call and only STRAIGHT_LINE_FUNCTIONS. */
export function runsStraight(parsed: Parsed): boolean {
  return parsed.defines.size === 0 && nodes(parsed.root);
}
