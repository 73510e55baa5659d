// /metrics (Prometheus), /healthz (the process is up) and /readyz (caches synced, reconciling).
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

export function startHttpServer(
  addr: { host: string; port: number },
  metrics: Metrics,
  isReady: () => boolean,
  /** The /readyz body (e.g. leader or follower); "ok" / "not ready" without it. */
  describe?: () => string,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/readyz') {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(describe?.() ?? (ready ? 'ok' : 'not ready'));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve(server));
  });
}
