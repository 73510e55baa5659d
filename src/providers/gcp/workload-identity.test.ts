// The STS and IAM Credentials round trip of GKE Workload Identity against a local HTTP server
// standing in for Google (no server anywhere can play STS for a test bed cluster).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../values.ts';
import { EgressPolicy } from '../egress.ts';
import type { ProviderErrorKind, ServiceAccountRef, StoreContext } from '../provider.ts';
import { gcpCredentials } from './credentials.ts';
import { GSA_ANNOTATION, testEndpointOverrides, WorkloadIdentityTokens } from './workload-identity.ts';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (req: Seen) => { status: number; body: unknown; headers?: Record<string, string> };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  seen.length = 0;
  answer = (req) =>
    req.path === '/sts'
      ? { status: 200, body: { access_token: 'federated-token', expires_in: 3600, token_type: 'Bearer' } }
      : { status: 200, body: { accessToken: 'gsa-token', expireTime: new Date(Date.now() + 3600_000).toISOString() } };
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const address = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  return typeof address === 'object' && address ? address.port : 0;
}

function context(annotations: Record<string, string> = {}) {
  const logins: [string, 'ok' | ProviderErrorKind][] = [];
  const tokenRequests: { ref: ServiceAccountRef; audiences: string[] }[] = [];
  const ctx: StoreContext = {
    storeKind: 'SecretStore',
    storeName: 'gcp',
    defaultNamespace: 'apps',
    readSecretKey: async () => SecretValue.fromString(''),
    readConfigMapKey: async () => SecretValue.fromString(''),
    requestToken: async (ref, audiences) => {
      tokenRequests.push({ ref, audiences });
      return 'kubernetes-jwt';
    },
    readServiceAccountAnnotations: async () => annotations,
    egress: EgressPolicy.unrestricted,
    recordLogin: (method, outcome) => logins.push([method, outcome]),
  };
  return { ctx, logins, tokenRequests };
}

const spec = {
  serviceAccountRef: { name: 'ferry' },
  clusterLocation: 'europe-west1',
  clusterName: 'prod',
  clusterProjectID: 'infra',
};

function tokens(ctx: StoreContext, now = Date.now) {
  return new WorkloadIdentityTokens(spec, 'apps-project', ctx, {
    stsUrl: `${base}/sts`,
    iamCredentialsUrl: `${base}/iam`,
    now,
  });
}

describe('GKE Workload Identity', () => {
  it('exchanges a TokenRequest token for the cluster pool at STS, as RFC 8693 asks', async () => {
    const { ctx, logins, tokenRequests } = context();
    const token = await tokens(ctx).token();
    expect(token.value.revealText()).toBe('federated-token');
    expect(tokenRequests).toEqual([{ ref: { name: 'ferry' }, audiences: ['infra.svc.id.goog'] }]);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience:
        'identitynamespace:infra.svc.id.goog:https://container.googleapis.com/v1/projects/infra/locations/europe-west1/clusters/prod',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      subject_token: 'kubernetes-jwt',
    });
    expect(logins).toEqual([['workloadIdentity', 'ok']]);
  });

  it('impersonates the Google service account the ServiceAccount is annotated with', async () => {
    const { ctx, logins } = context({ [GSA_ANNOTATION]: 'reader@apps-project.iam.gserviceaccount.com' });
    const token = await tokens(ctx).token();
    expect(token.value.revealText()).toBe('gsa-token');
    const iam = seen[1];
    expect(iam?.path).toBe(
      '/iam/projects/-/serviceAccounts/reader%40apps-project.iam.gserviceaccount.com:generateAccessToken',
    );
    expect(iam?.headers.authorization).toBe('Bearer federated-token');
    expect(JSON.parse(iam?.body ?? '')).toEqual({ scope: ['https://www.googleapis.com/auth/cloud-platform'] });
    expect(logins).toEqual([
      ['workloadIdentity', 'ok'],
      ['impersonation', 'ok'],
    ]);
  });

  it('exchanges once for concurrent callers and again only once 80% of the token life has passed', async () => {
    let clock = 1_000_000;
    const { ctx, logins } = context();
    const source = tokens(ctx, () => clock);
    await Promise.all(Array.from({ length: 20 }, () => source.token()));
    expect(logins).toHaveLength(1);
    clock += 0.79 * 3600_000;
    await source.token();
    expect(logins).toHaveLength(1);
    clock += 0.02 * 3600_000;
    await source.token();
    expect(logins).toHaveLength(2);
  });

  it('maps refusals to Denied, 429 to Throttled with Retry-After, and no answer to Transient, never showing a token', async () => {
    const { ctx, logins } = context();
    answer = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'audience mismatch' } });
    const denied = await tokens(ctx)
      .token()
      .catch((e) => e);
    expect(denied).toMatchObject({ kind: 'Denied' });
    expect(denied.message).toBe(
      'GCP exchanging the ServiceAccount token at STS (HTTP 400): invalid_grant: audience mismatch',
    );
    answer = () => ({ status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '4' } });
    expect(
      await tokens(ctx)
        .token()
        .catch((e) => e),
    ).toMatchObject({ kind: 'Throttled', retryAfterMs: 4000 });
    const down = new WorkloadIdentityTokens(spec, 'p', ctx, { stsUrl: `http://127.0.0.1:${await closedPort()}/sts` });
    const transient = await down.token().catch((e) => e);
    expect(transient).toMatchObject({ kind: 'Transient' });
    expect(transient.message).toMatch(/no answer \(ECONNREFUSED\)/);
    expect(logins.map(([, outcome]) => outcome)).toEqual(['Denied', 'Throttled', 'Transient']);
    for (const err of [denied, transient]) expect(err.message).not.toMatch(/kubernetes-jwt|federated-token/);
  });

  it('hands the token to the client library as a bearer header, refreshed through Ferry', async () => {
    const { ctx } = context();
    const wi = { ...spec };
    const creds = await gcpCredentials({ projectID: 'apps-project', auth: { workloadIdentity: wi } }, ctx, {
      stsUrl: `${base}/sts`,
      iamCredentialsUrl: `${base}/iam`,
    });
    expect(creds.method).toBe('workloadIdentity');
    const headers = await creds.authClient?.getRequestHeaders();
    expect(headers?.get('authorization')).toBe('Bearer federated-token');
    await creds.authClient?.getRequestHeaders();
    expect(seen).toHaveLength(1);
  });

  it('surfaces a refused exchange before the call as Denied, not as a transport error', async () => {
    const { ctx } = context();
    answer = () => ({ status: 403, body: { error: 'access_denied', error_description: 'pool not enabled' } });
    const creds = await gcpCredentials({ projectID: 'apps-project', auth: { workloadIdentity: spec } }, ctx, {
      stsUrl: `${base}/sts`,
    });
    await expect(creds.prepare?.()).rejects.toMatchObject({ kind: 'Denied' });
  });
});

describe('testEndpointOverrides', () => {
  it('points STS and IAM Credentials at a local HTTPS stand-in, and takes nothing but https', () => {
    expect(testEndpointOverrides({})).toEqual({});
    expect(
      testEndpointOverrides({
        FERRY_TEST_GCP_STS_URL: 'https://127.0.0.1:8443/v1/token',
        FERRY_TEST_GCP_IAM_CREDENTIALS_URL: 'https://127.0.0.1:8443/iam/',
      }),
    ).toEqual({ stsUrl: 'https://127.0.0.1:8443/v1/token', iamCredentialsUrl: 'https://127.0.0.1:8443/iam' });
    expect(testEndpointOverrides({ FERRY_TEST_GCP_STS_URL: 'http://169.254.169.254/token' })).toEqual({});
  });
});
