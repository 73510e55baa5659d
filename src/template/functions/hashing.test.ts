/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Checksums over a value's bytes.
import { describe, expect, it } from 'vitest';
import { renderKeyed as render } from '../../../test/support/template-render.ts';

describe('adler32sum', () => {
  it('is RFC 1950 Adler-32 in decimal', () => {
    expect(render('{{ adler32sum "Wikipedia" }}')).toBe(String(0x11e60398));
  });
});
