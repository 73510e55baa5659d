/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// The remaining Sprig v3.3.0 functions (sprig-more.ts). Expected results are Sprig's own test
// expectations (strings_test.go, numeric_test.go, list_test.go, regex_test.go), Go's path
// package examples, and coreutils `base32` for b32enc — not this code's output.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTemplateFunction, renderTemplate, TemplateError, templateData } from './engine.ts';

const CANARY = 'canary-51d0-sprig';
const render = (src: string) =>
  renderTemplate('k', src, templateData(new Map([['secret', Buffer.from(CANARY)]]))).toString('utf8');

describe('Sprig functions beyond the common ones', () => {
  it.each([
    // Sprig's strings_test.go
    ['{{abbrev 5 "hello world"}}', 'he...'],
    ['{{abbrevboth 5 10 "1234 5678 9123"}}', '...5678...'],
    ['{{abbrev 3 "hello world"}}', 'hello world'],
    ['{{untitle "First Try"}}', 'first try'],
    ['{{initials "First Try"}}', 'FT'],
    ['{{wrap 5 "Hello World"}}', 'Hello\nWorld'],
    ['{{wrapWith 5 "\\t" "Hello World"}}', 'Hello\tWorld'],
    ['{{wrapWith 3 "|" "abcdefgh"}}', 'abc|def|gh'],
    ['{{wrap 3 "abcdefgh ij"}}', 'abcdefgh\nij'],
    ['{{$num := len "two"}}{{$num}} {{$num | plural "1 char" "chars"}}', '3 chars'],
    ['{{ 1 | plural "one" "many" }}', 'one'],
    ['{{$v := "foo$bar$baz" | splitn "$" 2}}{{$v._0}}|{{$v._1}}', 'foo|bar$baz'],
    ['{{ $s := list 1 2 3 | toStrings }}{{ index $s 1 | kindOf }}', 'string'],
    ['{{ swapcase "Hello World 2x" }}', 'hELLO wORLD 2X'],
    ['{{ b32enc "coffee" }}', 'MNXWMZTFMU======'],
    ['{{ b32enc "a" }} {{ b32enc "abcde" }} {{ b32enc "" }}|', 'ME====== MFRGGZDF |'],
    ['{{ b32dec "MNXWMZTFMU======" }}', 'coffee'],
    ['{{ b32dec "74ABA===" | b32enc }}', '74ABA==='],
    ['{{ regexQuoteMeta "1.2.3" }} {{ regexQuoteMeta "pretzel" }}', '1\\.2\\.3 pretzel'],
    ['{{ trimall "$" "$5.00$" }} {{ hello }}', '5.00 Hello!'],
    // Go's path package examples
    ['{{ clean "a//c" }} {{ clean "a/c/b/.." }} {{ clean "/../a/b/../././/c" }} {{ clean "" }}', 'a/c a/c /a/c .'],
    ['{{ base "/a/b" }} {{ base "/" }} {{ base "" }} {{ base "a/b/" }}', 'b / . b'],
    [
      '{{ dir "/a/b/c" }} {{ dir "a/b/c" }} {{ dir "/a/" }} {{ dir "a/" }} {{ dir "/" }} {{ dir "" }}',
      '/a/b a/b /a a / .',
    ],
    ['{{ ext "/a/b/c/bar.css" }}|{{ ext "/" }}|{{ ext "a.b/c" }}', '.css||'],
    ['{{ isAbs "/dev/null" }} {{ osIsAbs "a" }} {{ osBase "/x/y.txt" }}', 'true false y.txt'],
    // Sprig's numeric_test.go
    ['{{range $i, $e := until 5}}{{$i}}{{$e}}{{end}}', '0011223344'],
    ['{{range $i, $e := until -5}}{{$i}}{{$e}} {{end}}', '00 1-1 2-2 3-3 4-4 '],
    ['{{range $i, $e := untilStep 3 6 1}}{{$i}}{{$e}}{{end}}', '031425'],
    ['{{range $i, $e := untilStep 0 -10 -2}}{{$i}}{{$e}} {{end}}', '00 1-2 2-4 3-6 4-8 '],
    ['{{range $i, $e := untilStep 3 99 0}}{{$i}}{{$e}}{{end}}', ''],
    ['{{seq 0 1 3}}', '0 1 2 3'],
    ['{{seq 0 3 10}}', '0 3 6 9'],
    ['{{seq 3 3 2}}', ''],
    ['{{seq 3 -3 2}}', '3'],
    ['{{seq}}', ''],
    ['{{seq 5}}', '1 2 3 4 5'],
    ['{{seq -5}}', '1 0 -1 -2 -3 -4 -5'],
    ['{{seq 0}}', '1 0'],
    ['{{seq 0 1 2 3}}', ''],
    ['{{seq 0 -4}}', '0 -1 -2 -3 -4'],
    ['{{ maxf 1 2 3 345.7 5 6 7}}', '345.7'],
    ['{{ minf 1.4 2 3 345.6 5 6 7}}', '1.4'],
    ['{{ 3.4 | add1f }}', '4.4'],
    ['{{ 3 | addf 1.5 2.2}}', '6.7'],
    ['{{ 2 | divf 5 4 }}', '0.625'],
    ['{{ 1.2 | mulf "2.4" 10 "4"}}', '115.2'],
    ['{{ 3 | subf 4.5 1 }}', '0.5'],
    ['{{ divf 1 3 }}', '0.3333333333333333'],
    ['{{ ceil 123.01 }} {{ ceil "123" }} {{ floor 123.9999 }} {{ floor "123.9999" }}', '124 123 123 123'],
    [
      '{{ round 123.5555 3 }} {{ round "123.55555" 3 }} {{ round 123.500001 0 }} {{ round 123.49999999 0 }}',
      '123.556 123.556 124 123',
    ],
    ['{{ round 123.2329999 2 .3 }} {{ round 123.233 2 .3 }}', '123.23 123.24'],
    ['{{ toDecimal "777" }} {{ toDecimal 770 }} {{ toDecimal 755 }} {{ toDecimal "8" }}', '511 504 493 0'],
    // Sprig's list_test.go
    ['{{ tuple 1 2 3 4 5 6 7 | chunk 3 | len }}', '3'],
    ['{{ tuple | chunk 3 | len }}', '0'],
    ['{{ range ( tuple 1 2 3 4 5 6 7 8 | chunk 3 ) }}{{. | join "-"}}|{{end}}', '1-2-3|4-5-6|7-8|'],
    [
      '{{ mustSlice (list 1 2 3) }} {{ mustSlice (list 1 2 3) 0 1 }} {{ mustSlice (list 1 2 3) 1 }}',
      '[1 2 3] [1] [2 3]',
    ],
    [
      '{{ push (list 1) 2 }} {{ mustAppend (list 1) 2 }} {{ mustPrepend (list 1) 0 }} {{ mustFirst (list 7 8) }}',
      '[1 2] [1 2] [0 1] 7',
    ],
    [
      '{{ mustLast (list 7 8) }} {{ mustRest (list 7 8) }} {{ mustInitial (list 7 8) }} {{ mustReverse (list 7 8) }}',
      '8 [8] [7] [8 7]',
    ],
    [
      '{{ mustUniq (list 1 1 2) }} {{ mustWithout (list 1 2 3) 2 }} {{ mustHas 2 (list 1 2) }} {{ mustCompact (list 1 "" 2) }}',
      '[1 2] [1 3] true [1 2]',
    ],
    // defaults, reflection, dicts
    ['{{ all 1 "a" (list 1) }} {{ all 1 "" }} {{ any 0 "" (list) }} {{ any 0 "x" }}', 'true false false true'],
    [
      '{{ typeIs "string" "x" }} {{ typeIs "int" "x" }} {{ typeIsLike "int" 3 }} {{ kindIs "map" (dict) }}',
      'true false true true',
    ],
    [
      '{{ deepEqual (list 1 (dict "a" "b")) (list 1 (dict "a" "b")) }} {{ deepEqual (list 1) (list "1") }}',
      'true false',
    ],
    [
      '{{ $a := dict "k" (dict "x" 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b.k "x" 2 }}{{ $a.k.x }}{{ $b.k.x }}',
      '12',
    ],
    [
      '{{ mustMerge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }} {{ mustToJson (list "<") }}',
      '{"a":1,"b":3} ["\\u003c"]',
    ],
    ['{{ mustRegexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ mustRegexMatch "^[a-z]+$" "abc" }}', '-W-xxW- true'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });

  it.each([
    // Sprig's url_test.go: each URL parses into these parts and joins back to itself
    ['proto://auth@host:80/path?query#fragment', 'fragment|host:80|host||/path|query|proto|auth'],
    ['proto://host:80/path', '|host:80|host||/path||proto|'],
    ['something', '||||something|||'],
    ['proto://user:passwor%20d@host:80/path', '|host:80|host||/path||proto|user:passwor%20d'],
    ['proto://host:80/pa%20th?key=val%20ue', '|host:80|host||/pa th|key=val%20ue|proto|'],
    // Go's url.Parse: opaque, IPv6 hosts, escaped fragments
    ['mailto:ops@example.com', '||||||mailto|', 'ops@example.com'],
    ['https://[::1]:8443/x#a%20b', 'a b|[::1]:8443|::1||/x||https|'],
  ])('urlParse %s, and urlJoin back', (url, parts, opaque = '') => {
    const keys = ['fragment', 'host', 'hostname', 'opaque', 'path', 'query', 'scheme', 'userinfo'];
    const got = render(`{{ $u := urlParse "${url}" }}${keys.map((k) => `{{ $u.${k} }}`).join('|')}`);
    expect(got).toBe(
      parts
        .split('|')
        .map((p, i) => (i === 3 ? opaque : p))
        .join('|'),
    );
    expect(render(`{{ urlParse "${url}" | urlJoin }}`)).toBe(url);
  });

  it("urlJoin writes Go's escaping; urlParse errors never carry the URL", () => {
    expect(
      render(
        '{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" "query" "query" "scheme" "proto") }}',
      ),
    ).toBe('proto://host:80/path?query#fragment');
    expect(render('{{ urlJoin (dict "host" "h" "path" "/a b?c" "userinfo" "u:p@ss") }}')).toBe(
      '//u:p%40ss@h/a%20b%3Fc',
    );
    for (const [src, want] of [
      ['{{ urlParse (printf "postgres://u:%s@db:port/x" .secret) }}', /urlParse: invalid port after host/],
      ['{{ urlParse (printf "postgres://u:%s%%zz@db/x" .secret) }}', /urlParse: invalid URL escape in the password/],
      ['{{ urlParse (printf "%s:x" (printf "a b%s" .secret)) }}', /first path segment in URL cannot contain colon/],
      ['{{ urlJoin (dict "host" 1) }}', /urlJoin: unable to parse host key, must be of type string/],
    ] as const) {
      let message = '';
      try {
        render(src);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    }
  });

  it('randInt, shuffle', () => {
    for (let i = 0; i < 50; i++) {
      const n = Number(render('{{ randInt 3 6 }}'));
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThan(6);
    }
    expect([...render('{{ shuffle "abcdef" }}')].sort().join('')).toBe('abcdef');
  });

  it.each([
    ['{{ b32dec .secret }}', /b32dec: illegal base32 data/],
    ['{{ randInt 5 5 }}', /randInt: invalid argument to Intn/],
    ['{{ divf 1 0 }}', /divf: decimal division by 0/],
    ['{{ chunk 0 (list 1) }}', /chunk: the size must be positive/],
    ['{{ mustSlice .secret 1 }}', /mustSlice: list should be type of slice or array but string/],
    ['{{ mustSlice (list 1 2) 1 5 }}', /mustSlice: slice index out of range/],
    ['{{ until 2000000 }}', /until: more than 524288 elements/],
    ['{{ abbrev "5" .secret }}', /wrong type for value; expected int; got string \(abbrev\)/],
    ['{{ trimall "$" }}', /wrong number of args for trimall: want 2 got 1/],
    ['{{ getHostByName "example.com" }}', /function "getHostByName" not defined \(Ferry does not resolve host names/],
  ])('%s fails without the value', (src, want) => {
    let message = '';
    try {
      render(src);
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      message = (err as Error).message;
    }
    expect(message).toMatch(want);
    expect(message).not.toContain(CANARY);
  });

  it('knows the functions of ESO v1.3.2 that came last, Go’s builtin call included', () => {
    // Sprig v3.3.0's TxtFuncMap minus env/expandenv, ESO's own, and Go's builtins.
    for (const name of [
      'call',
      'camelcase',
      'snakecase',
      'kebabcase',
      'semver',
      'semverCompare',
      'pemToPkcs12',
      'filterCertChain',
      'rsaDecrypt',
      'genCA',
      'decryptAES',
      'abbrev',
      'mustSlice',
    ]) {
      expect(isTemplateFunction(name), name).toBe(true);
    }
  });
});

describe('base32 against coreutils', () => {
  it('b32enc writes what `base32` writes, and b32dec reads it back, for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const data = Buffer.from(bytes);
        const expected = execFileSync('base32', ['-w', '0'], { input: data }).toString('latin1');
        const values = templateData(new Map([['v', data]]));
        expect(renderTemplate('k', '{{ .v | b32enc }}', values).toString('latin1')).toBe(expected);
        const back = renderTemplate('k', '{{ .v | b32enc | b32dec }}', values);
        expect(back.equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
