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
