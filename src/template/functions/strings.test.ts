/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's string functions beyond engine.test.ts; expectations from Sprig's strings_test.go.
import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../../test/support/template-render.ts';

describe('plural, splitn, toStrings, trimall, hello', () => {
  it.each([
    ['{{$num := len "two"}}{{$num}} {{$num | plural "1 char" "chars"}}', '3 chars'],
    ['{{ 1 | plural "one" "many" }}', 'one'],
    ['{{$v := "foo$bar$baz" | splitn "$" 2}}{{$v._0}}|{{$v._1}}', 'foo|bar$baz'],
    ['{{ $s := list 1 2 3 | toStrings }}{{ index $s 1 | kindOf }}', 'string'],
    ['{{ trimall "$" "$5.00$" }} {{ hello }}', '5.00 Hello!'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
  it.each([['{{ trimall "$" }}', /wrong number of args for trimall: want 2 got 1/]])(
    '%s fails without the value',
    (src, want) => {
      const message = failure(src);
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    },
  );
});
