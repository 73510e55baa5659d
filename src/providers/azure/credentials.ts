// The Entra credential of a store, built once per store identity: a service principal (client
// secret or certificate from Secrets), workload identity (a TokenRequest token for a
// ServiceAccount as the client assertion) or a managed identity. @azure/identity (MSAL) keeps
// each token until shortly before it expires, so reads reuse one token; logins are counted when
// a new token arrives.
import {
  type AccessToken,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  type GetTokenOptions,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { ProviderError, type StoreContext } from '../provider.ts';
import { classifyAzureError } from './errors.ts';
import { type AzureSpec, authTypeOf } from './spec.ts';

export const WORKLOAD_IDENTITY_AUDIENCE = 'api://AzureADTokenExchange';
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
/** Lifetime asked for the ServiceAccount token; MSAL asks for a new assertion for every new access token. */
const ASSERTION_SECONDS = 3600;

const AUTHORITY_HOSTS = {
  PublicCloud: 'https://login.microsoftonline.com',
  USGovernmentCloud: 'https://login.microsoftonline.us',
  ChinaCloud: 'https://login.chinacloudapi.cn',
  GermanCloud: 'https://login.microsoftonline.de',
} as const;

export type AzureLoginMethod = 'clientSecret' | 'clientCertificate' | 'workloadIdentity' | 'managedIdentity';

export interface AzureCredential {
  method: AzureLoginMethod;
  credential: TokenCredential;
}

/** The Entra authority host of the store's cloud. */
export function authorityHost(spec: AzureSpec): string {
  const env = spec.environmentType ?? 'PublicCloud';
  if (env === 'AzureStackCloud') {
    const host = spec.customCloudConfig?.activeDirectoryEndpoint;
    if (!host) throw new ProviderError('Invalid', 'spec.provider.azurekv: AzureStackCloud needs customCloudConfig');
    return host.replace(/\/$/, '');
  }
  return AUTHORITY_HOSTS[env];
}

/** Counts a login whenever the wrapped credential hands out a token it had not handed out before. */
class CountedCredential implements TokenCredential {
  private last: string | undefined;
  private readonly inner: TokenCredential;
  private readonly method: AzureLoginMethod;
  private readonly ctx: StoreContext;

  constructor(inner: TokenCredential, method: AzureLoginMethod, ctx: StoreContext) {
    this.inner = inner;
    this.method = method;
    this.ctx = ctx;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      const token = await this.inner.getToken(scopes, options);
      if (token && token.token !== this.last) {
        this.last = token.token;
        this.ctx.recordLogin(this.method, 'ok');
      }
      return token;
    } catch (err) {
      const error = classifyAzureError(err, `obtaining a token (auth ${this.method})`);
      this.ctx.recordLogin(this.method, error.kind);
      throw error;
    }
  }
}

export async function azureCredential(spec: AzureSpec, ctx: StoreContext): Promise<AzureCredential> {
  const options = {
    authorityHost: authorityHost(spec),
    // Built-in clouds are known to MSAL; a custom authority has no instance-discovery endpoint to ask.
    disableInstanceDiscovery: spec.environmentType === 'AzureStackCloud',
  };
  const type = authTypeOf(spec);
  let built: AzureCredential;
  if (type === 'ServicePrincipal') {
    const ref = spec.authSecretRef;
    if (!ref || !spec.tenantId) {
      throw new ProviderError('Invalid', 'spec.provider.azurekv: ServicePrincipal needs tenantId and authSecretRef');
    }
    const clientId = (await ctx.readSecretKey(ref.clientId)).revealText().trim();
    if (ref.clientSecret) {
      const secret = (await ctx.readSecretKey(ref.clientSecret)).revealText();
      built = {
        method: 'clientSecret',
        credential: new ClientSecretCredential(spec.tenantId, clientId, secret, options),
      };
    } else {
      const certRef = ref.clientCertificate ?? ref.clientId;
      const pem = (await ctx.readSecretKey(certRef)).revealText();
      if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
        throw new ProviderError(
          'Invalid',
          `authSecretRef.clientCertificate (Secret ${certRef.name}, key "${certRef.key}") must hold a PEM certificate and its unencrypted private key`,
        );
      }
      built = {
        method: 'clientCertificate',
        credential: new ClientCertificateCredential(spec.tenantId, clientId, { certificate: pem }, options),
      };
    }
  } else if (type === 'WorkloadIdentity') {
    const sa = spec.serviceAccountRef;
    if (!sa) throw new ProviderError('Invalid', 'spec.provider.azurekv: WorkloadIdentity needs serviceAccountRef');
    const annotations = await ctx.readServiceAccountAnnotations(sa);
    const clientId = annotations[CLIENT_ID_ANNOTATION];
    const tenantId = spec.tenantId ?? annotations[TENANT_ID_ANNOTATION];
    if (!clientId || !tenantId) {
      throw new ProviderError(
        'Invalid',
        `ServiceAccount ${sa.name} needs the annotation ${CLIENT_ID_ANNOTATION}${tenantId ? '' : ` and, without spec.provider.azurekv.tenantId, ${TENANT_ID_ANNOTATION}`}`,
      );
    }
    const assertion = () => ctx.requestToken(sa, [WORKLOAD_IDENTITY_AUDIENCE], ASSERTION_SECONDS);
    built = {
      method: 'workloadIdentity',
      credential: new ClientAssertionCredential(tenantId, clientId, assertion, options),
    };
  } else {
    const id = spec.identityId;
    const which = id === undefined ? {} : id.startsWith('/') ? { resourceId: id } : { clientId: id };
    built = { method: 'managedIdentity', credential: new ManagedIdentityCredential(which) };
  }
  return { method: built.method, credential: new CountedCredential(built.credential, built.method, ctx) };
}
