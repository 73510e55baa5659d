// Rotation that reaches workloads, on the bed's whole cluster (real node, scheduler, controller
// manager): rollouts keyed on content (one ReplicaSet per change, none without one, one for a
// burst), and versioned immutable Secrets (repointed consumers, old versions kept for a rollback
// and collected once nothing references them). What the pods print is what is asserted.
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { fields, Pods, requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import type { NodeInfo } from '../testbed/node/node.ts';

let node: NodeInfo;
let ctl: RunningController;
let o: Objects;
let pods: Pods;
let apps: AppsV1Api;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// Set up from beforeEach, once: without a node every test fails with the reason (a failing
// beforeAll would only mark them skipped).
let setup: Promise<void> | undefined;
beforeEach(async () => {
  setup ??= (async () => {
    node = requireNode();
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'rollout');
    o = new Objects(kc, namespace);
    pods = new Pods(kc, namespace, node);
    apps = kc.makeApiClient(AppsV1Api);
    await pods.waitForDefaultServiceAccount();
    ctl = await startController(testbed().kube, { namespace, rolloutDebounceMs: 1500, workloadRollouts: true });
  })();
  await setup;
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
});

async function fakeStore(name: string, value: string): Promise<void> {
  await o.secretStore(name, { fake: { data: [{ key: 'k', value }] } });
}

async function setValue(store: string, value: string): Promise<void> {
  await o.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value }] } } } });
}

/** Revisions of a Deployment: the deployment.kubernetes.io/revision of its newest ReplicaSet. */
async function revision(app: string): Promise<number> {
  const d = await apps.readNamespacedDeployment({ namespace: o.namespace, name: app });
  return Number(d.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}

/** Waits until `count` more refreshes of the ExternalSecret happened. */
async function refreshes(es: string, count: number): Promise<void> {
  const start = Date.parse((await o.getExternalSecret(es)).status?.refreshTime ?? '0');
  await eventually(`${count} refreshes of ${es}`, async () => {
    const now = Date.parse((await o.getExternalSecret(es)).status?.refreshTime ?? '0');
    return now - start >= count * 1000 ? true : undefined;
  });
}

describe('rollouts keyed on content', () => {
  it('rolls a Deployment exactly once per content change, never without one; the new pods read the new value', async () => {
    await fakeStore('web-store', 'v1');
    await o.externalSecret('web', {
      secretStoreRef: { name: 'web-store' },
      refreshInterval: '1s',
      target: { rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }] },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('web', (d) => d.p === 'v1', 'the Secret');
    await pods.deployment('web', {
      env: { P: ['web', 'p'] },
      script: 'while true; do echo "P=$P"; sleep 0.5; done',
      annotations: { 'ferry.dev/rollout-from': 'web' },
    });
    await pods.waitForLine('web', (l) => fields(l).P === 'v1', 'the pod reading v1');
    expect(await revision('web')).toBe(1);

    await refreshes('web', 3);
    expect(await revision('web')).toBe(1);

    await setValue('web-store', 'v2');
    await pods.waitForLine('web', (l) => fields(l).P === 'v2', 'a new pod reading v2', { timeoutMs: 90_000 });
    expect(await revision('web')).toBe(2);
    await refreshes('web', 3);
    expect(await revision('web')).toBe(2);
    const events = await o.events();
    expect(events.some((e) => e.reason === 'RolloutRestart' && /Deployment web rolled out/.test(e.message ?? ''))).toBe(
      true,
    );
  });

  it('debounces a burst of 10 changes into one rollout that ends on the last value', async () => {
    await fakeStore('burst-store', 'b0');
    await o.externalSecret('burst', {
      secretStoreRef: { name: 'burst-store' },
      refreshInterval: '1s',
      target: { rolloutRestartDiscovery: true },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('burst', (d) => d.p === 'b0', 'the Secret');
    await pods.deployment('burst', {
      env: { P: ['burst', 'p'] },
      script: 'while true; do echo "P=$P"; sleep 0.5; done',
      annotations: { 'ferry.dev/rollout-from': 'burst' },
    });
    await pods.waitForLine('burst', (l) => fields(l).P === 'b0', 'the pod reading b0');
    for (let i = 1; i <= 10; i++) {
      await setValue('burst-store', `b${i}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await pods.waitForLine('burst', (l) => fields(l).P === 'b10', 'a new pod reading b10', { timeoutMs: 90_000 });
    await refreshes('burst', 3);
    // The Secret changed several times, the Deployment rolled once (found by discovery, not listed).
    expect(await revision('burst')).toBe(2);
  });
});

describe('versioned immutable Secrets', () => {
  it('writes each content as its own immutable Secret, repoints the workload, keeps the previous for a rollback, and collects unreferenced ones', async () => {
    await fakeStore('api-store', 'a1');
    await o.externalSecret('api', {
      secretStoreRef: { name: 'api-store' },
      refreshInterval: '1s',
      target: {
        immutable: true,
        versioning: { keep: 1 },
        rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
      },
      data: [{ secretKey: 'p', remoteRef: { key: 'k' } }],
    });
    // The workload names the plain target; Ferry points it at the current version.
    await pods.deployment('api', {
      mounts: { api: '/etc/api' },
      script: 'while true; do echo "P=$(cat /etc/api/p)"; sleep 0.5; done',
      annotations: { 'ferry.dev/rollout-from': 'api' },
    });
    const first = await eventually(
      'the first version',
      async () => (await o.getExternalSecret('api')).status?.binding?.name,
    );
    expect(first).toMatch(/^api-[0-9a-f]{10}$/);
    const v1 = await o.secret(first);
    expect(v1?.immutable).toBe(true);
    expect(await o.secret('api')).toBeUndefined();
    await pods.waitForLine('api', (l) => fields(l).P === 'a1', 'a pod reading a1', { timeoutMs: 90_000 });

    await setValue('api-store', 'a2');
    const second = await eventually('the second version', async () => {
      const name = (await o.getExternalSecret('api')).status?.binding?.name;
      return name && name !== first ? name : undefined;
    });
    await pods.waitForLine('api', (l) => fields(l).P === 'a2', 'a new pod reading a2', { timeoutMs: 90_000 });
    // The previous version is still there: an older ReplicaSet references it.
    expect((await o.secret(first))?.immutable).toBe(true);

    // A rollback, as `kubectl rollout undo` does: the template points at the previous version again.
    const d = await apps.readNamespacedDeployment({ namespace: o.namespace, name: 'api' });
    const volumes = d.spec?.template.spec?.volumes?.map((v) =>
      v.secret ? { ...v, secret: { ...v.secret, secretName: first } } : v,
    );
    await apps.patchNamespacedDeployment(
      { namespace: o.namespace, name: 'api', body: { spec: { template: { spec: { volumes } } } } },
      merge,
    );
    await pods.waitForLine('api', (l) => fields(l).P === 'a1', 'the rolled-back pod reading a1', { timeoutMs: 90_000 });

    // Forward again with history pruned: once no ReplicaSet or pod reads the oldest versions, they go.
    await apps.patchNamespacedDeployment(
      { namespace: o.namespace, name: 'api', body: { spec: { revisionHistoryLimit: 0 } } },
      merge,
    );
    await setValue('api-store', 'a3');
    await pods.waitForLine('api', (l) => fields(l).P === 'a3', 'a new pod reading a3', { timeoutMs: 90_000 });
    const third = (await o.getExternalSecret('api')).status?.binding?.name ?? '';
    await eventually(
      `versions older than ${third} and one more deleted`,
      async () => ((await o.secret(first)) === undefined ? true : undefined),
      60_000,
    );
    expect(await o.secret(third)).toBeDefined();
    expect(second).not.toBe(third);
  }, 240_000);
});
