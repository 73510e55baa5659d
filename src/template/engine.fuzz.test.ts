// Property tests (fast-check) for the template engine: arbitrary text never crashes the parser,
// and templates built from real constructs and every function, run over data holding a canary,
// either render or fail with a TemplateError whose message carries no data value.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileTemplate, executeTemplate, isTemplateFunction, TemplateError, templateData } from './engine.ts';
import { FUNCTIONS_BY_TOPIC } from './functions/index.ts';

const CANARY = 'CANARY-7d21ae';

// `fail` prints the message its author wrote; the canary rule is about values reaching messages
// the author did not write, so it is left out of the function pool.
// Key and certificate generation and derivePassword cost tens to hundreds of milliseconds a call
// and take no data value into an error; certs.test.ts covers them.
const SLOW = new Set(['genPrivateKey', 'genCA', 'genSelfSignedCert', 'genSignedCert', 'derivePassword']);
/** Dates, random strings, bcrypt/htpasswd, PKCS#12 reading and JWK: their own tests cover them. */
const NOT_FUZZED = new Set([
  ...['now', 'date', 'dateInZone', 'date_in_zone', 'htmlDate', 'htmlDateInZone', 'toDate', 'mustToDate'],
  ...['unixEpoch', 'dateModify', 'mustDateModify', 'ago', 'duration', 'durationRound'],
  ...['randAlphaNum', 'randAlpha', 'randNumeric', 'randAscii', 'bcrypt', 'htpasswd'],
  ...['pkcs12key', 'pkcs12keyPass', 'pkcs12cert', 'pkcs12certPass', 'jwkPublicKeyPem', 'jwkPrivateKeyPem'],
]);
const FUNCTIONS = [...Object.values(FUNCTIONS_BY_TOPIC).flatMap((fns) => Object.keys(fns)), ...['and', 'or']].filter(
  (f) => f !== 'fail' && !SLOW.has(f) && !NOT_FUZZED.has(f) && isTemplateFunction(f),
);

const data = () =>
  templateData(
    new Map([
      ['plain', Buffer.from(`${CANARY}`)],
      ['json', Buffer.from(JSON.stringify({ user: CANARY, n: 3, list: [CANARY, 1], nested: { k: CANARY } }))],
      ['number', Buffer.from(`4${CANARY.length}`)],
      ['b64', Buffer.from(Buffer.from(CANARY).toString('base64'))],
      ['binary', Buffer.from([0xff, 0x00, ...Buffer.from(CANARY), 0xc3])],
      ['yaml', Buffer.from(`a: ${CANARY}\nb: [1, 2]\n`)],
      ['directive', Buffer.from(`%${CANARY} x\n---\na: 1\n`)],
      ['version', Buffer.from(`1.2.3-${CANARY}+${CANARY}`)],
      ['pem', Buffer.from(`-----BEGIN X-----\n${Buffer.from(CANARY).toString('base64')}\n-----END X-----\n`)],
    ]),
  );

const field = fc.constantFrom(
  '.plain',
  '.directive',
  '.json',
  '.number',
  '.b64',
  '.binary',
  '.yaml',
  '.pem',
  '.version',
  '(semver .version)',
  '.',
  '$',
  '.missing',
);
const literal = fc.oneof(
  fc.constantFrom(
    '"a"',
    '"user"',
    '"%s-%d"',
    '"(.*)"',
    '"["',
    '"^1.2.3-0"',
    '">1, <2 || 3.x"',
    '"0"',
    '""',
    '1',
    '0',
    '-1',
    '2.5',
    'true',
    'nil',
  ),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);

const { term } = fc.letrec((tie) => ({
  term: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    field,
    literal,
    tie('call').map((c) => `(${c})`),
  ),
  call: fc
    .tuple(fc.constantFrom(...FUNCTIONS), fc.array(tie('term') as fc.Arbitrary<string>, { maxLength: 3 }))
    .map(([f, args]) => [f, ...args].join(' ')),
}));

const pipeline = fc
  .tuple(
    fc.oneof(term, fc.constantFrom('.plain', '.json | fromJson')),
    fc.array(fc.constantFrom(...FUNCTIONS), { maxLength: 2 }),
  )
  .map(([head, fns]) => [head, ...fns].join(' | '));

const block = fc.oneof(
  pipeline.map((p) => `{{ ${p} }}`),
  pipeline.map((p) => `{{- if ${p} }}yes{{ else }}no{{ end -}}`),
  pipeline.map((p) => `{{ range $i, $v := ${p} }}[{{ $i }}={{ $v }}]{{ end }}`),
  pipeline.map((p) => `{{ with $x := ${p} }}{{ $x }}{{ end }}`),
  fc.string({ maxLength: 8 }),
);

const template = fc.array(block, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));

const outcomes = { rendered: 0, failed: 0 };
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

function run(source: string): void {
  try {
    const parsed = compileTemplate('key', source);
    executeTemplate('key', parsed, data());
    outcomes.rendered++;
  } catch (err) {
    outcomes.failed++;
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).not.toContain(CANARY);
  }
}

afterAll(async () => {
  // Warnings are emitted on the next tick; let them arrive, then check none quotes a value.
  await new Promise((r) => setImmediate(r));
  expect(warnings.filter((w) => w.includes(CANARY))).toEqual([]);
});

describe('template engine under generated input', () => {
  it('arbitrary text either parses or fails with a TemplateError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => run(text)),
      { numRuns: 2000 },
    );
  });

  it('text made of delimiters and keywords either parses or fails with a TemplateError', () => {
    const piece = fc.constantFrom('{{', '}}', '{{-', '-}}', ' ', 'if', 'else', 'end', 'range', 'with', '|', '(', ')');
    const more = fc.constantFrom('$x', ':=', '=', '.a', '"s"', '`r`', '/*', '*/', 'define', 'template', 'block');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, more), { maxLength: 20 }), (parts) => run(parts.join(''))),
      { numRuns: 2000 },
    );
  });

  it('templates of real constructs and every function never leak a data value into an error', () => {
    for (const f of ['camelcase', 'snakecase', 'kebabcase', 'semver', 'semverCompare']) expect(FUNCTIONS).toContain(f);
    outcomes.rendered = outcomes.failed = 0;
    fc.assert(
      fc.property(template, (source) => run(source)),
      { numRuns: 3000 },
    );
    // Both paths were exercised, so the property says something about each.
    expect(outcomes.rendered).toBeGreaterThan(300);
    expect(outcomes.failed).toBeGreaterThan(300);
  }, 60_000);

  it('fromYaml on a value that starts like a YAML directive emits no warning quoting it', async () => {
    run('{{ .directive | fromYaml | toJson }}');
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.includes(CANARY))).toEqual([]);
  });
});
