// Readiness probes: one HTTP(S) GET that counts as ready on a 2xx answer.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** `insecure` skips certificate checks: only for loopback servers with self-signed serving certificates. */
export function httpOk(url: string, opts: { ca?: string | Buffer; insecure?: boolean } = {}): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const request = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = request(
        url,
        { method: 'GET', timeout: 2000, ca: opts.ca, rejectUnauthorized: !opts.insecure },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 500) < 300);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
}
