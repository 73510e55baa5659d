// Sprig's regular-expression functions (regex.go), with Go's RE2 syntax and semantics through
// the Go regexp adapter. Results past MAX_VALUE or MAX_ELEMENTS fail before they are built.
import { compileGoRegexp, findAllGo, type GoRegexp, GoRegexpError, replaceAllGo } from '../../go-regexp.ts';
import { FunctionError, MAX_ELEMENTS, type TemplateFunction, tooMany, within } from '../execute.ts';
import { alias, fixed, strval, toInt, withArity } from './arguments.ts';

function regex(pattern: unknown): GoRegexp {
  try {
    return compileGoRegexp(strval(pattern));
  } catch (err) {
    if (err instanceof GoRegexpError) throw new FunctionError(err.message);
    throw err;
  }
}
/** Go's ReplaceAllString, stopping once the result would pass MAX_VALUE. */
function regexReplace(fn: string, re: GoRegexp, s: string, repl: string, literal: boolean): string {
  return replaceAllGo(re, s, repl, literal, (grown) => within(fn, s.length + grown));
}

/** Go's Regexp.Split. */
function regexSplit(pattern: string, re: GoRegexp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [''];
  const matches = findAllGo(re, s, n < 0 ? MAX_ELEMENTS + 1 : n);
  if (matches.length > MAX_ELEMENTS) tooMany('regexSplit');
  const parts: string[] = [];
  let begin = 0;
  let end = 0;
  for (const [start, stop] of matches) {
    if (n > 0 && parts.length === n - 1) break;
    end = start;
    if (stop !== 0) parts.push(s.slice(begin, end));
    begin = stop;
  }
  if (end !== s.length) parts.push(s.slice(begin));
  return parts;
}
/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const table: Record<string, TemplateFunction> = withArity(
  {
    // Sprig ignores MatchString's error: a pattern that does not compile matches nothing.
    regexMatch: (re, s) => {
      try {
        return regex(re).test(strval(s));
      } catch (err) {
        if (err instanceof FunctionError) return false;
        throw err;
      }
    },
    regexFind: (re, s) => regex(re).exec(strval(s))?.[0] ?? '',
    regexFindAll: (re, s, n) => {
      const t = strval(s);
      const found = findAllGo(regex(re), t, toInt(n) < 0 ? MAX_ELEMENTS + 1 : toInt(n));
      if (found.length > MAX_ELEMENTS) tooMany('regexFindAll');
      return found.map(([start, end]) => t.slice(start, end));
    },
    regexReplaceAll: (re, s, repl) => regexReplace('regexReplaceAll', regex(re), strval(s), strval(repl), false),
    regexReplaceAllLiteral: (re, s, repl) =>
      regexReplace('regexReplaceAllLiteral', regex(re), strval(s), strval(repl), true),
    regexSplit: (re, s, n) => regexSplit(strval(re), regex(re), strval(s), toInt(n)),
  },
  { regexMatch: 2, regexReplaceAll: 3 },
);

export const regexFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    fixed('mustRegexMatch', 2, (re, s) => regex(re).test(strval(s))),
    alias('mustRegexFind', table.regexFind, 2),
    alias('mustRegexFindAll', table.regexFindAll, 3),
    alias('mustRegexReplaceAll', table.regexReplaceAll, 3),
    alias('mustRegexReplaceAllLiteral', table.regexReplaceAllLiteral, 3),
    alias('mustRegexSplit', table.regexSplit, 3),
    fixed('regexQuoteMeta', 1, (s) => quoteMeta(strval(s))),
  ]),
};
