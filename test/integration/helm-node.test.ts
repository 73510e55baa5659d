// The chart's pods on the test bed's real node: Ferry's image built from the Dockerfile with
// buildah, imported into the node's containerd, installed with the real helm. The controller
// replicas run with the chart's ServiceAccount and in-cluster config, elect a leader, sync, fail
// over when the leader is killed under load without a Secret written twice, and survive
// `helm upgrade` and `helm uninstall` without losing a Secret. The CSI DaemonSet serves a pod's
// read-only volume across a restart of its container, and `helm uninstall` waits for that pod
// (the pre-delete check) instead of leaving it to hang in Terminating.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1Secret,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/providers/answer-cap.ts';
import { ensureCsiDriver } from '../support/csi.ts';
import { CsiPods, csiMountsOf } from '../support/csi-pods.ts';
import { CHART_DIR, helm } from '../support/helm.ts';
import { type InClusterAccess, openApiServerToPods } from '../support/in-cluster.ts';
import { holdCsiDriverRegistration } from '../support/node-lock.ts';
import { Objects } from '../support/objects.ts';
import { requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { ctr } from '../testbed/node/containerd.ts';

const exec = promisify(execFile);
const RELEASE = 'ferry';
const LEASE = { leaseDuration: '6s', renewDeadline: '4s', retryPeriod: '1s' };

let kc: KubeConfig;
let core: CoreV1Api;
let releaseNs: string;
let o: Objects;
let inCluster: InClusterAccess | undefined;
let valuesFile: string;
let imageTag: string;
let csi: CsiPods;
let reader = '';
/** A tenant's own "Vault" on the host, reachable from the pods: it answers one key without end. */
let endless: Server | undefined;
let endlessUrl = '';
const endlessState = { sent: 0, closed: false };

/** Builds (or reuses) the image with buildah and imports it into the node's containerd. */
async function buildAndImportImage(): Promise<string> {
  const script = new URL('../testbed/image/build-image.sh', import.meta.url).pathname;
  const { stdout } = await exec('bash', [script], { maxBuffer: 16 * 1024 * 1024 }).catch((err) => {
    throw new Error(`image build failed: ${(err as { stderr?: string }).stderr ?? err}`);
  });
  const archive = stdout.trim().split('\n').at(-1) ?? '';
  const node = requireNode();
  await ctr(join(node.dir, 'containerd', 'containerd.sock'), ['images', 'import', archive]);
  const tag = /ferry\.test_ferry_([0-9a-f]+)\.tar$/.exec(archive)?.[1];
  if (!tag) throw new Error(`unexpected archive name ${archive}`);
  return tag;
}

async function controllerPods(): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({
    namespace: releaseNs,
    labelSelector: 'app.kubernetes.io/component=controller',
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function leaseHolder(): Promise<string> {
  const lease = await kc
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: releaseNs, name: `${RELEASE}-controller` });
  return lease.spec?.holderIdentity ?? '';
}

/**
 * Counts Secret events in the app namespace: ADDED and MODIFIED per Secret, the Secrets there at the
 * start as ADDED. A watch the API server or the connection ends is resumed from the last
 * resourceVersion seen, so no event is missed or counted twice; `ends` says why each one ended.
 */
async function watchSecretWrites(namespace: string) {
  const writes = new Map<string, { added: number; modified: number }>();
  const ends: string[] = [];
  const count = (type: string, name: string) => {
    const w = writes.get(name) ?? { added: 0, modified: 0 };
    if (type === 'ADDED') w.added++;
    if (type === 'MODIFIED') w.modified++;
    writes.set(name, w);
  };
  const list = await core.listNamespacedSecret({ namespace });
  for (const s of list.items) count('ADDED', s.metadata?.name ?? '');
  let resourceVersion = list.metadata?.resourceVersion ?? '';
  let req: { abort(): void } | undefined;
  let stopped = false; // by stop(), or by an ERROR event
  const start = async (): Promise<void> => {
    req = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/secrets`,
      { resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: V1Secret & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          // e.g. 410 Gone: resuming from the same resourceVersion cannot work; the count stops here.
          ends.push(`ERROR ${obj.code}: ${obj.message}`);
          stopped = true;
          return;
        }
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        if (type !== 'BOOKMARK') count(type, obj.metadata?.name ?? '');
      },
      (err) => {
        if (stopped) return;
        ends.push(`ended at ${new Date().toISOString()}: ${err ?? 'closed by the server'}`);
        start().catch((e) => ends.push(`resume failed: ${e}`));
      },
    );
  };
  await start();
  return {
    writes,
    ends,
    stop: () => {
      stopped = true;
      req?.abort();
    },
  };
}

async function podLogs(pods: V1Pod[]): Promise<string> {
  const out: string[] = [];
  for (const p of pods) {
    const log = await core
      .readNamespacedPodLog({ namespace: releaseNs, name: p.metadata?.name ?? '', tailLines: 40 })
      .catch((err) => String(err));
    out.push(`--- ${p.metadata?.name}\n${log}`);
  }
  return out.join('\n');
}

let releaseDriver: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const node = requireNode();
  // The chart's DaemonSet registers csi.ferry.dev with the node's kubelet, as the CSI pods test does.
  releaseDriver = await holdCsiDriverRegistration();
  kc = kubeConfigFor(testbed().kube);
  core = kc.makeApiClient(CoreV1Api);
  imageTag = await buildAndImportImage();
  inCluster = await openApiServerToPods(testbed().kube);
  const host = inCluster.podValues.hostAliases[0]?.ip ?? '';
  endless = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (!req.url?.endsWith('/secret/data/huge')) {
      res.statusCode = 404;
      res.end('{"errors":[]}');
      return;
    }
    res.write('{"data":{"data":{"v":"');
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    res.on('close', () => {
      endlessState.closed = true;
    });
    const pump = () => {
      while (endlessState.sent < 1024 ** 3 && !res.destroyed) {
        endlessState.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('"}}}');
    };
    pump();
  });
  await new Promise<void>((r) => endless?.listen(0, host, r));
  endlessUrl = `http://${host}:${(endless.address() as AddressInfo).port}`;
  releaseNs = await createNamespace(kc, 'ferry-system');
  o = new Objects(kc, await createNamespace(kc, 'helm-node-app'));
  csi = new CsiPods(o, node);
  await csi.apps.waitForDefaultServiceAccount();
  const values = {
    image: { repository: 'ferry.test/ferry', tag: imageTag, pullPolicy: 'Never' },
    controller: {
      // The bed is shared: other test files leave hundreds of ExternalSecrets whose private
      // servers are gone; watching them all would measure their timeouts, not the failover.
      watchNamespace: o.namespace,
      leaderElection: { enabled: true, ...LEASE },
      kubeQps: 200,
      kubeBurst: 400,
      concurrency: 16,
      ...inCluster.podValues,
    },
    csiNode: {
      enabled: true,
      // The bed is shared: csi-node.test.ts owns the cluster-wide CSIDriver; make sure it exists.
      createCSIDriver: false,
      selfRegistration: true,
      uninstallCheck: { wait: '5s' },
      kubeletDir: join(node.dir, 'kubelet', 'root'),
      dataDir: join(node.dir, 'ferry-csi'),
      ...inCluster.podValues,
    },
    // The bed is shared: the cluster-wide admission policy for namespaced stores (proven on a
    // private API server in chart-egress.test.ts) would refuse other files' loopback stores.
    // The tenant's endless server is on the host, a private address the pods reach through the
    // bridge: listed, as an admin lists an in-cluster Vault.
    egress: {
      admissionPolicy: { enabled: false },
      namespacedStoreAllowedHosts: [inCluster.podValues.hostAliases[0]?.ip],
    },
  };
  await ensureCsiDriver(kc);
  valuesFile = join(testbed().runDir, `helm-node-values-${releaseNs}.json`);
  await writeFile(valuesFile, JSON.stringify(values));
  await o.secretStore('store', { fake: { data: [{ key: 'db', value: 'from-the-pods' }] } });
  for (const sa of ['default']) {
    await eventually(`ServiceAccount ${sa}`, () =>
      core.readNamespacedServiceAccount({ namespace: releaseNs, name: sa }),
    );
  }
}, 600_000);

afterAll(async () => {
  try {
    // A pod left mounting a volume (a test failed before removing it) would stop the uninstall.
    if (reader) await csi.remove(reader).catch(() => undefined);
    if (releaseNs)
      await helm(testbed().kube, ['uninstall', RELEASE, '--namespace', releaseNs, '--ignore-not-found', '--wait']);
    if (releaseNs) await core.deleteNamespace({ name: releaseNs }).catch(() => undefined);
    await inCluster?.close();
    endless?.closeAllConnections();
    endless?.close();
  } finally {
    await releaseDriver?.();
  }
}, 120_000);

describe('the chart on the node', () => {
  it('runs two controller pods; one leads, both are ready, and they sync', async () => {
    const out = await helm(testbed().kube, [
      'install',
      RELEASE,
      CHART_DIR,
      '--namespace',
      releaseNs,
      '--values',
      valuesFile,
      '--wait',
      '--timeout',
      '3m',
    ]).catch(async (err) => {
      throw new Error(`${err}\n${await podLogs(await controllerPods())}`);
    });
    expect(out).toContain('STATUS: deployed');
    const pods = await controllerPods();
    expect(pods.filter(isReady)).toHaveLength(2);
    for (const p of pods) expect(p.spec?.serviceAccountName).toBe(`${RELEASE}`);
    const holder = await eventually('a leader', async () => (await leaseHolder()) || undefined);
    expect(pods.map((p) => p.metadata?.name)).toContain(holder.split('_')[0]);

    await o.externalSecret('first', {
      secretStoreRef: { name: 'store' },
      data: [{ secretKey: 'password', remoteRef: { key: 'db' } }],
    });
    const secret = await o.waitForSecret('first', (d) => d.password === 'from-the-pods', 'the Secret the pods sync');
    expect(secret.metadata?.managedFields?.map((f) => f.manager)).toEqual(['ferry']);
  }, 300_000);

  it("cuts a tenant's endless provider answer inside the chart's memory limit: no restart, syncing goes on", async () => {
    const restarts = async () =>
      (await controllerPods()).map((p) => ({
        name: p.metadata?.name,
        restarts: p.status?.containerStatuses?.[0]?.restartCount ?? 0,
        lastTerminated: p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason,
      }));
    const before = await restarts();
    expect(before.length).toBeGreaterThan(0);
    await core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'endless-token' }, stringData: { token: 't' } },
    });
    await o.secretStore('endless', {
      vault: {
        server: endlessUrl,
        path: 'secret',
        auth: { tokenSecretRef: { name: 'endless-token', key: 'token' } },
      },
    });
    await o.externalSecret('endless', {
      secretStoreRef: { name: 'endless' },
      data: [{ secretKey: 'v', remoteRef: { key: 'huge', property: 'v' } }],
    });
    // The attack reached the controller pod: it read from the server, which began a 1 GiB answer
    // (the chart's limit is 512Mi), and the pod reports the cut.
    const { ready } = await o.waitForReady('endless', { status: 'False', message: /the most Ferry reads/ }, 120_000);
    expect(ready.message).toContain(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
    expect(endlessState.sent).toBeGreaterThan(MAX_ANSWER_BYTES);
    expect(endlessState.sent).toBeLessThan(64 * 2 ** 20);
    process.stdout.write(
      `endless answer to the controller pod: ${(endlessState.sent / 2 ** 20).toFixed(0)} MiB written before the cut\n`,
    );
    // Nothing restarted or was killed for memory, and syncing goes on.
    expect(await restarts()).toEqual(before);
    await o.externalSecret('after-endless', {
      secretStoreRef: { name: 'store' },
      data: [{ secretKey: 'v', remoteRef: { key: 'db' } }],
    });
    await o.waitForSecret('after-endless', (d) => d.v === 'from-the-pods', 'a new object synced after the attack');
    await o.delete('externalsecrets', 'endless');
  });

  it('runs the CSI node plugin DaemonSet, ready on the node', async () => {
    // helm --wait does not wait for a one-node DaemonSet (maxUnavailable 1): wait here. The plugin
    // registers csi.ferry.dev with the kubelet, as csi-node.test.ts's in-process plugin does on the
    // same node, so when both files run at once they take the registration socket in turn.
    const apps = kc.makeApiClient(AppsV1Api);
    await eventually(
      'the CSI DaemonSet ready',
      async () => {
        const ds = await apps.readNamespacedDaemonSet({ namespace: releaseNs, name: `${RELEASE}-csi-node` });
        return ds.status?.numberReady === 1 ? true : undefined;
      },
      90_000,
    ).catch(async (err) => {
      const pods = await core.listNamespacedPod({
        namespace: releaseNs,
        labelSelector: 'app.kubernetes.io/component=csi-node',
      });
      throw new Error(`${err}\n${await podLogs(pods.items)}\n${JSON.stringify(pods.items.map((p) => p.status))}`);
    });
  }, 120_000);

  it("serves a pod's volume from the DaemonSet's container, read-only, and keeps rotating it after the plugin restarts", async () => {
    await o.secretStore('files-store', { fake: { data: [{ key: 'k', value: 'from-the-daemonset' }] } });
    await o.externalSecret('files', {
      secretStoreRef: { name: 'files-store' },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'k' } }],
    });
    reader = await csi.reader('files', {
      mountReadOnly: false,
      securityContext: { runAsUser: 0 },
      script:
        'while true; do w=$(echo x 2>&1 > /secrets/planted || true); echo "v=$(cat /secrets/v) write=$w"; sleep 0.5; done',
    });
    const pluginLogs = async () =>
      podLogs(
        (await core.listNamespacedPod({ namespace: releaseNs, labelSelector: 'app.kubernetes.io/component=csi-node' }))
          .items,
      );
    const line = await csi.waitForLine(reader, /^v=from-the-daemonset /, 90_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await pluginLogs()}`);
    });
    expect(line).toMatch(/Read-only file system/);

    // A new container has a new mount namespace: the plugin takes its volumes back from the node.
    const [pluginPod] = (
      await core.listNamespacedPod({ namespace: releaseNs, labelSelector: 'app.kubernetes.io/component=csi-node' })
    ).items;
    const containerId = pluginPod?.status?.containerStatuses
      ?.find((c) => c.name === 'csi-node')
      ?.containerID?.replace(/^containerd:\/\//, '');
    await ctr(join(requireNode().dir, 'containerd', 'containerd.sock'), [
      'tasks',
      'kill',
      '-s',
      'SIGKILL',
      containerId ?? '',
    ]);
    await eventually(
      'the plugin container restarted and ready',
      async () => {
        const p = await core.readNamespacedPod({ namespace: releaseNs, name: pluginPod?.metadata?.name ?? '' });
        const status = p.status?.containerStatuses?.find((c) => c.name === 'csi-node');
        return (status?.restartCount ?? 0) > 0 && status?.ready ? true : undefined;
      },
      120_000,
    );
    await o.patch('secretstores', 'files-store', {
      spec: { provider: { fake: { data: [{ key: 'k', value: 'after-restart' }] } } },
    });
    await csi.waitForLine(reader, /^v=after-restart /, 60_000);
  }, 300_000);

  it('fails over when the leader pod is killed under load: nothing lost, no Secret written twice', async () => {
    const count = 1000;
    const watch = await watchSecretWrites(o.namespace);
    try {
      for (let i = 0; i < count; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - i) }, (_, j) =>
            o.externalSecret(`load-${i + j}`, {
              secretStoreRef: { name: 'store' },
              refreshInterval: '0',
              data: [{ secretKey: 'password', remoteRef: { key: 'db' } }],
            }),
          ),
        );
      }
      // SIGKILL the leader's process while it is still syncing: it cannot release the Lease, so the
      // follower must wait the lease out.
      await eventually('some Secrets synced', async () => (watch.writes.size >= 100 ? true : undefined), 60_000);
      const holder = await leaseHolder();
      const leaderPod = holder.split('_')[0] ?? '';
      const pod = await core.readNamespacedPod({ namespace: releaseNs, name: leaderPod });
      const containerId = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
      const killedAt = Date.now();
      await ctr(join(requireNode().dir, 'containerd', 'containerd.sock'), [
        'tasks',
        'kill',
        '-s',
        'SIGKILL',
        containerId,
      ]);
      const newHolder = await eventually(
        'a new leader',
        async () => {
          const h = await leaseHolder();
          return h && h !== holder ? h : undefined;
        },
        60_000,
      );
      const failoverMs = Date.now() - killedAt;
      process.stdout.write(
        `failover: ${leaderPod} killed → ${newHolder} leads after ${failoverMs} ms (lease ${LEASE.leaseDuration})\n`,
      );
      expect(failoverMs).toBeLessThan(6_000 + 5_000);
      const synced = () => [...watch.writes.keys()].filter((n) => n.startsWith('load-')).length;
      await eventually(`${count} Secrets`, async () => (synced() === count ? true : undefined), 180_000).catch(
        async (err) => {
          // Say how far it got and what the pods logged last, so a failure under load explains itself.
          throw new Error(
            `${err} (${synced()} of ${count}; leader ${await leaseHolder()}; test watch: ${watch.ends.join('; ') || 'never ended'})\n${await podLogs(await controllerPods())}`,
          );
        },
      );
      // Settle, then check: every Secret was created once and never rewritten.
      await eventually(
        'all ExternalSecrets Ready',
        async () => {
          const list = (await o.custom.listNamespacedCustomObject({
            group: 'ferry.dev',
            version: 'v1alpha1',
            namespace: o.namespace,
            plural: 'externalsecrets',
          })) as {
            items: { metadata?: { name?: string }; status?: { conditions?: { type: string; status: string }[] } }[];
          };
          const ready = list.items.filter(
            (es) =>
              es.metadata?.name?.startsWith('load-') &&
              es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          );
          return ready.length === count ? true : undefined;
        },
        120_000,
      );
      const load = [...watch.writes.entries()].filter(([n]) => n.startsWith('load-'));
      expect(load.filter(([, w]) => w.added !== 1 || w.modified !== 0)).toEqual([]);
    } finally {
      watch.stop();
    }
  }, 600_000);

  it('helm upgrade with unchanged data writes no Secret; helm uninstall keeps CRDs, ExternalSecrets and Secrets', async () => {
    const watch = await watchSecretWrites(o.namespace);
    try {
      // A rolling restart of both replicas (new pod annotation) with the data unchanged.
      await helm(testbed().kube, [
        'upgrade',
        RELEASE,
        CHART_DIR,
        '--namespace',
        releaseNs,
        '--values',
        valuesFile,
        '--set',
        'controller.podAnnotations.restartedAt=upgrade',
        '--wait',
        '--timeout',
        '3m',
      ]);
      await eventually('two new ready controller pods', async () => {
        const pods = await controllerPods();
        return pods.length === 2 && pods.every(isReady) ? true : undefined;
      });
      await eventually('the new leader', async () => {
        const names = (await controllerPods()).map((p) => p.metadata?.name);
        return names.includes((await leaseHolder()).split('_')[0]) ? true : undefined;
      });
      const modified = [...watch.writes.values()].filter((w) => w.modified > 0);
      expect(modified).toEqual([]);

      // A pod still mounts a Ferry volume: the uninstall stops before it removes the plugin, and says why.
      const refused = await helm(testbed().kube, [
        'uninstall',
        RELEASE,
        '--namespace',
        releaseNs,
        '--wait',
        '--timeout',
        '2m',
      ]).then(
        () => 'uninstalled',
        (err: Error) => err.message,
      );
      expect(refused).toMatch(/job ferry-csi-uninstall-check failed/);
      const [check] = (
        await core.listNamespacedPod({ namespace: releaseNs, labelSelector: 'job-name=ferry-csi-uninstall-check' })
      ).items;
      const said = await core.readNamespacedPodLog({ namespace: releaseNs, name: check?.metadata?.name ?? '' });
      expect(String(said)).toMatch(
        new RegExp(`1 pod\\(s\\) still mount csi\\.ferry\\.dev volumes: ${o.namespace}/${reader}`),
      );
      expect(
        (
          await kc
            .makeApiClient(AppsV1Api)
            .readNamespacedDaemonSet({ namespace: releaseNs, name: `${RELEASE}-csi-node` })
        ).status?.numberReady,
      ).toBe(1);

      // Once the pod is gone (its volume unmounted by the plugin, nothing left on the node), it goes through.
      const uid = (await csi.pod(reader)).metadata?.uid ?? '';
      expect(await csiMountsOf(uid)).not.toEqual([]);
      await csi.remove(reader, 30_000);
      expect(await csiMountsOf(uid)).toEqual([]);
      await helm(testbed().kube, ['uninstall', RELEASE, '--namespace', releaseNs, '--wait', '--timeout', '2m']);
      expect(await readdir(join(requireNode().dir, 'ferry-csi', 'volumes')).catch(() => [])).toEqual([]);
      expect(
        (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(' - tmpfs ferry-csi ')),
      ).toEqual([]);
      // kube-controller-manager's garbage collector runs on this bed: give it time to cascade.
      await eventually(
        'controller pods gone',
        async () => ((await controllerPods()).length === 0 ? true : undefined),
        60_000,
      );
      const crds = kc.makeApiClient(ApiextensionsV1Api);
      for (const crd of ['externalsecrets.ferry.dev', 'secretstores.ferry.dev', 'clustersecretstores.ferry.dev']) {
        expect((await crds.readCustomResourceDefinition({ name: crd })).metadata?.deletionTimestamp).toBeUndefined();
      }
      expect((await o.getExternalSecret('load-0')).metadata.deletionTimestamp).toBeUndefined();
      const secrets = await core.listNamespacedSecret({ namespace: o.namespace });
      expect(secrets.items.filter((s) => s.metadata?.name?.startsWith('load-'))).toHaveLength(1000);
      expect([...watch.writes.values()].filter((w) => w.modified > 0)).toEqual([]);
    } finally {
      watch.stop();
    }
  }, 400_000);
});
