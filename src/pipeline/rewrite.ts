// dataFrom[].rewrite as ESO applies it: each rewrite, in order, maps every key through a Go regexp
// replacement or a template over `.value`. Keys (not values) are rewritten, so keys may appear
// in errors; two keys ending up the same is an error rather than one silently winning.
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import { compileGoRegexp, type GoRegexp, GoRegexpError, replaceAllGo } from '../go-regexp.ts';
import { compileTemplate, executeTemplate, TemplateError } from '../template/index.ts';
import { RenderError } from './render-error.ts';

export type Rewrite = NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['rewrite']>[number];

/** One key function per rewrite, compiled once. */
function compile(rw: Rewrite, where: string): (key: string) => string {
  if (rw.regexp) {
    const { source, target } = rw.regexp;
    let re: GoRegexp;
    try {
      re = compileGoRegexp(source);
    } catch (err) {
      if (err instanceof GoRegexpError) throw new RenderError(`${where}.regexp.source: ${err.message}`);
      throw err;
    }
    return (key) => replaceAllGo(re, key, target);
  }
  if (rw.transform) {
    const source = rw.transform.template;
    try {
      const parsed = compileTemplate('transform', source);
      return (key) => executeTemplate('transform', parsed, { value: key }).toString('utf8');
    } catch (err) {
      if (err instanceof TemplateError) throw new RenderError(`${where}.transform.template: ${err.message}`);
      throw err;
    }
  }
  throw new RenderError(`${where}: exactly one of regexp or transform is required`);
}

/** Applies `rewrites` to the keys of `entries` (original key → value), keeping values attached. */
export function rewriteKeys<V>(entries: Map<string, V>, rewrites: Rewrite[], where: string): Map<string, V> {
  let current = entries;
  for (const [i, rw] of rewrites.entries()) {
    const at = `${where}.rewrite[${i}]`;
    const fn = compile(rw, at);
    const next = new Map<string, V>();
    const from = new Map<string, string>();
    for (const [key, value] of current) {
      let renamed: string;
      try {
        renamed = fn(key);
      } catch (err) {
        if (err instanceof TemplateError)
          throw new RenderError(`${at}.transform.template (key "${key}"): ${err.message}`);
        throw err;
      }
      const earlier = from.get(renamed);
      if (earlier !== undefined) {
        throw new RenderError(`${at}: keys "${earlier}" and "${key}" both become "${renamed}"`);
      }
      from.set(renamed, key);
      next.set(renamed, value);
    }
    current = next;
  }
  return current;
}
