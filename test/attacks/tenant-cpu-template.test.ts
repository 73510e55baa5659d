// A tenant who may write ExternalSecrets in one namespace writes templates that cost CPU without
// end: a pure-CPU loop (a defined template calling itself twice, 2^40 calls, within every byte and
// step limit of the engine), derivePassword (scrypt, 64 MiB each) and RSA-4096 key generation in a
// range. Rules that stop them (docs/security.md, "Bounded work per render"): renders run in a
// worker thread under a wall-clock limit (--render-timeout), costly functions are budgeted per
// render by count and weight. Shown here: each bomb fails with the rule's own error on its
// ExternalSecret (so it really ran as long as the limit, or hit the budget), while the controller's
// /healthz keeps answering (a property over many probes: at least 90% within 1 s, on the bed's 2
// shared cores) and another namespace's new ExternalSecret becomes Ready; then the same for the
// CSI plugin: a volume naming a CPU-loop template fails to mount while the plugin's /healthz
// answers and another namespace's volume mounts. The controller and the plugin run one at a time
// (each with the defaults: one render worker, 10 s), cluster-wide, on a private API server: they
// must see two namespaces and nothing else.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/observability/http-server.ts';
import { DEFAULT_RENDERS } from '../../src/pipeline/render-pool.ts';
import { MAX_COST_WEIGHT } from '../../src/template/index.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { call, kubeletContext, publishRequest, type RunningPlugin, startPlugin } from '../support/csi.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace, testbed, uniqueName } from '../support/testbed.ts';

const own = usePrivateApiServer();
const CANARY = 'canary-e4d1-cputemplate';
/** A pure-CPU loop within the engine's byte and step limits: 2^40 calls of a defined template. */
const LOOP =
  '{{ define "burn" }}{{ if lt . 40 }}{{ template "burn" (add1 .) }}{{ template "burn" (add1 .) }}{{ end }}{{ end }}{{ template "burn" 0 }}';
/**
 * The limit these processes run with: shorter than the default (DEFAULT_RENDERS, 10 s) so the
 * bombs, rendered one after another by one worker, take the suite seconds, not minutes. The rule
 * is the same at any length.
 */
const RENDERS = { workers: DEFAULT_RENDERS.workers, timeoutMs: 3000 };
const LIMIT = `${RENDERS.timeoutMs / 1000}s`;

let kc: KubeConfig;
let tenant: Objects;
let other: Objects;

beforeAll(async () => {
  kc = own.get().kc;
  tenant = new Objects(kc, await createNamespace(kc, 'cpu-tenant'));
  other = new Objects(kc, await createNamespace(kc, 'cpu-other'));
}, 120_000);

async function fakeStore(o: Objects): Promise<string> {
  const store = uniqueName('fake');
  await o.secretStore(store, { fake: { data: [{ key: 'app', value: CANARY }] } });
  return store;
}

function templated(store: string, data: Record<string, string>) {
  return {
    secretStoreRef: { name: store },
    refreshInterval: '1s',
    data: [{ secretKey: 'v', remoteRef: { key: 'app' } }],
    target: { template: { data } },
  };
}

/** One GET of /healthz; true when it answered 200 within a second. */
async function probe(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Probes /healthz on `port` every 100 ms while `work` runs, and at least 100 times. */
async function probeDuring<T>(
  port: number,
  work: () => Promise<T>,
): Promise<{ result: T; answered: number; total: number }> {
  const results: boolean[] = [];
  let probing = true;
  const probes = (async () => {
    while (probing || results.length < 100) {
      results.push(await probe(port));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    probing = false;
    await probes;
  }
  return { result, answered: results.filter(Boolean).length, total: results.length };
}

describe('a tenant whose templates burn CPU', () => {
  it('fails on its own objects while /healthz answers and another namespace syncs', async () => {
    // The defaults a user gets: one render worker, a 10 s limit.
    const ctl = await startController(own.get().server.access, { renders: RENDERS });
    const health = await startHttpServer(
      { host: '127.0.0.1', port: 0 },
      ctl.controller.metrics,
      () => ctl.controller.ready,
    );
    try {
      await controllerAttack(ctl, health);
    } finally {
      health.closeAllConnections();
      await new Promise((r) => health.close(r));
      await ctl.stop();
    }
  }, 300_000);

  it("stops a volume's CPU-loop template in the CSI plugin while its /healthz answers and another volume mounts", async () => {
    const dir = join(testbed().runDir, `csi-cpu-${randomBytes(3).toString('hex')}`);
    const plugin = await startPlugin(own.get().server.access, dir, { renders: RENDERS });
    const pluginHealth = await startHttpServer(
      { host: '127.0.0.1', port: 0 },
      plugin.plugin.metrics,
      () => plugin.plugin.ready,
    );
    try {
      const store = await fakeStore(tenant);
      // Volumes only: no Secret, and no refresh while the test runs.
      const spec = (data: Record<string, string>) => ({
        ...templated(store, data),
        refreshInterval: '1h',
        target: { creationPolicy: 'None' as const, template: { data } },
      });
      await tenant.externalSecret('vol-benign', spec({ v: '{{ .v | upper }}' }));
      await tenant.externalSecret('vol-bomb', spec({ burn: LOOP }));
      const otherStore = await fakeStore(other);
      await other.externalSecret('vol-other', {
        ...spec({ v: '{{ .v | lower }}' }),
        secretStoreRef: { name: otherStore },
      });

      // The setup works: a volume of the tenant's templated ExternalSecret mounts with its value.
      const benign = await publishVolume(plugin, dir, tenant.namespace, 'vol-benign');
      expect(benign.err).toBeUndefined();
      expect(await readFile(join(benign.target, 'v'), 'utf8')).toBe(CANARY.toUpperCase());

      const { port } = pluginHealth.address() as AddressInfo;
      const { result, answered, total } = await probeDuring(port, async () => {
        const bomb = publishVolume(plugin, dir, tenant.namespace, 'vol-bomb');
        // Another namespace's volume mounts while the bomb runs (after at most its turn).
        const otherVolume = await publishVolume(plugin, dir, other.namespace, 'vol-other');
        return { bomb: await bomb, otherVolume };
      });
      expect(result.bomb.err?.details).toContain(
        `spec.target.template.data["burn"]: stopped after ${LIMIT}, the longest one render may run (--render-timeout)`,
      );
      expect(result.otherVolume.err).toBeUndefined();
      expect(await readFile(join(result.otherVolume.target, 'v'), 'utf8')).toBe(CANARY.toLowerCase());
      process.stdout.write(
        `CPU-bomb template: CSI plugin /healthz answered ${answered} of ${total} probes within 1 s\n`,
      );
      expect(answered / total).toBeGreaterThanOrEqual(0.9);
      expect(plugin.logs.filter((l) => l.includes(CANARY))).toEqual([]);
      for (const v of [benign, result.otherVolume]) {
        await call(plugin.node, 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.target });
      }
    } finally {
      pluginHealth.closeAllConnections();
      await new Promise((r) => pluginHealth.close(r));
      await plugin.stop();
    }
  }, 300_000);
});

/** NodePublishVolume for a pod in `namespace` naming `externalSecret`, retried while the plugin has not seen it yet. */
async function publishVolume(
  plugin: RunningPlugin,
  dir: string,
  namespace: string,
  externalSecret: string,
): Promise<{ err?: ServiceError; volumeId: string; target: string }> {
  const volumeId = `csi-${randomBytes(8).toString('hex')}`;
  const target = join(dir, 'pods', volumeId, 'mount');
  await mkdir(join(dir, 'pods', volumeId), { recursive: true });
  const pod = { namespace, name: uniqueName('pod'), serviceAccount: 'default' };
  const context = await kubeletContext(own.get().server.access, pod, externalSecret);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const err = await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    if (!err || !/does not exist/.test(err.details) || Date.now() > deadline) return { err, volumeId, target };
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function controllerAttack(ctl: RunningController, health: Server): Promise<void> {
  const store = await fakeStore(tenant);
  // The setup works: the tenant's store serves, and its templates render.
  await tenant.externalSecret('benign', templated(store, { v: '{{ .v | upper }}' }));
  await tenant.waitForSecret('benign', (d) => d.v === CANARY.toUpperCase(), "the tenant's template rendered");

  // An object that synced before turns into a bomb: its Secret must keep what it had.
  await tenant.patch('externalsecrets', 'benign', { spec: { target: { template: { data: { v: LOOP } } } } });
  await tenant.externalSecret('loop-1', templated(store, { burn: LOOP }));
  await tenant.externalSecret('loop-2', templated(store, { burn: LOOP }));
  await tenant.externalSecret(
    'scrypt',
    templated(store, { pw: '{{ range until 1000 }}{{ derivePassword 1 "long" $.v "u" "s" }}{{ end }}' }),
  );
  await tenant.externalSecret(
    'rsa',
    templated(store, { key: '{{ range until 1000 }}{{ genPrivateKey "rsa" }}{{ end }}' }),
  );

  // Probe /healthz while the bombs are rendered again and again, and create another
  // namespace's ExternalSecret in the middle of it.
  const { port } = health.address() as AddressInfo;
  const { answered, total } = await probeDuring(port, async () => {
    // Each bomb fails with the rule that stopped it, naming the template. The loop ran for the
    // whole limit (the worker was stopped at it); the costly functions hit the budget (or, on a
    // slow machine, the limit).
    const loopReady = await tenant.waitForReady('loop-1', { status: 'False', message: /stopped after/ }, 90_000);
    expect(loopReady.ready.message).toContain(
      `spec.target.template.data["burn"]: stopped after ${LIMIT}, the longest one render may run (--render-timeout)`,
    );
    const scrypt = await tenant.waitForReady('scrypt', { status: 'False', message: /budget|stopped after/ }, 90_000);
    expect(scrypt.ready.message).toMatch(
      new RegExp(
        `spec\\.target\\.template\\.data\\["pw"\\]: .*(over ${MAX_COST_WEIGHT}; derivePassword|stopped after)`,
      ),
    );
    await tenant.waitForReady('rsa', { status: 'False', message: /spec\.target\.template\.data\["key"\]/ }, 90_000);
    await tenant.waitForReady('benign', { status: 'False', message: /data\["v"\]: stopped after/ }, 120_000);
    expect((await tenant.secretText('benign'))?.v).toBe(CANARY.toUpperCase());

    const otherStore = await fakeStore(other);
    await other.externalSecret('newcomer', templated(otherStore, { v: '{{ .v | lower }}' }));
    await other.waitForSecret('newcomer', (d) => d.v === CANARY.toLowerCase(), "the other namespace's new object");
    await other.waitForReady('newcomer', { status: 'True' });
  });

  // The bombs kept running through the probes: still failing, none written.
  for (const name of ['loop-1', 'loop-2', 'scrypt', 'rsa']) {
    expect(await tenant.secret(name)).toBeUndefined();
  }
  process.stdout.write(`CPU-bomb templates: controller /healthz answered ${answered} of ${total} probes within 1 s\n`);
  expect(answered / total).toBeGreaterThanOrEqual(0.9);
  // The failures are reported as template errors on the tenant's objects, never with the value.
  const events = await tenant.events();
  expect(events.some((e) => e.involved === 'loop-2' && /stopped after/.test(e.message ?? ''))).toBe(true);
  expect(events.map((e) => e.message ?? '').filter((m) => m.includes(CANARY))).toEqual([]);
  expect(ctl.logs.filter((l) => l.includes(CANARY))).toEqual([]);
}
