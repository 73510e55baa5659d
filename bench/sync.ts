// Benchmark: 1,000 ExternalSecrets over 20 namespaces reading 100 unique AWS keys (moto) through
// one ClusterSecretStore, against the real API server. Prints time to all Ready, provider calls,
// API writes, the controller's peak RSS, the same writes made directly through the API with the
// same client settings (the write limit of this machine), the ratio, and a forced second pass.
// Figures only; nothing here passes or fails.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { KubeClient } from '../src/kube/client.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { startTestBed } from '../src/testbed/bed.ts';
import { installCrds } from '../src/testbed/install-crds.ts';
import { freePort } from '../src/testbed/ports.ts';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 1000);
const NAMESPACES = 20;
const KEYS = 100;
const QPS = Number(process.env.BENCH_KUBE_QPS ?? 50);
const BURST = Number(process.env.BENCH_KUBE_BURST ?? 100);
const CONCURRENCY = 10;
/** Node flags for the controller process; the default is what the Dockerfile and ferry bin use. */
const NODE_OPTIONS = (process.env.BENCH_NODE_OPTIONS ?? '--max-semi-space-size=4').split(' ').filter(Boolean);
const group = { group: 'ferry.dev', version: 'v1alpha1' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(46)} ${value}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs `work` over `items` with `n` workers. */
async function pool<T>(items: T[], n: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const row of text.split('\n')) {
    if (!row.startsWith(`${name}{`) && !row.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => row.includes(`${k}="${v}"`))) continue;
    sum += Number(row.slice(row.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function main(): Promise<void> {
  process.stdout.write(
    `Ferry sync benchmark: ${OBJECTS} ExternalSecrets, ${NAMESPACES} namespaces, ${KEYS} AWS keys\n`,
  );
  const bed = await startTestBed({ moto: true });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const aws = bed.info.aws;
    if (!aws) throw new Error('no moto');
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await installCrds(kc);

    // Setup (not timed): keys in moto, namespaces, credentials, one shared ClusterSecretStore.
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    await pool([...Array(KEYS).keys()], 10, (i) =>
      sm.send(new CreateSecretCommand({ Name: `bench/key-${i}`, SecretString: JSON.stringify({ value: `v-${i}` }) })),
    );
    const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
    for (const name of [...namespaces, 'ferry-system']) await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedSecret({
      namespace: 'ferry-system',
      body: { metadata: { name: 'aws' }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
    });
    const ref = (key: string) => ({ name: 'aws', namespace: 'ferry-system', key });
    await custom.createClusterCustomObject({
      ...group,
      plural: 'clustersecretstores',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ClusterSecretStore',
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
    const objects = Array.from({ length: OBJECTS }, (_, i) => ({
      namespace: namespaces[i % NAMESPACES] as string,
      name: `es-${i}`,
      key: i % KEYS,
    }));
    await pool(objects, 20, (o) =>
      custom.createNamespacedCustomObject({
        ...group,
        plural: 'externalsecrets',
        namespace: o.namespace,
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name: o.name },
          spec: {
            secretStoreRef: { name: 'aws', kind: 'ClusterSecretStore' },
            refreshInterval: '1h',
            target: { name: `${o.name}-secret` },
            data: [{ secretKey: 'value', remoteRef: { key: `bench/key-${o.key}`, property: 'value' } }],
          },
        },
      }),
    );

    // Baseline: the same writes made directly, with the same client settings and concurrency.
    const direct = new KubeClient(kc, { qps: QPS, burst: BURST, metrics: new Metrics() });
    const t0 = Date.now();
    await pool(objects, CONCURRENCY, async (o) => {
      await direct.createSecret({
        metadata: { name: `${o.name}-direct`, namespace: o.namespace },
        data: { value: Buffer.from(`v-${o.key}`).toString('base64') },
      });
      await direct.patchStatus('externalsecrets', o.namespace, o.name, {
        conditions: [
          {
            type: 'Ready',
            status: 'Unknown',
            reason: 'Pending',
            message: 'baseline write',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      });
    });
    const baselineMs = Date.now() - t0;

    // Ferry: a separate controller process, so its RSS is its own.
    const port = await freePort();
    const started = Date.now();
    child = spawn(
      process.execPath,
      [
        ...NODE_OPTIONS,
        'dist/main.js',
        'controller',
        '--kubeconfig',
        bed.info.kube.kubeconfigPath,
        '--metrics-addr',
        `127.0.0.1:${port}`,
        '--kube-qps',
        String(QPS),
        '--kube-burst',
        String(BURST),
        '--concurrency',
        String(CONCURRENCY),
        '--log-level',
        'warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
          AWS_ENDPOINT_URL_STS: aws.endpoint,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    const pid = child.pid ?? 0;
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${port}/metrics`)
        .then((r) => r.text())
        .catch(() => '')) ?? '';
    const waitSynced = async (target: number) => {
      for (;;) {
        const text = await scrape();
        if (metric(text, 'ferry_reconcile_total', { kind: 'ExternalSecret', result: 'synced' }) >= target) return text;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const afterFirst = await waitSynced(OBJECTS);
    const readyMs = Date.now() - started;
    const list = (await custom.listClusterCustomObject({ ...group, plural: 'externalsecrets' })) as {
      items: { status?: { conditions?: { type: string; status: string }[] } }[];
    };
    const readyCount = list.items.filter((es) =>
      es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;

    const writes = (text: string) => ({
      secrets:
        metric(text, 'ferry_kube_requests_total', { resource: 'secrets', verb: 'create' }) +
        metric(text, 'ferry_kube_requests_total', { resource: 'secrets', verb: 'update' }) +
        metric(text, 'ferry_kube_requests_total', { resource: 'secrets', verb: 'apply' }) +
        metric(text, 'ferry_kube_requests_total', { resource: 'secrets', verb: 'delete' }),
      statuses: metric(text, 'ferry_kube_requests_total', { resource: 'externalsecrets/status' }),
      events: metric(text, 'ferry_kube_requests_total', { resource: 'events' }),
      reads: metric(text, 'ferry_kube_requests_total', { verb: 'get' }),
    });
    const providerReads = (text: string) =>
      metric(text, 'ferry_provider_calls_total', { operation: 'read' }) +
      metric(text, 'ferry_provider_calls_total', { operation: 'read_many' });
    const first = writes(afterFirst);

    // Second pass: force every object to re-read its value; nothing changed, so no Secret write.
    await pool(objects, 20, (o) =>
      custom.patchNamespacedCustomObject(
        {
          ...group,
          plural: 'externalsecrets',
          namespace: o.namespace,
          name: o.name,
          body: { metadata: { annotations: { 'ferry.dev/force-sync': '1' } } },
        },
        merge,
      ),
    );
    const afterSecond = await waitSynced(2 * OBJECTS);
    const second = writes(afterSecond);
    const peakRss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const heapUsed = metric(afterSecond, 'nodejs_heap_size_used_bytes');

    const ferryWrites = first.secrets + first.statuses;
    process.stdout.write('\nFirst sync (controller started with every ExternalSecret already present)\n');
    line('ExternalSecrets Ready', `${readyCount} / ${OBJECTS}`);
    line('time until all Ready (from process start)', seconds(readyMs));
    line(
      'provider calls (reads; target <= 100)',
      `${providerReads(afterFirst)} (${metric(afterFirst, 'ferry_provider_calls_total', { operation: 'read_many' })} BatchGetSecretValue)`,
    );
    line(
      'provider store validations',
      String(metric(afterFirst, 'ferry_provider_calls_total', { operation: 'validate' })),
    );
    line('API writes: Secrets + statuses', `${first.secrets} + ${first.statuses} = ${ferryWrites}`);
    line('API writes: events (own budget, best-effort)', String(first.events));
    line('API reads (GET)', String(first.reads));
    line('peak RSS of the controller (target <= 200 MiB)', `${(Number(peakRss) / 1024).toFixed(0)} MiB`);
    line('V8 heap in use after the second pass', `${(heapUsed / 1024 / 1024).toFixed(0)} MiB`);
    line('controller node flags', NODE_OPTIONS.join(' ') || '(none)');
    process.stdout.write(
      `\nSame writes made directly (${OBJECTS} Secret creates + ${OBJECTS} status patches, qps ${QPS}, burst ${BURST}, ${CONCURRENCY} workers)\n`,
    );
    line('time', seconds(baselineMs));
    line('ratio Ferry / direct (target <= 1.3)', (readyMs / baselineMs).toFixed(2));
    process.stdout.write('\nSecond pass (force-sync on every ExternalSecret, nothing changed at the provider)\n');
    line('Secret writes (target 0)', String(second.secrets - first.secrets));
    line('status writes', String(second.statuses - first.statuses));
    line('provider calls', String(providerReads(afterSecond) - providerReads(afterFirst)));
  } finally {
    child?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await bed.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${String(err)}\n`);
  process.exitCode = 1;
});
