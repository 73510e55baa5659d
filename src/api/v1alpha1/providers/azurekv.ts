// spec.provider.azurekv: Azure Key Vault secrets, certificates and keys (ESO field names and enum spellings).
import { boolean, enumOf, object, required, string } from '../../schema.ts';
import { type StoreScope, secretKeySelector, serviceAccountSelector } from '../common.ts';

/** An https URL without path: a vault (https://<name>.vault.azure.net) or an Entra authority host. */
const HTTPS_HOST_PATTERN = '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$';

const isType = (type: string) =>
  type === 'ServicePrincipal'
    ? "(!has(self.authType) || self.authType == 'ServicePrincipal')"
    : `(has(self.authType) && self.authType == '${type}')`;

function authSecretRef(scope: StoreScope) {
  return object(
    'IDs and credentials read from Secrets. ServicePrincipal: clientId and one of clientSecret or clientCertificate, optionally tenantId. WorkloadIdentity: clientId (instead of the ServiceAccount annotation) and optionally tenantId; no clientSecret or clientCertificate.',
    {
      clientId: required(
        secretKeySelector('The application (client) ID of the service principal or workload identity.', scope),
      ),
      clientSecret: secretKeySelector('ServicePrincipal: a client secret of the service principal.', scope),
      clientCertificate: secretKeySelector(
        'ServicePrincipal: a client certificate of the service principal: PEM holding the certificate and its unencrypted private key.',
        scope,
      ),
      tenantId: secretKeySelector(
        'The Microsoft Entra tenant (directory) ID, read from a Secret. When spec.provider.azurekv.tenantId is set too, both must name the same tenant.',
        scope,
      ),
    },
  );
}

export function azurekvProvider(scope: StoreScope) {
  return object(
    "Azure Key Vault. remoteRef.key is a secret name (the prefix secret/ is accepted), cert/<name> (the certificate's DER bytes) or key/<name> (the JSON of the key's public JWK), as in ESO; remoteRef.version is a version ID (default: the current version). Exactly one way to authenticate, chosen by authType.",
    {
      vaultUrl: required(
        string('URL of the vault, e.g. https://my-vault.vault.azure.net.', {
          maxLength: 2048,
          pattern: HTTPS_HOST_PATTERN,
        }),
      ),
      tenantId: string(
        'Microsoft Entra tenant (directory) ID. ServicePrincipal needs this or authSecretRef.tenantId (when both are set they must agree); WorkloadIdentity takes it from here or authSecretRef.tenantId, else from the ServiceAccount annotation azure.workload.identity/tenant-id.',
        { maxLength: 128 },
      ),
      environmentType: enumOf(
        'Azure cloud, which selects the Entra authority host: PublicCloud (default, login.microsoftonline.com), USGovernmentCloud (login.microsoftonline.us), ChinaCloud (login.chinacloudapi.cn), GermanCloud (login.microsoftonline.de, retired by Microsoft), AzureStackCloud (customCloudConfig.activeDirectoryEndpoint). customCloudConfig.activeDirectoryEndpoint, when set, replaces the authority host of any of them.',
        ['PublicCloud', 'USGovernmentCloud', 'ChinaCloud', 'GermanCloud', 'AzureStackCloud'] as const,
      ),
      customCloudConfig: object(
        'Endpoints of a cloud that is not built in. Required with environmentType AzureStackCloud; with another environmentType, activeDirectoryEndpoint replaces that cloud’s authority host (e.g. login.partner.microsoftonline.cn for workload identity on AKS in Azure China).',
        {
          activeDirectoryEndpoint: required(
            string('Entra (or AD FS) authority host, e.g. https://login.example.com.', {
              maxLength: 2048,
              pattern: HTTPS_HOST_PATTERN,
            }),
          ),
          keyVaultEndpoint: string(
            'Accepted for ESO compatibility; no effect (as in ESO): Ferry reaches the vault at vaultUrl and takes the token audience from the vault’s authentication challenge.',
            { maxLength: 2048 },
          ),
          keyVaultDNSSuffix: string(
            'Accepted for ESO compatibility; no effect (as in ESO): Ferry reaches the vault at vaultUrl.',
            { maxLength: 512 },
          ),
          resourceManagerEndpoint: string(
            'Accepted for ESO compatibility; no effect: Ferry does not call Azure Resource Manager.',
            { maxLength: 2048 },
          ),
        },
      ),
      useAzureSDK: boolean(
        'Accepted for ESO compatibility; Ferry always uses the Azure SDK (@azure/identity and @azure/keyvault-secrets), so this has no effect. (ESO needs it true for customCloudConfig; Ferry does not.)',
      ),
      authType: enumOf(
        `How Ferry authenticates: ServicePrincipal (default; authSecretRef), WorkloadIdentity (serviceAccountRef) or ManagedIdentity (the identity of the node or pod Ferry runs on; identityId picks a user-assigned one).${scope === 'Namespaced' ? ' ManagedIdentity in a SecretStore only when the platform admin allows it (controller flag --namespaced-ambient-identity, chart value namespacedAmbientIdentity); otherwise the store is refused.' : ''}`,
        ['ServicePrincipal', 'ManagedIdentity', 'WorkloadIdentity'] as const,
      ),
      authSecretRef: authSecretRef(scope),
      serviceAccountRef: serviceAccountSelector(
        'WorkloadIdentity: the ServiceAccount whose token (TokenRequest, audience api://AzureADTokenExchange unless audiences are set) is the client assertion. Its annotation azure.workload.identity/client-id names the application unless authSecretRef.clientId does; azure.workload.identity/tenant-id the tenant unless tenantId or authSecretRef.tenantId does.',
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
          rule: `!has(self.authSecretRef) || !${isType('ManagedIdentity')}`,
          message: 'authSecretRef is not used with authType ManagedIdentity',
          fieldPath: '.authSecretRef',
          reason: 'FieldValueForbidden',
        },
        {
          rule: `!${isType('ServicePrincipal')} || !has(self.authSecretRef) || has(self.authSecretRef.clientSecret) != has(self.authSecretRef.clientCertificate)`,
          message: 'set exactly one of authSecretRef.clientSecret and authSecretRef.clientCertificate',
          fieldPath: '.authSecretRef.clientSecret',
          reason: 'FieldValueInvalid',
        },
        {
          rule: `!${isType('WorkloadIdentity')} || !has(self.authSecretRef) || (!has(self.authSecretRef.clientSecret) && !has(self.authSecretRef.clientCertificate))`,
          message:
            'authType WorkloadIdentity takes only clientId and tenantId from authSecretRef, not clientSecret or clientCertificate',
          fieldPath: '.authSecretRef',
          reason: 'FieldValueForbidden',
        },
        {
          rule: `!${isType('ServicePrincipal')} || has(self.tenantId) || (has(self.authSecretRef) && has(self.authSecretRef.tenantId))`,
          message: 'authType ServicePrincipal needs tenantId or authSecretRef.tenantId',
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
          rule: "has(self.customCloudConfig) || !has(self.environmentType) || self.environmentType != 'AzureStackCloud'",
          message: 'customCloudConfig is required with environmentType AzureStackCloud',
          fieldPath: '.customCloudConfig',
          reason: 'FieldValueRequired',
        },
      ],
    },
  );
}
