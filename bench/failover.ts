// Benchmark of leader failover with the chart's own pods on the test bed's node, at the chart's
// default lease timing (15 s / 10 s / 2 s): 1,000 ExternalSecrets are being synced when the
// leader's process is SIGKILLed (the follower must wait the lease out), then the new leader's pod
// is deleted gracefully (it releases the Lease). Prints the hand-over times and whether any
// Secret was written twice. Figures only; needs root (buildah) and the node.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Secret,
  Watch,
} from '@kubernetes/client-node';
import { CHART_DIR, helm } from '../test/support/helm.ts';
import { openApiServerToPods } from '../test/support/in-cluster.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { ctr } from '../test/testbed/node/containerd.ts';

const exec = promisify(execFile);
const COUNT = Number(process.env.BENCH_FAILOVER_ES ?? 1000);
const NS = 'bench-failover';
const APP = 'bench-failover-app';

const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(58)} ${value}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `Ferry failover benchmark: the chart's 2 controller pods, ${COUNT} ExternalSecrets, default lease\n`,
  );
  const bed = await startTestBed({ node: true });
  const relay = await openApiServerToPods(bed.info.kube);
  try {
    const node = bed.node?.info;
    if (!node) throw new Error(`the node did not start: ${bed.info.nodeError}`);
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const socket = join(node.dir, 'containerd', 'containerd.sock');

    let t = Date.now();
    const { stdout } = await exec('bash', [new URL('../test/testbed/image/build-image.sh', import.meta.url).pathname]);
    const archive = stdout.trim().split('\n').at(-1) ?? '';
    await ctr(socket, ['images', 'import', archive]);
    line('image build (or reuse) + import', seconds(Date.now() - t));
    const tag = /ferry\.test_ferry_([0-9a-f]+)\.tar$/.exec(archive)?.[1] ?? '';

    for (const name of [NS, APP]) await core.createNamespace({ body: { metadata: { name } } });
    await until('default ServiceAccount', () => core.readNamespacedServiceAccount({ namespace: NS, name: 'default' }));
    const values = join(bed.info.runDir, 'failover-values.json');
    await writeFile(
      values,
      JSON.stringify({
        image: { repository: 'ferry.test/ferry', tag, pullPolicy: 'Never' },
        controller: { kubeQps: 200, kubeBurst: 400, concurrency: 16, ...relay.podValues },
      }),
    );
    t = Date.now();
    await helm(bed.info.kube, [
      'install',
      'ferry',
      CHART_DIR,
      '-n',
      NS,
      '--values',
      values,
      '--wait',
      '--timeout',
      '3m',
    ]);
    line('helm install --wait (2 controller pods ready)', seconds(Date.now() - t));

    const holder = async () =>
      (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name: 'ferry-controller' })).spec
        ?.holderIdentity ?? '';
    const writes = new Map<string, number>();
    const watch = await new Watch(kc).watch(
      `/api/v1/namespaces/${APP}/secrets`,
      {},
      (type: string, s: V1Secret) => {
        if (type === 'ADDED' || type === 'MODIFIED')
          writes.set(s.metadata?.name ?? '', (writes.get(s.metadata?.name ?? '') ?? 0) + 1);
      },
      () => undefined,
    );
    const group = { group: 'ferry.dev', version: 'v1alpha1', namespace: APP };
    await custom.createNamespacedCustomObject({
      ...group,
      plural: 'secretstores',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'store' },
        spec: { provider: { fake: { data: [{ key: 'k', value: 'v' }] } } },
      },
    });
    t = Date.now();
    for (let i = 0; i < COUNT; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, COUNT - i) }, (_, j) =>
          custom.createNamespacedCustomObject({
            ...group,
            plural: 'externalsecrets',
            body: {
              apiVersion: 'ferry.dev/v1alpha1',
              kind: 'ExternalSecret',
              metadata: { name: `es-${i + j}` },
              spec: {
                secretStoreRef: { name: 'store' },
                refreshInterval: '0',
                data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
              },
            },
          }),
        ),
      );
    }
    await until('100 Secrets', async () => (writes.size >= 100 ? true : undefined));
    const first = await holder();
    const pod = await core.readNamespacedPod({ namespace: NS, name: first.split('_')[0] ?? '' });
    const id = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
    const killedAt = Date.now();
    await ctr(socket, ['tasks', 'kill', '-s', 'SIGKILL', id]);
    const second = await until('a new leader', async () => {
      const h = await holder();
      return h && h !== first ? h : undefined;
    });
    line('leader SIGKILLed → follower leads (lease 15 s, retry 2 s)', seconds(Date.now() - killedAt));
    line(`Secrets synced when the leader was killed`, String(writes.size));
    await until(`${COUNT} Secrets`, async () => (writes.size >= COUNT ? true : undefined), 300_000);
    line(`all ${COUNT} Secrets present, from the first ExternalSecret`, seconds(Date.now() - t));

    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ namespace: NS, name: second.split('_')[0] ?? '' });
    await until('a third leader', async () => {
      const h = await holder();
      return h && h !== second ? h : undefined;
    });
    line('leader pod deleted (SIGTERM, Lease released) → new leader', seconds(Date.now() - deletedAt));
    const twice = [...writes.values()].filter((n) => n > 1).length;
    line('Secrets written more than once (ADDED+MODIFIED events > 1)', String(twice));
    watch.abort();
    await helm(bed.info.kube, ['uninstall', 'ferry', '-n', NS, '--wait']);
  } finally {
    await relay.close();
    await bed.stop();
  }
}

await main();
