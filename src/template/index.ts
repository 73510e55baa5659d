// Go text/template with Sprig, as ESO's template engine v2 runs it: a library of its own, used by
// the read pipeline for target.template, templateFrom and rewrite.transform. It depends only on
// the Go regular-expression adapter and the lazy loader.

export { ByteLimitReached, MAX_COST_WEIGHT, MAX_COSTLY_CALLS, withCostBudget } from './cost-budget.ts';
export {
  compileTemplate,
  executeTemplate,
  isTemplateFunction,
  renderTemplate,
  TemplateError,
  templateData,
} from './engine.ts';
export { bcryptSaltKey, useBcryptSaltKey } from './functions/passwords.ts';
export type { Parsed } from './parse.ts';
export { runsStraight } from './straight-line.ts';
export { parseYamlMap } from './yaml-map.ts';
