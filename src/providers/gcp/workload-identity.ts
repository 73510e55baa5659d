// GKE Workload Identity without the metadata server: a TokenRequest token for a Kubernetes
// ServiceAccount, exchanged at Google STS for a federated access token, then (when the
// ServiceAccount names a Google service account) exchanged at IAM Credentials for that account's
// token. One token per store identity, refreshed once 80% of its life has passed; never per read.
import { SecretValue } from '../../values.ts';
import { ProviderError, type ProviderErrorKind, providerMessage, type StoreContext } from '../provider.ts';
import type { WorkloadIdentitySpec } from './spec.ts';

export const GSA_ANNOTATION = 'iam.gke.io/gcp-service-account';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const STS_URL = 'https://sts.googleapis.com/v1/token';
const IAM_CREDENTIALS_URL = 'https://iamcredentials.googleapis.com/v1';
const CALL_TIMEOUT_MS = 10_000;
/** Share of a token's life after which a new one is obtained. */
const REFRESH_AT = 0.8;

export interface AccessToken {
  value: SecretValue;
  /** When Ferry wants a new one (epoch ms), before the real expiry. */
  refreshAt: number;
}

export interface WorkloadIdentityOptions {
  stsUrl?: string;
  iamCredentialsUrl?: string;
  now?: () => number;
}

const TEST_OVERRIDES = {
  stsUrl: 'FERRY_TEST_GCP_STS_URL',
  iamCredentialsUrl: 'FERRY_TEST_GCP_IAM_CREDENTIALS_URL',
} as const;

/**
 * Test only: the test bed has no Google, so FERRY_TEST_GCP_STS_URL (the token URL) and
 * FERRY_TEST_GCP_IAM_CREDENTIALS_URL (the API base) point the exchange at a local HTTPS stand-in.
 * Only https:// is taken: the exchange carries a ServiceAccount token.
 */
export function testEndpointOverrides(env: NodeJS.ProcessEnv = process.env): WorkloadIdentityOptions {
  const opts: WorkloadIdentityOptions = {};
  for (const [option, variable] of Object.entries(TEST_OVERRIDES) as [keyof typeof TEST_OVERRIDES, string][]) {
    const url = env[variable];
    if (url?.startsWith('https://')) opts[option] = url.replace(/\/+$/, '');
  }
  return opts;
}

/** The STS form fields for exchanging a Kubernetes token of this cluster (RFC 8693). */
export function stsExchangeForm(spec: WorkloadIdentitySpec, projectID: string, subjectToken: string): URLSearchParams {
  const clusterProject = spec.clusterProjectID ?? projectID;
  const pool = `${clusterProject}.svc.id.goog`;
  const provider = `https://container.googleapis.com/v1/projects/${clusterProject}/locations/${spec.clusterLocation}/clusters/${spec.clusterName}`;
  return new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: `identitynamespace:${pool}:${provider}`,
    scope: CLOUD_PLATFORM_SCOPE,
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    subject_token: subjectToken,
  });
}

/** The audience of the Kubernetes token: the cluster project's workload identity pool. */
export function tokenAudience(spec: WorkloadIdentitySpec, projectID: string): string {
  return `${spec.clusterProjectID ?? projectID}.svc.id.goog`;
}

function kindOf(status: number): ProviderErrorKind {
  if (status === 400 || status === 401 || status === 403) return 'Denied';
  if (status === 404) return 'Invalid';
  if (status === 429) return 'Throttled';
  return 'Transient';
}

/** The error text of an STS (OAuth) or Google API error body; never a token. */
function errorText(body: unknown): string {
  const b = body as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof b?.error === 'string')
    return providerMessage(`${b.error}${b.error_description ? `: ${b.error_description}` : ''}`);
  const e = b?.error as { status?: unknown; message?: unknown } | undefined;
  return providerMessage(`${e?.status ?? ''}${e?.message ? `: ${e.message}` : ''}`);
}

async function post(url: string, init: RequestInit, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ProviderError('Transient', `GCP ${what}: no answer (${cause})`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ProviderError(kindOf(res.status), `GCP ${what} (HTTP ${res.status}): ${errorText(body) || 'refused'}`, {
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    });
  }
  return body;
}

export class WorkloadIdentityTokens {
  private current: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;
  private readonly spec: WorkloadIdentitySpec;
  private readonly projectID: string;
  private readonly ctx: StoreContext;
  private readonly opts: Required<WorkloadIdentityOptions>;

  constructor(spec: WorkloadIdentitySpec, projectID: string, ctx: StoreContext, opts: WorkloadIdentityOptions = {}) {
    this.spec = spec;
    this.projectID = projectID;
    this.ctx = ctx;
    this.opts = { stsUrl: STS_URL, iamCredentialsUrl: IAM_CREDENTIALS_URL, now: Date.now, ...opts };
  }

  /** A usable access token: the current one, or a new one (one exchange however many callers wait). */
  async token(): Promise<AccessToken> {
    const token = this.current;
    if (token && this.opts.now() < token.refreshAt) return token;
    this.pending ??= this.obtain().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async obtain(): Promise<AccessToken> {
    const ref = this.spec.serviceAccountRef;
    const [annotations, subjectToken] = await Promise.all([
      this.ctx.readServiceAccountAnnotations(ref),
      this.ctx.requestToken(ref, [tokenAudience(this.spec, this.projectID)], 3600),
    ]);
    const federated = await this.counted('workloadIdentity', () => this.exchange(subjectToken));
    const account = annotations[GSA_ANNOTATION];
    const token = account ? await this.counted('impersonation', () => this.impersonate(account, federated)) : federated;
    this.current = token;
    return token;
  }

  private async counted(method: string, step: () => Promise<AccessToken>): Promise<AccessToken> {
    try {
      const token = await step();
      this.ctx.recordLogin(method, 'ok');
      return token;
    } catch (err) {
      this.ctx.recordLogin(method, err instanceof ProviderError ? err.kind : 'Transient');
      throw err;
    }
  }

  private async exchange(subjectToken: string): Promise<AccessToken> {
    const started = this.opts.now();
    const body = (await post(
      this.opts.stsUrl,
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: stsExchangeForm(this.spec, this.projectID, subjectToken),
      },
      'exchanging the ServiceAccount token at STS',
    )) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || !body.access_token) {
      throw new ProviderError(
        'Transient',
        'GCP exchanging the ServiceAccount token at STS: the answer carried no token',
      );
    }
    const lifeMs = (Number(body.expires_in) || 3600) * 1000;
    return { value: SecretValue.fromString(body.access_token), refreshAt: started + lifeMs * REFRESH_AT };
  }

  private async impersonate(account: string, federated: AccessToken): Promise<AccessToken> {
    const started = this.opts.now();
    const what = `impersonating ${account}`;
    const body = (await post(
      `${this.opts.iamCredentialsUrl}/projects/-/serviceAccounts/${encodeURIComponent(account)}:generateAccessToken`,
      {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${federated.value.revealText()}` },
        body: JSON.stringify({ scope: [CLOUD_PLATFORM_SCOPE] }),
      },
      what,
    )) as { accessToken?: unknown; expireTime?: unknown } | undefined;
    if (typeof body?.accessToken !== 'string' || !body.accessToken) {
      throw new ProviderError('Transient', `GCP ${what}: the answer carried no token`);
    }
    const expiry = Date.parse(String(body.expireTime));
    const lifeMs = Number.isFinite(expiry) ? Math.max(0, expiry - started) : 3600_000;
    return { value: SecretValue.fromString(body.accessToken), refreshAt: started + lifeMs * REFRESH_AT };
  }
}
