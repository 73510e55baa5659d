/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// deepCopy and the must* dict forms.
import { describe, expect, it } from 'vitest';
import { render } from '../../../test/support/template-render.ts';

describe('deepCopy, mustMerge', () => {
  it.each([
    [
      '{{ $a := dict "k" (dict "x" 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b.k "x" 2 }}{{ $a.k.x }}{{ $b.k.x }}',
      '12',
    ],
    [
      '{{ mustMerge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }} {{ mustToJson (list "<") }}',
      '{"a":1,"b":3} ["\\u003c"]',
    ],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
});
