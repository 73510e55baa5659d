/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's string functions beyond engine.test.ts; expectations from Sprig's strings_test.go.
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateData } from '../engine.ts';

const CANARY = 'canary-51d0-sprig';
const render = (src: string) =>
  renderTemplate('k', src, templateData(new Map([['secret', Buffer.from(CANARY)]]))).toString('utf8');

function failure(src: string): string {
  try {
    render(src);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${src} to fail`);
}

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
