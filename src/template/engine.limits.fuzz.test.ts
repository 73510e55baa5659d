// Property test (fast-check) for the render limits: every function, piped and nested, given
// huge counts and megabyte strings, either renders within 1 MiB or fails with a
// TemplateError. A function that amplified its input without a check would build hundreds of
// megabytes here (or run the worker out of heap, as a lazy-less `range` over a big integer did).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate, executeTemplate, isTemplateFunction, TemplateError, templateData } from './engine.ts';
import { MAX_VALUE } from './execute.ts';
import { FUNCTIONS_BY_TOPIC } from './functions/index.ts';

// Key generation and derivePassword cost up to a second a call and take no size argument.
const SLOW = new Set(['genPrivateKey', 'genCA', 'genSelfSignedCert', 'genSignedCert', 'derivePassword', 'fail']);
/** As in engine.fuzz.test.ts: dates, random strings, bcrypt/htpasswd, PKCS#12 reading and JWK have their own tests. */
const NOT_FUZZED = new Set([
  ...['now', 'date', 'dateInZone', 'date_in_zone', 'htmlDate', 'htmlDateInZone', 'toDate', 'mustToDate'],
  ...['unixEpoch', 'dateModify', 'mustDateModify', 'ago', 'duration', 'durationRound'],
  ...['randAlphaNum', 'randAlpha', 'randNumeric', 'randAscii', 'bcrypt', 'htpasswd'],
  ...['pkcs12key', 'pkcs12keyPass', 'pkcs12cert', 'pkcs12certPass', 'jwkPublicKeyPem', 'jwkPrivateKeyPem'],
]);
const FUNCTIONS = [
  ...Object.entries(FUNCTIONS_BY_TOPIC).flatMap(([topic, fns]) => (topic === 'builtins' ? [] : Object.keys(fns))),
  'printf',
  'print',
  'slice',
].filter((f) => !SLOW.has(f) && !NOT_FUZZED.has(f) && !f.includes('WithKey') && isTemplateFunction(f));

const arg = fc.constantFrom(
  '$big',
  '$mid',
  '$lines',
  '$list',
  '"x"',
  '" "',
  '"%0999999d"',
  '"%*d"',
  '1000000',
  '2100000',
  '4000000000',
  '-1',
  '1',
);
const call = fc
  .tuple(fc.constantFrom(...FUNCTIONS), fc.array(arg, { maxLength: 3 }))
  .map(([f, args]) => [f, ...args].join(' '));
const template = fc
  .tuple(call, fc.array(fc.constantFrom(...FUNCTIONS), { maxLength: 2 }), fc.boolean())
  .map(([head, fns, ranged]) => {
    const pipe = [head, ...fns].join(' | ');
    const setup =
      '{{ $big := "x" | repeat 1000000 }}{{ $mid := "ab " | repeat 100000 }}' +
      '{{ $lines := "a\\n" | repeat 500000 }}{{ $list := until 200000 }}';
    return ranged ? `${setup}{{ range $i := ${pipe} }}{{ $i }}{{ end }}` : `${setup}{{ ${pipe} }}`;
  });

describe('template limits under generated input', () => {
  it('huge arguments to every function render within 1 MiB or fail with a TemplateError', () => {
    let failed = 0;
    fc.assert(
      fc.property(template, (source) => {
        try {
          const out = executeTemplate('key', compileTemplate('key', source), templateData(new Map()));
          expect(out.length).toBeLessThanOrEqual(MAX_VALUE);
        } catch (err) {
          failed++;
          expect(err).toBeInstanceOf(TemplateError);
        }
      }),
      { numRuns: 300 },
    );
    expect(failed).toBeGreaterThan(30);
  }, 120_000);
});
