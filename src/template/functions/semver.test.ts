/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// semver and semverCompare against Masterminds/semver v3.3.0's own test tables
// (fixtures/masterminds-semver-v3.3.0.json), Sprig's examples, and through the engine.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateData } from '../engine.ts';
import { checkConstraint, newConstraint, newVersion } from './semver.ts';

type Table<R> = { rows: R[] };
const upstream = JSON.parse(
  readFileSync(new URL('./fixtures/masterminds-semver-v3.3.0.json', import.meta.url), 'utf8'),
) as {
  TestConstraintCheck: Table<[string, string, boolean]>;
  TestConstraintsCheck: Table<[string, string, boolean]>;
  TestNewConstraint: Table<[string, boolean]>;
  TestNewVersion: Table<[string, boolean]>;
};
const render = (src: string, values: Record<string, string> = {}) =>
  renderTemplate(
    'k',
    src,
    templateData(new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString();

describe('Masterminds/semver v3.3.0', () => {
  const check = (c: string, v: string) => checkConstraint(newConstraint(c, 'f'), newVersion(v, 'f'));
  // TestConstraintCheck's rows with an empty constraint test the internal parseConstraint;
  // NewConstraint (what Sprig calls) refuses "" (TestNewConstraint's table), so they are left out.
  it.each(upstream.TestConstraintCheck.rows.filter(([c]) => c !== ''))('TestConstraintCheck %j %j', (c, v, want) =>
    expect(check(c, v)).toBe(want),
  );
  it.each(upstream.TestConstraintsCheck.rows)('TestConstraintsCheck %j %j', (c, v, want) =>
    expect(check(c, v)).toBe(want),
  );
  it.each(upstream.TestNewConstraint.rows)('NewConstraint %j refused: %s', (c, refused) => {
    if (refused) expect(() => newConstraint(c, 'f')).toThrow();
    else expect(() => newConstraint(c, 'f')).not.toThrow();
  });
  it.each(upstream.TestNewVersion.rows)('NewVersion %j refused: %s', (v, refused) => {
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
