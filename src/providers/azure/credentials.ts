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

/**
 * The Entra authority host of the store's cloud: customCloudConfig.activeDirectoryEndpoint when
 * set (with any environmentType, as in ESO), else the built-in cloud's.
 */
export function authorityHost(spec: AzureSpec): string {
  const env = spec.environmentType ?? 'PublicCloud';
  const custom = spec.customCloudConfig?.activeDirectoryEndpoint;
  if (custom) return custom.replace(/\/$/, '');
  if (env === 'AzureStackCloud') {
    throw new ProviderError('Invalid', 'spec.provider.azurekv: AzureStackCloud needs customCloudConfig');
  }
  return AUTHORITY_HOSTS[env];
}

/**
 * The tenant of the store: spec.tenantId and/or authSecretRef.tenantId (read from its Secret);
 * when both are set they must agree. Undefined when neither is set.
 */
export async function storeTenant(spec: AzureSpec, ctx: StoreContext): Promise<string | undefined> {
  const ref = spec.authSecretRef?.tenantId;
  if (!ref) return spec.tenantId;
  const fromSecret = (await ctx.readSecretKey(ref)).revealText().trim();
  if (!fromSecret) {
    throw new ProviderError('Invalid', `authSecretRef.tenantId: Secret ${ref.name} key "${ref.key}" is empty`);
  }
  if (spec.tenantId !== undefined && spec.tenantId !== fromSecret) {
    throw new ProviderError(
      'Invalid',
      `spec.provider.azurekv.tenantId and authSecretRef.tenantId (Secret ${ref.name} key "${ref.key}") name different tenants; set one, or make them agree`,
    );
  }
  return fromSecret;
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

type CredentialOptions = { authorityHost: string; disableInstanceDiscovery: boolean };

export async function azureCredential(spec: AzureSpec, ctx: StoreContext): Promise<AzureCredential> {
  const options: CredentialOptions = {
    authorityHost: authorityHost(spec),
    // Built-in clouds are known to MSAL; a custom authority has no instance-discovery endpoint to ask.
    disableInstanceDiscovery: spec.environmentType === 'AzureStackCloud' || spec.customCloudConfig !== undefined,
  };
  const type = authTypeOf(spec);
  let built: AzureCredential;
  if (type === 'ServicePrincipal') built = await servicePrincipal(spec, ctx, options);
  else if (type === 'WorkloadIdentity') built = await workloadIdentity(spec, ctx, options);
  else {
    const id = spec.identityId;
    const which = id === undefined ? {} : id.startsWith('/') ? { resourceId: id } : { clientId: id };
    built = { method: 'managedIdentity', credential: new ManagedIdentityCredential(which) };
  }
  return { method: built.method, credential: new CountedCredential(built.credential, built.method, ctx) };
}

/** A client secret or a certificate (with its key) from authSecretRef. */
async function servicePrincipal(
  spec: AzureSpec,
  ctx: StoreContext,
  options: CredentialOptions,
): Promise<AzureCredential> {
  const ref = spec.authSecretRef;
  const tenantId = await storeTenant(spec, ctx);
  if (!ref || !tenantId) {
    throw new ProviderError(
      'Invalid',
      'spec.provider.azurekv: ServicePrincipal needs authSecretRef and tenantId or authSecretRef.tenantId',
    );
  }
  const clientId = (await ctx.readSecretKey(ref.clientId)).revealText().trim();
  if (ref.clientSecret) {
    const secret = (await ctx.readSecretKey(ref.clientSecret)).revealText();
    return { method: 'clientSecret', credential: new ClientSecretCredential(tenantId, clientId, secret, options) };
  }
  const certRef = ref.clientCertificate ?? ref.clientId;
  const pem = (await ctx.readSecretKey(certRef)).revealText();
  if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
    throw new ProviderError(
      'Invalid',
      `authSecretRef.clientCertificate (Secret ${certRef.name}, key "${certRef.key}") must hold a PEM certificate and its unencrypted private key`,
    );
  }
  return {
    method: 'clientCertificate',
    credential: new ClientCertificateCredential(tenantId, clientId, { certificate: pem }, options),
  };
}

/** A federated ServiceAccount token; client and tenant from the store, else the ServiceAccount's annotations. */
async function workloadIdentity(
  spec: AzureSpec,
  ctx: StoreContext,
  options: CredentialOptions,
): Promise<AzureCredential> {
  const sa = spec.serviceAccountRef;
  if (!sa) throw new ProviderError('Invalid', 'spec.provider.azurekv: WorkloadIdentity needs serviceAccountRef');
  const annotations = await ctx.readServiceAccountAnnotations(sa);
  // The store's own settings (authSecretRef, tenantId) come before the ServiceAccount's annotations.
  const idRef = spec.authSecretRef?.clientId;
  const clientId = idRef ? (await ctx.readSecretKey(idRef)).revealText().trim() : annotations[CLIENT_ID_ANNOTATION];
  const tenantId = (await storeTenant(spec, ctx)) ?? annotations[TENANT_ID_ANNOTATION];
  if (idRef && !clientId) {
    throw new ProviderError('Invalid', `authSecretRef.clientId: Secret ${idRef.name} key "${idRef.key}" is empty`);
  }
  if (!clientId || !tenantId) {
    const missing = [
      clientId ? '' : `${CLIENT_ID_ANNOTATION} (or authSecretRef.clientId)`,
      tenantId ? '' : `${TENANT_ID_ANNOTATION} (or spec.provider.azurekv.tenantId or authSecretRef.tenantId)`,
    ].filter(Boolean);
    throw new ProviderError('Invalid', `ServiceAccount ${sa.name} needs the annotation ${missing.join(' and ')}`);
  }
  const assertion = () => ctx.requestToken(sa, [WORKLOAD_IDENTITY_AUDIENCE], ASSERTION_SECONDS);
  return {
    method: 'workloadIdentity',
    credential: new ClientAssertionCredential(tenantId, clientId, assertion, options),
  };
}
