// dataFrom[].find names → keys: ESO's Default and Unicode conversions, then rewrite; collisions named.
import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { SecretValue } from '../../values.ts';
import { readId, renderSecretData } from './render.ts';

const names = ['team-a/db', 'x y', 'é'];
const fetched = new Map(names.map((n) => [readId({ key: n }), { value: SecretValue.fromString(`v:${n}`) }]));
const keys = (find: NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['find']>) =>
  Object.fromEntries(
    [...renderSecretData({ secretStoreRef: { name: 's' }, dataFrom: [{ find }] }, fetched, new Map([[0, names]]))].map(
      ([k, v]) => [k, v.revealText()],
    ),
  );

describe('find key conversion', () => {
  it('Default turns each character a key cannot hold into _', () => {
    expect(keys({ path: 'x' })).toEqual({ 'team-a_db': 'v:team-a/db', x_y: 'v:x y', _: 'v:é' });
  });

  it('Unicode writes _U<code point>_ as ESO does', () => {
    expect(keys({ path: 'x', conversionStrategy: 'Unicode' })).toEqual({
      'team-a_U002f_db': 'v:team-a/db',
      x_U0020_y: 'v:x y',
      _U00e9_: 'v:é',
    });
  });

  it('names two secrets that become the same key', () => {
    const clash = ['a/b', 'a b'];
    const values = new Map(clash.map((n) => [readId({ key: n }), { value: SecretValue.fromString('v') }]));
    expect(() =>
      renderSecretData(
        { secretStoreRef: { name: 's' }, dataFrom: [{ find: { path: 'a' } }] },
        values,
        new Map([[0, clash]]),
      ),
    ).toThrow('dataFrom[0].find: secrets "a/b" and "a b" both become key "a_b"');
  });
});

describe('find with rewrite (ESO: rewrite the names as found, convert only without rewrite)', () => {
  const found = ['path/to/my/secrets/db', 'path/to/my/secrets/api'];
  const values = new Map(found.map((n) => [readId({ key: n }), { value: SecretValue.fromString(`v:${n}`) }]));
  const render = (rewrite: NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['rewrite']>) =>
    Object.fromEntries(
      [
        ...renderSecretData(
          { secretStoreRef: { name: 's' }, dataFrom: [{ find: { path: 'path/to/my' }, rewrite }] },
          values,
          new Map([[0, found]]),
        ),
      ].map(([k, v]) => [k, v.revealText()]),
    );

  it('a regexp sees the names with their slashes (ESO docs: datafrom-rewrite-remove-path.yaml)', () => {
    expect(render([{ regexp: { source: 'path/to/my/secrets/(.*)', target: '$1' } }])).toEqual({
      db: 'v:path/to/my/secrets/db',
      api: 'v:path/to/my/secrets/api',
    });
  });

  it('a rewrite that leaves a slash is an invalid key, not converted', () => {
    expect(() => render([{ regexp: { source: '^path/', target: '' } }])).toThrow(
      'key "to/my/secrets/db" is not a valid Secret key',
    );
  });
});
