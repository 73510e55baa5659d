/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Random values: alphabets, lengths, bounds; never the same twice.
import { describe, expect, it } from 'vitest';
import {
  CANARY_KEYED as CANARY,
  failureKeyed as failure,
  renderKeyed as render,
} from '../../../test/support/template-render.ts';

describe('random strings', () => {
  it.each([
    ['randAlphaNum', /^[A-Za-z0-9]{32}$/],
    ['randAlpha', /^[A-Za-z]{32}$/],
    ['randNumeric', /^[0-9]{32}$/],
    ['randAscii', /^[\x20-\x7e]{32}$/],
  ])('%s 32 draws from its alphabet, differently each render', (fn, re) => {
    const a = render(`{{ ${fn} 32 }}`);
    const b = render(`{{ ${fn} 32 }}`);
    expect(a).toMatch(re);
    expect(a).not.toBe(b);
  });

  it('refuses a length that is not a non-negative integer', () => {
    expect(() => render('{{ randAlpha -1 }}')).toThrow('error calling randAlpha');
    expect(() => render('{{ randAlpha "x" }}')).toThrow('expected integer; found "x"');
  });
});

describe('randInt, shuffle, randBytes, uuidv4', () => {
  it('randInt, shuffle', () => {
    for (let i = 0; i < 50; i++) {
      const n = Number(render('{{ randInt 3 6 }}'));
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThan(6);
    }
    expect([...render('{{ shuffle "abcdef" }}')].sort().join('')).toBe('abcdef');
  });

  it('randBytes and uuidv4', () => {
    expect(Buffer.from(render('{{ randBytes 24 }}'), 'base64')).toHaveLength(24);
    expect(render('{{ uuidv4 }}')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it.each([['{{ randInt 5 5 }}', /randInt: invalid argument to Intn/]])('%s fails without the value', (src, want) => {
    const message = failure(src);
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });
});
