/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Checksums over a value's bytes.
import { describe, expect, it } from 'vitest';
import { renderTemplate, templateData } from '../engine.ts';

const CANARY = 'canary-4c2e-extra';
const render = (src: string, values: Record<string, string | Buffer> = {}) =>
  renderTemplate(
    'tls.key',
    src,
    templateData(new Map(Object.entries({ secret: CANARY, ...values }).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString('utf8');

describe('adler32sum', () => {
  it('is RFC 1950 Adler-32 in decimal', () => {
    expect(render('{{ adler32sum "Wikipedia" }}')).toBe(String(0x11e60398));
  });
});
