// Benchmark: one ClusterExternalSecret reading one AWS key (moto) through a ClusterSecretStore,
// stamped into N namespaces, against the real API server. Prints the time until every namespace
// holds its Secret, the provider calls (one is the aim: the copies share the read), the API
// requests by kind, and the time until copies leave namespaces relabelled out of the selection.
// Figures only; nothing here passes or fails.
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import { parseDuration } from '../src/api/duration.ts';
import { Controller } from '../src/controller/controller.ts';
import { createAwsClusterStore } from '../test/testbed/aws-store.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../test/testbed/loopback-servers.ts';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 200);
const RELABELLED = Math.floor(NAMESPACES / 4);
/** The copies' refreshInterval: a rotated value must reach every copy within about one interval. */
const REFRESH = process.env.BENCH_REFRESH ?? '15s';
const group = { group: 'ferry.dev', version: 'v1alpha1' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(50)} ${value}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 200));
}

async function main(): Promise<void> {
  process.stdout.write(`Ferry ClusterExternalSecret benchmark: ${NAMESPACES} namespaces, one AWS key\n`);
  const bed = await startTestBed({ moto: true });
  const stop = new AbortController();
  let done: Promise<void> | undefined;
  try {
    const aws = bed.info.aws;
    if (!aws) throw new Error('no moto');
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
    process.env.AWS_ENDPOINT_URL_STS = aws.endpoint;
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await installCrds(kc);

    // Setup (not timed): the key, the namespaces, credentials, one ClusterSecretStore.
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    await sm.send(new CreateSecretCommand({ Name: 'bench/shared', SecretString: 'v1' }));
    const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-ces-${i}`);
    for (const name of namespaces) {
      await core.createNamespace({ body: { metadata: { name, labels: { 'bench-team': 'a' } } } });
    }
    await core.createNamespace({ body: { metadata: { name: 'ferry-system' } } });
    await createAwsClusterStore(kc, aws);

    const controller = new Controller(
      kc,
      // Ferry's default flags (--concurrency 20 --kube-qps 200 --kube-burst 400).
      {
        concurrency: 20,
        kubeQps: 200,
        kubeBurst: 400,
        providerQps: 20,
        providerBurst: 40,
        shareWindowMs: 60_000,
        namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
      },
      pino({ level: 'silent' }),
    );
    done = controller.run(stop.signal);
    await until(async () => controller.ready);
    const { metrics } = controller;

    const t0 = Date.now();
    await custom.createClusterCustomObject({
      ...group,
      plural: 'clusterexternalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ClusterExternalSecret',
        metadata: { name: 'shared' },
        spec: {
          namespaceSelectors: [{ matchLabels: { 'bench-team': 'a' } }],
          externalSecretSpec: {
            secretStoreRef: { name: 'aws', kind: 'ClusterSecretStore' },
            refreshInterval: REFRESH,
            data: [{ secretKey: 'value', remoteRef: { key: 'bench/shared' } }],
          },
        },
      },
    });
    const secrets = async () =>
      (await core.listSecretForAllNamespaces({ labelSelector: 'ferry.dev/managed=true' })).items.length;
    await until(async () => (await secrets()) >= NAMESPACES);
    const provisioned = Date.now() - t0;
    await controller.idle();
    line(`CES created → Secrets in all ${NAMESPACES} namespaces`, seconds(provisioned));
    line(
      'provider calls (AWS GetSecretValue/BatchGet)',
      String(await metrics.total(metrics.sharedReads, { served: 'call' })),
    );
    line('reads served by a shared call', String(await metrics.total(metrics.sharedReads, { served: 'shared' })));
    for (const [verb, resource] of [
      ['create', 'externalsecrets'],
      ['update', 'externalsecrets'],
      ['create', 'secrets'],
      ['patch', 'externalsecrets/status'],
      ['patch', 'clusterexternalsecrets/status'],
    ] as const) {
      line(`API ${verb} ${resource}`, String(await metrics.total(metrics.kubeRequests, { verb, resource })));
    }

    // Rotation: the value changes at the provider; every copy must follow within one interval,
    // all of them served by the same read (they share store, key and refresh phase).
    const callsBefore = await metrics.total(metrics.sharedReads, { served: 'call' });
    const tRotate = Date.now();
    await sm.send(new PutSecretValueCommand({ SecretId: 'bench/shared', SecretString: 'rotated' }));
    const updated = async () =>
      (await core.listSecretForAllNamespaces({ labelSelector: 'ferry.dev/managed=true' })).items.filter(
        (s) => Buffer.from(s.data?.value ?? '', 'base64').toString() === 'rotated',
      ).length;
    await until(async () => (await updated()) >= NAMESPACES);
    const rotatedMs = Date.now() - tRotate;
    line(`value rotated → all ${NAMESPACES} copies updated (refreshInterval ${REFRESH})`, seconds(rotatedMs));
    line(
      'provider calls in that time (refresh cycles elapsed)',
      `${(await metrics.total(metrics.sharedReads, { served: 'call' })) - callsBefore} (${Math.ceil(rotatedMs / (parseDuration(REFRESH) || 1))})`,
    );

    const t1 = Date.now();
    for (const name of namespaces.slice(0, RELABELLED)) {
      await core.patchNamespace({ name, body: { metadata: { labels: { 'bench-team': null } } } }, merge);
    }
    const relabelled = Date.now() - t1;
    const copies = async () =>
      ((await custom.listClusterCustomObject({ ...group, plural: 'externalsecrets' })) as { items: unknown[] }).items
        .length;
    await until(async () => (await copies()) <= NAMESPACES - RELABELLED);
    line(
      `${RELABELLED} namespaces relabelled (the patches took ${seconds(relabelled)}) → copies gone`,
      seconds(Date.now() - t1),
    );
  } finally {
    stop.abort();
    await done;
    await bed.stop();
  }
}

await main();
