/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Differential test of Ferry's template engine against ESO's own (v0.16.2's pkg/template/v2 with
// ESO's Sprig fork, the Go reference program provisioned as `eso-template`): a seeded corpus of
// templates generated from a grammar of actions, pipelines and the functions both engines have,
// over data maps, rendered by both. Every case must give the same bytes, or fail in both with the
// same class of error (test/support/eso-template.ts). Fails, never skips, when the program is not
// provisioned. FERRY_DIFF_SEED and FERRY_DIFF_RUNS explore other corpora; FERRY_DIFF_REPORT names a file to
// write every difference to.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../src/template/functions/index.ts';
import { SIGNATURES } from '../../src/template/functions/signatures.ts';
import { isTemplateFunction, renderTemplate, TemplateError, templateData } from '../../src/template/index.ts';
import { extractExamples } from '../support/eso-docs.ts';
import {
  describeRendered,
  errorClass,
  esoSignatures,
  type Rendered,
  renderWithEso,
  sameResult,
  type TemplateCase,
} from '../support/eso-template.ts';
import { esoModule } from '../testbed/tools.ts';

const SEED = Number(process.env.FERRY_DIFF_SEED ?? 20261207);
const RUNS = Number(process.env.FERRY_DIFF_RUNS ?? 4000);

/** Functions the grammar never calls, each with why: ESO v0.16.2 lacks it, or its result is not deterministic. */
const EXCLUDED: Record<string, string> = {
  pemTruststoreToPKCS12: 'ESO v0.16.2 lacks it (ESO 0.19+)',
  pemTruststoreToPKCS12Pass: 'ESO v0.16.2 lacks it (ESO 0.19+)',
  rsaDecrypt: 'ESO v0.16.2 lacks it (ESO 0.17+)',
  certSANs: 'ESO v0.16.2 lacks it (ESO 2.2+)',
  sha512sum: "ESO v0.16.2's Sprig fork (v3.3.0) lacks it; ESO 1.x has it (upstream Sprig v3.3.0)",
  camelcase:
    "ESO v0.16.2's Sprig fork maps it to xstrings.ToCamelCase (lower camel case); ESO 1.x, which Ferry follows, to ToPascalCase",
  getHostByName: 'Ferry withholds it: a DNS lookup while rendering (docs/templates.md)',
  env: 'both withhold it: it reads the controller’s environment',
  expandenv: 'both withhold it: it reads the controller’s environment',
  now: 'the current time',
  ago: 'the current time',
  randAlphaNum: 'random',
  randAlpha: 'random',
  randNumeric: 'random',
  randAscii: 'random',
  randBytes: 'random',
  randInt: 'random',
  uuidv4: 'random',
  shuffle: 'random',
  genPrivateKey: 'random key',
  genCA: 'random key and serial, the current time',
  genCAWithKey: 'random serial, the current time',
  genSelfSignedCert: 'random key and serial, the current time',
  genSelfSignedCertWithKey: 'random serial, the current time',
  genSignedCert: 'random key and serial, the current time',
  genSignedCertWithKey: 'random serial, the current time',
  encryptAES: 'random IV (compared through decryptAES instead)',
  bcrypt: 'random salt',
  htpasswd: 'random bcrypt salt',
  pemToPkcs12: 'random salts and IVs (compared through pkcs12cert/pkcs12key instead)',
  pemToPkcs12Pass: 'random salts and IVs (compared through pkcs12certPass/pkcs12keyPass instead)',
  fullPemToPkcs12: 'random salts and IVs (compared through pkcs12cert/pkcs12key instead)',
  fullPemToPkcs12Pass: 'random salts and IVs (compared through pkcs12certPass/pkcs12keyPass instead)',
};
/** Called only inside a construct that makes their result deterministic (a round trip). */
const ROUND_TRIP_ONLY = new Set([
  'encryptAES',
  'pemToPkcs12',
  'pemToPkcs12Pass',
  'fullPemToPkcs12',
  'fullPemToPkcs12Pass',
]);

// ---- data ----

const WORDS = [
  '',
  'a',
  'Hello World',
  'x y z',
  'ünïcödé ✓',
  'a,b,,c',
  '  padded  ',
  'line1\nline2',
  '<tag>&"q"',
  'CamelCase_snake-kebab',
  '1.2.3',
  '42',
  '-7',
  '3.14',
  'true',
  '%d %s',
  '$5.00$',
  'abc123ABC',
  'foo.bar/baz.txt',
  'k=v&x=y',
];
const lit = (s: string) => JSON.stringify(s);

interface Fixtures {
  cert: string;
  key: string;
  ecKey: string;
  ecCert: string;
  chain: string;
  p12: Buffer;
  p12pw: Buffer;
  p12legacy: Buffer;
  p12ec: Buffer;
  jwk: string;
}
let fixtures: Fixtures;
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-diff-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const read = (f: string) => readFileSync(join(dir, f));
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '3650',
    '-subj',
    '/CN=diff-ca',
    '-addext',
    'subjectKeyIdentifier=hash',
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=diff-leaf');
  ssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'leaf.pem',
    '-days',
    '3650',
  );
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ec.key',
    '-out',
    'ec.pem',
    '-days',
    '3650',
    '-subj',
    '/CN=diff-ec',
  );
  const p12 = (out: string, key: string, cert: string, pass: string, ...more: string[]) =>
    ssl('pkcs12', '-export', '-inkey', key, '-in', cert, '-out', out, '-passout', `pass:${pass}`, ...more);
  p12('plain.p12', 'leaf.key', 'leaf.pem', '', '-certfile', 'ca.pem');
  p12('pw.p12', 'leaf.key', 'leaf.pem', 'diff-pw', '-certfile', 'ca.pem');
  p12('legacy.p12', 'leaf.key', 'leaf.pem', '', '-certfile', 'ca.pem', '-legacy');
  p12('ec.p12', 'ec.key', 'ec.pem', '');
  const jwk = execFileSync(process.execPath, [
    '-e',
    `const c=require('node:crypto');const k=c.createPrivateKey(require('node:fs').readFileSync(${JSON.stringify(join(dir, 'ec.key'))}));process.stdout.write(JSON.stringify(c.createPublicKey(k).export({format:'jwk'})))`,
  ]).toString();
  fixtures = {
    cert: read('leaf.pem').toString(),
    key: read('leaf.key').toString(),
    ecKey: read('ec.key').toString(),
    ecCert: read('ec.pem').toString(),
    chain: read('leaf.pem').toString() + read('ca.pem').toString(),
    p12: read('plain.p12'),
    p12pw: read('pw.p12'),
    p12legacy: read('legacy.p12'),
    p12ec: read('ec.p12'),
    jwk,
  };
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dataKeys = fc.record({
  s: fc.constantFrom(...WORDS),
  n: fc.constantFrom('42', '-3', '3.14', '0', '1e3', ' 7 ', 'x'),
  e: fc.constant(''),
  j: fc.constantFrom('{"a":1,"b":[true,null,"x"],"c":{"d":"e"}}', '[1,2,3]', '"str"', '{"k":"v"}', 'not json'),
  y: fc.constantFrom('a: 1\nb: [x, y]\nc:\n  d: e\n', 'just text', 'k: v', '- 1\n- 2\n', 'a: {b: c}'),
  csv: fc.constantFrom('a,b,c', 'x', '', ',,', 'one, two'),
  ver: fc.constantFrom('1.2.3', 'v2.0.0-rc.1+build.5', '0.9', 'bad', '1.2.3-beta'),
  url: fc.constantFrom(
    'https://user:pw@example.com:8443/p/a%20th?q=1&r=2#frag',
    'mailto:ops@example.com',
    '/relative/path',
    'http://[::1]:80/',
  ),
  b64: fc.constantFrom('aGVsbG8=', 'aGVsbG8', '!!', '', 'AAEC/w=='),
});

// ---- the grammar: typed expressions, so most cases render; a share of untyped calls fails ----

type Arb = fc.Arbitrary<string>;
const pick = (...xs: string[]) => fc.constantFrom(...xs);
const call = (fn: string, ...args: Arb[]) => fc.tuple(...args).map((a) => `(${[fn, ...a].join(' ')})`);
const pipe = (head: Arb, fn: string, ...args: Arb[]) =>
  fc.tuple(head, ...args).map(([h, ...a]) => `(${h} | ${[fn, ...a].join(' ')})`);

const smallInt = fc.integer({ min: -3, max: 12 }).map(String);
const count = fc.integer({ min: 0, max: 6 }).map(String);
const floatLit = fc.constantFrom('1.5', '0.25', '-2.75', '3.0', '10.125', '1e3', '2.5e-3');
const strLit = fc.constantFrom(...WORDS).map(lit);
const layout = pick(
  '"2006-01-02"',
  '"2006-01-02T15:04:05Z07:00"',
  '"Jan _2 15:04:05.000 MST"',
  '"3:04PM Monday"',
  '"02/01/06"',
);
const zone = pick('"UTC"', '"Europe/Berlin"', '"America/New_York"', '"Asia/Kolkata"', '"Nope/Zone"');
const unix = fc.constantFrom('0', '1257894245', '1720000000', '-86400', '951782400');
const regexLit = pick('"[a-z]+"', '"^a"', '"(\\\\w)(\\\\w)"', '"[0-9]"', '","', '"x*"', '"(?i)hello"', '"["');

const { str, bool, list, dict, any } = fc.letrec<{
  str: string;
  int: string;
  float: string;
  bool: string;
  list: string;
  dict: string;
  any: string;
}>((tie) => {
  const S = tie('str');
  const I = tie('int');
  const F = tie('float');
  const B = tie('bool');
  const L = tie('list');
  const D = tie('dict');
  const A = tie('any');
  const date = fc.oneof(
    fc
      .tuple(
        pick('"2006-01-02"', '"2006-01-02 15:04"'),
        pick('"2024-02-29"', '"2024-03-10 01:30"', '"2023-02-29"', '"x"'),
      )
      .map(([l, v]) => `(toDate ${l} ${v})`),
    unix,
  );
  return {
    str: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      pick('.s', '.n', '.e', '.j', '.y', '.csv', '.ver', '.url', '.b64'),
      strLit,
      fc.constantFrom(...WORDS).map((w) => `\`${w.replace(/`/g, '')}\``),
      ...[
        'upper',
        'lower',
        'title',
        'untitle',
        'trim',
        'nospace',
        'b64enc',
        'b32enc',
        'quote',
        'squote',
        'sha1sum',
        'sha256sum',
        'adler32sum',
        'snakecase',
        'kebabcase',
        'swapcase',
        'initials',
        'toString',
        'base',
        'dir',
        'clean',
        'ext',
        'osBase',
        'regexQuoteMeta',
        'urlquery',
        'html',
        'js',
        'print',
        'println',
      ].map((fn) => call(fn, S)),
      ...[
        'toJson',
        'toRawJson',
        'toPrettyJson',
        'toYaml',
        'toString',
        'kindOf',
        'typeOf',
        'print',
        'toStrings',
        'cat',
      ].map((fn) => call(fn, A)),
      call('repeat', count, S),
      call('trunc', smallInt, S),
      call('substr', smallInt, smallInt, S),
      call('abbrev', smallInt, S),
      call('abbrevboth', smallInt, smallInt, S),
      call('indent', count, S),
      call('nindent', count, S),
      call('wrap', smallInt, S),
      call('wrapWith', smallInt, pick('"|"', '"\\n"'), S),
      call('replace', S, S, S),
      call('trimPrefix', S, S),
      call('trimSuffix', S, S),
      call('trimAll', S, S),
      call('trimall', S, S),
      call('cat', S, A),
      // printf with operands of the verbs' types: a bad verb prints its value in Go and not in
      // Ferry (deliberately), so it is tested in printf's unit tests, not here.
      call('printf', pick('"%s-%s"', '"%q %x"', '"%-4s|%s"'), S, S),
      call('printf', pick('"%s"', '"%q"', '"%x"', '"%10s|"'), S),
      call('printf', pick('"%v|%v"', '"%T %v"'), A, A),
      call('printf', pick('"%d"', '"%X"', '"%+d"', '"%o"', '"%b"', '"%5d|"'), I),
      call('printf', pick('"%c"', '"%q"'), count),
      call('printf', pick('"%8.3f"', '"%e"', '"%g"', '"%.2f"'), F),
      call('printf', pick('"%05.1f %t"'), F, B),
      call('default', S, S),
      call('coalesce', S, S),
      call('ternary', S, S, B),
      call('join', pick('","', '" "', '""'), L),
      call('plural', S, S, I),
      call('b64dec', call('b64enc', S)),
      call('b64dec', S),
      call('b32dec', call('b32enc', S)),
      call('regexReplaceAll', regexLit, S, pick('"<$1>"', '"${2}${1}"', '"-"', '""')),
      call('regexReplaceAllLiteral', regexLit, S, pick('"$1"', '"x"')),
      call('regexFind', regexLit, S),
      call('date', layout, date),
      call('dateInZone', layout, date, zone),
      call('htmlDate', unix),
      call('htmlDateInZone', unix, zone),
      call('unixEpoch', pick('(toDate "2006-01-02" "2024-02-29")', '(toDate "2006-01-02 15:04" "2024-03-10 01:30")')),
      // An int literal is deliberately different (Ferry reads seconds, ESO 0s): strings and int64 only.
      call(
        'duration',
        fc.oneof(
          unix.map((n) => `(add 0 ${n})`),
          pick('"95"', '"x"', '"3661"', '" 7"'),
        ),
      ),
      call('durationRound', pick('"2h10m"', '"400h"', '"1.5s"', '"-90m"', '"x"', '3600000000000')),
      pipe(
        pick('(toDate "2006-01-02 15:04" "2024-03-10 01:30")'),
        'dateModify',
        pick('"-36h"', '"90m"', '"soon"', '"1.5h"'),
      ),
      call('semver', S),
      fc
        .tuple(pick('.ver', '"1.2.3"', '"v1"'), pick('Major', 'Minor', 'Patch', 'Prerelease', 'Metadata', 'Original'))
        .map(([v, f]) => `(semver ${v}).${f}`),
      call('seq', smallInt),
      call('seq', smallInt, smallInt),
      call('seq', smallInt, smallInt, smallInt),
      fc.tuple(pick('"key"', '""'), S).map(([k, s]) => `(decryptAES ${k} (encryptAES ${k} ${s}))`),
      call('filterPEM', pick('"CERTIFICATE"', '"PRIVATE KEY"', '"certificate"'), pick('.chain', '.key', '.s')),
      call('filterCertChain', pick('"leaf"', '"intermediate"', '"root"', '"x"'), pick('.chain', '.cert', '.s')),
      // Keystores are base64 text in the data, so printing the data map prints no binary value.
      pipe(pick('(b64dec .p12)', '(b64dec .p12legacy)', '(b64dec .p12ec)', '.s', '(b64dec .b64)'), 'pkcs12cert'),
      pipe(pick('(b64dec .p12)', '(b64dec .p12legacy)', '(b64dec .p12ec)', '.s'), 'pkcs12key'),
      pipe(pick('(b64dec .p12pw)', '(b64dec .p12)'), 'pkcs12certPass', pick('"diff-pw"', '"wrong"', '""')),
      pipe(pick('(b64dec .p12pw)', '(b64dec .p12)'), 'pkcs12keyPass', pick('"diff-pw"', '"wrong"')),
      fc
        .tuple(
          pick(
            'pemToPkcs12 .cert .key',
            'fullPemToPkcs12 .chain .key',
            'pemToPkcs12 .ecCert .ecKey',
            'pemToPkcs12 .cert .ecKey',
          ),
          pick('pkcs12cert', 'pkcs12key'),
        )
        .map(([make, read]) => `(${make} | b64dec | ${read})`),
      fc
        .tuple(
          pick('pemToPkcs12Pass .cert .key "pw"', 'fullPemToPkcs12Pass .chain .key "pw"'),
          pick('pkcs12certPass "pw"', 'pkcs12keyPass "pw"'),
        )
        .map(([make, read]) => `(${make} | b64dec | ${read})`),
      pick('(jwkPublicKeyPem .jwk)', '(jwkPrivateKeyPem .jwk)', '(jwkPublicKeyPem .s)'),
      pick('(buildCustomCert (b64enc .cert) (b64enc .key)).Cert', '(buildCustomCert "x" "y")'),
      call(
        'derivePassword',
        pick('1', '2'),
        pick('"long"', '"pin"', '"basic"'),
        S,
        pick('"user"'),
        pick('"example.com"'),
      ),
      call('urlJoin', D),
      call('get', D, S),
      fc.tuple(S, S).map(([a, b]) => `(list ${a} ${b} | join "+")`),
    ),
    int: fc.oneof(
      { depthSize: 'small' },
      smallInt,
      pick('0', '1', '100', '-1', '0x1F', '0o17', '1_000', "'a'"),
      call('len', fc.oneof(S, L, D)),
      ...['add', 'sub', 'mul', 'div', 'mod', 'max', 'min', 'biggest'].map((fn) => call(fn, I, I)),
      call('add', I, I, I),
      call('add1', I),
      call('atoi', S),
      call('int', fc.oneof(S, F)),
      call('int64', I),
      call('toDecimal', S),
      fc.tuple(pick('.ver', '"1.2.3"'), pick('Major', 'Minor', 'Patch')).map(([v, f]) => `(semver ${v}).${f}`),
    ),
    float: fc.oneof(
      { depthSize: 'small' },
      floatLit,
      ...['addf', 'subf', 'mulf', 'divf', 'maxf', 'minf'].map((fn) => call(fn, fc.oneof(F, I), fc.oneof(F, I))),
      call('float64', S),
      call('ceil', F),
      call('floor', F),
      call('round', F, count),
      call('add1f', F),
    ),
    bool: fc.oneof(
      { depthSize: 'small' },
      pick('true', 'false'),
      ...['eq', 'ne'].map((fn) => call(fn, S, S)),
      ...['eq', 'lt', 'le', 'gt', 'ge'].map((fn) => call(fn, I, I)),
      call('not', A),
      call('and', A, A),
      call('or', A, A),
      ...['contains', 'hasPrefix', 'hasSuffix'].map((fn) => call(fn, S, S)),
      call('empty', A),
      call('regexMatch', regexLit, S),
      call('has', A, L),
      call('hasKey', D, S),
      call(
        'semverCompare',
        pick('"^1.2.0"', '">=1.0.0, <2"', '"~0.9"', '"1.x"', '"!=1.2.3"', '"bad constraint"'),
        pick('.ver', '"1.2.3"', '"2.0.0"'),
      ),
      call('kindIs', pick('"string"', '"map"', '"slice"', '"int"'), A),
      call('typeIs', pick('"string"', '"int"', '"float64"', '"[]interface {}"'), A),
      call('deepEqual', A, A),
      call('isAbs', S),
      call('all', A, A),
      call('any', A, A),
    ),
    list: fc.oneof(
      { depthSize: 'small' },
      fc.array(A, { maxLength: 3 }).map((xs) => `(list ${xs.join(' ')})`),
      fc.array(A, { maxLength: 3 }).map((xs) => `(tuple ${xs.join(' ')})`),
      call('splitList', pick('","', '" "', '""'), S),
      call('until', count),
      call('untilStep', smallInt, smallInt, smallInt),
      // Go ranges over a map in random order: keys and values only sorted.
      call('sortAlpha', call('keys', D)),
      call('sortAlpha', call('values', D)),
      ...['uniq', 'compact', 'reverse', 'sortAlpha', 'rest', 'initial', 'mustCompact', 'toStrings'].map((fn) =>
        call(fn, L),
      ),
      call('append', L, A),
      call('prepend', L, A),
      call('concat', L, L),
      call('without', L, A),
      call('regexFindAll', regexLit, S, smallInt),
      call('regexSplit', regexLit, S, smallInt),
      call('chunk', fc.integer({ min: 1, max: 3 }).map(String), L),
      call('pluck', S, D, D),
      call('mustSlice', L, count),
      call('slice', L, pick('0', '1')),
    ),
    dict: fc.oneof(
      { depthSize: 'small' },
      fc
        .array(fc.tuple(fc.constantFrom('"a"', '"b"', '"k"', '.s'), A), { maxLength: 3 })
        .map((kv) => `(dict ${kv.flat().join(' ')})`),
      call('fromJson', pick('.j', '"{}"', '"[1]"')),
      call('fromYaml', pick('.y', '"a: b"', '"- x"')),
      call('split', pick('","', '"."'), S),
      call('splitn', pick('","'), count, S),
      call('merge', D, D),
      call('mergeOverwrite', D, D),
      call('pick', D, S),
      call('omit', D, S),
      call('set', D, pick('"a"', '"z"'), A),
      call('unset', D, pick('"a"', '"z"')),
      call('deepCopy', D),
      call('urlParse', pick('.url', '.s')),
      pick('.'),
    ),
    any: fc.oneof(
      { depthSize: 'small' },
      S,
      I,
      F,
      B,
      L,
      D,
      call('first', L),
      call('last', L),
      call('index', L, count),
      call('index', D, S),
      call('dig', pick('"a"', '"c"'), pick('"d"', '"x"'), pick('"none"'), D),
      call('coalesce', A, A),
      call('ternary', A, A, B),
      call('default', A, A),
      pick('nil', '.missing', '$'),
    ),
  };
});

/** A call of any function both have with arguments of any type: mostly errors, to compare their classes. */
// printf is left to the typed grammar: its bad verbs print values in Go, not in Ferry (deliberately).
const COMMON_FUNCTIONS = Object.keys(FUNCTIONS)
  .filter((f) => isTemplateFunction(f) && !Object.hasOwn(EXCLUDED, f) && !ROUND_TRIP_ONLY.has(f) && f !== 'printf')
  .sort();
const atom = fc.oneof(
  pick(
    '.s',
    '.n',
    '.e',
    '.j',
    '1',
    '0',
    '-2',
    '2.5',
    'true',
    '"x"',
    '"1.2.3"',
    'nil',
    '(list 1 "a")',
    '(dict "a" 1)',
    '.missing',
    '.',
  ),
  str,
);
const untypedCall = fc.tuple(fc.nat(), fc.array(atom, { maxLength: 3 })).map(([i, args]) => {
  return `(${[COMMON_FUNCTIONS[i % COMMON_FUNCTIONS.length], ...args].join(' ')})`;
});

const pipeTail = fc.oneof(
  pick(
    'upper',
    'quote',
    'b64enc',
    'trim',
    'toString',
    'toJson',
    'len',
    'first',
    'kindOf',
    'lower',
    'squote',
    'nospace',
  ),
  fc
    .tuple(pick('trunc', 'repeat', 'indent', 'default', 'replace "a"', 'add', 'plural "one"'), fc.oneof(count, strLit))
    .map(([f, a]) => `${f} ${a}`),
);

const text = pick('', 'x', ' ', '\n', 'key: ', '-', ':', '"', ', ');
const action: Arb = fc.oneof(
  { weight: 6, arbitrary: any.map((e) => `{{ ${e} }}`) },
  { weight: 2, arbitrary: fc.tuple(any, pipeTail).map(([e, p]) => `{{ ${e} | ${p} }}`) },
  { weight: 1, arbitrary: fc.tuple(str, pipeTail, pipeTail).map(([e, p, q]) => `{{- ${e} | ${p} | ${q} -}}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(bool, any, bool, any, any)
      .map(
        ([b, x, c, y, z]) => `{{ if ${b} }}${`{{ ${x} }}`}{{ else if ${c} }}{{ ${y} }}{{ else }}{{ ${z} }}{{ end }}`,
      ),
  },
  { weight: 2, arbitrary: list.map((l) => `{{ range $i, $v := ${l} }}{{ $i }}={{ $v }};{{ else }}none{{ end }}`) },
  { weight: 1, arbitrary: dict.map((d) => `{{ range $k, $v := ${d} }}{{ $k }}:{{ $v }} {{ end }}`) },
  { weight: 1, arbitrary: any.map((a) => `{{ with ${a} }}<{{ . }}>{{ else }}empty{{ end }}`) },
  {
    weight: 1,
    arbitrary: fc.tuple(any, pipeTail).map(([a, p]) => `{{ $x := ${a} }}{{ $x | ${p} }}{{ $x = 1 }}{{ $x }}`),
  },
  { weight: 1, arbitrary: any.map((a) => `{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" ${a} }}`) },
  {
    weight: 1,
    arbitrary: count.map(
      (n) =>
        `{{ range $i := until ${n} }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ if gt $i 3 }}{{ break }}{{ end }}{{ $i }}{{ end }}`,
    ),
  },
  { weight: 1, arbitrary: any.map((a) => `{{/* note */}}{{ ${a} -}}  \n  {{- "|" }}`) },
  { weight: 3, arbitrary: untypedCall.map((c) => `{{ ${c} }}`) },
  // Binary values (bytes that are not UTF-8) where Ferry keeps their bytes as Go does; Sprig's
  // string functions over them re-encode the bytes in Ferry (docs/templates.md), so not those.
  {
    weight: 1,
    arbitrary: pick('"/wBB"', '"gA=="', '"aGk="').map(
      (b) =>
        `{{ b64dec ${b} }}|{{ quote (b64dec ${b}) }}|{{ list (b64dec ${b}) 1 }}|{{ b64enc (b64dec ${b}) }}|{{ len (b64dec ${b}) }}`,
    ),
  },
);

/** A template: text and actions; one in twenty is cut short or has a stray character, to compare parse errors. */
const template = fc
  .tuple(fc.array(fc.tuple(text, action), { minLength: 1, maxLength: 3 }), fc.nat(99), fc.nat())
  .map(([parts, damage, at]) => {
    const t = parts.map(([a, b]) => a + b).join('');
    if (damage < 3) return t.slice(0, at % Math.max(1, t.length));
    if (damage < 5) {
      const i = at % Math.max(1, t.length);
      return `${t.slice(0, i)}${['}', '(', '|', '"', ')', '$'][damage % 6]}${t.slice(i)}`;
    }
    return t;
  });

function dataFor(values: Record<string, string | Buffer>): Record<string, Buffer> {
  const f = fixtures;
  return Object.fromEntries(
    Object.entries({
      ...values,
      cert: f.cert,
      key: f.key,
      ecKey: f.ecKey,
      ecCert: f.ecCert,
      chain: f.chain,
      p12: f.p12.toString('base64'),
      p12pw: f.p12pw.toString('base64'),
      p12legacy: f.p12legacy.toString('base64'),
      p12ec: f.p12ec.toString('base64'),
      jwk: f.jwk,
    }).map(([k, v]) => [k, Buffer.from(v)]),
  );
}

function renderWithFerry(c: TemplateCase): Rendered {
  try {
    return { output: renderTemplate(c.key ?? 'k', c.template, templateData(new Map(Object.entries(c.data)))) };
  } catch (err) {
    if (err instanceof TemplateError) return { error: err.message };
    throw err;
  }
}

/**
 * Where Ferry is deliberately different (docs/templates.md): a case that differs this way is
 * counted under its rule's name, not failed.
 */
const DELIBERATE: { rule: string; applies: (eso: Rendered, ferry: Rendered) => boolean }[] = [
  {
    rule: 'decoder error text: Ferry fails where Sprig writes the error into the Secret (b64dec, b32dec)',
    applies: (_, f) => 'error' in f && /error calling (b64dec|b32dec): .*illegal base(64|32) data/.test(f.error),
  },
  {
    rule: 'bad JSON/YAML: Ferry fails where ESO gives nil (fromJson) or an Error entry (fromYaml)',
    applies: (_, f) =>
      'error' in f &&
      /error calling (fromJson|fromYaml): the value is not (valid JSON|valid YAML|a YAML map)/.test(f.error),
  },
  {
    rule: "printf's bad verbs and extra operands: Ferry prints %!d(string), without the value Go prints",
    applies: (e, f) => 'output' in e && 'output' in f && withoutPrintfValues(e.output, f.output),
  },
  {
    rule: 'Ferry follows ESO 1.x (Masterminds/semver v3.4 coerces leading zeros, "01.2.3"); v0.16.2 refuses them',
    applies: (e) => 'error' in e && /error calling semver(Compare)?: Invalid Semantic Version/.test(e.error),
  },
  {
    rule: 'eq and the other comparisons compare a float with an int by value, where Go refuses them',
    applies: (e, f) => 'error' in e && /incompatible types for comparison/.test(e.error) && 'output' in f,
  },
  {
    rule: 'known, not fixed: bytes that are not UTF-8 through Sprig string functions (Go keeps them, Ferry re-encodes)',
    applies: (e, f) =>
      'output' in e && !Buffer.from(e.output.toString('utf8'), 'utf8').equals(e.output) && 'output' in f,
  },
  { rule: "Ferry's render limits (ESO has none)", applies: (_, f) => 'error' in f && errorClass(f.error) === 'limit' },
];

/**
 * Whether Go's output is Ferry's once the values in its %!verb(type=value) and %!(EXTRA type=value)
 * are taken out, the rest of each output equal.
 */
function withoutPrintfValues(go: Buffer, ferry: Buffer): boolean {
  const g = go.toString('latin1').replace(/%!([a-zA-Z])\(([^=()]*)=[^()]*\)/g, '%!$1($2)');
  const f = ferry.toString('latin1');
  const at = f.indexOf('%!(EXTRA ');
  if (at < 0) return g === f;
  const close = f.indexOf(')', at);
  const types = f.slice(at + 9, close).split(', ');
  if (g.slice(0, at) !== f.slice(0, at) || !g.startsWith(`%!(EXTRA ${types[0]}=`, at)) return false;
  return g.endsWith(f.slice(close + 1));
}

interface Tally {
  cases: number;
  sameBytes: number;
  sameClass: Record<string, number>;
  deliberate: Record<string, number>;
  differences: string[];
}

function compare(cases: TemplateCase[], eso: Rendered[]): Tally {
  const tally: Tally = { cases: cases.length, sameBytes: 0, sameClass: {}, deliberate: {}, differences: [] };
  cases.forEach((c, i) => {
    const go = eso[i] as Rendered;
    const ours = renderWithFerry(c);
    if (sameResult(go, ours)) {
      if ('output' in go) tally.sameBytes++;
      else tally.sameClass[errorClass(go.error)] = (tally.sameClass[errorClass(go.error)] ?? 0) + 1;
      return;
    }
    const rule = DELIBERATE.find((d) => d.applies(go, ours))?.rule;
    if (rule) tally.deliberate[rule] = (tally.deliberate[rule] ?? 0) + 1;
    else
      tally.differences.push(
        `${c.key ?? 'k'}: ${JSON.stringify(c.template)}\n    ESO:   ${describeRendered(go)}\n    Ferry: ${describeRendered(ours)}`,
      );
  });
  return tally;
}

function report(corpus: string, t: Tally): void {
  const sameClass = Object.values(t.sameClass).reduce((a, b) => a + b, 0);
  const deliberate = Object.values(t.deliberate).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `Template differential (${corpus}): ${t.cases} cases rendered by both; ${t.sameBytes} same bytes, ` +
      `${sameClass} same error class ${JSON.stringify(t.sameClass)}, ${deliberate} deliberately different ` +
      `${JSON.stringify(t.deliberate)}, ${t.differences.length} different\n`,
  );
  if (process.env.FERRY_DIFF_REPORT)
    writeFileSync(process.env.FERRY_DIFF_REPORT, `${t.differences.join('\n')}\n`, { flag: 'a' });
}

describe('Ferry’s template engine against ESO v0.16.2’s', () => {
  it("checks each function's arguments against the Go type ESO's function has", async () => {
    const go = await esoSignatures();
    // Ferry's own table is compared; where Ferry follows a later ESO, the function has none there.
    const later = new Set(['htpasswd', 'getHostByName']);
    const ours = Object.fromEntries(
      Object.keys(go)
        .filter((name) => !later.has(name))
        .map((name) => {
          const s = SIGNATURES.get(name);
          const result = s && /\(.*, error\)$/.test(go[name] ?? '') ? `(${s.result}, error)` : s?.result;
          return [name, s ? `func(${s.params.join(', ')})${result ? ` ${result}` : ''}` : 'missing'];
        }),
    );
    expect(ours).toEqual(Object.fromEntries(Object.entries(go).filter(([name]) => !later.has(name))));
  });

  it(`renders a generated corpus of ${RUNS} templates as ESO does (seed ${SEED})`, async () => {
    const samples = fc.sample(fc.tuple(template, dataKeys), { seed: SEED, numRuns: RUNS });
    const cases: TemplateCase[] = samples.map(([t, values]) => ({ template: t, data: dataFor(values) }));
    const tally = compare(cases, await renderWithEso(cases));
    report(`generated, seed ${SEED}; ${Object.keys(EXCLUDED).length} functions excluded`, tally);
    expect(tally.differences.slice(0, 30), `${tally.differences.length} of ${cases.length} cases differ`).toEqual([]);
  }, 600_000);

  it("renders every template of ESO's documentation as ESO does", async () => {
    const { examples } = extractExamples(esoModule().docsDir);
    const templates = docsTemplates(examples.map((e) => e.doc));
    const skipped: Record<string, number> = {};
    const cases: TemplateCase[] = [];
    for (const { key, template } of templates) {
      // A function's name, not a data key of the same name (`.now`).
      const excluded = Object.keys(EXCLUDED).find((f) => new RegExp(`(?<![.\\w])${f}\\b`).test(template));
      if (excluded) {
        skipped[excluded] = (skipped[excluded] ?? 0) + 1;
        continue;
      }
      for (const data of docsData(template)) cases.push({ key, template, data });
    }
    const tally = compare(cases, await renderWithEso(cases));
    report(
      `ESO ${esoModule().origin.version} docs: ${templates.length} templates from ${examples.length} examples, ` +
        `each with generic and typed values; skipped for excluded functions ${JSON.stringify(skipped)}`,
      tally,
    );
    expect(templates.length).toBeGreaterThan(50);
    expect(tally.differences, `${tally.differences.length} of ${cases.length} cases differ`).toEqual([]);
  }, 600_000);
});

/** The literal templates of ExternalSecrets (and ClusterExternalSecrets): target.template.data and templateFrom literals. */
function docsTemplates(docs: Record<string, unknown>[]): { key: string; template: string }[] {
  const out: { key: string; template: string }[] = [];
  for (const doc of docs) {
    const spec = (doc.spec ?? {}) as Record<string, unknown>;
    const es = (doc.kind === 'ClusterExternalSecret' ? spec.externalSecretSpec : spec) as
      | Record<string, unknown>
      | undefined;
    const tpl = (es?.target as { template?: Record<string, unknown> } | undefined)?.template;
    if (!tpl || typeof tpl !== 'object') continue;
    for (const [key, value] of Object.entries((tpl.data ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') out.push({ key, template: value });
    }
    for (const from of (tpl.templateFrom ?? []) as { literal?: unknown }[]) {
      if (typeof from?.literal === 'string') out.push({ key: 'literal', template: from.literal });
    }
  }
  return out;
}

/**
 * Data for a documented template: every top-level key it reads, first with a plain value, then
 * with a value of the kind the template reads it as (a keystore for pkcs12*, a chain for
 * filterPEM, JSON for fromJson, base64 for b64dec, a JWK for jwk*).
 */
function docsData(template: string): Record<string, Buffer>[] {
  const keys = new Set([...template.matchAll(/(?<![\w)\]])\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
  const plain = Object.fromEntries([...keys].map((k) => [k, Buffer.from(`value-of-${k}`)]));
  const typed = Object.fromEntries(
    [...keys].map((k): [string, Buffer] => {
      const uses = (fn: string) => new RegExp(`\\.${k}\\b[^}]*\\b${fn}|${fn}\\b[^}]*\\.${k}\\b`).test(template);
      if (uses('pkcs12')) return [k, fixtures.p12];
      if (uses('filterPEM') || uses('filterCertChain')) return [k, Buffer.from(fixtures.chain + fixtures.key)];
      if (uses('fromJson'))
        return [k, Buffer.from('{"first":"Ann","middle":"B","last":"Cole","user":"u","password":"p"}')];
      if (uses('b64dec')) return [k, Buffer.from(Buffer.from(`decoded-${k}`).toString('base64'))];
      if (uses('jwk')) return [k, Buffer.from(fixtures.jwk)];
      return [k, Buffer.from(`value-of-${k}`)];
    }),
  );
  return [plain, typed];
}
