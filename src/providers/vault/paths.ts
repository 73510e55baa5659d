// Where a remote key lives in a KV engine: the mount comes from spec.path (or the key's first
// segment), KV v2 reads go through <mount>/data/<path> (metadata through <mount>/metadata/<path>),
// and versions exist only in v2.
import type { RemoteRef } from '../provider.ts';
import { ProviderError } from '../provider.ts';
import type { VaultSpec } from './spec.ts';

type KvSpec = Pick<VaultSpec, 'path' | 'version'>;

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function isV2(spec: KvSpec): boolean {
  return (spec.version ?? 'v2') === 'v2';
}

/** The mount and the URL-encoded path of `key` inside it. */
function locate(spec: KvSpec, key: string): { mount: string; path: string } {
  const v2 = isV2(spec);
  const trimmed = trimSlashes(key);
  let mount = trimSlashes(spec.path ?? '');
  if (v2 && mount.endsWith('/data')) mount = mount.slice(0, -'/data'.length);
  let rest: string;
  if (mount) {
    // ESO accepts keys written as the whole path ("secret/app", "secret/data/app" with path "secret").
    rest = trimmed;
    if (trimmed.startsWith(`${mount}/`)) {
      rest = trimmed.slice(mount.length + 1);
      if (v2 && rest.startsWith('data/')) rest = rest.slice('data/'.length);
    }
  } else {
    const slash = trimmed.indexOf('/');
    if (slash <= 0) {
      throw new ProviderError(
        'Invalid',
        `remote key "${key}" has no mount: set spec.provider.vault.path or write the key as <mount>/<path>`,
      );
    }
    mount = trimmed.slice(0, slash);
    rest = trimmed.slice(slash + 1);
  }
  return { mount: encodeURIComponent(mount), path: rest.split('/').map(encodeURIComponent).join('/') };
}

/** The API path (under /v1/) and query that read `ref`'s value. */
export function kvReadPath(spec: KvSpec, ref: RemoteRef): string {
  const { mount, path } = locate(spec, ref.key);
  if (!isV2(spec)) {
    if (ref.version !== undefined) {
      throw new ProviderError(
        'Invalid',
        `remote key "${ref.key}": KV v1 has no versions, so remoteRef.version must be empty`,
      );
    }
    return `${mount}/${path}`;
  }
  const base = `${mount}/data/${path}`;
  if (ref.version === undefined) return base;
  if (!/^[1-9][0-9]{0,18}$/.test(ref.version)) {
    throw new ProviderError(
      'Invalid',
      `remote key "${ref.key}": remoteRef.version "${ref.version}" is not a KV v2 version number`,
    );
  }
  return `${base}?version=${ref.version}`;
}

/** The API path of `ref`'s KV v2 metadata (custom_metadata lives there, for every version). */
export function kvMetadataPath(spec: KvSpec, ref: RemoteRef): string {
  if (!isV2(spec)) {
    throw new ProviderError(
      'Invalid',
      `remote key "${ref.key}": metadataPolicy Fetch needs KV v2; KV v1 secrets have no metadata`,
    );
  }
  const { mount, path } = locate(spec, ref.key);
  return `${mount}/metadata/${path}`;
}

/**
 * The API path that lists the folder `folder` (written as keys are: under spec.path, or starting
 * with the mount when spec.path is unset) — KV v2 lists through <mount>/metadata/.
 */
export function kvListPath(spec: KvSpec, folder: string): string {
  const trimmed = trimSlashes(folder);
  let mount = trimSlashes(spec.path ?? '');
  if (isV2(spec) && mount.endsWith('/data')) mount = mount.slice(0, -'/data'.length);
  let rest = trimmed;
  if (!mount) {
    if (!trimmed) {
      throw new ProviderError(
        'Invalid',
        'find.path must start with the KV mount when spec.provider.vault.path is not set (e.g. secret/app)',
      );
    }
    const slash = trimmed.indexOf('/');
    mount = slash < 0 ? trimmed : trimmed.slice(0, slash);
    rest = slash < 0 ? '' : trimmed.slice(slash + 1);
  }
  const encoded = rest ? `${rest.split('/').map(encodeURIComponent).join('/')}/` : '';
  return `${encodeURIComponent(mount)}/${isV2(spec) ? 'metadata/' : ''}${encoded}?list=true`;
}
