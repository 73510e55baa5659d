/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// typeIs, typeIsLike, kindIs and deepEqual.
import { describe, expect, it } from 'vitest';
import { render } from '../../../test/support/template-render.ts';

describe('types and deep equality', () => {
  it.each([
    [
      '{{ typeIs "string" "x" }} {{ typeIs "int" "x" }} {{ typeIsLike "int" 3 }} {{ kindIs "map" (dict) }}',
      'true false true true',
    ],
    [
      '{{ deepEqual (list 1 (dict "a" "b")) (list 1 (dict "a" "b")) }} {{ deepEqual (list 1) (list "1") }}',
      'true false',
    ],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
});
