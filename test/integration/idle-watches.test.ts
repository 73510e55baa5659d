// Watches left idle for longer than the API server's timeouts, on a private API server started
// with --min-request-timeout=5 (it ends each watch that asks for no timeout after 5–10 s):
// - the server ends every informer's watch several times while nothing changes;
// - the inactivity watchdog ends watches that hear nothing (not even a bookmark) for 3 s.
// After each: changes made then all reach the informers (their caches equal a fresh list), the
// Secrets follow, and open descriptors and sockets stay flat (a watch that leaked its
// connection on each renewal would add one socket per informer per renewal). How long a change
// took to reach the cache is printed, not asserted (timings belong to benchmarks).
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchTimings } from '../../src/kube/informer.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { openDescriptors, openSockets } from '../support/descriptors.ts';
import { expectCachesMatchAList } from '../support/informer-caches.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const own = usePrivateApiServer(['--min-request-timeout=5']);
/** Every informer a cluster-wide controller runs. */
const RESOURCES = [
  'externalsecrets',
  'secretstores',
  'clustersecretstores',
  'secrets',
  'clusterexternalsecrets',
  'namespaces',
];
const COUNT = 5;
/** Watch renewals every informer must go through while idle. */
const RENEWALS = 3;

let ctl: RunningController | undefined;
afterEach(async () => {
  await ctl?.stop();
  ctl = undefined;
});

/** Watch restarts per resource with `reason`. */
async function restarts(c: RunningController, reason: string): Promise<Record<string, number>> {
  const { metrics } = c.controller;
  const out: Record<string, number> = {};
  for (const resource of RESOURCES) out[resource] = await metrics.total(metrics.watchRestarts, { resource, reason });
  return out;
}

/**
 * A controller with `watch` timings over a store and COUNT ExternalSecrets, left idle until every
 * informer's watch ended RENEWALS times for `reason`; then changes of every kind must arrive.
 */
async function idleThenChange(watch: WatchTimings, reason: 'closed' | 'inactive'): Promise<void> {
  const { server, kc } = own.get();
  ctl = await startController(server.access, { watch });
  const c = ctl;
  const o = new Objects(kc, await createNamespace(kc, 'idle'));
  await o.secretStore('store', { fake: { data: [{ key: 'k', value: 'v1' }] } });
  for (let i = 0; i < COUNT; i++) {
    await o.externalSecret(`es-${i}`, {
      secretStoreRef: { name: 'store' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
  }
  for (let i = 0; i < COUNT; i++) await o.waitForSecret(`es-${i}`, (d) => d.k === 'v1', `es-${i} synced`);
  await expectCachesMatchAList(c, o);

  // Nothing changes while the watches renew. Descriptors are counted once the keep-alive
  // connections the set-up left have closed (undici's idle timeout is 4 s): after whole renewal
  // rounds lasting at least 6 s.
  const setUp = Date.now();
  const renewals = (from: Record<string, number>, n: number) =>
    eventually(
      `every informer's watch ended ${n} more times (${reason})`,
      async () => {
        const now = await restarts(c, reason);
        return RESOURCES.every((r) => (now[r] ?? 0) - (from[r] ?? 0) >= n) ? now : undefined;
      },
      90_000,
    );
  let first = await renewals(await restarts(c, reason), 1);
  while (Date.now() - setUp < 6000) first = await renewals(first, 1);
  const [fds, sockets] = [openDescriptors(), openSockets()];
  const relistsBefore = await c.controller.metrics.total(c.controller.metrics.relists);
  const idleFrom = Date.now();
  const after = await renewals(first, RENEWALS);
  const renewed = RESOURCES.map((r) => `${r} ${(after[r] ?? 0) - (first[r] ?? 0)}`).join(', ');
  const [fdsIdle, socketsIdle] = [openDescriptors(), openSockets()];
  process.stdout.write(
    `idle ${Date.now() - idleFrom} ms; watches ended (${reason}): ${renewed}; ` +
      `descriptors ${fds} → ${fdsIdle}, sockets ${sockets} → ${socketsIdle}\n`,
  );
  // A renewed watch must release what it held. (undici 8 speaks HTTP/2 to the API server, so the
  // watches share one connection; a leaked stream would show in memory, not in a socket count.)
  expect(fdsIdle - fds).toBeLessThan(4);
  expect(socketsIdle - sockets).toBeLessThan(4);

  // Changes of every kind while the watches keep renewing: an update, a create, a delete.
  const t0 = Date.now();
  await o.patch('secretstores', 'store', { spec: { provider: { fake: { data: [{ key: 'k', value: 'v2' }] } } } });
  const patched = await o.getSecretStore('store');
  // Up to a minute: a watch that failed (not just ended) reconnects after a backoff of up to 30 s.
  // How long it took is printed, with the failed watches, not asserted.
  // Why watches failed, for the record (a slow resume under load was seen once, not explained):
  // printed below, and with the timeout when the change never arrives.
  const whyFailed = () =>
    new Set(
      c.logs
        .filter((line) => line.includes('watch failed') || line.includes('relisting') || line.includes('abandoned'))
        .map((line) => {
          const { time, resource, err, retryInMs, msg } = JSON.parse(line) as Record<string, string>;
          return `${new Date(Number(time)).toISOString().slice(11, 23)} ${resource}: ${err ?? msg}${retryInMs ? ` (retry in ${retryInMs} ms)` : ''}`;
        }),
    );
  // The controller answers the change with a status write (observedGeneration moves), which
  // can reach the cache before the first look: the patched version or any later one will do.
  // (Equality with the patched version alone failed once in CI for exactly that reason.)
  await eventually(
    'the store change in the informer cache',
    async () => {
      const cached = c.controller.cachedVersions().secretstores?.get(`${o.namespace}/store`);
      if (cached === patched.metadata.resourceVersion) return true;
      return cached === (await o.getSecretStore('store')).metadata.resourceVersion ? true : undefined;
    },
    60_000,
  ).catch((err: Error) => {
    const trail = c.logs
      .filter((line) => line.includes('"secretstores"'))
      .slice(-8)
      .map((line) => {
        const { time, msg, reason, ms, from, to } = JSON.parse(line) as Record<string, string>;
        return `${new Date(Number(time)).toISOString().slice(11, 23)} ${msg}${reason ? ` ${reason} after ${ms} ms, rv ${from} → ${to}` : ''}`;
      });
    throw new Error(
      `${err.message}; watch failures: ${[...whyFailed()].join('; ') || 'none'}; ` +
        `secretstores informer's last lines (patch at ${new Date(t0).toISOString().slice(11, 23)}, ` +
        `rv ${patched.metadata.resourceVersion}): ${trail.join('; ')}`,
    );
  });
  const resumeMs = Date.now() - t0;
  const failedWatches = Object.values(await restarts(c, 'error')).reduce((a, b) => a + b, 0);
  const failures = whyFailed();
  await o.externalSecret('after-idle', {
    secretStoreRef: { name: 'store' },
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.delete('externalsecrets', `es-${COUNT - 1}`);
  await o.waitForSecret('after-idle', (d) => d.k === 'v2', 'after-idle, created after the idle period');
  for (let i = 0; i < COUNT - 1; i++) await o.waitForSecret(`es-${i}`, (d) => d.k === 'v2', `es-${i} after idle`);
  await expectCachesMatchAList(c, o);
  expect(c.controller.cachedVersions().externalsecrets?.has(`${o.namespace}/es-${COUNT - 1}`)).toBe(false);
  const relists = (await c.controller.metrics.total(c.controller.metrics.relists)) - relistsBefore;
  process.stdout.write(
    `after idle (${reason}): a store change reached the cache in ${resumeMs} ms, everything synced ` +
      `${Date.now() - t0} ms after the change; relists meanwhile: ${relists}; watches failed (reason error) ` +
      `in the whole test: ${failedWatches}${failures.size > 0 ? ` (${[...failures].join('; ')})` : ''}\n`,
  );

  // The writes just made leave keep-alive connections (the controller's and this test's) that
  // close when idle; then the count is back where it was.
  const settled = await eventually(
    'descriptors and sockets back to where they were before the idle period',
    async () => {
      const [d, so] = [openDescriptors(), openSockets()];
      return d - fds < 4 && so - sockets < 4 ? [d, so] : undefined;
    },
    30_000,
  ).catch(() => [openDescriptors(), openSockets()]);
  process.stdout.write(`after the changes: descriptors ${fds} → ${settled[0]}, sockets ${sockets} → ${settled[1]}\n`);
  expect((settled[0] ?? 0) - fds).toBeLessThan(4);
  expect((settled[1] ?? 0) - sockets).toBeLessThan(4);
}

describe('watches idle past the server’s timeouts', () => {
  it('the API server ends every watch several times (--min-request-timeout=5): nothing missed, sockets flat', async () => {
    // 'server': the watches ask for no timeout, so the server's --min-request-timeout applies.
    await idleThenChange({ watchTimeoutSeconds: 'server' }, 'closed');
  }, 180_000);

  it('the inactivity watchdog ends silent watches (3 s, before any bookmark): nothing missed, sockets flat', async () => {
    // Watches asking for 60 s get their first bookmark 2 s before that; the 3 s watchdog fires first.
    await idleThenChange({ watchTimeoutSeconds: [60, 60], inactivityMs: 3000 }, 'inactive');
  }, 180_000);
});
