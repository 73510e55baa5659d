/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go replacement templates */
// Go (RE2) regexps run by re2js. Expected values are Go 1.26's regexp package on the same
// input (run on this machine), not this code's output.
import { describe, expect, it } from 'vitest';
import { compileGoRegexp, findAllGo, GoRegexpError, replaceAllGo } from './go-regexp.ts';

describe('Go regexps', () => {
  it('match in linear time where a backtracking engine never finishes', () => {
    // JavaScript's RegExp took 40 s for these on 30 characters; here the input is 100,000.
    const input = `${'a'.repeat(100_000)}b`;
    for (const pattern of ['^(a+)+$', '(?i)^(a+)+$', '^(a|a)*\\z', '^(a|aa)+$']) {
      expect(compileGoRegexp(pattern).test(input)).toBe(false);
    }
    expect(replaceAllGo(compileGoRegexp('(a+)+b'), input, 'x')).toBe('x');
  });

  it('compile a pattern once and hand the same one to every caller', () => {
    const re = compileGoRegexp('^team-(db|cache)$');
    expect(compileGoRegexp('^team-(db|cache)$')).toBe(re);
    expect(re.test('team-db')).toBe(true);
    expect(re.test('team-x')).toBe(false);
    expect(compileGoRegexp('^team-(db|cache)$').test('team-cache')).toBe(true);
  });

  it('take Go syntax as Go does', () => {
    expect(compileGoRegexp('(?U)a+').exec('aaa')?.[0]).toBe('a');
    expect(compileGoRegexp('\\pL+').exec('1éa2')?.[0]).toBe('éa');
    expect(compileGoRegexp('^b\\z').test('b\n')).toBe(false);
    expect(findAllGo(compileGoRegexp('\\Ab'), 'bb', Number.POSITIVE_INFINITY)).toEqual([[0, 1]]);
    expect(() => compileGoRegexp('(?<=a)b')).toThrow(GoRegexpError);
    expect(() => compileGoRegexp('(a')).toThrow('the regexp does not compile');
  });

  it('replace as ReplaceAllString does: groups by number and name, no empty match after a match', () => {
    expect(replaceAllGo(compileGoRegexp('a*'), 'baaac', 'X')).toBe('XbXcX');
    expect(replaceAllGo(compileGoRegexp('(?P<x>a)(b)?'), 'zzab a', '[${x}|$2]')).toBe('zz[a|b] [a|]');
    expect(replaceAllGo(compileGoRegexp(''), 'a\u{1F600}b', '-')).toBe('-a-\u{1F600}-b-');
    expect(replaceAllGo(compileGoRegexp('x*'), 'abc', '$1', true)).toBe('$1a$1b$1c$1');
  });
});
