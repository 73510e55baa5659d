// The type of spec.provider.azurekv, inferred from its CRD schema.
import type { TypeOf } from '../../api/schema.ts';
import type { azurekvProvider } from '../../api/v1alpha1/providers/azurekv.ts';

export type AzureSpec = TypeOf<ReturnType<typeof azurekvProvider>>;
export type AzureAuthType = NonNullable<AzureSpec['authType']>;

export function authTypeOf(spec: AzureSpec): AzureAuthType {
  return spec.authType ?? 'ServicePrincipal';
}
