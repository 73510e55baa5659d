/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// goutils' word functions as Sprig offers them; expectations from Sprig's strings_test.go.
import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../../test/support/template-render.ts';

describe('abbrev, initials, untitle, swapcase, wrap', () => {
  it.each([
    ['{{abbrev 5 "hello world"}}', 'he...'],
    ['{{abbrevboth 5 10 "1234 5678 9123"}}', '...5678...'],
    ['{{abbrev 3 "hello world"}}', 'hello world'],
    ['{{untitle "First Try"}}', 'first try'],
    ['{{initials "First Try"}}', 'FT'],
    ['{{wrap 5 "Hello World"}}', 'Hello\nWorld'],
    ['{{wrapWith 5 "\\t" "Hello World"}}', 'Hello\tWorld'],
    ['{{wrapWith 3 "|" "abcdefgh"}}', 'abc|def|gh'],
    ['{{wrap 3 "abcdefgh ij"}}', 'abcdefgh\nij'],
    ['{{ swapcase "Hello World 2x" }}', 'hELLO wORLD 2X'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
  it.each([
    // Go takes a literal as the parameter's type or refuses it; a value must have that type.
    ['{{ abbrev "5" .secret }}', /expected integer; found "5"/],
    ['{{ abbrev .secret .secret }}', /wrong type for value; expected int; got string/],
    ['{{ abbrev (add 1 4) .secret }}', /wrong type for value; expected int; got int64/],
  ])('%s fails without the value', (src, want) => {
    const message = failure(src);
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });
});
