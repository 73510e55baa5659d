// Every provider Ferry knows, by its field under spec.provider. Adding a provider means a folder
// under providers/, its schema under api/v1alpha1/providers/, and one line in each index.
import type { ProviderName } from '../api/v1alpha1/providers/index.ts';
import type { ProviderSpec } from '../api/v1alpha1/secret-store.ts';
import { awsProvider } from './aws/aws-provider.ts';
import { azureProvider } from './azure/azure-provider.ts';
import { fakeProvider } from './fake/fake-provider.ts';
import { gcpProvider } from './gcp/gcp-provider.ts';
import { type Provider, ProviderError } from './provider.ts';
import { vaultProvider } from './vault/vault-provider.ts';

// biome-ignore lint/suspicious/noExplicitAny: each entry is checked against its own spec type below
const providers: Record<ProviderName, Provider<any>> = {
  aws: awsProvider,
  azurekv: azureProvider,
  fake: fakeProvider,
  gcpsm: gcpProvider,
  vault: vaultProvider,
};

export interface SelectedProvider {
  provider: Provider<unknown>;
  spec: unknown;
}

/** The one provider a store's spec.provider sets (admission guarantees exactly one). */
export function selectProvider(spec: ProviderSpec): SelectedProvider {
  const names = (Object.keys(spec) as ProviderName[]).filter((n) => spec[n] !== undefined);
  const name = names[0];
  if (names.length !== 1 || !name) {
    throw new ProviderError('Invalid', `spec.provider must set exactly one provider, found ${names.length}`);
  }
  const provider = providers[name];
  if (!provider) throw new ProviderError('Invalid', `spec.provider.${name} is not a provider this Ferry version knows`);
  return { provider, spec: spec[name] };
}
