/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// base32: Sprig's examples and coreutils `base32` for random bytes.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../../test/support/template-render.ts';
import { renderTemplate, templateData } from '../engine.ts';

describe('b32enc and b32dec', () => {
  it.each([
    ['{{ b32enc "coffee" }}', 'MNXWMZTFMU======'],
    ['{{ b32enc "a" }} {{ b32enc "abcde" }} {{ b32enc "" }}|', 'ME====== MFRGGZDF |'],
    ['{{ b32dec "MNXWMZTFMU======" }}', 'coffee'],
    ['{{ b32dec "74ABA===" | b32enc }}', '74ABA==='],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
  it.each([['{{ b32dec .secret }}', /b32dec: illegal base32 data/]])('%s fails without the value', (src, want) => {
    const message = failure(src);
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });
});

describe('base32 against coreutils', () => {
  it('b32enc writes what `base32` writes, and b32dec reads it back, for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const data = Buffer.from(bytes);
        const expected = execFileSync('base32', ['-w', '0'], { input: data }).toString('latin1');
        const values = templateData(new Map([['v', data]]));
        expect(renderTemplate('k', '{{ .v | b32enc }}', values).toString('latin1')).toBe(expected);
        const back = renderTemplate('k', '{{ .v | b32enc | b32dec }}', values);
        expect(back.equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
