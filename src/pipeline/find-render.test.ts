// dataFrom[].find names and extract keys → Secret keys: ESO's Default and Unicode conversions
// without rewrite, rewrite of the names as they are otherwise; collisions named.
import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import { SecretValue } from '../values.ts';
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

describe("extract key conversion (ESO: convert the object's keys only without rewrite)", () => {
  const doc = JSON.stringify({ 'db/user': 'u', 'db pass': 'p', plain: 'x' });
  const values = new Map([[readId({ key: 'bundle' }), { value: SecretValue.fromString(doc) }]]);
  type Extract = NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['extract']>;
  type Rewrite = NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['rewrite']>;
  const render = (extract: Partial<Extract>, rewrite?: Rewrite) =>
    Object.fromEntries(
      [
        ...renderSecretData(
          { secretStoreRef: { name: 's' }, dataFrom: [{ extract: { key: 'bundle', ...extract }, rewrite }] },
          values,
        ),
      ].map(([k, v]) => [k, v.revealText()]),
    );

  it('Default (the default) turns each character a key cannot hold into _', () => {
    expect(render({})).toEqual({ db_user: 'u', db_pass: 'p', plain: 'x' });
  });

  it('Unicode writes _U<code point>_', () => {
    expect(render({ conversionStrategy: 'Unicode' })).toEqual({ db_U002f_user: 'u', db_U0020_pass: 'p', plain: 'x' });
  });

  it('with a rewrite the keys are rewritten as they are and not converted', () => {
    expect(render({}, [{ regexp: { source: '^db[/ ]', target: 'db-' } }])).toEqual({
      'db-user': 'u',
      'db-pass': 'p',
      plain: 'x',
    });
    expect(() => render({}, [{ regexp: { source: '^plain$', target: 'p' } }])).toThrow(
      'key "db/user" is not a valid Secret key',
    );
  });

  it('names two keys that become the same key', () => {
    const clash = new Map([[readId({ key: 'c' }), { value: SecretValue.fromString('{"a/b":"1","a b":"2"}') }]]);
    expect(() =>
      renderSecretData({ secretStoreRef: { name: 's' }, dataFrom: [{ extract: { key: 'c' } }] }, clash),
    ).toThrow('keys "a/b" and "a b" both become key "a_b"');
  });
});
