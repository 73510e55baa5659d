// What remoteRef.key and remoteRef.version may name in a vault, as ESO spells it: a secret (a bare
// name, or secret/<name>), a certificate (cert/<name>) or a key (key/<name>); each name by the
// rules of Key Vault (1–127 letters, digits and dashes).
import { ProviderError } from '../provider.ts';

const NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9A-Za-z]{1,64}$/;

export type AzureObjectKind = 'secret' | 'cert' | 'key';

export interface AzureObject {
  kind: AzureObjectKind;
  name: string;
}

const KINDS: ReadonlySet<string> = new Set<AzureObjectKind>(['secret', 'cert', 'key']);
const LABEL: Record<AzureObjectKind, string> = { secret: 'secret', cert: 'certificate', key: 'key' };

/** The vault object `key` refers to. Throws Invalid for unknown object types and malformed names. */
export function azureObjectOf(key: string): AzureObject {
  const slash = key.indexOf('/');
  const kind = slash < 0 ? 'secret' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (!KINDS.has(kind)) {
    throw new ProviderError(
      'Invalid',
      `Azure remote key "${key}": unknown object type "${kind}/"; use a name, secret/<name>, cert/<name> or key/<name>`,
    );
  }
  const k = kind as AzureObjectKind;
  if (!NAME.test(name)) {
    throw new ProviderError(
      'Invalid',
      `Azure remote key "${key}": a Key Vault ${LABEL[k]} name is 1–127 letters, digits and dashes`,
    );
  }
  return { kind: k, name };
}

/** The version to read: undefined for the current one (unset, or ESO's spellings of "latest"). */
export function objectVersionOf(key: string, version: string | undefined): string | undefined {
  if (version === undefined || version === '' || version === 'latest') return undefined;
  if (!VERSION.test(version)) {
    throw new ProviderError('Invalid', `Azure remote key "${key}": version "${version}" is not a Key Vault version ID`);
  }
  return version;
}
