// Where a remote key lives in a KV engine: the mount comes from spec.path (or the key's first
// segment), KV v2 reads go through <mount>/data/<path>, and versions exist only in v2.
import type { RemoteRef } from '../provider.ts';
import { ProviderError } from '../provider.ts';
import type { VaultSpec } from './spec.ts';

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

/** The API path (under /v1/) and query that read `ref`. */
export function kvReadPath(spec: Pick<VaultSpec, 'path' | 'version'>, ref: RemoteRef): string {
  const v2 = (spec.version ?? 'v2') === 'v2';
  const key = trimSlashes(ref.key);
  let mount = trimSlashes(spec.path ?? '');
  if (v2 && mount.endsWith('/data')) mount = mount.slice(0, -'/data'.length);
  let rest: string;
  if (mount) {
    // ESO accepts keys written as the whole path ("secret/app", "secret/data/app" with path "secret").
    rest = key;
    if (key.startsWith(`${mount}/`)) {
      rest = key.slice(mount.length + 1);
      if (v2 && rest.startsWith('data/')) rest = rest.slice('data/'.length);
    }
  } else {
    const slash = key.indexOf('/');
    if (slash <= 0) {
      throw new ProviderError(
        'Invalid',
        `remote key "${ref.key}" has no mount: set spec.provider.vault.path or write the key as <mount>/<path>`,
      );
    }
    mount = key.slice(0, slash);
    rest = key.slice(slash + 1);
  }
  const encoded = rest.split('/').map(encodeURIComponent).join('/');
  if (!v2) {
    if (ref.version !== undefined) {
      throw new ProviderError(
        'Invalid',
        `remote key "${ref.key}": KV v1 has no versions, so remoteRef.version must be empty`,
      );
    }
    return `${encodeURIComponent(mount)}/${encoded}`;
  }
  const base = `${encodeURIComponent(mount)}/data/${encoded}`;
  if (ref.version === undefined) return base;
  if (!/^[1-9][0-9]{0,18}$/.test(ref.version)) {
    throw new ProviderError(
      'Invalid',
      `remote key "${ref.key}": remoteRef.version "${ref.version}" is not a KV v2 version number`,
    );
  }
  return `${base}?version=${ref.version}`;
}
