/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's float arithmetic and rounding; expectations from Sprig's numeric_test.go.
import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../../test/support/template-render.ts';

describe('maxf, minf, addf, subf, mulf, divf, ceil, floor, round, toDecimal', () => {
  it.each([
    ['{{ maxf 1 2 3 345.7 5 6 7}}', '345.7'],
    ['{{ minf 1.4 2 3 345.6 5 6 7}}', '1.4'],
    ['{{ 3.4 | add1f }}', '4.4'],
    ['{{ 3 | addf 1.5 2.2}}', '6.7'],
    ['{{ 2 | divf 5 4 }}', '0.625'],
    ['{{ 1.2 | mulf "2.4" 10 "4"}}', '115.2'],
    ['{{ 3 | subf 4.5 1 }}', '0.5'],
    ['{{ divf 1 3 }}', '0.3333333333333333'],
    ['{{ ceil 123.01 }} {{ ceil "123" }} {{ floor 123.9999 }} {{ floor "123.9999" }}', '124 123 123 123'],
    [
      '{{ round 123.5555 3 }} {{ round "123.55555" 3 }} {{ round 123.500001 0 }} {{ round 123.49999999 0 }}',
      '123.556 123.556 124 123',
    ],
    ['{{ round 123.2329999 2 .3 }} {{ round 123.233 2 .3 }}', '123.23 123.24'],
    ['{{ toDecimal "777" }} {{ toDecimal 770 }} {{ toDecimal 755 }} {{ toDecimal "8" }}', '511 504 493 0'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
  it.each([['{{ divf 1 0 }}', /divf: decimal division by 0/]])('%s fails without the value', (src, want) => {
    const message = failure(src);
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });
});
