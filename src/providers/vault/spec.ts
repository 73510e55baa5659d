// The type of spec.provider.vault, inferred from its CRD schema.
import type { TypeOf } from '../../api/schema.ts';
import type { vaultProvider } from '../../api/v1alpha1/providers/vault.ts';

export type VaultSpec = TypeOf<ReturnType<typeof vaultProvider>>;
export type VaultAuthSpec = VaultSpec['auth'];
