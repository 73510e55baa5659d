// The controller survives what the API server does to it: a restart mid-run, and a clean
// shutdown of the `ferry controller` process on SIGTERM.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareDispatcher } from '../../src/kube/kubeconfig.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { openSockets } from '../support/descriptors.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { installCrds } from '../testbed/install-crds.ts';
import { type KubeApiServer, startKubeApiServer } from '../testbed/kube-apiserver.ts';
import { loadPki } from '../testbed/pki.ts';
import { freePort } from '../testbed/ports.ts';

describe('API server restart', () => {
  let own: KubeApiServer;
  let ctl: RunningController;
  let o: Objects;

  beforeAll(async () => {
    // A private API server (fresh etcd prefix): this test restarts it and watches every namespace.
    own = await startKubeApiServer({
      runDir: testbed().runDir,
      pki: await loadPki(testbed().pkiDir),
      etcdUrl: testbed().etcdUrl,
    });
    const kc = kubeConfigFor(own.access);
    await installCrds(kc);
    ctl = await startController(own.access);
    o = new Objects(kc, await createNamespace(kc, 'restart'));
  });

  afterAll(async () => {
    await ctl?.stop();
    await own?.process.stop();
  });

  it('reconnects its watches (relisting on 410 Gone) and keeps syncing after the API server restarts', async () => {
    await o.secretStore('store', { fake: { data: [{ key: 'k', value: 'before' }] } });
    await o.externalSecret('first', {
      secretStoreRef: { name: 'store' },
      refreshInterval: '1s',
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('first', (d) => d.k === 'before', 'sync before the restart');

    const { metrics } = ctl.controller;
    const restartsBefore = await metrics.total(metrics.watchRestarts);
    const relistsBefore = await metrics.total(metrics.relists, { resource: 'externalsecrets' });
    // While it is down, advance etcd's revision through the shared API server (same etcd): the
    // restarted server's watch cache then starts past the controller's resourceVersion, so its
    // watches get 410 Gone and must relist.
    await own.process.stop();
    const shared = new Objects(
      kubeConfigFor(testbed().kube),
      await createNamespace(kubeConfigFor(testbed().kube), 'etcd-rev'),
    );
    for (let i = 0; i < 5; i++) {
      await shared.core.createNamespacedConfigMap({
        namespace: shared.namespace,
        body: { metadata: { name: `rev-${i}` } },
      });
    }
    await own.process.start();

    // New objects and changes made after the restart reach the controller through new watches.
    await o.externalSecret('second', {
      secretStoreRef: { name: 'store' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('second', (d) => d.k === 'before', 'an ExternalSecret created after the restart');
    await o.patch('secretstores', 'store', { spec: { provider: { fake: { data: [{ key: 'k', value: 'after' }] } } } });
    await o.waitForSecret('first', (d) => d.k === 'after', 'a store change made after the restart');
    await o.core.deleteNamespacedSecret({ namespace: o.namespace, name: 'second' });
    await o.waitForSecret('second', (d) => d.k === 'after', 'drift repair after the restart');
    expect(await metrics.total(metrics.watchRestarts)).toBeGreaterThan(restartsBefore);
    expect(await metrics.total(metrics.watchRestarts, { reason: 'gone' })).toBeGreaterThan(0);
    expect(await metrics.total(metrics.relists, { resource: 'externalsecrets' })).toBeGreaterThan(relistsBefore);
  });
});

describe('connections', () => {
  it('reuses its API-server connections instead of opening one per request', async () => {
    const kc = shareDispatcher(kubeConfigFor(testbed().kube));
    const namespace = await createNamespace(kc, 'sockets');
    const ctl = await startController(testbed().kube, { namespace });
    try {
      const o = new Objects(kc, namespace);
      await o.secretStore('s', { fake: { data: [{ key: 'k', value: 'v' }] } });
      await o.externalSecret('warm', {
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
      await o.waitForSecret('warm', (d) => d.k === 'v', 'a first sync');
      const before = openSockets();
      for (let i = 0; i < 40; i++) {
        await o.externalSecret(`burst-${i}`, {
          secretStoreRef: { name: 's' },
          data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
        });
      }
      for (let i = 0; i < 40; i++) await o.waitForSecret(`burst-${i}`, (d) => d.k === 'v', `burst-${i}`);
      // 40 syncs are over 120 API requests (Secret, status, events); connections are reused.
      expect(await ctl.controller.metrics.total(ctl.controller.metrics.kubeRequests)).toBeGreaterThan(120);
      expect(openSockets() - before).toBeLessThan(10);
    } finally {
      await ctl.stop();
    }
  });
});

describe('ferry controller process', () => {
  it('serves /readyz and /metrics, and exits 0 on SIGTERM after draining', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'cli');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        'src/main.ts',
        'controller',
        '--kubeconfig',
        testbed().kube.kubeconfigPath,
        '--namespace',
        namespace,
        '--metrics-addr',
        `127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually(
        '/readyz to answer 200',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        30_000,
      );
      const o = new Objects(kc, namespace);
      await o.secretStore('s', { fake: { data: [{ key: 'k', value: 'v' }] } });
      await o.externalSecret('e', {
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
      await o.waitForSecret('e', (d) => d.k === 'v', 'a sync by the ferry process');
      const metrics = await eventually('the sync counted in /metrics', async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /ferry_reconcile_total\{kind="ExternalSecret",result="synced"\} [1-9]/.test(text) ? text : undefined;
      });
      expect(metrics).toMatch(/ferry_kube_requests_total\{verb="create",resource="secrets"\} 1/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.join('')).toMatch(/controller stopped/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('rejects a bad flag with exit code 2, naming the flag', async () => {
    const child = spawn(process.execPath, ['src/main.ts', 'controller', '--concurrency', 'lots'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--concurrency must be a positive number, got "lots"/);
  });
});
