import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.ts';
import { kvMetadataPath, kvReadPath } from './paths.ts';

describe('kvReadPath', () => {
  it('reads KV v2 through <mount>/data/<path>, v2 being the default', () => {
    expect(kvReadPath({ path: 'secret' }, { key: 'app/db' })).toBe('secret/data/app/db');
    expect(kvReadPath({ path: 'secret', version: 'v2' }, { key: 'app/db', version: '3' })).toBe(
      'secret/data/app/db?version=3',
    );
  });

  it('accepts a mount written with /data and a key that repeats the mount, as ESO does', () => {
    expect(kvReadPath({ path: 'secret/data' }, { key: 'app' })).toBe('secret/data/app');
    expect(kvReadPath({ path: '/secret/' }, { key: 'secret/app' })).toBe('secret/data/app');
    expect(kvReadPath({ path: 'secret' }, { key: 'secret/data/app' })).toBe('secret/data/app');
    // Only a key that starts with the mount is taken as a whole path; others are paths in the mount.
    expect(kvReadPath({ path: 'secret' }, { key: 'data/app' })).toBe('secret/data/data/app');
  });

  it('takes the mount from the key when path is unset', () => {
    expect(kvReadPath({}, { key: 'kv/team/app' })).toBe('kv/data/team/app');
    expect(kvReadPath({ version: 'v1' }, { key: 'kv1/app' })).toBe('kv1/app');
  });

  it('reads KV v1 at <mount>/<path> and refuses versions there', () => {
    expect(kvReadPath({ path: 'kv1', version: 'v1' }, { key: 'app' })).toBe('kv1/app');
    expect(() => kvReadPath({ path: 'kv1', version: 'v1' }, { key: 'app', version: '2' })).toThrow(
      /KV v1 has no versions/,
    );
  });

  it('encodes path segments so a key cannot reach another API path', () => {
    expect(kvReadPath({ path: 'secret' }, { key: 'a b/c?d' })).toBe('secret/data/a%20b/c%3Fd');
  });

  it('names the field in a clear Invalid error for unusable keys and versions', () => {
    const invalid = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof ProviderError && err.kind === 'Invalid' ? err.message : undefined;
      }
      return undefined;
    };
    expect(invalid(() => kvReadPath({}, { key: 'app' }))).toMatch(/spec.provider.vault.path/);
    expect(invalid(() => kvReadPath({ path: 'secret' }, { key: 'app', version: 'latest' }))).toMatch(
      /remoteRef.version "latest"/,
    );
  });
});

describe('kvMetadataPath', () => {
  it('reads KV v2 metadata at <mount>/metadata/<path> and refuses KV v1', () => {
    expect(kvMetadataPath({ path: 'secret' }, { key: 'secret/data/app', metadataPolicy: 'Fetch' })).toBe(
      'secret/metadata/app',
    );
    expect(() => kvMetadataPath({ path: 'kv1', version: 'v1' }, { key: 'app' })).toThrow(/needs KV v2/);
  });
});
