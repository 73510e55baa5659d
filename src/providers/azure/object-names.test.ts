import { describe, expect, it } from 'vitest';
import { azureObjectOf, objectVersionOf } from './object-names.ts';

describe('Azure Key Vault object names', () => {
  it('reads a bare name and ESO’s secret/<name> as the same secret', () => {
    expect(azureObjectOf('db-password')).toEqual({ kind: 'secret', name: 'db-password' });
    expect(azureObjectOf('secret/db-password')).toEqual({ kind: 'secret', name: 'db-password' });
  });

  it('reads cert/<name> as a certificate and key/<name> as a key', () => {
    expect(azureObjectOf('cert/db-client-cert')).toEqual({ kind: 'cert', name: 'db-client-cert' });
    expect(azureObjectOf('key/encryption-pubkey')).toEqual({ kind: 'key', name: 'encryption-pubkey' });
  });

  it('refuses unknown object types, naming the ones there are', () => {
    expect(() => azureObjectOf('other/x')).toThrow(/unknown object type "other\/".*cert\/<name> or key\/<name>/);
    expect(() => azureObjectOf('certificate/x')).toThrow(expect.objectContaining({ kind: 'Invalid' }));
  });

  it('refuses names Key Vault would never hold, for every object type', () => {
    for (const bad of [
      '',
      'with_underscore',
      'a.b',
      'x'.repeat(128),
      'secret/',
      'cert/',
      'key/',
      'cert/a/b',
      'key/a_b',
    ]) {
      expect(() => azureObjectOf(bad), bad).toThrow(expect.objectContaining({ kind: 'Invalid' }));
    }
    expect(() => azureObjectOf('cert/a.b')).toThrow(/certificate name is 1–127/);
    expect(() => azureObjectOf('key/a.b')).toThrow(/key name is 1–127/);
  });

  it('treats an unset version and latest as the current version', () => {
    expect(objectVersionOf('k', undefined)).toBeUndefined();
    expect(objectVersionOf('k', 'latest')).toBeUndefined();
    expect(objectVersionOf('k', '0123456789abcdef0123456789abcdef')).toBe('0123456789abcdef0123456789abcdef');
    expect(() => objectVersionOf('k', '../x')).toThrow(/not a Key Vault version ID/);
  });
});
