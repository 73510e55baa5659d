import { describe, expect, it } from 'vitest';
import { CANARY, failure, render } from '../../test/support/template-render.ts';
import { CostBudget, FUNCTION_WEIGHTS, MAX_COST_WEIGHT, MAX_COSTLY_CALLS, withCostBudget } from './cost-budget.ts';
import { FUNCTIONS } from './functions/index.ts';

describe('the budget of costly functions', () => {
  it('names only functions the library has', () => {
    expect(Object.keys(FUNCTION_WEIGHTS).filter((name) => !Object.hasOwn(FUNCTIONS, name))).toEqual([]);
  });

  it('refuses derivePassword past the weight budget, naming the budget', () => {
    const budget = new CostBudget();
    const allowed = Math.floor(MAX_COST_WEIGHT / 250);
    for (let i = 0; i < allowed; i++) budget.charge('derivePassword', [1, 'long', 'p', 'u', 's'], 'k');
    expect(() => budget.charge('derivePassword', [1, 'long', 'p', 'u', 's'], 'k')).toThrow(
      /error calling derivePassword: the render's budget for costly functions is spent .*derivePassword weighs 250/,
    );
  });

  it('stops a range of costly calls in a template with an error that carries no value', () => {
    const message = failure(`{{ range until 100 }}{{ htpasswd "u" $.secret "sha" }}{{ end }}`);
    expect(message).toMatch(/error calling htpasswd: the render's budget of 32 calls/);
    expect(message).not.toContain(CANARY);
  });

  it('refuses the call past the count budget even when each call is light', () => {
    const message = failure(`{{ range until ${MAX_COSTLY_CALLS + 1} }}{{ genPrivateKey "ed25519" }}{{ end }}`);
    expect(message).toMatch(new RegExp(`budget of ${MAX_COSTLY_CALLS} calls of costly functions`));
  });

  it('weighs by the argument: RSA and DSA keys cost more than elliptic curves', () => {
    const curves = new CostBudget();
    for (let i = 0; i < MAX_COSTLY_CALLS; i++) curves.charge('genPrivateKey', ['ecdsa'], 'k');
    const dsa = new CostBudget();
    dsa.charge('genPrivateKey', ['dsa'], 'k');
    dsa.charge('genPrivateKey', ['dsa'], 'k');
    expect(() => dsa.charge('genPrivateKey', ['dsa'], 'k')).toThrow(/genPrivateKey weighs 1000/);
    expect(() => dsa.charge('upper', ['x'], 'k')).not.toThrow();
  });

  it('shares one budget between the templates of one render, and starts afresh for the next', () => {
    const half = `{{ range until ${Math.ceil(MAX_COSTLY_CALLS / 2) + 1} }}{{ htpasswd "u" "p" "sha" }}{{ end }}`;
    expect(() => withCostBudget(() => [render(half), render(half)])).toThrow(/budget of 32 calls/);
    expect(withCostBudget(() => render(half))).toContain('u:{SHA}');
    expect(render(half)).toContain('u:{SHA}');
  });
});
