// Go text/template with Sprig, as ESO's template engine v2 runs it: parse once, execute with
// missingkey=error over the data map (key → string). Errors name the template key.
import { Executor } from './execute.ts';
import { FUNCTIONS } from './functions/index.ts';
import { TemplateError } from './lexer.ts';
import { type Parsed, parseTemplate } from './parse.ts';
import { fromBytes, STRING_MAPS } from './values.ts';

export { TemplateError } from './lexer.ts';

/** Sprig functions ESO removes (they read the controller's environment) or that Ferry lacks. */
const WITHHELD: Record<string, string> = {
  env: 'ESO removes it: it would read the controller’s environment',
  expandenv: 'ESO removes it: it would read the controller’s environment',
  getHostByName: 'Ferry does not resolve host names while rendering: a DNS lookup would block the controller',
};

export function isTemplateFunction(name: string): boolean {
  return name === 'and' || name === 'or' || name === 'call' || Object.hasOwn(FUNCTIONS, name);
}

/** Parses `source`, naming it `name` in errors. Throws TemplateError for syntax or unknown functions. */
export function compileTemplate(name: string, source: string): Parsed {
  try {
    return parseTemplate(source, name, isTemplateFunction);
  } catch (err) {
    const fn = err instanceof TemplateError ? /function "([^"]+)" not defined/.exec(err.message)?.[1] : undefined;
    if (fn && WITHHELD[fn]) throw new TemplateError(`${err instanceof Error ? err.message : ''} (${WITHHELD[fn]})`);
    throw err;
  }
}

/** The data map a template sees as `.`: each key's bytes as a string (or GoBytes when binary). */
export function templateData(values: Map<string, Buffer>): Record<string, unknown> {
  const data: Record<string, unknown> = Object.create(null);
  for (const [k, v] of values) data[k] = fromBytes(v);
  STRING_MAPS.add(data);
  return data;
}

/** Renders a template over `data`; throws TemplateError. */
export function executeTemplate(name: string, parsed: Parsed, data: unknown): Buffer {
  return new Executor(parsed, FUNCTIONS, name).run(data);
}

/** Parse and execute in one step. */
export function renderTemplate(name: string, source: string, data: unknown): Buffer {
  return executeTemplate(name, compileTemplate(name, source), data);
}
