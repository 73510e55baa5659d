// Whether a template runs straight through and cheaply: no `define`/`block`/`template`, no `range`
// but one over the data map itself (`range $k, $v := .` at the top level, not nested: as many
// steps as the data has keys), so each action runs at most once per key, and only functions whose
// work is linear in their input and whose result is checked against MAX_VALUE. A caller may run
// such a template where a slow one would hurt (the read pipeline renders it on the main thread
// rather than pay a worker's round trip); with its actions and inputs bounded, so is its work.
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

/** `.` or `$` alone: the data map, where `.` has not been rebound. */
function overData(p: Pipeline): boolean {
  const [command, ...more] = p.commands;
  const [a, ...rest] = command?.args ?? [];
  if (more.length > 0 || rest.length > 0 || !a) return false;
  return a.kind === 'dot' || (a.kind === 'variable' && a.name === '$' && a.names.length === 0);
}

/** `dotIsData`: `.` is still the data map (not inside `with` or `range`). */
function nodes(list: Node[], dotIsData: boolean): boolean {
  return list.every((n) => {
    switch (n.kind) {
      case 'text':
        return true;
      case 'action':
        return pipeline(n.pipe);
      case 'if':
        return pipeline(n.pipe) && nodes(n.list, dotIsData) && nodes(n.elseList ?? [], dotIsData);
      case 'with':
        return pipeline(n.pipe) && nodes(n.list, false) && nodes(n.elseList ?? [], dotIsData);
      case 'range':
        return dotIsData && overData(n.pipe) && nodes(n.list, false) && nodes(n.elseList ?? [], false);
      default:
        return false;
    }
  });
}

/** True when `parsed` loops over the data map at most, calls no template and only STRAIGHT_LINE_FUNCTIONS. */
export function runsStraight(parsed: Parsed): boolean {
  return parsed.defines.size === 0 && nodes(parsed.root, true);
}
