// A local HTTPS stand-in for Google's STS token exchange and IAM Credentials generateAccessToken,
// the two calls of GKE Workload Identity (no Google server can be reached here). It records who
// exchanged (the claims of the Kubernetes token it was given) and whom they impersonated, and
// answers as Google does. Ferry reaches it through FERRY_TEST_GCP_STS_URL and
// FERRY_TEST_GCP_IAM_CREDENTIALS_URL (test-only overrides).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { localServingCert, trustInThisProcess } from './local-ca.ts';

export interface Exchange {
  /** The Kubernetes token's subject, e.g. system:serviceaccount:ns:name. */
  subject: string;
  /** The Kubernetes token's audiences. */
  tokenAudiences: string[];
  /** STS's own audience field (identitynamespace:<pool>:<provider>). */
  audience: string;
}

export interface Impersonation {
  account: string;
  /** Whether the bearer was a token this stub's STS issued. */
  federated: boolean;
}

function claimsOf(jwt: string): { sub?: string; aud?: string | string[] } {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class GoogleTokenStub {
  readonly exchanges: Exchange[] = [];
  readonly impersonations: Impersonation[] = [];
  private readonly issued = new Set<string>();
  private readonly server: Server;
  private readonly caPem: string;
  private port = 0;

  private constructor(server: Server, caPem: string) {
    this.server = server;
    this.caPem = caPem;
  }

  static async start(): Promise<GoogleTokenStub> {
    const { caPem, key, cert } = await localServingCert('ferry-google-stub-ca');
    let stub: GoogleTokenStub | undefined;
    const server = createServer({ key, cert }, (req, res) => {
      void stub?.serve(req, res).catch(() => {
        res.writeHead(500).end();
      });
    });
    stub = new GoogleTokenStub(server, caPem);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stub.port = (server.address() as { port: number }).port;
    return stub;
  }

  /** The environment that points Ferry's Workload Identity exchange here. */
  get env(): Record<string, string> {
    return {
      FERRY_TEST_GCP_STS_URL: `https://127.0.0.1:${this.port}/v1/token`,
      FERRY_TEST_GCP_IAM_CREDENTIALS_URL: `https://127.0.0.1:${this.port}/iam/v1`,
    };
  }

  trustInThisProcess(): void {
    trustInThisProcess(this.caPem);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/v1/token') {
      const form = new URLSearchParams(await body(req));
      const claims = claimsOf(form.get('subject_token') ?? '');
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !claims.sub) {
        json(400, { error: 'invalid_request', error_description: 'not a token exchange of a JWT' });
        return;
      }
      this.exchanges.push({
        subject: claims.sub,
        tokenAudiences: Array.isArray(claims.aud) ? claims.aud : [claims.aud ?? ''],
        audience: form.get('audience') ?? '',
      });
      const token = `federated-${randomBytes(8).toString('hex')}`;
      this.issued.add(token);
      json(200, {
        access_token: token,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 3600,
      });
      return;
    }
    const impersonate = /^\/iam\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url);
    if (req.method === 'POST' && impersonate) {
      await body(req);
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const federated = this.issued.has(bearer);
      this.impersonations.push({ account: decodeURIComponent(impersonate[1] ?? ''), federated });
      if (!federated) {
        json(401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'not a token this STS issued' } });
        return;
      }
      json(200, {
        accessToken: `gsa-${randomBytes(8).toString('hex')}`,
        expireTime: new Date(Date.now() + 3_600_000).toISOString(),
      });
      return;
    }
    json(404, { error: { code: 404, status: 'NOT_FOUND', message: `no route ${req.method} ${url}` } });
  }
}
