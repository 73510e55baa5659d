// Go (RE2) regular expressions, for rewrite, find.name.regexp and the template's regex
// functions, run by re2js (a port of RE2): Go's syntax as it is ((?P<name>...), (?U), \pL, \z)
// and, above all, matching in time linear in the input. JavaScript's own RegExp backtracks: a
// pattern such as `^(a+)+$` on 30 characters took 40 s, and a render holds the controller's
// only thread. Go's Regexp.Expand for `$1`/`${name}`.
import type * as Re2 from 're2js';
import { lazyRequire } from './lazy-require.ts';

const re2 = lazyRequire<typeof Re2>('re2js');

export type GoRegexp = Re2.RE2JS;

export class GoRegexpError extends Error {
  override name = 'GoRegexpError';
}

/**
 * Compiled patterns, oldest first. Compiling costs ~50 µs against ~1 µs for a match, and the same
 * few patterns come back at every reconcile (remoteKeyPolicy, namespaceRegexes) and every `range`
 * step of a template; a compiled RE2JS keeps no per-match state, so one serves every caller.
 */
const compiled = new Map<string, GoRegexp>();
const MAX_COMPILED = 1024;

/** Compiles a Go regexp (or returns it compiled before). Errors never quote the pattern (it may be a value). */
export function compileGoRegexp(pattern: string): GoRegexp {
  const known = compiled.get(pattern);
  if (known) return known;
  let re: GoRegexp;
  try {
    re = re2().RE2JS.compile(pattern);
  } catch {
    throw new GoRegexpError('the regexp does not compile');
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, re);
  return re;
}

/** Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; unknown groups expand to "". */
export function expandGoTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (all, dollar, braced, bare) => {
    if (dollar === '$') return '$';
    const name = (braced ?? bare) as string | undefined;
    if (name === undefined) return all;
    if (/^\d+$/.test(name)) return match[Number(name)] ?? '';
    return match.groups?.[name] ?? '';
  });
}

/**
 * Go's ReplaceAllString: every match replaced by the expanded template (or the template itself
 * when `literal`), matches taken as Go's FindAll takes them. `onGrow` hears how much longer than
 * the input the result has grown so far, and may throw to stop it.
 */
export function replaceAllGo(
  re: GoRegexp,
  input: string,
  template: string,
  literal = false,
  onGrow?: (grown: number) => void,
): string {
  const parts: string[] = [];
  let last = 0;
  let grown = 0;
  for (const m of goMatches(re, input, Number.POSITIVE_INFINITY)) {
    const out = literal ? template : expandGoTemplate(template, m);
    grown += out.length - m[0].length;
    onGrow?.(grown);
    parts.push(input.slice(last, m.index), out);
    last = m.index + m[0].length;
  }
  parts.push(input.slice(last));
  return parts.join('');
}

/**
 * Matches as Go's FindAll takes them, at most `limit`: successive and non-overlapping, and an
 * empty match right where the previous match ended is not one (`a*` in "baaac" matches "",
 * "aaa", "" — a JavaScript-style iteration adds a fourth, empty one after "aaa").
 */
function* goMatches(re: GoRegexp, input: string, limit: number): Generator<RegExpExecArray & { index: number }> {
  if (limit <= 0) return;
  let prevEnd = -1;
  let found = 0;
  for (const m of re.matchAll(input)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const accept = !(start === end && start === prevEnd);
    prevEnd = end;
    if (!accept) continue;
    yield Object.assign(m, { index: start }) as RegExpExecArray & { index: number };
    if (++found >= limit) return;
  }
}

/** Go's FindAllStringIndex: [start, end) of at most `limit` matches (see goMatches). */
export function findAllGo(re: GoRegexp, input: string, limit: number): [number, number][] {
  return [...goMatches(re, input, limit)].map((m) => [m.index, m.index + m[0].length]);
}
