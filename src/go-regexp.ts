// Go (RE2) regular expressions in JavaScript, for rewrite and the template's regex functions:
// leading (?flags), (?P<name>…), \A and \z translated; Go's Regexp.Expand for `$1`/`${name}`.

export class GoRegexpError extends Error {
  override name = 'GoRegexpError';
}

/** Compiles a Go regexp; `global` for replace-all. Errors never quote the pattern (it may be a value). */
export function compileGoRegexp(pattern: string, global = false): RegExp {
  let src = pattern;
  let flags = global ? 'g' : '';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead?.[1]) {
    if (lead[1].includes('U')) throw new GoRegexpError('the regexp flag U is not supported');
    flags += [...new Set(lead[1])].join('');
    src = src.slice(lead[0].length);
  }
  src = src
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$(?![\\s\\S])');
  try {
    return new RegExp(src, flags);
  } catch {
    throw new GoRegexpError('the regexp does not compile');
  }
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

/** Go's ReplaceAllString: every match replaced by the expanded template. */
export function replaceAllGo(
  re: RegExp,
  input: string,
  template: string,
  literal = false,
  onGrow?: (grown: number) => void,
): string {
  const global = re.global ? re : new RegExp(re.source, `${re.flags}g`);
  let grown = 0;
  return input.replace(global, (...args) => {
    const groupsArg = args.at(-1);
    const hasGroups = typeof groupsArg === 'object' && groupsArg !== null;
    const captures = args.slice(0, hasGroups ? -3 : -2) as string[];
    const m = Object.assign([...captures], { groups: hasGroups ? groupsArg : undefined }) as unknown as RegExpExecArray;
    const out = literal ? template : expandGoTemplate(template, m);
    grown += out.length - (captures[0]?.length ?? 0);
    onGrow?.(grown);
    return out;
  });
}

/**
 * Go's FindAllStringIndex: successive non-overlapping matches, at most `limit` of them. As in Go,
 * an empty match right where the previous match ended is not one (`a*` in "baaac" matches "",
 * "aaa", "" — JavaScript's matchAll adds a fourth, empty one after "aaa").
 */
export function findAllGo(re: RegExp, input: string, limit: number): [number, number][] {
  const out: [number, number][] = [];
  if (limit <= 0) return out;
  const global = re.global ? re : new RegExp(re.source, `${re.flags}g`);
  let prevEnd = -1;
  for (const m of input.matchAll(global)) {
    const start = m.index;
    const end = start + m[0].length;
    const accept = !(start === end && start === prevEnd);
    prevEnd = end;
    if (accept && out.push([start, end]) >= limit) break;
  }
  return out;
}
