import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { Metrics } from '../src/observability/metrics.ts';
import { CsiPlugin } from '../src/sinks/csi/csi-plugin.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { chartCsiDriver } from '../test/testbed/chart.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../test/testbed/loopback-servers.ts';
import { cacheDir } from '../test/testbed/tools.ts';

const PODS = Number(process.env.BENCH_CSI_PODS ?? 100);
const REFRESH = '10s';
const NAMESPACE = 'bench-csi';
const group = { group: 'ferry.dev', version: 'v1alpha1', namespace: NAMESPACE };
const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(52)} ${value}\n`);

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `Ferry CSI benchmark with real pods: ${PODS} pods on one node, one ExternalSecret, 2 AWS keys\n`,
  );
  const bed = await startTestBed({ moto: true, node: true });
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    const node = bed.info.node;
    const aws = bed.info.aws;
    if (!node || !aws) throw new Error(`the node did not start: ${bed.info.nodeError}`);
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await kc.makeApiClient(StorageV1Api).createCSIDriver({ body: await chartCsiDriver() });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    for (const k of ['user', 'password']) {
      await sm.send(new CreateSecretCommand({ Name: `bench/${k}`, SecretString: `${k}-v1` }));
    }
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'aws' }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
    });
    const ref = (key: string) => ({ name: 'aws', key });
    await custom.createNamespacedCustomObject({
      ...group,
      plural: 'secretstores',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'aws' },
        spec: {
          provider: {
            aws: {
              region: aws.region,
              auth: { secretRef: { accessKeyIDSecretRef: ref('id'), secretAccessKeySecretRef: ref('secret') } },
            },
          },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      ...group,
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
    const metrics = new Metrics();
    const plugin = new CsiPlugin(
      kc,
      {
        nodeName: node.name,
        socketPath: join(bed.info.runDir, 'csi.sock'),
        dataDir: join(bed.info.runDir, 'csi-data'),
        protoDir: join(cacheDir(), 'proto', 'csi-v1.12.0'),
        registrationDir: node.pluginsRegistryDir,
        kubeQps: 50,
        kubeBurst: 100,
        providerQps: 20,
        providerBurst: 40,
        shareWindowMs: 60_000,
        namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
        volumeMemoryBytes: 128 * 1024 * 1024,
        version: 'bench',
      },
      pino({ level: 'warn' }),
      metrics,
    );
    running = plugin.run(stop.signal);
    await plugin.registered;
    await waitFor(
      'the default ServiceAccount',
      () => core.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'default' }),
      30_000,
    );

    const calls = async () =>
      (await metrics.total(metrics.providerCalls, { operation: 'read' })) +
      (await metrics.total(metrics.providerCalls, { operation: 'read_many' }));
    const started = Date.now();
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'readers' },
        spec: {
          replicas: PODS,
          selector: { matchLabels: { app: 'readers' } },
          template: {
            metadata: { labels: { app: 'readers' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                {
                  name: 'app',
                  image: node.appImage,
                  imagePullPolicy: 'Never',
                  command: ['sh', '-c', 'while true; do echo "password=$(cat /secrets/password)"; sleep 1; done'],
                  volumeMounts: [{ name: 'secrets', mountPath: '/secrets', readOnly: true }],
                },
              ],
              volumes: [
                {
                  name: 'secrets',
                  csi: { driver: 'csi.ferry.dev', readOnly: true, volumeAttributes: { externalSecret: 'db' } },
                },
              ],
            },
          },
        },
      },
    });
    const runningPods = async () =>
      (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=readers' })).items.filter(
        (p) => p.status?.phase === 'Running',
      );
    await waitFor('every pod Running', async () => ((await runningPods()).length === PODS ? true : undefined), 600_000);
    const allRunning = (Date.now() - started) / 1000;
    const firstCalls = await calls();

    for (const k of ['user', 'password']) {
      await sm.send(new PutSecretValueCommand({ SecretId: `bench/${k}`, SecretString: `${k}-v2` }));
    }
    const changed = Date.now();
    const pods = await runningPods();
    for (const p of pods) {
      await waitFor(
        `pod ${p.metadata?.name} printing the new value`,
        async () => {
          const log = await core.readNamespacedPodLog({
            namespace: NAMESPACE,
            name: p.metadata?.name ?? '',
            tailLines: 1,
          });
          return String(log).includes('password=password-v2') ? true : undefined;
        },
        120_000,
      );
    }
    const rotated = (Date.now() - changed) / 1000;
    const cycleCalls = (await calls()) - firstCalls;

    process.stdout.write('\nResults\n');
    line('Pods Running with the CSI volume mounted', `${PODS} in ${allRunning.toFixed(1)} s`);
    line('Provider calls for all first mounts (2 keys)', String(firstCalls));
    line('Provider calls for one rotation cycle (2 keys)', String(cycleCalls));
    line('New value printed by every pod', `${rotated.toFixed(1)} s after the change (refreshInterval ${REFRESH})`);
    line('Volumes the plugin keeps fresh', String(plugin.volumes.size));
    line('Secrets Store CSI Driver, same load', `${PODS * 2} provider reads per rotation cycle`);
  } finally {
    stop.abort();
    await running;
    await bed.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`);
  process.exitCode = 1;
});
