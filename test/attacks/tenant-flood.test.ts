// A tenant trying to take the controller's time from other namespaces: stores that never answer,
// a refreshInterval of 1ms, and force-sync annotations in a loop. The controller here watches
// every namespace (the chart's default mode), so it runs against a private API server.
//
// Rules (docs/security.md, "A tenant's share of the controller"):
// - namespaces are served in turn, and one namespace holds at most all workers but a tenth;
// - a refreshInterval below --min-refresh-interval is served at that minimum and says so;
// - forced syncs of one object re-read the provider at most once per --force-sync-interval.
import { createServer, type Server, type Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const own = usePrivateApiServer();
let kc: KubeConfig;
let blackHole: Server;
const held = new Set<Socket>();
let accepted = 0;

beforeAll(async () => {
  kc = own.get().kc;
  // Accepts connections and never answers: every call to it holds its caller until a timeout.
  blackHole = createServer((socket) => {
    accepted++;
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => blackHole?.close(r));
});

async function tenant(prefix: string): Promise<Objects> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return new Objects(kc, name);
}

/** Provider reads of `key` the controller made, from its debug log. */
function reads(ctl: RunningController, key: string): number {
  return ctl.logs.filter((l) => {
    const line = JSON.parse(l) as { msg?: string; key?: string };
    return line.msg === 'provider read' && line.key === key;
  }).length;
}

const fakeStore = (key: string) => ({ fake: { data: [{ key, value: 'v' }] } });

describe("a tenant's share of the controller", () => {
  it('stores that never answer hold at most all workers but a tenth; another namespace still syncs', async () => {
    const concurrency = 10; // nine for one namespace, one kept for the others
    const ctl = await startController(own.get().server.access, { concurrency });
    try {
      const attacker = await tenant('blackhole');
      const victim = await tenant('victim');
      await attacker.core.createNamespacedSecret({
        namespace: attacker.namespace,
        body: { metadata: { name: 'token' }, stringData: { token: 't' } },
      });
      const port = (blackHole.address() as { port: number }).port;
      // One store each, so no two calls share a read or a store's backoff.
      for (let i = 0; i < 20; i++) {
        await attacker.secretStore(`hole-${i}`, {
          vault: {
            server: `http://127.0.0.1:${port}`,
            path: 'secret',
            auth: { tokenSecretRef: { name: 'token', key: 'token' } },
          },
        });
        await attacker.externalSecret(`es-${i}`, {
          secretStoreRef: { name: `hole-${i}` },
          data: [{ secretKey: 'v', remoteRef: { key: `k${i}`, property: 'v' } }],
        });
      }
      // The setup works: the attacker's calls really are held by the black hole, at least as many
      // as its namespace may hold workers (store validations, on their own queue, hold some too).
      await eventually("the black hole holds the attacker's calls", async () =>
        held.size >= concurrency - 1 ? true : undefined,
      );

      await victim.secretStore('s', fakeStore('k'));
      await victim.externalSecret('new', {
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'v', remoteRef: { key: 'k' } }],
      });
      await victim.waitForSecret('new', (d) => d.v === 'v', "the other namespace's new object");
      // Synced while the attacker's calls were still held: none of its syncs has failed yet (each
      // fails only when its call times out, after 15 s, and frees its worker). Without the
      // limit, every worker is the attacker's and the new object waits for those timeouts.
      const attackerFailures = ctl.logs.filter(
        (l) => l.includes(`"namespace":"${attacker.namespace}"`) && l.includes('sync failed'),
      );
      expect(attackerFailures).toEqual([]);
      expect(held.size).toBe(accepted);
      const attacked = await attacker.getExternalSecret('es-0');
      expect(attacked.status?.conditions?.find((c) => c.type === 'Ready')?.status).not.toBe('True');
      for (let i = 0; i < 20; i++) await attacker.delete('externalsecrets', `es-${i}`);
      for (let i = 0; i < 20; i++) await attacker.delete('secretstores', `hole-${i}`);
    } finally {
      // Stopping waits for reconciles in flight: end the held calls rather than their timeouts.
      for (const s of held) s.destroy();
      await ctl.stop();
    }
  });

  it('serves refreshInterval 1ms at the minimum and says so; without the minimum it would read without pause', async () => {
    // The setup works: a controller with no minimum re-reads a 1ms object many times a second.
    const unbounded = await startController(own.get().server.access, { minRefreshIntervalMs: 0 });
    const a = await tenant('refresh');
    try {
      await a.secretStore('s', fakeStore('fast'));
      await a.externalSecret('fast', {
        refreshInterval: '1ms',
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'v', remoteRef: { key: 'fast' } }],
      });
      await eventually('many reads without a minimum', async () => (reads(unbounded, 'fast') >= 20 ? true : undefined));
    } finally {
      await unbounded.stop();
    }

    // The chart's default minimum (10 s; undefined here means the controller's own default).
    const ctl = await startController(own.get().server.access, { minRefreshIntervalMs: undefined });
    try {
      const b = await tenant('refresh');
      await b.secretStore('s', fakeStore('slow'));
      await b.externalSecret('fast', {
        refreshInterval: '1ms',
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'v', remoteRef: { key: 'slow' } }],
      });
      const { ready } = await b.waitForReady('fast', { status: 'True' });
      expect(ready.message).toContain(
        "spec.refreshInterval 1ms is below the controller's minimum (--min-refresh-interval), so it refreshes every 10s",
      );
      const events = await b.events();
      expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'RefreshIntervalRaised' }));
      const after = reads(ctl, 'slow');
      expect(after).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 3000));
      // At most one refresh in 3 s (one per 10 s, whatever its phase); the unbounded controller
      // made twenty reads above.
      expect(reads(ctl, 'slow') - after).toBeLessThanOrEqual(1);
    } finally {
      await ctl.stop();
    }
  });

  it('re-reads the provider for forced syncs of one object at most once per interval; a later force waits, not lost', async () => {
    const ctl = await startController(own.get().server.access, { forceSyncIntervalMs: 4000 });
    try {
      const a = await tenant('force');
      await a.secretStore('s', fakeStore('forced'));
      await a.externalSecret('es', {
        refreshInterval: '1h',
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'v', remoteRef: { key: 'forced' } }],
      });
      await a.waitForReady('es', { status: 'True' });
      expect(reads(ctl, 'forced')).toBe(1);
      // The setup works: a force re-reads the provider.
      await a.patch('externalsecrets', 'es', { metadata: { annotations: { 'ferry.dev/force-sync': '1' } } });
      await eventually('the first force re-read', async () => (reads(ctl, 'forced') === 2 ? true : undefined));
      // A flood of forces right after it: none re-reads before the interval has passed...
      for (let i = 2; i <= 20; i++) {
        await a.patch('externalsecrets', 'es', { metadata: { annotations: { 'ferry.dev/force-sync': String(i) } } });
      }
      expect(reads(ctl, 'forced')).toBe(2);
      // ...and the last one is served once it has: one more read, not nineteen.
      await eventually(
        'the deferred force re-read',
        async () => (reads(ctl, 'forced') === 3 ? true : undefined),
        15_000,
      );
      await new Promise((r) => setTimeout(r, 1000));
      expect(reads(ctl, 'forced')).toBe(3);
    } finally {
      await ctl.stop();
    }
  });
});
