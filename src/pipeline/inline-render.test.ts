import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import { isTemplateFunction } from '../template/index.ts';
import { STRAIGHT_LINE_FUNCTIONS } from '../template/straight-line.ts';
import { SecretValue } from '../values.ts';
import { INLINE_MAX_SOURCE, INLINE_MAX_TEMPLATES, INLINE_MAX_VALUE_BYTES, rendersInline } from './inline-render.ts';
import { readId } from './render.ts';
import type { RenderJob } from './render-job.ts';

type Template = NonNullable<ExternalSecretSpec['target']>['template'];

function job(template: Template, valueBytes = 100, templateFrom: RenderJob['templateFrom'] = []): RenderJob {
  return {
    spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }], target: { template } },
    values: new Map([[readId({ key: 'k' }), { value: SecretValue.fromBytes(Buffer.alloc(valueBytes, 'a')) }]]),
    found: new Map(),
    templateFrom,
  };
}

describe('rendersInline', () => {
  it('keeps specs without templates, and small straight-line templates over small values, inline', () => {
    expect(rendersInline(job(undefined, 10 * INLINE_MAX_VALUE_BYTES))).toBe(true);
    expect(
      rendersInline(
        job({
          data: {
            url: '{{ $c := .v | fromJson }}postgres://{{ $c.user }}:{{ $c.pass | urlquery }}@db/app',
            cfg: '{{ if .v }}{{ dict "a" .v | toJson | b64enc }}{{ else }}none{{ end }}',
          },
          metadata: { labels: { app: '{{ "web" | upper }}' } },
          templateFrom: [{ literal: '{{ range $k, $v := . }}{{ $k }}: {{ $v | b64enc | quote }}\n{{ end }}' }],
        }),
      ),
    ).toBe(true);
  });

  it('sends loops, template calls and other functions to a worker', () => {
    for (const source of [
      '{{ range until 3 }}x{{ end }}',
      '{{ range $k, $v := . }}{{ range $.x }}{{ end }}{{ end }}',
      '{{ with .v }}{{ range . }}{{ end }}{{ end }}',
      '{{ range .v }}{{ end }}',
      '{{ define "a" }}x{{ end }}{{ template "a" }}',
      '{{ .v | repeat 3 }}',
      '{{ derivePassword 1 "long" .v "u" "s" }}',
      '{{ regexMatch "a+" .v }}',
      '{{ upper (.v | sha1sum) }}',
    ]) {
      expect(rendersInline(job({ data: { k: source } })), source).toBe(false);
    }
  });

  it('sends large templates, many templates, large values and key transforms to a worker', () => {
    expect(rendersInline(job({ data: { k: `{{ .v }}${'x'.repeat(INLINE_MAX_SOURCE)}` } }))).toBe(false);
    const many = Object.fromEntries(Array.from({ length: INLINE_MAX_TEMPLATES + 1 }, (_, i) => [`k${i}`, '{{ .v }}']));
    expect(rendersInline(job({ data: many }))).toBe(false);
    expect(rendersInline(job({ data: { k: '{{ .v }}' } }, INLINE_MAX_VALUE_BYTES + 1))).toBe(false);
    const transform = job(undefined);
    transform.spec.dataFrom = [
      { find: { name: { regexp: '.*' } }, rewrite: [{ transform: { template: '{{ .value }}' } }] },
    ];
    expect(rendersInline(transform)).toBe(false);
  });

  it('reads templateFrom items from the objects already read', () => {
    const fromMap = (source: string) =>
      job({ templateFrom: [{ configMap: { name: 'cm', items: [{ key: 'tpl' }] } }] }, 100, [{ tpl: source }]);
    expect(rendersInline(fromMap('{{ .v | lower }}'))).toBe(true);
    expect(rendersInline(fromMap('{{ range list 1 2 }}{{ end }}'))).toBe(false);
  });
});

describe('the straight-line functions', () => {
  it('are all functions of the template library', () => {
    expect([...STRAIGHT_LINE_FUNCTIONS].filter((name) => !isTemplateFunction(name))).toEqual([]);
  });
});
