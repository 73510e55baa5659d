/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's sequences and list functions; expectations from Sprig's numeric_test.go and list_test.go.
import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../../test/support/template-render.ts';

describe('until, untilStep, seq, chunk, mustSlice and the must* list forms', () => {
  it.each([
    ['{{range $i, $e := until 5}}{{$i}}{{$e}}{{end}}', '0011223344'],
    ['{{range $i, $e := until -5}}{{$i}}{{$e}} {{end}}', '00 1-1 2-2 3-3 4-4 '],
    ['{{range $i, $e := untilStep 3 6 1}}{{$i}}{{$e}}{{end}}', '031425'],
    ['{{range $i, $e := untilStep 0 -10 -2}}{{$i}}{{$e}} {{end}}', '00 1-2 2-4 3-6 4-8 '],
    ['{{range $i, $e := untilStep 3 99 0}}{{$i}}{{$e}}{{end}}', ''],
    ['{{seq 0 1 3}}', '0 1 2 3'],
    ['{{seq 0 3 10}}', '0 3 6 9'],
    ['{{seq 3 3 2}}', ''],
    ['{{seq 3 -3 2}}', '3'],
    ['{{seq}}', ''],
    ['{{seq 5}}', '1 2 3 4 5'],
    ['{{seq -5}}', '1 0 -1 -2 -3 -4 -5'],
    ['{{seq 0}}', '1 0'],
    ['{{seq 0 1 2 3}}', ''],
    ['{{seq 0 -4}}', '0 -1 -2 -3 -4'],
    ['{{ tuple 1 2 3 4 5 6 7 | chunk 3 | len }}', '3'],
    ['{{ tuple | chunk 3 | len }}', '0'],
    ['{{ range ( tuple 1 2 3 4 5 6 7 8 | chunk 3 ) }}{{. | join "-"}}|{{end}}', '1-2-3|4-5-6|7-8|'],
    [
      '{{ mustSlice (list 1 2 3) }} {{ mustSlice (list 1 2 3) 0 1 }} {{ mustSlice (list 1 2 3) 1 }}',
      '[1 2 3] [1] [2 3]',
    ],
    [
      '{{ push (list 1) 2 }} {{ mustAppend (list 1) 2 }} {{ mustPrepend (list 1) 0 }} {{ mustFirst (list 7 8) }}',
      '[1 2] [1 2] [0 1] 7',
    ],
    [
      '{{ mustLast (list 7 8) }} {{ mustRest (list 7 8) }} {{ mustInitial (list 7 8) }} {{ mustReverse (list 7 8) }}',
      '8 [8] [7] [8 7]',
    ],
    [
      '{{ mustUniq (list 1 1 2) }} {{ mustWithout (list 1 2 3) 2 }} {{ mustHas 2 (list 1 2) }} {{ mustCompact (list 1 "" 2) }}',
      '[1 2] [1 3] true [1 2]',
    ],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
  it.each([
    ['{{ chunk 0 (list 1) }}', /chunk: the size must be positive/],
    ['{{ mustSlice .secret 1 }}', /mustSlice: list should be type of slice or array but string/],
    ['{{ mustSlice (list 1 2) 1 5 }}', /mustSlice: slice index out of range/],
    ['{{ until 2000000 }}', /until: more than 524288 elements/],
  ])('%s fails without the value', (src, want) => {
    const message = failure(src);
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });
});
