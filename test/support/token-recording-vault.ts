// A stand-in for a tenant's own Vault on loopback: it accepts every Kubernetes or JWT login,
// records the audiences of each ServiceAccount token it is sent (by login role), and answers KV v2
// reads with a fixed value. For the token-audience attack tests, controller and CSI plugin.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRecordingVault {
  /** `http://127.0.0.1:<port>`. */
  address: string;
  /** The audiences of each token received, by login role, in arrival order. */
  received: { role: string; aud: string[] }[];
  close(): Promise<void>;
}

function audiencesOf(jwt: string): string[] {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    aud?: string | string[];
  };
  return typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
}

export async function startTokenRecordingVault(): Promise<TokenRecordingVault> {
  const received: TokenRecordingVault['received'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.endsWith('/auth/kubernetes/login') || req.url?.endsWith('/auth/jwt/login')) {
        const { role, jwt } = JSON.parse(body) as { role: string; jwt: string };
        received.push({ role, aud: audiencesOf(jwt) });
        res.end(JSON.stringify({ auth: { client_token: 'tenant-token', lease_duration: 3600, renewable: false } }));
        return;
      }
      if (req.url?.includes('/secret/data/')) {
        res.end(JSON.stringify({ data: { data: { v: 'from the tenant' }, metadata: { version: 1 } } }));
        return;
      }
      res.end('{"data":{}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
