/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// fail, all and any.
import { describe, expect, it } from 'vitest';
import { CANARY_KEYED as CANARY, renderKeyed as render } from '../../../test/support/template-render.ts';
import { TemplateError } from '../engine.ts';

describe('fail', () => {
  it('stops the render with the message written in the template, naming the key', () => {
    expect(() => render('{{ if not .missing }}{{ fail "missing is required" }}{{ end }}', { missing: '' })).toThrow(
      'template: tls.key:1: executing "tls.key": error calling fail: missing is required',
    );
    expect(render('{{ if .secret }}ok{{ else }}{{ fail "no" }}{{ end }}')).toBe('ok');
  });

  it('withholds a message computed from the data', () => {
    for (const src of ['{{ fail .secret }}', '{{ .secret | fail }}', '{{ fail (printf "bad %s" .secret) }}']) {
      let message = '';
      try {
        render(src);
      } catch (err) {
        expect(err).toBeInstanceOf(TemplateError);
        message = (err as Error).message;
      }
      expect(message).toContain('error calling fail: (message withheld');
      expect(message).not.toContain(CANARY);
    }
  });
});

describe('all and any', () => {
  it.each([['{{ all 1 "a" (list 1) }} {{ all 1 "" }} {{ any 0 "" (list) }} {{ any 0 "x" }}', 'true false false true']])(
    '%s',
    (src, want) => {
      expect(render(src)).toBe(want);
    },
  );
});
