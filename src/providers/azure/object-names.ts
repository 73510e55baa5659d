// What remoteRef.key and remoteRef.version may name in a vault: a secret, by the name rules of
// Key Vault (1–127 letters, digits and dashes), optionally written the ESO way as secret/<name>.
// Keys and certificates (key/…, cert/…) are other object types that Ferry does not read.
import { ProviderError } from '../provider.ts';

const NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9A-Za-z]{1,64}$/;

/** The secret name `key` refers to. Throws Invalid for other object types and malformed names. */
export function secretNameOf(key: string): string {
  const slash = key.indexOf('/');
  const kind = slash < 0 ? 'secret' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (kind === 'cert' || kind === 'key') {
    throw new ProviderError(
      'Invalid',
      `Azure remote key "${key}": ${kind === 'cert' ? 'certificate' : 'key'} objects (${kind}/) are not supported; only secrets (a name, or secret/<name>)`,
    );
  }
  if (kind !== 'secret') {
    throw new ProviderError(
      'Invalid',
      `Azure remote key "${key}": unknown object type "${kind}/"; use a name or secret/<name>`,
    );
  }
  if (!NAME.test(name)) {
    throw new ProviderError(
      'Invalid',
      `Azure remote key "${key}": a Key Vault secret name is 1–127 letters, digits and dashes`,
    );
  }
  return name;
}

/** The version to read: undefined for the current one (unset, or ESO's spellings of "latest"). */
export function secretVersionOf(key: string, version: string | undefined): string | undefined {
  if (version === undefined || version === '' || version === 'latest') return undefined;
  if (!VERSION.test(version)) {
    throw new ProviderError('Invalid', `Azure remote key "${key}": version "${version}" is not a Key Vault version ID`);
  }
  return version;
}
