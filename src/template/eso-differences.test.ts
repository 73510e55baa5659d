/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Differences from ESO's engine that the differential test (test/integration/template-differential
// .test.ts) found and Ferry now renders as ESO v0.16.2 does. Each expectation is ESO's own output,
// or the message of its error, taken from the reference program (test/reference/eso-template).
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateData } from './engine.ts';

const data = templateData(
  new Map([
    ['s', Buffer.from('Hello')],
    ['n', Buffer.from('42')],
    ['bin', Buffer.from([0xff, 0x00, 0x41])],
  ]),
);

function render(src: string): string {
  try {
    return renderTemplate('k', src, data).toString('latin1');
  } catch (err) {
    if (err instanceof TemplateError) return `error: ${err.message}`;
    throw err;
  }
}

describe('as ESO renders it', () => {
  it.each([
    // Go checks the number of arguments before it evaluates them
    ['{{ sha256sum .missing 2.5 1 }}', /wrong number of args for sha256sum: want 1 got 3/],
    // add returns int64, which an int parameter refuses
    ['{{ trunc (add 1 2) "hello" }}', /wrong type for value; expected int; got int64/],
    // a constant is taken as the parameter's type when it can be
    ['{{ trunc 3.0 "hello" }}', 'hel'],
    // and refused when it cannot
    ['{{ trunc 1.5 "hello" }}', /expected integer; found 1\.5/],
    // a number constant is no string
    ['{{ upper 4 }}', /expected string; found 4/],
    // ternary's condition is a bool
    ['{{ ternary 1 2 "true" }}', /expected bool; found "true"/],
    // the data map is a map[string]string, which dict functions refuse
    ['{{ hasKey . "s" }}', /wrong type for value; expected map\[string\]interface \{\}; got map\[string\]string/],
    // so is split's result
    [
      '{{ get (split "," "a,b") "_0" }}',
      /wrong type for value; expected map\[string\]interface \{\}; got map\[string\]string/,
    ],
    // a float64 prints as Go's %v: an exponent from 1e+06
    ['{{ 1e6 }} {{ mulf 1000 1000 }} {{ 1234567.0 }} {{ 123456.0 }}', '1e+06 1e+06 1.234567e+06 123456'],
    // results have the Go types of the functions' signatures
    [
      '{{ typeOf (add 1 2) }} {{ typeOf 1e6 }} {{ typeOf (semver "1.2.3").Major }} {{ typeOf (fromJson "{\\"a\\":1}").a }} {{ typeOf (until 2) }} {{ typeOf (splitList "," "a") }} {{ typeOf (split "," "a") }} {{ typeOf . }}',
      'int64 float64 uint64 float64 []int []string map[string]string map[string]string',
    ],
    // printf knows %T
    ['{{ printf "%T %v" 1e6 1e6 }}', 'float64 1e+06'],
    // a nil that reaches an action prints as <no value>
    [
      '{{ first (list) }}|{{ (fromJson "{\\"a\\":null}").a }}|{{ list (first (list)) }}',
      '<no value>|<no value>|[<nil>]',
    ],
    // nil is not a command
    ['{{ nil }}', /nil is not a command/],
    // Go's parser reports the unknown function before the lexer reaches the end
    ['{{ (te', /function "te" not defined/],
    // a word must end at a space, a bracket, a pipe or the delimiter
    ['{{ squo"te }}', /bad character U\+0022 '"'/],
    // so must a number
    ['{{ 3x }}', /bad number syntax: "3x"/],
    // operands are separated by spaces
    ['{{ (upper .s)bin }}', /unexpected "bin" in operand/],
    // even a call's parenthesis
    ['{{ printf("%s") }}', /unexpected "\(" in operand/],
    // two non-empty definitions of a template
    ['{{ define "t" }}a{{ end }}{{ define "t" }}b{{ end }}', /template: multiple definition of template "t"/],
    // an empty one gives way
    ['{{ define "t" }} {{ end }}{{ define "t" }}b{{ end }}{{ template "t" }}', 'b'],
    // ESO's slice is Sprig's, for lists only
    ['{{ slice "abcdef" 1 3 }}', /error calling slice: .*list should be type of slice or array but string/],
    // Sprig's slice of a list
    ['{{ slice (list 1 2 3) 1 }}', '[2 3]'],
    // dig asserts a map[string]interface {}
    [
      '{{ dig "a" "x" . }}',
      /error calling dig: interface conversion: interface \{\} is map\[string\]string, not map\[string\]interface \{\}/,
    ],
    // at every step before the last key
    [
      '{{ dig "a" "b" "x" (dict "a" 1) }}',
      /error calling dig: interface conversion: interface \{\} is int, not map\[string\]interface \{\}/,
    ],
    // substr panics out of range
    ['{{ substr 10 2 "abc" }}', /error calling substr: runtime error: slice bounds out of range \[10:2\]/],
    // and counts bytes
    ['{{ substr 1 3 "héllo" }}', 'Ã©'],
    // so does trunc
    ['{{ trunc 2 "é" | len }}', '2'],
    // Sprig's strslice leaves nils out
    ['{{ sortAlpha (list nil "b" "a") }} {{ sortAlpha "x" }} {{ join "," nil }}', '[a b] [x] '],
    // regexMatch ignores a pattern that does not compile
    ['{{ regexMatch "[" "x" }}', 'false'],
    // js escapes control and non-printable runes
    ['{{ js "a\\u0000b\\u00a0c" }}', 'a\\u0000b\\u00A0c'],
    // %q quotes a rune as Go does; %s of nil is a bad verb
    ['{{ printf "%q" 1 }} {{ printf "%s" nil }}', "'\\x01' %!s(<nil>)"],
    // nil is an empty map to dict functions
    ['{{ hasKey nil "a" }} {{ keys nil }} {{ unset nil "a" }} {{ get nil "a" }}', 'false [] map[] '],
    // but not to set
    ['{{ set nil "a" 1 }}', /error calling set: assignment to entry in nil map/],
    // numbers in text as spf13/cast reads them
    [
      '{{ int "3.0" }} {{ int "3.14" }} {{ int " 7 " }} {{ int "0x1F" }} {{ int "010" }} {{ float64 " 7" }} {{ float64 "1_000" }}',
      '3 0 0 31 8 0 1000',
    ],
    // fromYaml reads YAML 1.1, numbers as float64
    ['{{ (fromYaml "a: y").a }} {{ (fromYaml "a: 1").a | typeOf }}', 'true float64'],
    // an empty document is an empty map
    ['{{ fromYaml "" }}', 'map[]'],
    // quote escapes bytes that are not UTF-8
    ['{{ quote .bin }}', '"\\xff\\x00A"'],
    // a binary value keeps its bytes inside a list
    ['{{ list .bin }}', '[ÿ\u0000A]'],
    // has and uniq compare as reflect.DeepEqual: an int is no int64
    ['{{ has 1 (list (add 0 1)) }} {{ has 1 (list 1) }} {{ uniq (list 1 (add 0 1) 1) }}', 'false true [1 1]'],
    // eq compares ints and uints of any size
    ['{{ eq 1 (add 0 1) }} {{ eq (semver "1.2.3").Major 1 }}', 'true true'],
    // the zero time west of Greenwich is in year 0
    ['{{ dateInZone "02/01/06 MST" (toDate "2006" "x") "America/New_York" }}', '31/12/00 LMT'],
    // date takes an int64 of Unix seconds
    ['{{ date "2006" (add 0 1257894245) }}', '2009'],
    // b64dec skips line breaks
    ['{{ b64dec "aGVs\\nbG8=" }}', 'hello'],
    // replace with an empty old inserts at every rune
    ['{{ replace "" "-" "ab" }}', '-a-b-'],
    // semverCompare takes strings, not versions
    ['{{ semver "1.2.3" | semverCompare ">1" }}', /wrong type for value; expected string; got \*semver\.Version/],
    // has finds nothing in nil
    ['{{ has 1 nil }}', 'false'],
    // rest and initial of an empty list are a nil list: [] printed, null in JSON
    ['{{ rest (list) }}|{{ toJson (rest (list)) }}|{{ toJson (initial (list 1)) }}', '[]|null|[]'],
    // index of nil fails even without keys
    ['{{ index nil }}', /error calling index: index of untyped nil/],
    // a decoded key indexes a map
    ['{{ index (dict "a" 1) (b64dec "YQ==") }}', '1'],
    // html, js and urlquery print a nil operand as <no value>
    ['{{ html nil 1 }} {{ urlquery "x" nil }}', '&lt;no value&gt;1 x%3Cno+value%3E'],
    // deepCopy of nil fails
    ['{{ deepCopy nil }}', /error calling deepCopy: /],
    // toYaml quotes as go-yaml v2: double where YAML 1.1 reads another type, else single
    [
      '{{ toYaml (dict "n" "42" "y" "no" "s" " x" "c" "a: b" "t" "tab\\tx" "e" "" "d" "2024-01-01") }}',
      'c: \'a: b\'\nd: "2024-01-01"\ne: ""\n"n": "42"\ns: \' x\'\nt: "tab\\tx"\n"y": "no"',
    ],
    // toYaml does not indent a sequence in a map
    ['{{ toYaml (dict "a" (list (dict "b" (list 1 2)))) }}', 'a:\n- b:\n  - 1\n  - 2'],
  ] as [string, string | RegExp][])('%s', (src, want) => {
    const got = render(src);
    if (typeof want === 'string') expect(got).toBe(want);
    else expect(got).toMatch(new RegExp(`^error: .*${want.source}`));
  });
});
