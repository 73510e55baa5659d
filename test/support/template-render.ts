// Rendering one template for the template library's unit tests: a map holding one canary value
// under `secret`, and the message of a template that must fail with a TemplateError.
import { expect } from 'vitest';
import { renderTemplate, TemplateError, templateData } from '../../src/template/engine.ts';

export const CANARY = 'canary-51d0-sprig';

export const render = (src: string): string =>
  renderTemplate('k', src, templateData(new Map([['secret', Buffer.from(CANARY)]]))).toString('utf8');

export function failure(src: string): string {
  try {
    render(src);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${src} to fail`);
}

/** The second family of the library's tests: key `tls.key`, its canary under `secret`, and `values`. */
export const CANARY_KEYED = 'canary-4c2e-extra';

export const renderKeyed = (src: string, values: Record<string, string | Buffer> = {}): string =>
  renderTemplate(
    'tls.key',
    src,
    templateData(new Map(Object.entries({ secret: CANARY_KEYED, ...values }).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString('utf8');

export function failureKeyed(src: string): string {
  try {
    renderKeyed(src);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${src} to fail`);
}
