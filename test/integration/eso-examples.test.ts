// ESO's own documentation examples against Ferry's CRDs on the real API server (the measurement of
// `npm run eso-examples`): every in-scope example is accepted, or its rejection is explained by an
// entry of test/fixtures/eso-examples/scope.yaml, and every entry there still explains one.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  formatMeasurement,
  type Measurement,
  measureEsoExamples,
  readScope,
  SCOPE_FILE,
  type Scope,
  unusedEntries,
} from '../support/eso-examples.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';

describe("ESO's documentation examples", () => {
  let m: Measurement;
  let scope: Scope;
  beforeAll(async () => {
    const kc = kubeConfigFor(testbed().kube);
    scope = readScope();
    m = await measureEsoExamples(kc, await createNamespace(kc, 'eso-examples'), scope);
    process.stdout.write(`${formatMeasurement(m)}\n`);
  }, 300_000);

  it('come from the pinned ESO module, and enough of them are found and accepted by ESO to measure', () => {
    expect(m.origin.module).toBe('github.com/external-secrets/external-secrets');
    expect(m.origin.zipHash).toMatch(/^h1:/);
    // Floors, not figures: they fail when extraction or the ESO CRD install breaks.
    expect(m.examples.length).toBeGreaterThan(200);
    expect(m.examples.filter((e) => e.esoAccepted).length).toBeGreaterThan(150);
    expect(m.examples.filter((e) => !e.outOfScope).length).toBeGreaterThan(50);
  });

  it('in scope are all accepted by Ferry, except the rejections scope.yaml explains', () => {
    const unexplained = m.examples
      .filter((e) => !e.outOfScope && !e.ferryAccepted && !e.explainedBy)
      .map((e) => `${e.id}: ${e.ferryMessage}`);
    expect(unexplained, `rejected and not explained in ${SCOPE_FILE}`).toEqual([]);
  });

  it('leave no entry of scope.yaml unused (remove an entry once its work has landed)', () => {
    expect(unusedEntries(m, scope).map((e) => e.reason)).toEqual([]);
  });

  it('accepted by Ferry had nothing reported unsupported by ferry migrate, and the rejected had', () => {
    const inScope = m.examples.filter((e) => !e.outOfScope);
    const acceptedWithFindings = inScope.filter((e) => e.ferryAccepted && e.unsupported.length > 0).map((e) => e.id);
    expect(acceptedWithFindings).toEqual([]);
    // Every rejection for an unknown field is one migrate listed (it reads the same schemas).
    const unknownNotListed = inScope
      .filter((e) => !e.ferryAccepted && e.ferryMessage?.includes('unknown field') && e.unsupported.length === 0)
      .map((e) => e.id);
    expect(unknownNotListed).toEqual([]);
  });
});
