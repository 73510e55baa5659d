/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// camelcase, snakecase and kebabcase against huandu/xstrings v1.5.0's own test table
// (fixtures/huandu-xstrings-v1.5.0.json) and Sprig's examples.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTemplate, templateData } from '../engine.ts';
import { toKebabCase, toLowerCamelCase, toPascalCase, toSnakeCase } from './case-conversion.ts';

type Table = { rows: [string, string][] };
const upstream = JSON.parse(
  readFileSync(new URL('./fixtures/huandu-xstrings-v1.5.0.json', import.meta.url), 'utf8'),
) as { TestToSnakeCaseAndToKebabCase: Table; TestToPascalCase: Table; TestToCamelCase: Table };
const render = (src: string, values: Record<string, string> = {}) =>
  renderTemplate(
    'k',
    src,
    templateData(new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString();

describe('xstrings v1.5.0', () => {
  it.each(upstream.TestToSnakeCaseAndToKebabCase.rows)('ToSnakeCase / ToKebabCase %j', (input, want) => {
    expect(toSnakeCase(input)).toBe(want);
    expect(toKebabCase(input)).toBe(want.replaceAll('_', '-'));
  });
  it.each(upstream.TestToPascalCase.rows)('ToPascalCase %j', (input, want) => expect(toPascalCase(input)).toBe(want));
  it.each(upstream.TestToCamelCase.rows)('ToCamelCase %j', (input, want) => expect(toLowerCamelCase(input)).toBe(want));
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
  ])('%s', (src, want) => expect(render(src, { v: 'v1.2.3-beta.1+b7', w: '1.4.0' })).toBe(want));
});
