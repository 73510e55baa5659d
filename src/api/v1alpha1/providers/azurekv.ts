// spec.provider.azurekv: Azure Key Vault secrets (ESO field names and enum spellings).
import { enumOf, object, required, string } from '../../schema.ts';
import { type StoreScope, secretKeySelector, serviceAccountSelector } from '../common.ts';

/** An https URL without path: a vault (https://<name>.vault.azure.net) or an Entra authority host. */
const HTTPS_HOST_PATTERN = '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$';

const isType = (type: string) =>
  type === 'ServicePrincipal'
    ? "(!has(self.authType) || self.authType == 'ServicePrincipal')"
    : `(has(self.authType) && self.authType == '${type}')`;

function authSecretRef(scope: StoreScope) {
  return object(
    'Credentials of a service principal (authType ServicePrincipal), read from Secrets: clientId and one of clientSecret or clientCertificate.',
    {
      clientId: required(secretKeySelector('The application (client) ID of the service principal.', scope)),
      clientSecret: secretKeySelector('A client secret of the service principal.', scope),
      clientCertificate: secretKeySelector(
        'A client certificate of the service principal: PEM holding the certificate and its unencrypted private key.',
        scope,
      ),
    },
    {
      validations: [
        {
          rule: 'has(self.clientSecret) != has(self.clientCertificate)',
          message: 'set exactly one of clientSecret and clientCertificate',
          fieldPath: '.clientSecret',
          reason: 'FieldValueInvalid',
        },
      ],
    },
  );
}

export function azurekvProvider(scope: StoreScope) {
  return object(
    'Azure Key Vault secrets. remoteRef.key is the secret name (the prefix secret/ is accepted; cert/ and key/ objects are not supported); remoteRef.version is a version ID (default: the current version). Exactly one way to authenticate, chosen by authType.',
    {
      vaultUrl: required(
        string('URL of the vault, e.g. https://my-vault.vault.azure.net.', {
          maxLength: 2048,
          pattern: HTTPS_HOST_PATTERN,
        }),
      ),
      tenantId: string(
        'Microsoft Entra tenant (directory) ID. Required for ServicePrincipal; for WorkloadIdentity it defaults to the ServiceAccount annotation azure.workload.identity/tenant-id.',
        { maxLength: 128 },
      ),
      environmentType: enumOf(
        'Azure cloud, which selects the Entra authority host: PublicCloud (default, login.microsoftonline.com), USGovernmentCloud (login.microsoftonline.us), ChinaCloud (login.chinacloudapi.cn), GermanCloud (login.microsoftonline.de, retired by Microsoft), AzureStackCloud (customCloudConfig.activeDirectoryEndpoint).',
        ['PublicCloud', 'USGovernmentCloud', 'ChinaCloud', 'GermanCloud', 'AzureStackCloud'] as const,
      ),
      customCloudConfig: object('Endpoints of a cloud that is not built in (environmentType AzureStackCloud).', {
        activeDirectoryEndpoint: required(
          string('Entra (or AD FS) authority host, e.g. https://login.example.com.', {
            maxLength: 2048,
            pattern: HTTPS_HOST_PATTERN,
          }),
        ),
      }),
      authType: enumOf(
        'How Ferry authenticates: ServicePrincipal (default; authSecretRef), WorkloadIdentity (serviceAccountRef) or ManagedIdentity (the identity of the node or pod Ferry runs on; identityId picks a user-assigned one).',
        ['ServicePrincipal', 'ManagedIdentity', 'WorkloadIdentity'] as const,
      ),
      authSecretRef: authSecretRef(scope),
      serviceAccountRef: serviceAccountSelector(
        'WorkloadIdentity: the ServiceAccount whose token (TokenRequest, audience api://AzureADTokenExchange unless audiences are set) is the client assertion. Its annotation azure.workload.identity/client-id names the application; azure.workload.identity/tenant-id the tenant unless tenantId is set.',
        scope,
      ),
      identityId: string(
        'ManagedIdentity: a user-assigned identity, by client ID or by resource ID (/subscriptions/…). Unset: the system-assigned identity.',
        { maxLength: 1024 },
      ),
    },
    {
      validations: [
        {
          rule: `!${isType('ServicePrincipal')} || has(self.authSecretRef)`,
          message: 'authType ServicePrincipal needs authSecretRef',
          fieldPath: '.authSecretRef',
          reason: 'FieldValueRequired',
        },
        {
          rule: `!has(self.authSecretRef) || ${isType('ServicePrincipal')}`,
          message: 'authSecretRef is only used with authType ServicePrincipal',
          fieldPath: '.authSecretRef',
          reason: 'FieldValueForbidden',
        },
        {
          rule: `!${isType('ServicePrincipal')} || has(self.tenantId)`,
          message: 'authType ServicePrincipal needs tenantId',
          fieldPath: '.tenantId',
          reason: 'FieldValueRequired',
        },
        {
          rule: `has(self.serviceAccountRef) == ${isType('WorkloadIdentity')}`,
          message: 'serviceAccountRef is required with authType WorkloadIdentity and used with no other',
          fieldPath: '.serviceAccountRef',
          reason: 'FieldValueInvalid',
        },
        {
          rule: `!has(self.identityId) || ${isType('ManagedIdentity')}`,
          message: 'identityId is only used with authType ManagedIdentity',
          fieldPath: '.identityId',
          reason: 'FieldValueForbidden',
        },
        {
          rule: "has(self.customCloudConfig) == (has(self.environmentType) && self.environmentType == 'AzureStackCloud')",
          message: 'customCloudConfig is required with environmentType AzureStackCloud and used with no other',
          fieldPath: '.customCloudConfig',
          reason: 'FieldValueInvalid',
        },
      ],
    },
  );
}
