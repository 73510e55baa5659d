// A hostile HTTPS server on loopback, as a tenant would run one: it records every request (method,
// path, headers, body) so a test can show which credentials a provider path sent it. Without an
// Authorization header it answers with Key Vault's bearer challenge, which the Azure SDK follows
// by fetching a token; anything else gets a 403.
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type LocalServingCert, localServingCert, trustInThisProcess } from './local-ca.ts';

export interface CollectedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let cert: Promise<LocalServingCert> | undefined;

export class CredentialCollector {
  readonly requests: CollectedRequest[] = [];
  readonly caPem: string;
  private readonly server: Server;

  private constructor(server: Server, caPem: string) {
    this.server = server;
    this.caPem = caPem;
  }

  /** Starts one on 127.0.0.1, its CA trusted by this process (as a tenant's public certificate would be). */
  static async start(): Promise<CredentialCollector> {
    cert ??= localServingCert('ferry-credential-collector');
    const { caPem, key, cert: pem } = await cert;
    trustInThisProcess(caPem);
    const server = createServer({ key, cert: pem });
    const collector = new CredentialCollector(server, caPem);
    server.on('request', (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        collector.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.setHeader('content-type', 'application/json');
        if (!req.headers.authorization) {
          res.statusCode = 401;
          res.setHeader(
            'www-authenticate',
            'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"',
          );
          res.end('{"error":{"code":"Unauthorized","message":"give me a token"}}');
          return;
        }
        res.statusCode = 403;
        res.end('{"error":{"code":"Forbidden","message":"thanks"}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return collector;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** The claims of a request's bearer JWT, if it carries one. */
export function bearerClaims(req: CollectedRequest): Record<string, unknown> | undefined {
  const auth = req.headers.authorization ?? '';
  const payload = auth.startsWith('Bearer ') ? auth.slice(7).split('.')[1] : undefined;
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
