// Benchmark: the CSI node plugin as its own process, 1,000 inline volumes on one node, each
// mounting an ExternalSecret that reads 2 AWS keys (moto). Calls NodePublishVolume as kubelet
// does (real tmpfs mounts; needs root). Prints publish latency p50/p99, provider reads for the
// first mounts and for one rotation cycle, and the plugin's peak RSS. Figures only.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Client, credentials } from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import { loadCsiServices } from '../src/sinks/csi/protocol.ts';
import { unmount } from '../src/sinks/csi/tmpfs.ts';
import { createAwsStore } from '../test/testbed/aws-store.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { chartCsiDriver } from '../test/testbed/chart.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { freePort } from '../test/testbed/ports.ts';
import { cacheDir } from '../test/testbed/tools.ts';
import { metric, pool } from './sync-support.ts';

const VOLUMES = Number(process.env.BENCH_VOLUMES ?? 1000);
const REFRESH = '20s';
const group = { group: 'ferry.dev', version: 'v1alpha1' };
const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(52)} ${value}\n`);

function call(client: Client, method: string, request: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: unknown, cb: (e: unknown, r: unknown) => void) => void>)[
      method
    ];
    fn?.call(client, request, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function main(): Promise<void> {
  process.stdout.write(`Ferry CSI benchmark: ${VOLUMES} volumes on one node, 2 AWS keys each (one ExternalSecret)\n`);
  const bed = await startTestBed({ moto: true });
  const targets: string[] = [];
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const aws = bed.info.aws;
    if (!aws) throw new Error('no moto');
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    for (const k of ['user', 'password'])
      await sm.send(new CreateSecretCommand({ Name: `bench/${k}`, SecretString: `${k}-v1` }));
    await kc.makeApiClient(StorageV1Api).createCSIDriver({ body: await chartCsiDriver() });
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await createAwsStore(kc, namespace, aws);
    await custom.createNamespacedCustomObject({
      ...group,
      namespace,
      plural: 'externalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ExternalSecret',
        metadata: { name: 'db' },
        spec: {
          secretStoreRef: { name: 'aws' },
          refreshInterval: REFRESH,
          target: { creationPolicy: 'None' },
          data: [
            { secretKey: 'user', remoteRef: { key: 'bench/user' } },
            { secretKey: 'password', remoteRef: { key: 'bench/password' } },
          ],
        },
      },
    });

    const dir = join(bed.info.runDir, 'csi-bench');
    await mkdir(join(dir, 'pods'), { recursive: true });
    const socket = join(dir, 'csi.sock');
    const port = await freePort();
    const protoDir = join(cacheDir(), 'proto', 'csi-v1.12.0');
    child = spawn(
      process.execPath,
      [
        '--max-semi-space-size=4',
        'dist/ferry/main.js',
        'csi-node',
        '--node-name=bench',
        `--endpoint=${socket}`,
        `--data-dir=${join(dir, 'data')}`,
        `--proto-dir=${protoDir}`,
        `--kubeconfig=${bed.info.kube.kubeconfigPath}`,
        `--metrics-addr=127.0.0.1:${port}`,
        '--log-level=warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint, AWS_EC2_METADATA_DISABLED: 'true' },
      },
    );
    const pid = child.pid;
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (let i = 0; ; i++) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 300) throw new Error('the plugin did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { clients } = loadCsiServices(protoDir);
    const node = new (clients.Node as unknown as new (a: string, c: unknown) => Client)(
      `unix://${socket}`,
      credentials.createInsecure(),
    );

    const volumes = Array.from({ length: VOLUMES }, (_, i) => ({
      id: `bench-${i}-${randomBytes(4).toString('hex')}`,
      target: join(dir, 'pods', `v${i}`),
      uid: randomBytes(8).toString('hex'),
      i,
    }));
    const latencies: number[] = [];
    const started = Date.now();
    await pool(volumes, 20, async (v) => {
      const t0 = performance.now();
      await call(node, 'NodePublishVolume', {
        volume_id: v.id,
        target_path: v.target,
        volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
        readonly: true,
        volume_context: {
          externalSecret: 'db',
          'csi.storage.k8s.io/pod.name': `pod-${v.i}`,
          'csi.storage.k8s.io/pod.namespace': namespace,
          'csi.storage.k8s.io/pod.uid': v.uid,
          'csi.storage.k8s.io/serviceAccount.name': 'default',
          'csi.storage.k8s.io/ephemeral': 'true',
        },
      });
      latencies.push(performance.now() - t0);
      targets.push(v.target);
    });
    const mountSeconds = (Date.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const readsAfterMount = metric(await metrics(), 'ferry_provider_calls_total', { operation: 'read' });
    const batchesAfterMount = metric(await metrics(), 'ferry_provider_calls_total', { operation: 'read_many' });

    // One rotation cycle: both keys change; every volume must show the new value.
    for (const k of ['user', 'password'])
      await sm.send(new PutSecretValueCommand({ SecretId: `bench/${k}`, SecretString: `${k}-v2` }));
    const changedAt = Date.now();
    for (const v of volumes) {
      for (;;) {
        const text = await readFile(join(v.target, 'password'), 'utf8').catch(() => '');
        if (text === 'password-v2') break;
        if (Date.now() - changedAt > 120_000) throw new Error(`volume ${v.i} did not rotate within 120 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const rotatedAfter = (Date.now() - changedAt) / 1000;
    const text = await metrics();
    const readsCycle = metric(text, 'ferry_provider_calls_total', { operation: 'read' }) - readsAfterMount;
    const batchesCycle = metric(text, 'ferry_provider_calls_total', { operation: 'read_many' }) - batchesAfterMount;
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);

    process.stdout.write('\nResults\n');
    line('Volumes mounted', `${VOLUMES} in ${mountSeconds.toFixed(1)} s (20 concurrent NodePublishVolume)`);
    line(
      'Publish latency p50 / p99',
      `${percentile(latencies, 0.5).toFixed(1)} ms / ${percentile(latencies, 0.99).toFixed(1)} ms`,
    );
    line(
      'Provider calls for the first mounts (2 keys)',
      `${readsAfterMount + batchesAfterMount} (${batchesAfterMount} batched)`,
    );
    line('Provider calls for one rotation cycle (2 keys)', `${readsCycle + batchesCycle} (${batchesCycle} batched)`);
    line('New value in every volume after', `${rotatedAfter.toFixed(1)} s (refreshInterval ${REFRESH})`);
    line('Plugin peak RSS', `${(peakKb / 1024).toFixed(0)} MiB`);
    line('Secret Store CSI Driver, same load (per pod per cycle)', `${VOLUMES * 2} provider reads per rotation cycle`);

    await pool(volumes, 20, (v) => call(node, 'NodeUnpublishVolume', { volume_id: v.id, target_path: v.target }));
    targets.length = 0;
    node.close();
  } finally {
    child?.kill('SIGTERM');
    for (const t of targets) await unmount(t).catch(() => undefined);
    await bed.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`);
  process.exitCode = 1;
});
