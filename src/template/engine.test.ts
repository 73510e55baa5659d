/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates use ${name} */
// Behaviour table: each construct and function against the result Go's text/template (+ Sprig)
// documents for it. Data is ESO's shape: a map of key → string.
import { describe, expect, it } from 'vitest';
import { isTemplateFunction, renderTemplate, TemplateError, templateData } from './engine.ts';

const CANARY = 'canary-7f1d-template';
const data = templateData(
  new Map(
    Object.entries({
      user: 'app',
      password: 'p@ss<&>',
      json: '{"host":"db","port":5432,"tags":["a","b"],"nested":{"k":"v"}}',
      yaml: 'a: 1\nb: two\n',
      empty: '',
      'with-dash': 'dashed',
      b64: Buffer.from('hello').toString('base64'),
      secret: CANARY,
    }).map(([k, v]) => [k, Buffer.from(v)]),
  ),
);

const render = (src: string) => renderTemplate('key', src, data).toString('utf8');

describe('Go text/template', () => {
  it.each([
    // text, actions, fields, index
    ['plain text', 'plain text'],
    ['{{ .user }}', 'app'],
    ['{{.user}}:{{ .password }}', 'app:p@ss<&>'],
    ['{{ index . "with-dash" }}', 'dashed'],
    ['{{ index . "absent" }}', ''],
    ['{{ "quoted\\t\\"x\\"" }}', 'quoted\t"x"'],
    ['{{ `raw\\n` }}', 'raw\\n'],
    ["{{ 42 }} {{ -3 }} {{ 0x1F }} {{ 1.5 }} {{ 1e3 }} {{ 'a' }}", '42 -3 31 1.5 1000 97'],
    ['{{ true }} {{ false }}', 'true false'],
    // whitespace trimming and comments
    ['a  {{- .user -}}  b', 'aappb'],
    ['a {{- /* comment */ -}} b', 'ab'],
    ['x{{/* a comment */}}y', 'xy'],
    ['a\n  {{- "b" }}\n', 'ab\n'],
    // if / else if / else, with, range
    ['{{ if .user }}yes{{ else }}no{{ end }}', 'yes'],
    ['{{ if .empty }}yes{{ else }}no{{ end }}', 'no'],
    ['{{ if eq .user "x" }}1{{ else if eq .user "app" }}2{{ else }}3{{ end }}', '2'],
    ['{{ with .user }}[{{ . }}]{{ end }}', '[app]'],
    ['{{ with .empty }}[{{ . }}]{{ else }}none{{ end }}', 'none'],
    ['{{ with $x := .user }}{{ $x }}{{ end }}', 'app'],
    ['{{ range list "a" "b" "c" }}{{ . }},{{ end }}', 'a,b,c,'],
    ['{{ range $i, $v := list "a" "b" }}{{ $i }}={{ $v }};{{ end }}', '0=a;1=b;'],
    ['{{ range $k, $v := dict "b" 2 "a" 1 }}{{ $k }}{{ $v }}{{ end }}', 'a1b2'],
    ['{{ range list }}x{{ else }}empty{{ end }}', 'empty'],
    ['{{ range 3 }}{{ . }}{{ end }}', '012'],
    [
      '{{ range list 1 2 3 4 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}',
      '13',
    ],
    // variables and assignment
    ['{{ $a := "x" }}{{ $a = "y" }}{{ $a }}', 'y'],
    ['{{ $.user }}', 'app'],
    ['{{ range list 1 }}{{ $.user }}{{ end }}', 'app'],
    // pipelines and parentheses
    ['{{ .user | upper }}', 'APP'],
    ['{{ .user | printf "%s-%s" "x" }}', 'x-app'],
    ['{{ (.json | fromJson).host }}', 'db'],
    ['{{ $j := .json | fromJson }}{{ $j.nested.k }} {{ $j.port }}', 'v 5432'],
    ['{{ (fromJson .json).tags }}', '[a b]'],
    ['{{ fromJson .json | toJson }}', '{"host":"db","nested":{"k":"v"},"port":5432,"tags":["a","b"]}'],
    // and / or return an operand, lazily
    ['{{ and .user .empty }}|{{ or .empty .user }}|{{ and 1 2 }}|{{ or 0 "" }}', '|app|2|'],
    ['{{ or .user (index . "nope" | fromJson) }}', 'app'],
    ['{{ not .empty }}', 'true'],
    // comparisons
    [
      '{{ eq 1 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }}',
      'true true true true true false',
    ],
    ['{{ eq .user "x" "y" "app" }}', 'true'],
    // builtins
    ['{{ len .user }} {{ len "héllo" }} {{ len (list 1 2) }}', '3 6 2'],
    // ESO's FuncMap replaces Go's slice with Sprig's: lists only (a string fails, as tested below).
    ['{{ index (list "a" "b") 1 }} {{ slice (list 1 2 3) 1 }} {{ slice (list 1 2 3) 0 1 }}', 'b [2 3] [1]'],
    ['{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}', 'a1 2b|a 1\n'],
    [
      '{{ printf "%d|%5s|%-4s|%05.2f|%x|%q|%v|%t|%%" 42 "ab" "c" 3.14159 255 "q\\n" (list 1) true }}',
      '42|   ab|c   |03.14|ff|"q\\n"|[1]|true|%',
    ],
    // fmt's bounds on width and precision (Go 1.26's output; EXTRA names the type only, see docs).
    ['{{ printf "%*d" 2000000 1 }}|{{ printf "%*d" 2.5 1 }}', '%!(BADWIDTH)1|%!(BADWIDTH)1'],
    ['{{ printf "%.*d" -1 5 }}|{{ printf "%*d|" -3 1 }}{{ printf "%0*d|" -3 1 }}', '%!(BADPREC)5|1  |1  |'],
    ['{{ printf "a%99999999db" 1 }}|{{ printf "%.99999999d" 1 }}', 'a%!(NOVERB)%!(EXTRA int)|%!(NOVERB)%!(EXTRA int)'],
    ['{{ printf "%01000001d" 1 | len }}', '1000001'],
    ['{{ html "<a href=\\"x\\">" }}', '&lt;a href=&#34;x&#34;&gt;'],
    ['{{ urlquery "a b&c" }}', 'a+b%26c'],
    ['{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .user }}', '<app>'],
    ['{{ block "b" .user }}[{{ . }}]{{ end }}', '[app]'],
  ])('%s → %j', (src, want) => {
    expect(render(src)).toBe(want);
  });
});

describe('Sprig and ESO functions', () => {
  it.each([
    ['{{ .user | b64enc }}', 'YXBw'],
    ['{{ .b64 | b64dec }}', 'hello'],
    ['{{ .password | toJson }}', '"p@ss\\u003c\\u0026\\u003e"'],
    ['{{ dict "b" 1 "a" (list "x") | toJson }}', '{"a":["x"],"b":1}'],
    ['{{ dict "b" 1 "a" (list "x") | toPrettyJson }}', '{\n  "a": [\n    "x"\n  ],\n  "b": 1\n}'],
    ['{{ dict "b" "2" "a" 1 | toYaml }}', 'a: 1\nb: "2"'],
    ['{{ (.yaml | fromYaml).b }}', 'two'],
    ['{{ upper "abc" }} {{ lower "ABC" }} {{ title "hello world" }}', 'ABC abc Hello World'],
    [
      '[{{ trim "  x  " }}] {{ trimPrefix "ab" "abc" }} {{ trimSuffix "bc" "abc" }} {{ trimAll "$" "$5$" }}',
      '[x] c a 5',
    ],
    ['{{ replace "a" "b" "banana" }}', 'bbnbnb'],
    ['{{ quote "a" "b\\"c" }} {{ squote "x" }}', '"a" "b\\"c" \'x\''],
    ['{{ default "d" .empty }} {{ .user | default "d" }} {{ default "d" "" }}', 'd app d'],
    ['{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', '  a\n  b|\n  a'],
    ['{{ join "," (list "a" "b" 1) }}', 'a,b,1'],
    ['{{ (split "." "a.b.c")._1 }} {{ splitList "." "a.b" }}', 'b [a b]'],
    // Go 1.26's regexp.Split / FindAllString on the same inputs (capture groups are not pieces;
    // an empty match right after a match is not one; n > 0 keeps the rest in the last piece).
    [
      '{{ regexSplit "a" "banana" -1 | toJson }}|{{ regexSplit "a" "banana" 2 | toJson }}',
      '["b","n","n",""]|["b","nana"]',
    ],
    [
      '{{ regexSplit "(a)" "banana" -1 | toJson }}|{{ regexSplit "a*" "baaac" -1 | toJson }}',
      '["b","n","n",""]|["b","c"]',
    ],
    ['{{ regexSplit "" "abc" -1 | toJson }}|{{ regexSplit "x*" "" -1 | toJson }}', '["a","b","c"]|[""]'],
    ['{{ regexSplit "n" "banana" 0 | toJson }}|{{ regexSplit "b" "bab" -1 | toJson }}', '[]|["","a",""]'],
    [
      '{{ regexFindAll "a*" "baaac" -1 | toJson }}|{{ regexFindAll "a|" "bab" -1 | toJson }}',
      '["","aaa",""]|["","a",""]',
    ],
    ['{{ regexFindAll "" "abc" -1 | toJson }}|{{ regexFindAll "a" "banana" 2 | toJson }}', '["","","",""]|["a","a"]'],
    ['{{ splitList "" "a\u00e9\u{1F600}" | toJson }}|{{ (splitn "" 2 "abc")._1 }}', '["a","\u00e9","\u{1F600}"]|bc'],
    ['{{ get (dict "a" "1") "a" }}|{{ get (dict) "x" }}', '1|'],
    ['{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "c" | toJson }}', '{"a":1,"c":3}'],
    ['{{ omit (dict "a" 1 "b" 2) "a" | toJson }}', '{"b":2}'],
    ['{{ hasKey (dict "a" 1) "a" }} {{ keys (dict "b" 1 "a" 2) }}', 'true [a b]'],
    ['{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ toJson $d }}', '{"a":1,"b":2}'],
    ['{{ merge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }}', '{"a":1,"b":3}'],
    ['{{ list 1 2 3 | first }} {{ list 1 2 3 | last }} {{ list 1 2 3 | rest }}', '1 3 [2 3]'],
    ['{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ add1 1 }}', '6 3 6 3 1 2'],
    ['{{ contains "pp" .user }} {{ hasPrefix "a" .user }} {{ hasSuffix "x" .user }}', 'true true false'],
    ['{{ ternary "y" "n" true }} {{ coalesce "" "x" }} {{ empty "" }}', 'y x true'],
    ['{{ regexReplaceAll "(?P<first>a)(p+)" "xappy" "${first}-$2" }}', 'xa-ppy'],
    ['{{ regexMatch "^a.p$" .user }} {{ regexFind "[0-9]+" "ab123c" }}', 'true 123'],
    ['{{ substr 1 3 "abcd" }} {{ trunc 2 "abcd" }} {{ repeat 3 "ab" }} {{ nospace "a b c" }}', 'bc ab ababab abc'],
    ['{{ "abc" | sha256sum }}', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['{{ int "42" }} {{ atoi "7" }} {{ toString 5 }}', '42 7 5'],
    ['{{ list "b" "a" | sortAlpha }} {{ list 1 1 2 | uniq }}', '[a b] [1 2]'],
  ])('%s → %j', (src, want) => {
    expect(render(src)).toBe(want);
  });

  it('keeps binary values byte for byte through b64dec and b64enc', () => {
    const bytes = Buffer.from([0, 0xff, 0xfe, 0x80, 10]);
    const bin = templateData(new Map([['ks', bytes]]));
    expect(renderTemplate('k', '{{ .ks }}', bin)).toEqual(bytes);
    expect(renderTemplate('k', '{{ .ks | b64enc }}', bin).toString()).toBe(bytes.toString('base64'));
    const b64 = templateData(new Map([['ks', Buffer.from(bytes.toString('base64'))]]));
    expect(renderTemplate('k', '{{ .ks | b64dec }}', b64)).toEqual(bytes);
  });
});

describe('template errors', () => {
  it.each([
    ['{{ .missing }}', /template: key:1: executing "key": map has no entry for key "missing"/],
    ['{{ nosuch .user }}', /template: key:1: function "nosuch" not defined/],
    ['{{ env "HOME" }}', /function "env" not defined \(ESO removes it/],
    ['{{ pemToPkcs12 "a" "b" }}', /error calling pemToPkcs12: pemToPkcs12: no PEM data found in the certificate/],
    ['{{ if .user }}', /unexpected EOF/],
    ['{{ end }}', /unexpected \{\{end\}\}/],
    ['{{ .user', /unclosed action/],
    ['{{ "x" | 3 }}', /non executable command/],
    ['{{ .user.x }}', /can't evaluate field x in type string/],
    ['{{ $nope }}', /undefined variable: \$nope/],
    ['{{ break }}', /\{\{break\}\} outside \{\{range\}\}/],
    ['{{ .user 1 }}', /can't give argument to non-function/],
    ['{{ upper }}', /wrong number of args for upper: want 1 got 0/],
    ['{{ $d := dict }}{{ $_ := set $d "s" $d }}{{ $d }}', /error calling set: its result contains itself/],
    [
      '{{ $d := dict }}{{ range 5000 }}{{ $d = dict "k" $d }}{{ end }}{{ $d | toJson }}',
      /error calling dict: its result contains itself or nests over 1000 deep/,
    ],
    ['{{ eq .user 1 }}', /incompatible types for comparison/],
    ['{{ range .user }}{{ end }}', /range can't iterate over string/],
    ['{{ range $i, $v := 3 }}{{ end }}', /can't use 3 to iterate over more than one variable/],
    // Limits that keep one template from exhausting the controller: a range over a huge integer
    // counts lazily and stops at the step limit (it once built the whole array first and ran out
    // of heap); output stops at 1 MiB.
    ['{{ range 4000000000 }}{{ end }}', /range over too many elements/],
    ['{{ range $i := 4000000000 }}{{ end }}', /range over too many elements/],
    ['{{ range 2000 }}{{ "x" | repeat 1000 }}{{ end }}', /output over 1048576 bytes/],
    // Functions that multiply their input stop before they build a value over 1 MiB ...
    ['{{ "x" | repeat 1048577 }}', /error calling repeat: repeat: result over 1048576 bytes/],
    ['{{ "a\\nb" | indent 600000 }}', /error calling indent: indent: result over 1048576 bytes/],
    ['{{ "a\\nb" | nindent 600000 }}', /error calling nindent: nindent: result over 1048576 bytes/],
    ['{{ $s := "x" | repeat 1000000 }}{{ replace "x" "yy" $s }}', /error calling replace: replace: result over/],
    ['{{ $s := "x" | repeat 1000000 }}{{ list 1 2 3 | join $s }}', /error calling join: join: result over/],
    ['{{ $s := "x" | repeat 1000000 }}{{ regexReplaceAll "x" $s "yy" }}', /regexReplaceAll: result over/],
    ['{{ $s := "x" | repeat 1000000 }}{{ regexReplaceAllLiteral "x" $s "yy" }}', /regexReplaceAllLiteral: result over/],
    ['{{ $s := "x y" | repeat 300000 }}{{ wrapWith 1 "--" $s }}', /error calling wrapWith: wrapWith: result over/],
    ['{{ printf "%999999d%999999d" 1 2 }}', /error calling printf: printf: result over/],
    // ... or pieces: more than 524,288 of them (each weighs 2 at least), or a dict of them whose
    // keys pass 1 MiB ...
    ['{{ $s := "x" | repeat 600000 }}{{ splitList "x" $s | len }}', /splitList: more than 524288 elements/],
    ['{{ $s := "x" | repeat 600000 }}{{ split "x" $s | len }}', /split: more than 524288 elements/],
    ['{{ $s := "x" | repeat 600000 }}{{ splitList "" $s | len }}', /splitList: more than 524288 elements/],
    ['{{ $s := "x" | repeat 600000 }}{{ regexSplit "x" $s -1 | len }}', /regexSplit: more than 524288 elements/],
    ['{{ $s := "x" | repeat 600000 }}{{ regexFindAll "x" $s -1 | len }}', /regexFindAll: more than 524288 elements/],
    ['{{ until 600000 | len }}', /until: more than 524288 elements/],
    [
      '{{ $s := "xy" | repeat 200000 }}{{ split "x" $s | len }}',
      /error calling split: split: result over 1048576 bytes/,
    ],
    // ... and so do values built up step by step: a list holding one 1 MiB string twice ...
    ['{{ $s := "x" | repeat 1000000 }}{{ list $s $s | len }}', /error calling list: result over 1048576 bytes/],
    // ... or work that adds up: each append copies the list; 30,000 of them would copy 450 million elements.
    [
      '{{ $l := list }}{{ range 30000 }}{{ $l = append $l . }}{{ end }}{{ len $l }}',
      /the template does too much work \(its functions' results add up to over 67108864 bytes\)/,
    ],
    // Go's builtin call: the data holds no functions, so it fails as Go's does for a non-function.
    ['{{ call .user }}', /executing "key": error calling call: non-function \.user of type string$/],
    ['{{ call .user 1 2 }}', /error calling call: non-function \.user of type string/],
    ['{{ $f := dict }}{{ call $f }}', /error calling call: non-function \$f of type map\[string\]interface \{\}/],
    ['{{ call nil }}', /error calling call: call of nil/],
    ['{{ call }}', /wrong number of args for call: want at least 1 got 0/],
    ['{{ call .user .missing }}', /map has no entry for key "missing"/],
  ])('%s fails: %s', (src, message) => {
    expect(() => render(src)).toThrow(TemplateError);
    expect(() => render(src)).toThrow(message);
  });

  it.each([
    ['{{ .secret | b64dec }}', /illegal base64 data/],
    ['{{ .secret | fromJson }}', /not valid JSON/],
    ['{{ index . .secret | upper }}{{ .secret.x }}', /can't evaluate field x/],
    ['{{ printf "%d" .secret }}', /^$/],
    ['{{ .secret | int | div 1 }}', /divide by zero/],
    ['{{ regexMatch (printf "%s(" .secret) "x" }}', /does not compile/],
    ['{{ .secret | call }}', /non-function \(piped value withheld\) of type string/],
  ])('never copies a value into an error: %s', (src, message) => {
    let error: unknown;
    let out = '';
    try {
      out = render(src);
    } catch (err) {
      error = err;
    }
    if (error) {
      expect(String((error as Error).message)).toMatch(message);
      expect(String((error as Error).message)).not.toContain(CANARY);
      expect(String((error as Error).stack)).not.toContain(CANARY);
    } else expect(out).not.toContain(CANARY);
  });
});

describe('fromYaml on deeply nested flow collections', () => {
  const flow = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const renderWith = (src: string, value: string) =>
    renderTemplate('key', src, templateData(new Map([['v', Buffer.from(value)]]))).toString('utf8');

  it('parses 500 levels exactly and refuses deeper ones rather than return levels missing', () => {
    // The yaml package returns levels missing (no error) for some inputs near 1,000 levels.
    expect(renderWith('{{ .v | fromYaml | toJson }}', `a: ${flow(500)}`)).toBe(`{"a":${flow(500)}}`);
    for (const depth of [501, 900, 999, 5000]) {
      expect(() => renderWith('{{ .v | fromYaml | toJson }}', `a: ${flow(depth)}`)).toThrow(
        /error calling fromYaml: the value nests YAML \[ \] or \{ \} more than 500 deep/,
      );
    }
    expect(() => renderWith('{{ .v | fromYaml }}', `a: ${'{b: '.repeat(600)}1${'}'.repeat(600)}`)).toThrow(
      /more than 500 deep/,
    );
  });

  it('does not count brackets in quoted scalars or comments', () => {
    const brackets = '['.repeat(600);
    const doc = `a: "${brackets}\\" ["\nb: '${brackets}'' ['\nc: x # ${brackets}\nd: [1, [2]]\n`;
    expect(
      renderWith('{{ $m := .v | fromYaml }}{{ len $m.a }} {{ len $m.b }} {{ $m.c }} {{ $m.d | toJson }}', doc),
    ).toBe('603 603 x [1,[2]]');
  });
});

describe('the function set', () => {
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

  it('refuses getHostByName at parse time, saying why', () => {
    expect(() => render('{{ getHostByName "example.com" }}')).toThrow(
      /function "getHostByName" not defined \(Ferry does not resolve host names/,
    );
  });
});
