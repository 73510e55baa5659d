/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's path functions against the examples of Go's path package.
import { describe, expect, it } from 'vitest';
import { render } from '../../../test/support/template-render.ts';

describe('base, dir, clean, ext, isAbs and the os* forms', () => {
  it.each([
    ['{{ clean "a//c" }} {{ clean "a/c/b/.." }} {{ clean "/../a/b/../././/c" }} {{ clean "" }}', 'a/c a/c /a/c .'],
    ['{{ base "/a/b" }} {{ base "/" }} {{ base "" }} {{ base "a/b/" }}', 'b / . b'],
    [
      '{{ dir "/a/b/c" }} {{ dir "a/b/c" }} {{ dir "/a/" }} {{ dir "a/" }} {{ dir "/" }} {{ dir "" }}',
      '/a/b a/b /a a / .',
    ],
    ['{{ ext "/a/b/c/bar.css" }}|{{ ext "/" }}|{{ ext "a.b/c" }}', '.css||'],
    ['{{ isAbs "/dev/null" }} {{ osIsAbs "a" }} {{ osBase "/x/y.txt" }}', 'true false y.txt'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
});
