// A tenant who may write ExternalSecrets in a namespace asks Ferry to roll, or with versioning to
// repoint, workloads of that namespace that read a Secret of the name it chose: discovery finds
// every workload naming it, rolloutRestartTargets names any. Rule: Ferry writes only a workload
// annotated ferry.dev/rollout-from with the ExternalSecret's name, and only where the installation
// turned rollouts on (docs/security.md, "Consent before reaching other objects"). Each case first
// shows a consenting workload rolled, then that the others' pod templates are unchanged.
// Deployments here have no replicas: the bed's controller manager (started with its node) writes
// the status a rollout waits for; no pod needs to run.
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const controllers: RunningController[] = [];
let o: Objects;
let apps: AppsV1Api;

// Set up from beforeEach, once: without a node every test fails with the reason (a failing
// beforeAll would only mark them skipped).
let setup: Promise<void> | undefined;
beforeEach(async () => {
  setup ??= (async () => {
    requireNode();
    const kc = kubeConfigFor(testbed().kube);
    o = new Objects(kc, await createNamespace(kc, 'rollout-consent'));
    apps = kc.makeApiClient(AppsV1Api);
    controllers.push(
      await startController(testbed().kube, { namespace: o.namespace, rolloutDebounceMs: 200, workloadRollouts: true }),
    );
  })();
  await setup;
}, 120_000);

afterAll(async () => {
  for (const c of controllers) await c.stop();
});

/** A Deployment of no replicas whose pods would read `secret` through env and a volume. */
async function deployment(
  on: Objects,
  name: string,
  secret: string,
  annotations?: Record<string, string>,
): Promise<V1Deployment> {
  return apps.createNamespacedDeployment({
    namespace: on.namespace,
    body: {
      metadata: { name, annotations },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'app:none',
                env: [{ name: 'P', valueFrom: { secretKeyRef: { name: secret, key: 'p' } } }],
                volumeMounts: [{ name: 's', mountPath: '/s' }],
              },
            ],
            volumes: [{ name: 's', secret: { secretName: secret } }],
          },
        },
      },
    },
  });
}

async function template(on: Objects, name: string) {
  const d = await apps.readNamespacedDeployment({ namespace: on.namespace, name });
  return { template: d.spec?.template, generation: d.metadata?.generation };
}

async function eventFor(on: Objects, es: string, reason: string, message: RegExp): Promise<string> {
  return eventually(`${reason} of ${es} matching ${message}`, async () => {
    const events = await on.events();
    return events.find((e) => e.involved === es && e.reason === reason && message.test(e.message ?? ''))?.message;
  });
}

async function fakeStore(on: Objects, value: string): Promise<string> {
  const store = uniqueName('fake');
  await on.secretStore(store, { fake: { data: [{ key: 'k', value }] } });
  return store;
}

async function setValue(on: Objects, store: string, value: string): Promise<void> {
  await on.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value }] } } } });
}

describe('rollouts of workloads that did not consent', () => {
  it('discovery rolls the workload naming the ExternalSecret and leaves the others as they were', async () => {
    const store = await fakeStore(o, 'v1');
    await o.externalSecret('app', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { name: 'app-config', rolloutRestartDiscovery: true },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('app-config', (d) => d.p === 'v1', 'the first sync');
    await deployment(o, 'consenting', 'app-config', { 'ferry.dev/rollout-from': 'other, app' });
    await deployment(o, 'victim', 'app-config');
    await deployment(o, 'named-other', 'app-config', { 'ferry.dev/rollout-from': 'someone-else' });
    const before = { victim: await template(o, 'victim'), other: await template(o, 'named-other') };

    await setValue(o, store, 'v2');
    // Setup: the consenting workload is rolled for the change.
    await eventually('the consenting Deployment rolled', async () => {
      const t = await template(o, 'consenting');
      return t.template?.metadata?.annotations?.['checksum.ferry.dev/app-config'] ? true : undefined;
    });
    // The attack: the others were found by discovery too, and refused.
    for (const name of ['victim', 'named-other']) {
      const message = await eventFor(o, 'app', 'RolloutRefused', new RegExp(`^Deployment ${name} not rolled`));
      expect(message).toContain('ferry.dev/rollout-from: app');
    }
    expect(await template(o, 'victim')).toEqual(before.victim);
    expect(await template(o, 'named-other')).toEqual(before.other);
    // The status says so too, while the Secret itself is synced.
    const { ready } = await o.waitForReady('app', { status: 'True', message: /not rolled/ });
    expect(ready.message).toContain('not rolled, no ferry.dev/rollout-from: app on them:');
    expect(ready.message).toContain('Deployment victim');
    expect(ready.message).toContain('Deployment named-other');
    expect(ready.message).not.toContain('Deployment consenting');
  });

  it('versioning repoints only a consenting workload; one reading a Secret of the same name keeps reading it', async () => {
    // A Secret the tenant did not write, read by a workload it wants to point elsewhere.
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'db' }, stringData: { p: 'the real password' } },
    });
    await deployment(o, 'db-client', 'db');
    await deployment(o, 'db-consenting', 'db', { 'ferry.dev/rollout-from': 'db' });
    const before = await template(o, 'db-client');
    const store = await fakeStore(o, 'tenant-chosen');
    await o.externalSecret('db', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: {
        immutable: true,
        versioning: { keep: 1 },
        rolloutRestartTargets: [
          { kind: 'Deployment', name: 'db-consenting' },
          { kind: 'Deployment', name: 'db-client' },
        ],
      },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    const version = await eventually(
      'the first version',
      async () => (await o.getExternalSecret('db')).status?.binding?.name,
    );
    // Setup: the consenting workload now reads the tenant's version.
    await eventually('the consenting Deployment repointed', async () => {
      const t = await template(o, 'db-consenting');
      return t.template?.spec?.volumes?.[0]?.secret?.secretName === version ? true : undefined;
    });
    await eventFor(o, 'db', 'RolloutRefused', /^Deployment db-client not rolled/);
    const { ready } = await o.waitForReady('db', { status: 'True', message: /not rolled/ });
    expect(ready.message).toMatch(/not rolled, no ferry\.dev\/rollout-from: db on them: Deployment db-client$/);
    expect(await template(o, 'db-client')).toEqual(before);
    expect(await o.secretText('db')).toEqual({ p: 'the real password' });
  });

  it('with rollouts off in the installation no workload is written, consenting or not, and the Event says so', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const off = new Objects(kc, await createNamespace(kc, 'rollouts-off'));
    controllers.push(await startController(testbed().kube, { namespace: off.namespace, rolloutDebounceMs: 200 }));
    const store = await fakeStore(off, 'v1');
    await off.externalSecret('app', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { rolloutRestartTargets: [{ kind: 'Deployment', name: 'willing' }] },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    await off.waitForSecret('app', (d) => d.p === 'v1', 'the first sync');
    await deployment(off, 'willing', 'app', { 'ferry.dev/rollout-from': '*' });
    const before = await template(off, 'willing');
    await setValue(off, store, 'v2');
    await off.waitForSecret('app', (d) => d.p === 'v2', 'the change synced');
    const message = await eventFor(off, 'app', 'RolloutRefused', /workload rollouts are off/);
    expect(message).toContain('spec.target.rolloutRestartTargets');
    expect(message).toContain('controller.workloadRollouts');
    const { ready } = await off.waitForReady('app', { status: 'True', message: /workload rollouts are off/ });
    expect(ready.message).toContain('spec.target.rolloutRestartTargets: no workload rolled');
    expect(await template(off, 'willing')).toEqual(before);
  });
});
