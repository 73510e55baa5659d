// Every provider Ferry knows, by its field under spec.provider. Adding a provider means a folder
// under providers/, its schema under api/v1alpha1/providers/, and one line in each index.
import type { ProviderName } from '../api/v1alpha1/providers/index.ts';
import type { ProviderSpec } from '../api/v1alpha1/secret-store.ts';
import { type Provider, ProviderError } from './provider.ts';

// Loaded on first use: each cloud SDK costs megabytes of heap (Google ~10 MiB, Azure ~5 MiB,
// AWS ~2 MiB after GC), and most installs use one or two providers.
// biome-ignore lint/suspicious/noExplicitAny: each entry is checked against its own spec type below
const providers: Record<ProviderName, () => Promise<Provider<any>>> = {
  aws: async () => (await import('./aws/aws-provider.ts')).awsProvider,
  azurekv: async () => (await import('./azure/azure-provider.ts')).azureProvider,
  fake: async () => (await import('./fake/fake-provider.ts')).fakeProvider,
  gcpsm: async () => (await import('./gcp/gcp-provider.ts')).gcpProvider,
  vault: async () => (await import('./vault/vault-provider.ts')).vaultProvider,
};

export interface SelectedProvider {
  provider: Provider<unknown>;
  spec: unknown;
}

/** The one provider a store's spec.provider sets (admission guarantees exactly one). */
export async function selectProvider(spec: ProviderSpec): Promise<SelectedProvider> {
  const names = (Object.keys(spec) as ProviderName[]).filter((n) => spec[n] !== undefined);
  const name = names[0];
  if (names.length !== 1 || !name) {
    throw new ProviderError('Invalid', `spec.provider must set exactly one provider, found ${names.length}`);
  }
  const load = providers[name];
  if (!load) throw new ProviderError('Invalid', `spec.provider.${name} is not a provider this Ferry version knows`);
  return { provider: await load(), spec: spec[name] };
}
