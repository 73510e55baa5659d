// Credentials for a store, built once per store identity: a service-account key from a Secret
// (the client signs its own short-lived JWTs with it, no token endpoint involved), GKE Workload
// Identity (workload-identity.ts), or Application Default Credentials when the store sets none.
import { googleAuthLibrary } from 'google-gax';
import { ProviderError, providerMessage, type StoreContext } from '../provider.ts';
import type { GcpSpec } from './spec.ts';
import { CLOUD_PLATFORM_SCOPE, type WorkloadIdentityOptions, WorkloadIdentityTokens } from './workload-identity.ts';

/** The service the self-signed JWTs are for, whichever endpoint serves it. */
const SERVICE_PATH = 'secretmanager.googleapis.com';

export interface GcpCredentials {
  method: 'serviceAccountKey' | 'workloadIdentity' | 'applicationDefault';
  authClient: googleAuthLibrary.AuthClient;
  /**
   * Obtains the token before a call when it is due, so a refused exchange surfaces as its own
   * ProviderError (Denied, Throttled) rather than as the transport's wrapping of it.
   */
  prepare?: () => Promise<void>;
}

interface ServiceAccountKey {
  type?: unknown;
  client_email?: unknown;
  private_key?: unknown;
  private_key_id?: unknown;
}

function parseKey(text: string, where: string): { email: string; key: string; keyId?: string } {
  let json: ServiceAccountKey;
  try {
    json = JSON.parse(text) as ServiceAccountKey;
  } catch {
    throw new ProviderError('Invalid', `${where} is not JSON; it must hold a service-account key file`);
  }
  if (
    json.type !== 'service_account' ||
    typeof json.client_email !== 'string' ||
    typeof json.private_key !== 'string'
  ) {
    throw new ProviderError(
      'Invalid',
      `${where} is not a service-account key (needs type service_account, client_email and private_key)`,
    );
  }
  return {
    email: json.client_email,
    key: json.private_key,
    keyId: typeof json.private_key_id === 'string' ? json.private_key_id : undefined,
  };
}

export async function gcpCredentials(
  spec: GcpSpec,
  ctx: StoreContext,
  opts: WorkloadIdentityOptions = {},
): Promise<GcpCredentials> {
  const { secretRef, workloadIdentity } = spec.auth ?? {};
  if (secretRef) {
    const ref = secretRef.secretAccessKeySecretRef;
    const { email, key, keyId } = parseKey(
      (await ctx.readSecretKey(ref)).revealText(),
      `auth.secretRef.secretAccessKeySecretRef (Secret ${ref.name}, key "${ref.key}")`,
    );
    const jwt = new googleAuthLibrary.JWT({ email, key, keyId, scopes: [CLOUD_PLATFORM_SCOPE] });
    // Self-signed JWTs with the scope claim: accepted by Google APIs, and no call to a token endpoint.
    jwt.useJWTAccessWithScope = true;
    jwt.defaultServicePath = SERVICE_PATH;
    ctx.recordLogin('serviceAccountKey', 'ok');
    return { method: 'serviceAccountKey', authClient: jwt };
  }
  if (workloadIdentity) {
    const tokens = new WorkloadIdentityTokens(workloadIdentity, spec.projectID, ctx, opts);
    // The library asks for a token when the one it holds reaches expiry_date; Ferry reports its own
    // refresh point there, so the library never refreshes on its own schedule.
    const client = new googleAuthLibrary.OAuth2Client({ eagerRefreshThresholdMillis: 0 });
    client.refreshHandler = async () => {
      const token = await tokens.token();
      return { access_token: token.value.revealText(), expiry_date: token.refreshAt };
    };
    return {
      method: 'workloadIdentity',
      authClient: client,
      prepare: async () => {
        await tokens.token();
      },
    };
  }
  return { method: 'applicationDefault', authClient: await applicationDefault(ctx) };
}

/**
 * Application Default Credentials, resolved here rather than left to the client library: when
 * there are none, the library rejects a promise nobody awaits, which would end the process.
 */
async function applicationDefault(ctx: StoreContext): Promise<googleAuthLibrary.AuthClient> {
  const auth = new googleAuthLibrary.GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  // A key file found by ADC signs its own JWTs, as a key from a Secret does.
  auth.useJWTAccessWithScope = true;
  auth.defaultServicePath = SERVICE_PATH;
  try {
    const client = await auth.getClient();
    ctx.recordLogin('applicationDefault', 'ok');
    return client;
  } catch (err) {
    ctx.recordLogin('applicationDefault', 'Denied');
    throw new ProviderError(
      'Denied',
      `GCP: the store sets no auth and the controller has no Application Default Credentials (${providerMessage((err as Error)?.message)})`,
    );
  }
}
