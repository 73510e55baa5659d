// The controller under what its control plane does to it, on a private etcd + API server:
// etcd stopped for 30 s, and a compacted etcd behind a restarted API server (every watch gets
// 410 Gone). After each: no Secret changed while it lasted, the informers hold exactly what a
// fresh list returns (no missed event), syncing resumes, and descriptors and sockets stay flat.
// How long resuming took is printed, not asserted (timings belong to benchmarks).
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { openDescriptors, openSockets } from '../support/descriptors.ts';
import { expectCachesMatchAList } from '../support/informer-caches.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { type Etcd, startEtcd } from '../testbed/etcd.ts';
import { installCrds } from '../testbed/install-crds.ts';
import { type KubeApiServer, startKubeApiServer } from '../testbed/kube-apiserver.ts';
import { loadPki } from '../testbed/pki.ts';

let etcd: Etcd;
let api: KubeApiServer;
let kc: KubeConfig;
let ctl: RunningController;
let o: Objects;
const COUNT = 20;

beforeAll(async () => {
  const runDir = await mkdtemp(join(testbed().runDir, 'faults-'));
  etcd = await startEtcd(runDir);
  api = await startKubeApiServer({ runDir, pki: await loadPki(testbed().pkiDir), etcdUrl: etcd.url });
  kc = kubeConfigFor(api.access);
  await installCrds(kc);
  ctl = await startController(api.access);
  o = new Objects(kc, await createNamespace(kc, 'faults'));
  await o.secretStore('store', { fake: { data: [{ key: 'k', value: 'v1' }] } });
  for (let i = 0; i < COUNT; i++) {
    await o.externalSecret(`es-${i}`, {
      secretStoreRef: { name: 'store' },
      refreshInterval: '2s',
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
  }
  for (let i = 0; i < COUNT; i++) await o.waitForSecret(`es-${i}`, (d) => d.k === 'v1', `es-${i} synced`);
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await api?.process.stop();
  await etcd?.process.stop();
});

async function etcdCall(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${etcd.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function secretVersions(): Promise<string[]> {
  const list = await o.core.listNamespacedSecret({ namespace: o.namespace, labelSelector: 'ferry.dev/managed=true' });
  return list.items.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`).sort();
}

const apiAnswering = () =>
  eventually(
    'the API server answering',
    () =>
      o.core.listNamespacedSecret({ namespace: o.namespace }).then(
        () => true,
        () => undefined,
      ),
    60_000,
  );

/** After a fault: a store change and a new ExternalSecret both arrive; prints how long that took. */
async function resumes(what: string, value: string, name: string): Promise<void> {
  const t0 = Date.now();
  await apiAnswering();
  await o.patch('secretstores', 'store', { spec: { provider: { fake: { data: [{ key: 'k', value }] } } } });
  await o.externalSecret(name, {
    secretStoreRef: { name: 'store' },
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.waitForSecret(name, (d) => d.k === value, `${name}, created after ${what}`);
  for (let i = 0; i < COUNT; i++) await o.waitForSecret(`es-${i}`, (d) => d.k === value, `es-${i} after ${what}`);
  process.stdout.write(
    `${what}: a change and a new object synced ${Date.now() - t0} ms after the API server answered again\n`,
  );
}

describe('control-plane faults', () => {
  it('etcd stopped for 30 s: nothing written meanwhile, caches match a relist after, syncing resumes, no descriptor leak', async () => {
    const [fds, sockets] = [openDescriptors(), openSockets()];
    const before = await secretVersions();
    await etcd.process.stop();
    await new Promise((r) => setTimeout(r, 30_000));
    await etcd.process.start();
    await apiAnswering();
    // Refreshes during the outage found nothing to change: the Secrets are the same objects.
    expect(await secretVersions()).toEqual(before);
    await resumes('etcd stopped for 30 s', 'v2', 'after-etcd');
    await expectCachesMatchAList(ctl, o);
    expect(openDescriptors() - fds).toBeLessThan(15);
    expect(openSockets() - sockets).toBeLessThan(10);
  });

  it('a compacted etcd behind a restarted API server: every watch gets 410 Gone, relists, misses nothing', async () => {
    const { metrics } = ctl.controller;
    const goneBefore = await metrics.total(metrics.watchRestarts, { reason: 'gone' });
    await api.process.stop();
    // While the API server is down: delete one ExternalSecret's Secret and advance etcd, then
    // compact everything before the new revision away. The restarted server cannot serve any
    // watch from the controller's old resourceVersion.
    const victim = `/registry/secrets/${o.namespace}/es-0`;
    await etcdCall('/v3/kv/deleterange', { key: Buffer.from(victim).toString('base64') });
    let revision = '0';
    for (let i = 0; i < 5; i++) {
      const put = await etcdCall('/v3/kv/put', {
        key: Buffer.from(`/unrelated/${i}`).toString('base64'),
        value: Buffer.from('x').toString('base64'),
      });
      revision = String((put.header as { revision: string }).revision);
    }
    await etcdCall('/v3/kv/compaction', { revision, physical: true });
    await api.process.start();

    await expectCachesMatchAList(ctl, o);
    expect(await metrics.total(metrics.watchRestarts, { reason: 'gone' })).toBeGreaterThan(goneBefore);
    // The deletion the watch never saw was found by the relist and repaired as drift.
    await o.waitForSecret('es-0', (d) => d.k === 'v2', 'es-0 recreated after its Secret vanished unseen');
    await resumes('a compacted etcd', 'v3', 'after-compaction');
    await expectCachesMatchAList(ctl, o);
  });
});
