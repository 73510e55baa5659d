// camelcase/snakecase/kebabcase and semver/semverCompare against the test tables of the Go code
// they follow (upstream-tables.ts), Sprig's own examples, and through the template engine.
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateData } from './engine.ts';
import { checkConstraint, newConstraint, newVersion } from './semver.ts';
import * as tables from './upstream-tables.ts';
import { toKebabCase, toLowerCamelCase, toPascalCase, toSnakeCase } from './xstrings.ts';

const render = (src: string, values: Record<string, string> = {}) =>
  renderTemplate(
    'k',
    src,
    templateData(new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString();

describe('xstrings v1.5.0', () => {
  it.each(tables.snakeCase)('ToSnakeCase / ToKebabCase %j', (input, want) => {
    expect(toSnakeCase(input)).toBe(want);
    expect(toKebabCase(input)).toBe(want.replaceAll('_', '-'));
  });
  it.each(tables.pascalCase)('ToPascalCase %j', (input, want) => expect(toPascalCase(input)).toBe(want));
  it.each(tables.camelCase)('ToCamelCase %j', (input, want) => expect(toLowerCamelCase(input)).toBe(want));
});

describe('Masterminds/semver v3.3.0', () => {
  const check = (c: string, v: string) => checkConstraint(newConstraint(c, 'f'), newVersion(v, 'f'));
  // TestConstraintCheck's rows with an empty constraint test the internal parseConstraint;
  // NewConstraint (what Sprig calls) refuses "" (TestNewConstraint's table), so they are left out.
  it.each(tables.constraintCheck.filter(([c]) => c !== ''))('TestConstraintCheck %j %j', (c, v, want) =>
    expect(check(c, v)).toBe(want),
  );
  it.each(tables.constraintsCheck)('TestConstraintsCheck %j %j', (c, v, want) => expect(check(c, v)).toBe(want));
  it.each(tables.newConstraint)('NewConstraint %j refused: %s', (c, refused) => {
    if (refused) expect(() => newConstraint(c, 'f')).toThrow();
    else expect(() => newConstraint(c, 'f')).not.toThrow();
  });
  it.each(tables.newVersion)('NewVersion %j refused: %s', (v, refused) => {
    if (refused) expect(() => newVersion(v, 'f')).toThrow();
    else expect(() => newVersion(v, 'f')).not.toThrow();
  });
  it('refuses constraints over 1024 characters and stays fast on ones built to backtrack', () => {
    expect(() => newConstraint('1 '.repeat(600), 'f')).toThrow(/longer than 1024/);
    // Exponential for a naive port of Masterminds' regexps; these must simply finish (refused).
    expect(() => newConstraint(`${'1, '.repeat(300)}!`, 'f')).toThrow(/improper constraint/);
    expect(() => newConstraint(`${'v1.2 ='.repeat(150)}v!`, 'f')).toThrow(/improper constraint/);
  });
});

describe('through the engine', () => {
  it.each([
    // Sprig v3.3.0 functions_test.go TestSnakeCase / TestCamelCase / TestKebabCase
    ['{{ snakecase "FirstName" }}', 'first_name'],
    ['{{ snakecase "HTTPServer" }}', 'http_server'],
    ['{{ snakecase "NoHTTPS" }}', 'no_https'],
    ['{{ snakecase "GO PATH" }}', 'go_path'],
    ['{{ camelcase "http_server" }}', 'HttpServer'],
    // Long values: the result was spread into one call and threw a RangeError past ~100,000 words.
    ['{{ "x y" | repeat 200000 | camelcase | len }}|{{ "x y" | repeat 200000 | camelcase | trunc 5 }}', '400000|XYxYx'],
    [
      '{{ "x y" | repeat 200000 | kebabcase | len }}|{{ "xY" | repeat 200000 | snakecase | trunc 7 }}',
      '600000|x_yx_yx',
    ],
    ['{{ camelcase "_camel_case" }}', '_CamelCase'],
    ['{{ camelcase "_complex__case_" }}', '_Complex_Case_'],
    ['{{ camelcase "all" }}', 'All'],
    ['{{ kebabcase "FirstName" }}', 'first-name'],
    ['{{ kebabcase "GO_PATH" }}', 'go-path'],
    ['{{ "FooBar" | snakecase }}', 'foo_bar'],
    // (outputs of xstrings v1.5.0 and Masterminds/semver v3.3.0 run with Go for the same input)
    ['{{ .v | kebabcase }}', 'v1.2.3-beta.1-+-b7'],
    // Sprig v3.3.0 semver_test.go TestSemverCompare / TestSemver, and the struct's methods
    ['{{ semverCompare "1.2.3" "1.2.3" }}', 'true'],
    ['{{ semverCompare "^1.2.0" "1.2.3" }}', 'true'],
    ['{{ semverCompare "^1.2.0" "2.2.3" }}', 'false'],
    ['{{ semverCompare "^1.2.0" .w }}', 'true'],
    ['{{ semverCompare "^1.2.0" .v }}', 'false'],
    ['{{ semverCompare ">=1.2.0-0, <2" .v }}', 'false'],
    ['{{ semverCompare ">=1.2.0-0, <2.0.0-0" .v }}', 'true'],
    ['{{ semverCompare ">=1.2.0" .v }}', 'false'],
    ['{{ (semver .v).Major }}', '1'],
    [
      '{{ $v := semver .v }}{{ $v.Minor }}.{{ $v.Patch }}|{{ $v.Prerelease }}|{{ $v.Metadata }}|{{ $v.Original }}',
      '2.3|beta.1|b7|v1.2.3-beta.1+b7',
    ],
    ['{{ semver .v }}', '1.2.3-beta.1+b7'],
    ['{{ (semver "1.2").String }}', '1.2.0'],
    ['{{ (semver "v1.2.3").IncMinor }} {{ (semver "v1.2.3").IncMinor.String }}', '1.3.0 1.3.0'],
    [
      '{{ (semver "1.2.3-rc.1").IncPatch }} {{ (semver "1.2.3").IncPatch }} {{ (semver "1.2.3").IncMajor }}',
      '1.2.3 1.2.4 2.0.0',
    ],
    ['{{ if eq (semver "2.4.1").Major 2 }}two{{ end }}', 'two'],
    ['{{ semver "1.2.3" | toJson }}', '"1.2.3"'],
    ['{{ typeOf (semver "1.2.3") }} {{ typeOf (semver "1.2.3").IncMajor }}', '*semver.Version semver.Version'],
  ])('%s', (src, want) => expect(render(src, { v: 'v1.2.3-beta.1+b7', w: '1.4.0' })).toBe(want));

  it.each([
    ['{{ semver .secret }}', /error calling semver: semver: Invalid Semantic Version/],
    ['{{ semver "1.2.3-01" }}', /Version segment starts with 0/],
    ['{{ semverCompare .secret "1.2.3" }}', /error calling semverCompare: semverCompare: improper constraint/],
    ['{{ semverCompare "^1" .secret }}', /error calling semverCompare: semverCompare: Invalid Semantic Version/],
    ['{{ semverCompare "1.2.3" }}', /wrong number of args for semverCompare/],
    // Original is a pointer method: Go cannot call it on the value IncMajor returns.
    ['{{ (semver "1.2.3").IncMajor.Original }}', /can't evaluate field Original in type semver.Version/],
    ['{{ (semver "1.2.3").major }}', /can't evaluate field major/],
  ])('%s fails without the value', (src, want) => {
    let message = '';
    try {
      render(src, { secret: 'not-a-version SECRET-42' });
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      message = (err as Error).message;
    }
    expect(message).toMatch(want);
    expect(message).not.toContain('SECRET-42');
  });
});
