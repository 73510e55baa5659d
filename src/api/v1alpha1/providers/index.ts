// Every provider schema a store may use, keyed by its field under spec.provider.
import type { StoreScope } from '../common.ts';
import { awsProvider } from './aws.ts';
import { azurekvProvider } from './azurekv.ts';
import { fakeProvider } from './fake.ts';
import { gcpsmProvider } from './gcpsm.ts';
import { vaultProvider } from './vault.ts';

export function providerSchemas(scope: StoreScope) {
  return {
    aws: awsProvider(scope),
    azurekv: azurekvProvider(scope),
    fake: fakeProvider(),
    gcpsm: gcpsmProvider(scope),
    vault: vaultProvider(scope),
  };
}

export type ProviderName = keyof ReturnType<typeof providerSchemas>;
