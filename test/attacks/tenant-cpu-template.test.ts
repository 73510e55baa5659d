// A tenant who may write ExternalSecrets in one namespace writes templates that cost CPU without
// end: a pure-CPU loop (a defined template calling itself twice, 2^40 calls, within every byte and
// step limit of the engine), derivePassword (scrypt, 64 MiB each) and RSA-4096 key generation in a
// range. Rules that stop them (docs/security.md, "Bounded work per render"): renders run in a
// worker thread under a wall-clock limit (--render-timeout), costly functions are budgeted per
// render by count and weight. Shown here: each bomb fails with the rule's own error on its
// ExternalSecret (so it really ran as long as the limit, or hit the budget), while the controller's
// /healthz keeps answering (a property over many probes: at least 90% within 1 s, on the bed's 2
// shared cores) and another namespace's new ExternalSecret becomes Ready.
// A cluster-wide controller on a private API server: it must see two namespaces and nothing else.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/observability/http-server.ts';
import { DEFAULT_RENDERS } from '../../src/pipeline/render-pool.ts';
import { MAX_COST_WEIGHT } from '../../src/template/index.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace, uniqueName } from '../support/testbed.ts';

const own = usePrivateApiServer();
const CANARY = 'canary-e4d1-cputemplate';
const LIMIT = `${DEFAULT_RENDERS.timeoutMs / 1000}s`;

let kc: KubeConfig;
let ctl: RunningController;
let health: Server;
let tenant: Objects;
let other: Objects;

beforeAll(async () => {
  kc = own.get().kc;
  // The defaults a user gets: one render worker, a 10 s limit.
  ctl = await startController(own.get().server.access);
  health = await startHttpServer({ host: '127.0.0.1', port: 0 }, ctl.controller.metrics, () => ctl.controller.ready);
  tenant = new Objects(kc, await createNamespace(kc, 'cpu-tenant'));
  other = new Objects(kc, await createNamespace(kc, 'cpu-other'));
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  health?.closeAllConnections();
  await new Promise((r) => health?.close(r));
});

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

describe('a tenant whose templates burn CPU', () => {
  it('fails on its own objects while /healthz answers and another namespace syncs', async () => {
    const store = await fakeStore(tenant);
    // The setup works: the tenant's store serves, and its templates render.
    await tenant.externalSecret('benign', templated(store, { v: '{{ .v | upper }}' }));
    await tenant.waitForSecret('benign', (d) => d.v === CANARY.toUpperCase(), "the tenant's template rendered");

    const loop =
      '{{ define "burn" }}{{ if lt . 40 }}{{ template "burn" (add1 .) }}{{ template "burn" (add1 .) }}{{ end }}{{ end }}{{ template "burn" 0 }}';
    // An object that synced before turns into a bomb: its Secret must keep what it had.
    await tenant.patch('externalsecrets', 'benign', { spec: { target: { template: { data: { v: loop } } } } });
    await tenant.externalSecret('loop-1', templated(store, { burn: loop }));
    await tenant.externalSecret('loop-2', templated(store, { burn: loop }));
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
    const results: boolean[] = [];
    let probing = true;
    const probes = (async () => {
      while (probing || results.length < 100) {
        results.push(await probe(port));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
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
    await other.waitForSecret(
      'newcomer',
      (d) => d.v === CANARY.toLowerCase(),
      "the other namespace's new object synced",
    );
    await other.waitForReady('newcomer', { status: 'True' });
    probing = false;
    await probes;

    // The bombs kept running through the probes: still failing, none written.
    for (const name of ['loop-1', 'loop-2', 'scrypt', 'rsa']) {
      expect(await tenant.secret(name)).toBeUndefined();
    }
    const answered = results.filter(Boolean).length;
    process.stdout.write(`CPU-bomb templates: /healthz answered ${answered} of ${results.length} probes within 1 s\n`);
    expect(answered / results.length).toBeGreaterThanOrEqual(0.9);
    // The failures are reported as template errors on the tenant's objects, never with the value.
    const events = await tenant.events();
    expect(events.some((e) => e.involved === 'loop-2' && /stopped after/.test(e.message ?? ''))).toBe(true);
    expect(events.map((e) => e.message ?? '').filter((m) => m.includes(CANARY))).toEqual([]);
    expect(ctl.logs.filter((l) => l.includes(CANARY))).toEqual([]);
  }, 300_000);
});
