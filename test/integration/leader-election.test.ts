// Leader election on a real coordination.k8s.io Lease: one leader at a time, fast hand-over on
// shutdown, a leader cut off from the API server stops at its renew deadline (before anyone can
// take over), and two controllers on one namespace never both write.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.ts';
import { type ElectionEnd, type LeaderElectionConfig, LeaderElector } from '../../src/kube/leader-election.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';

const quiet = pino({ level: 'silent' });
const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Candidate {
  elector: LeaderElector;
  done: Promise<ElectionEnd>;
  stop: AbortController;
  events: string[];
}

function candidate(kc: KubeConfig, lease: Omit<LeaderElectionConfig, 'identity'>, identity: string): Candidate {
  const elector = new LeaderElector(kc, { ...lease, identity }, quiet);
  const stop = new AbortController();
  const events: string[] = [];
  const done = elector.run(stop.signal, {
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  cleanups.push(async () => {
    stop.abort();
    await done;
  });
  return { elector, done, stop, events };
}

async function leaseSpec(kc: KubeConfig, namespace: string, name: string) {
  return (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace, name })).spec;
}

/** A TCP relay to the API server that the test can cut, as a network partition would. */
async function relayTo(server: string): Promise<{ url: string; cut(): void }> {
  const target = new URL(server);
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as { port: number }).port;
  const cut = () => {
    relay.close();
    for (const s of sockets) s.destroy();
  };
  cleanups.push(cut);
  return { url: `https://127.0.0.1:${port}`, cut };
}

describe('leader election on a Lease', () => {
  it('elects exactly one of two candidates and records it on the Lease', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'le');
    const lease = { namespace, name: 'ferry-controller', ...timing };
    const a = candidate(kc, lease, 'a');
    const b = candidate(kc, lease, 'b');
    const leader = await eventually('a leader', async () => [a, b].find((c) => c.elector.isLeader()));
    const follower = leader === a ? b : a;
    // Several renew periods later the same one leads and the other still follows.
    await new Promise((r) => setTimeout(r, 4 * timing.retryPeriodMs));
    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.elector.isLeader()).toBe(false);
    expect(follower.elector.leader).toBe(leader.elector.identity);
    const spec = await leaseSpec(kc, namespace, 'ferry-controller');
    expect(spec?.holderIdentity).toBe(leader.elector.identity);
    expect(spec?.leaseDurationSeconds).toBe(3);
    expect(spec?.renewTime).toBeTruthy();
  });

  it('hands over within a retry period when the leader shuts down (it releases the Lease)', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'le');
    const lease = { namespace, name: 'ferry-controller', ...timing };
    const a = candidate(kc, lease, 'a');
    await eventually('a leads', async () => a.elector.isLeader() || undefined);
    const b = candidate(kc, lease, 'b');
    await eventually('b sees a', async () => (b.elector.leader === 'a' ? true : undefined));
    const t0 = Date.now();
    a.stop.abort();
    expect(await a.done).toBe('stopped');
    expect(a.events).toEqual(['started', 'stopped']);
    await eventually('b leads', async () => b.elector.isLeader() || undefined);
    // Released, not expired: b need not wait out the 3 s lease.
    expect(Date.now() - t0).toBeLessThan(timing.leaseDurationMs);
    const spec = await leaseSpec(kc, namespace, 'ferry-controller');
    expect(spec?.holderIdentity).toBe('b');
    expect(spec?.leaseTransitions).toBe(1);
  });

  it('a leader cut off from the API server stops leading at its renew deadline, before a follower may take over', async () => {
    const access = testbed().kube;
    const kc = kubeConfigFor(access);
    const namespace = await createNamespace(kc, 'le');
    const lease = { namespace, name: 'ferry-controller', ...timing };
    const relay = await relayTo(access.server);
    const partitioned = kubeConfigFor({ ...access, server: relay.url });
    const a = candidate(partitioned, lease, 'a');
    await eventually('a leads', async () => a.elector.isLeader() || undefined);
    const b = candidate(kc, lease, 'b');
    await eventually('b sees a', async () => (b.elector.leader === 'a' ? true : undefined));

    const cutAt = Date.now();
    relay.cut();
    const stoppedAt = await eventually('a stops leading', async () => (a.elector.isLeader() ? undefined : Date.now()));
    const tookOverAt = await eventually('b leads', async () => (b.elector.isLeader() ? Date.now() : undefined));
    expect(await a.done).toBe('lost');
    // a stopped within its renew deadline (+ one retry period) and before b could lead.
    expect(stoppedAt - cutAt).toBeLessThanOrEqual(timing.renewDeadlineMs + timing.retryPeriodMs);
    expect(stoppedAt).toBeLessThan(tookOverAt);
    expect(tookOverAt - cutAt).toBeGreaterThanOrEqual(timing.leaseDurationMs - timing.retryPeriodMs);
    expect((await leaseSpec(kc, namespace, 'ferry-controller'))?.holderIdentity).toBe('b');
  });

  it('two controllers on one namespace: only the leader writes, and the follower takes over when it stops', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'le');
    const o = new Objects(kc, namespace);
    const lease = { namespace, name: 'ferry-controller', ...timing };
    const controllerConfig = {
      namespace,
      concurrency: 8,
      kubeQps: 200,
      kubeBurst: 400,
      providerQps: 100,
      providerBurst: 200,
      shareWindowMs: 60_000,
      namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
    };
    const start = (identity: string) => {
      const elector = new LeaderElector(kc, { ...lease, identity }, quiet);
      const controller = new Controller(kc, controllerConfig, quiet, undefined, elector);
      const stop = new AbortController();
      const done = controller.run(stop.signal);
      cleanups.push(async () => {
        stop.abort();
        await done;
      });
      return { controller, stop, done, elector };
    };
    await o.secretStore('store', { fake: { data: [{ key: 'k', value: 'v1' }] } });
    const names = Array.from({ length: 20 }, (_, i) => `es-${i}`);
    for (const name of names) {
      await o.externalSecret(name, {
        secretStoreRef: { name: 'store' },
        refreshInterval: '0',
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
    }
    const a = start('a');
    await eventually('a leads', async () => a.elector.isLeader() || undefined);
    const b = start('b');
    await eventually('b is synced and following', async () =>
      b.controller.describe() === 'ok: follower (b), leader a' ? true : undefined,
    );
    for (const name of names) await o.waitForSecret(name, (d) => d.k === 'v1', name);
    expect(a.controller.describe()).toBe('ok: leader (a)');
    expect(await a.controller.metrics.leader.get()).toMatchObject({ values: [{ value: 1 }] });
    expect(await b.controller.metrics.leader.get()).toMatchObject({ values: [{ value: 0 }] });
    // The follower sent no writes at all.
    const writes = async (c: Controller) =>
      (await c.metrics.kubeRequests.get()).values.filter((v) => v.labels.verb !== 'get').length;
    expect(await writes(b.controller)).toBe(0);
    const versions = new Map<string, string | undefined>();
    for (const name of names) versions.set(name, (await o.secret(name))?.metadata?.resourceVersion);

    a.stop.abort();
    await a.done;
    await eventually('b leads', async () => b.elector.isLeader() || undefined);
    // The new leader leaves Secrets that are in sync alone, and syncs what changes from now on.
    await o.externalSecret('late', {
      secretStoreRef: { name: 'store' },
      refreshInterval: '0',
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('late', (d) => d.k === 'v1', 'late');
    await b.controller.idle();
    for (const name of names) expect((await o.secret(name))?.metadata?.resourceVersion).toBe(versions.get(name));
  });
});
