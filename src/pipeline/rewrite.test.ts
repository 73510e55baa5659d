/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's ${name} replacement syntax */
import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { FetchedValue } from '../providers/provider.ts';
import { SecretValue } from '../values.ts';
import { readId, renderSecretData } from './render.ts';
import { type Rewrite, rewriteKeys } from './rewrite.ts';

const CANARY = 'canary-93ab-rewrite';
const keys = (m: Map<string, unknown>) => [...m.keys()];
const of = (...k: string[]) => new Map(k.map((x) => [x, x]));

describe('dataFrom rewrite', () => {
  it.each<[string, string[], Rewrite[], string[]]>([
    [
      'regexp with $1',
      ['db-user', 'db-pass', 'other'],
      [{ regexp: { source: '^db-(.*)', target: '$1' } }],
      ['user', 'pass', 'other'],
    ],
    ['braced and named groups', ['a_b'], [{ regexp: { source: '(?P<x>a)_(b)', target: '${2}-${x}' } }], ['b-a']],
    ['$$ and an unknown group', ['k'], [{ regexp: { source: 'k', target: '$$-$nope-' } }], ['$--']],
    ['every match replaced', ['a/b/c'], [{ regexp: { source: '/', target: '_' } }], ['a_b_c']],
    // ESO's datafrom-rewrite-conflict example; Go 1.26 gives "dev-username" (no second, empty match at the end).
    ['(.*) matched once, as Go', ['username'], [{ regexp: { source: '(.*)', target: 'dev-$1' } }], ['dev-username']],
    ['(?i) flag', ['DB-X'], [{ regexp: { source: '(?i)^db-', target: '' } }], ['X']],
    [
      'transform template',
      ['Path/Key'],
      [{ transform: { template: '{{ .value | lower | replace "/" "." }}' } }],
      ['path.key'],
    ],
    [
      'in order',
      ['/app/db/user'],
      [
        { regexp: { source: '^/app/', target: '' } },
        { transform: { template: '{{ .value | replace "/" "_" | upper }}' } },
      ],
      ['DB_USER'],
    ],
  ])('%s', (_, input, rewrites, want) => {
    expect(keys(rewriteKeys(of(...input), rewrites, 'dataFrom[0]'))).toEqual(want);
  });

  it('refuses two keys that become one, naming both', () => {
    expect(() =>
      rewriteKeys(of('db-a', 'app-a'), [{ regexp: { source: '^[a-z]+-', target: '' } }], 'dataFrom[0]'),
    ).toThrow('dataFrom[0].rewrite[0]: keys "db-a" and "app-a" both become "a"');
  });

  it.each<[Rewrite, RegExp]>([
    [{ regexp: { source: '(', target: '' } }, /rewrite\[0\]\.regexp\.source: the regexp does not compile/],
    [{ transform: { template: '{{ nosuch }}' } }, /rewrite\[0\]\.transform\.template: .*function "nosuch" not defined/],
  ])('reports a bad rewrite by field', (rw, message) => {
    expect(() => rewriteKeys(of('k'), [rw], 'dataFrom[0]')).toThrow(message);
  });

  it('turns invalid provider keys into valid Secret keys, and refuses a rewrite that leaves one invalid', () => {
    const fetched = new Map<string, FetchedValue>([
      [readId({ key: 'k' }), { value: SecretValue.fromString(`{"/a/b":"${CANARY}","c d":"x"}`) }],
    ]);
    const spec = (rewrite: Rewrite[]): ExternalSecretSpec => ({
      secretStoreRef: { name: 's' },
      dataFrom: [{ extract: { key: 'k' }, rewrite }],
    });
    const out = renderSecretData(spec([{ regexp: { source: '[/ ]', target: '_' } }]), fetched);
    expect([...out.keys()]).toEqual(['_a_b', 'c_d']);
    expect(out.get('_a_b')?.revealText()).toBe(CANARY);
    let error: Error | undefined;
    try {
      renderSecretData(spec([{ regexp: { source: '^/', target: '' } }]), fetched);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/key "a\/b" is not a valid Secret key/);
    expect(error?.message).not.toContain(CANARY);
  });
});
