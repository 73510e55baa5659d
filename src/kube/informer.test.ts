// The informer's reconnect backoff, against a minimal list/watch endpoint (node:http) whose watch
// streams end with an error after a set time: the arithmetic of the backoff is what is tested
// here; list, watch, 410 and idle behaviour against the real API server are in
// test/integration (api-faults, idle-watches, resilience).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Metrics } from '../observability/metrics.ts';
import { Informer } from './informer.ts';

let server: Server | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A server whose list is empty and whose every watch sends a bookmark, then breaks after `holdMs`. */
async function breakingWatches(holdMs: number): Promise<KubeConfig> {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.searchParams.get('watch') !== 'true') {
      res.end(JSON.stringify({ metadata: { resourceVersion: '7' }, items: [] }));
      return;
    }
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } })}\n`);
    // Destroying the socket mid-body is an error for the client, not a normal end.
    setTimeout(() => req.socket.destroy(), holdMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** The retry delays the informer logged for its first `n` failed watches. */
async function retryDelays(holdMs: number, n: number): Promise<number[]> {
  const kc = await breakingWatches(holdMs);
  const delays: number[] = [];
  const stop = new AbortController();
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg: string; retryInMs?: number };
        if (entry.msg.startsWith('watch failed') && entry.retryInMs !== undefined) delays.push(entry.retryInMs);
        if (delays.length >= n) stop.abort();
      },
    },
  );
  const informer = new Informer({
    kc,
    path: '/api/v1/secrets',
    resource: 'secrets',
    logger,
    metrics: new Metrics(),
    healthyWatchMs: 200,
  });
  await informer.run(stop.signal);
  return delays;
}

describe('informer reconnect backoff', () => {
  it('grows while watches fail in a row', async () => {
    const delays = await retryDelays(0, 4);
    // Ceilings 0.5, 1, 2, 4 s with jitter in the upper half: the fourth is at least 2 s.
    expect(delays).toHaveLength(4);
    expect(delays[3]).toBeGreaterThanOrEqual(2000);
  }, 20_000);

  it('starts afresh after a watch that ran for a while before it failed', async () => {
    // Each watch lives 400 ms (longer than healthyWatchMs) before its connection breaks.
    const delays = await retryDelays(400, 5);
    expect(delays).toHaveLength(5);
    for (const d of delays) expect(d).toBeLessThanOrEqual(500);
  }, 20_000);
});

describe('a watch that never ends', () => {
  it('is given up after twice the inactivity timeout, and stopping does not wait for it', async () => {
    const kc = await breakingWatches(60_000);
    // The client starts each watch but never reports its end, even when aborted.
    let started = 0;
    vi.spyOn(Watch.prototype, 'watch').mockImplementation(async () => {
      started++;
      return new AbortController();
    });
    const metrics = new Metrics();
    const stop = new AbortController();
    const informer = new Informer({
      kc,
      path: '/api/v1/secrets',
      resource: 'secrets',
      logger: pino({ level: 'silent' }),
      metrics,
      inactivityMs: 100,
    });
    const running = informer.run(stop.signal);
    await expect.poll(() => started, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(
      await metrics.total(metrics.watchRestarts, { resource: 'secrets', reason: 'inactive' }),
    ).toBeGreaterThanOrEqual(2);
    stop.abort();
    await running;
  }, 20_000);
});
