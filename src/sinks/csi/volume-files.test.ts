import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { SecretValue } from '../../values.ts';
import { FileMappingError, volumeFiles } from './volume-files.ts';

const data = new Map([
  ['password', SecretValue.fromString('p')],
  ['user', SecretValue.fromString('u')],
]);
const spec = (files?: NonNullable<ExternalSecretSpec['target']>['files']): ExternalSecretSpec => ({
  secretStoreRef: { name: 's' },
  target: { creationPolicy: 'None', files },
  data: [],
});

describe('volumeFiles', () => {
  it('writes every key as a file named after it, mode 0644, without target.files', () => {
    expect(volumeFiles(spec(), data).map((f) => [f.path, f.bytes.toString(), f.mode])).toEqual([
      ['password', 'p', 0o644],
      ['user', 'u', 0o644],
    ]);
  });

  it('writes only the listed items, at their paths and modes, defaultMode for the rest', () => {
    const files = volumeFiles(
      spec({
        defaultMode: 0o440,
        items: [
          { key: 'password', path: 'db/pw', mode: 0o400 },
          { key: 'user', path: 'u' },
        ],
      }),
      data,
    );
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ['db/pw', 0o400],
      ['u', 0o440],
    ]);
  });

  it('names the field when an item names a key the data lacks or a path escapes', () => {
    expect(() => volumeFiles(spec({ items: [{ key: 'nope', path: 'x' }] }), data)).toThrow(
      /spec.target.files.items: key "nope" is not in the rendered data/,
    );
    expect(() => volumeFiles(spec({ items: [{ key: 'user', path: '../x' }] }), data)).toThrow(FileMappingError);
  });
});
