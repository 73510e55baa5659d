// Azure Key Vault: secrets, certificates (cert/<name>) and keys (key/<name>), each by name and
// version, with the real @azure/keyvault-secrets, -certificates and -keys clients (API 7.6), one
// Entra credential per store identity (credentials.ts) shared by the three; the listed secret
// properties for dataFrom find (find.ts), and one listed page of a single secret's properties to
// validate the store. A certificate reads as its DER bytes (`cer`) and a key as the JSON of its
// public JWK, as ESO returns them (object-reads.ts).

import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { SecretValue } from '../../values.ts';
import { type EgressPolicy, guardedHttpsAgent } from '../egress.ts';
import { type Provider, type ProviderClient, ProviderError } from '../provider.ts';
import { refIdentity } from '../references.ts';
import { cappedAnswers } from './capped-answers.ts';
import { azureCredential } from './credentials.ts';
import { classifyAzureError } from './errors.ts';
import { findAzureSecrets } from './find.ts';
import { azureObjectOf, objectVersionOf } from './object-names.ts';
import { readCertificate, readKey } from './object-reads.ts';
import { type AzureSpec, authTypeOf } from './spec.ts';

export const KEY_VAULT_API_VERSION = '7.6';

function credentialsIdentity(spec: AzureSpec, ns: string): string {
  const type = authTypeOf(spec);
  const ref = spec.authSecretRef;
  const tenant = ref?.tenantId ? `:tenant=${refIdentity(ref.tenantId, ns)}` : '';
  if (type === 'ServicePrincipal') {
    const secret = ref?.clientSecret ? `secret=${refIdentity(ref.clientSecret, ns)}` : '';
    const cert = ref?.clientCertificate ? `cert=${refIdentity(ref.clientCertificate, ns)}` : '';
    return `sp:${ref ? refIdentity(ref.clientId, ns) : ''}:${secret}${cert}${tenant}`;
  }
  if (type === 'WorkloadIdentity') {
    const sa = spec.serviceAccountRef;
    const client = ref ? `:client=${refIdentity(ref.clientId, ns)}` : '';
    return `wi:${sa ? `${refIdentity(sa, ns)}:${sa.audiences?.join(',') ?? ''}` : ''}${client}${tenant}`;
  }
  return `mi:${spec.identityId ?? ''}`;
}

/**
 * A namespaced store's vaultUrl may not be a blocked address; the fields that move the token
 * authority or turn off the SDK's check that a token goes only to a vault of its cloud need the
 * host allow-listed (egress.ts).
 */
function checkAzureEgress(spec: AzureSpec, egress: EgressPolicy): void {
  egress.checkUrl('spec.provider.azurekv.vaultUrl', spec.vaultUrl);
  if (spec.environmentType === 'AzureStackCloud') {
    egress.checkOverride('spec.provider.azurekv.environmentType (AzureStackCloud: vaultUrl)', spec.vaultUrl);
  }
  const authority = spec.customCloudConfig?.activeDirectoryEndpoint;
  if (authority) egress.checkOverride('spec.provider.azurekv.customCloudConfig.activeDirectoryEndpoint', authority);
}

export const azureProvider: Provider<AzureSpec> = {
  name: 'azurekv',

  identity(spec, ns) {
    const cloud = `${spec.environmentType ?? 'PublicCloud'}:${spec.customCloudConfig?.activeDirectoryEndpoint ?? ''}`;
    return `${spec.vaultUrl}|${cloud}|${spec.tenantId ?? ''}|${credentialsIdentity(spec, ns)}`;
  },

  usesServiceAccountToken: (spec) => authTypeOf(spec) === 'WorkloadIdentity',

  ambientIdentity: (spec) =>
    authTypeOf(spec) === 'ManagedIdentity'
      ? `spec.provider.azurekv.authType is ManagedIdentity, so the managed identity of the machine${spec.identityId ? ` (identityId ${spec.identityId})` : ''} would be used`
      : undefined,

  async createClient(spec, ctx): Promise<ProviderClient> {
    checkAzureEgress(spec, ctx.egress);
    const { method, credential } = await azureCredential(spec, ctx);
    const agent = guardedHttpsAgent(ctx.egress, 'spec.provider.azurekv.vaultUrl');
    const options = {
      serviceVersion: KEY_VAULT_API_VERSION,
      // Ferry's own backoff and per-store budget decide when to call again: retries inside the
      // client would hide a 429 and its Retry-After from that budget.
      retryOptions: { maxRetries: 0 },
      // A custom cloud's vaults are not under *.vault.azure.net, the domain the client expects
      // the challenge's resource to share with the vault.
      disableChallengeResourceVerification: spec.environmentType === 'AzureStackCloud',
      // Answers are read up to MAX_ANSWER_BYTES while they stream.
      additionalPolicies: [cappedAnswers] as (typeof cappedAnswers)[],
      ...(agent ? { agent } : {}),
    } as const;
    const client = new SecretClient(spec.vaultUrl, credential, options);
    const certificates = new CertificateClient(spec.vaultUrl, credential, options);
    const keys = new KeyClient(spec.vaultUrl, credential, options);

    return {
      // Workload and managed identity obtain new tokens themselves, so their client lives as long
      // as its store is unchanged. A client secret or certificate may be rotated in its Secret:
      // that client is rebuilt after a while, and at once when Entra or Key Vault refuses it.
      // IDs read from a Secret (authSecretRef) may change there too: such a client is rebuilt as well.
      keepsCredentialsFresh:
        (method === 'workloadIdentity' && spec.authSecretRef === undefined) || method === 'managedIdentity',
      readsMetadata: true,

      async read(ref, signal) {
        const { kind, name } = azureObjectOf(ref.key);
        const version = objectVersionOf(ref.key, ref.version);
        const what = `reading "${ref.key}"${version ? ` version ${version}` : ''}`;
        if (kind === 'cert') return readCertificate(certificates, name, version, ref.metadataPolicy, what, signal);
        if (kind === 'key') return readKey(keys, name, version, ref.metadataPolicy, what, signal);
        let secret: Awaited<ReturnType<SecretClient['getSecret']>>;
        try {
          secret = await client.getSecret(name, { version, abortSignal: signal });
        } catch (err) {
          throw classifyAzureError(err, what);
        }
        const versionId = secret.properties.version;
        if (ref.metadataPolicy === 'Fetch') {
          return { value: SecretValue.fromString(JSON.stringify(secret.properties.tags ?? {})), versionId };
        }
        if (secret.value === undefined) {
          throw new ProviderError('NotFound', `Azure ${what}: the answer holds no value`);
        }
        return { value: SecretValue.fromString(secret.value), versionId };
      },

      find(query, signal, pace) {
        return findAzureSecrets(client, query, signal, pace);
      },

      async validate(signal) {
        try {
          const pages = client.listPropertiesOfSecrets({ abortSignal: signal }).byPage({ maxPageSize: 1 });
          await pages.next();
        } catch (err) {
          throw classifyAzureError(err, `listing the secrets of ${spec.vaultUrl} (auth ${method})`);
        }
      },

      close() {
        // The client holds no sockets of its own beyond the shared keep-alive agent; nothing to revoke.
      },
    };
  },
};
