import { describe, expect, it } from 'vitest';
import { secretNameOf, secretVersionOf } from './object-names.ts';

describe('Azure Key Vault object names', () => {
  it('reads a bare name and ESO’s secret/<name> as the same secret', () => {
    expect(secretNameOf('db-password')).toBe('db-password');
    expect(secretNameOf('secret/db-password')).toBe('db-password');
  });

  it('refuses certificates and keys, saying they are not supported', () => {
    expect(() => secretNameOf('cert/tls')).toThrow(/certificate objects \(cert\/\) are not supported/);
    expect(() => secretNameOf('key/signing')).toThrow(/key objects \(key\/\) are not supported/);
    expect(() => secretNameOf('cert/tls')).toThrow(expect.objectContaining({ kind: 'Invalid' }));
  });

  it('refuses names Key Vault would never hold', () => {
    for (const bad of ['', 'with_underscore', 'a.b', 'x'.repeat(128), 'other/x', 'secret/']) {
      expect(() => secretNameOf(bad), bad).toThrow(expect.objectContaining({ kind: 'Invalid' }));
    }
  });

  it('treats an unset version and latest as the current version', () => {
    expect(secretVersionOf('k', undefined)).toBeUndefined();
    expect(secretVersionOf('k', 'latest')).toBeUndefined();
    expect(secretVersionOf('k', '0123456789abcdef0123456789abcdef')).toBe('0123456789abcdef0123456789abcdef');
    expect(() => secretVersionOf('k', '../x')).toThrow(/not a Key Vault version ID/);
  });
});
