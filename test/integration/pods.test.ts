// What a workload sees: real pods on the bed's node (kubelet + containerd) consume a Secret
// that Ferry syncs from AWS Secrets Manager (moto), by file and by environment variable, across
// a rotation at the provider. Pods print what they read; tests read it from the pod's logs.
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { fields, Pods, requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, pointAwsSdkAt, testbed, uniqueName } from '../support/testbed.ts';

let ctl: RunningController | undefined;
let o: Objects;
let pods: Pods;
let sm: SecretsManagerClient;
let store: string;

beforeAll(async () => {
  const aws = testbed().aws;
  if (!aws) throw new Error('the shared test bed has no moto');
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'pods');
  pointAwsSdkAt(aws.endpoint);
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
  sm = new SecretsManagerClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  });
  store = uniqueName('aws');
  await o.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: `${store}-creds` }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
  });
  await o.secretStore(store, {
    aws: {
      region: aws.region,
      auth: {
        secretRef: {
          accessKeyIDSecretRef: { name: `${store}-creds`, key: 'id' },
          secretAccessKeySecretRef: { name: `${store}-creds`, key: 'secret' },
        },
      },
    },
  });
});

// In each test, not in beforeAll: without a node every test fails with the reason (a failing
// beforeAll would only mark them skipped).
beforeEach(async () => {
  pods = new Pods(kubeConfigFor(testbed().kube), o.namespace, requireNode());
  await pods.waitForDefaultServiceAccount();
});

afterAll(async () => {
  await ctl?.stop();
});

/** A remote secret holding `value` and an ExternalSecret (refreshInterval 1s) syncing it to Secret `name`, key `v`. */
async function synced(name: string, remoteKey: string, value: string, target: ExternalSecretSpec['target'] = {}) {
  await sm.send(new CreateSecretCommand({ Name: remoteKey, SecretString: value })).catch((err: Error) => {
    if (err.name !== 'ResourceExistsException') throw err;
  });
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    refreshInterval: '1s',
    target,
    data: [{ secretKey: 'v', remoteRef: { key: remoteKey } }],
  });
  await o.waitForSecret(name, (d) => d.v === value, `Secret ${name} = ${value}`);
}

async function rotate(remoteKey: string, value: string): Promise<void> {
  await sm.send(new PutSecretValueCommand({ SecretId: remoteKey, SecretString: value }));
}

// Each app prints one line of what it reads, five times a second.
const printEvery = 'sleep 0.2';

describe('pods consuming a synced Secret', () => {
  it('a Deployment reads the value from its mounted file, and a rotation reaches the running pod', async () => {
    const key = uniqueName('pods/mounted');
    await synced('mounted', key, 'first');
    await pods.deployment('reader', {
      mounts: { mounted: '/etc/app' },
      script: `while true; do echo "value=$(cat /etc/app/v)"; ${printEvery}; done`,
    });
    const before = await pods.waitForLine('reader', (l) => fields(l).value === 'first', 'the pod to print first');

    await rotate(key, 'second');
    const after = await pods.waitForLine('reader', (l) => fields(l).value === 'second', 'the pod to print second');

    // The same container saw the change: no restart, no new pod.
    expect(after.pod.metadata?.uid).toBe(before.pod.metadata?.uid);
    const [now] = await pods.runningPods('reader');
    expect(now?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  }, 120_000);

  it('target.immutable: pods keep the old value until every pod using the Secret on the node is gone', async () => {
    const key = uniqueName('pods/immutable');
    // Two Secrets from one remote key: `frozen` immutable, `live` not. When a pod shows the new
    // `live` value, the kubelet has refreshed that pod's volumes after the rotation.
    await synced('frozen', key, 'old', { immutable: true });
    await synced('live', key, 'old');
    await pods.deployment('frozen-reader', {
      mounts: { frozen: '/etc/frozen', live: '/etc/live' },
      script: `while true; do echo "frozen=$(cat /etc/frozen/v) live=$(cat /etc/live/v)"; ${printEvery}; done`,
    });
    const first = await pods.waitForLine('frozen-reader', (l) => fields(l).frozen === 'old', 'the pod to print old');

    await rotate(key, 'new');
    // Ferry replaced the immutable Secret (delete + create): the API has the new value.
    await o.waitForSecret('frozen', (d) => d.v === 'new', 'the immutable Secret replaced with new');
    const refreshed = await pods.waitForLine('frozen-reader', (l) => fields(l).live === 'new', 'live to print new');
    expect(refreshed.pod.metadata?.uid).toBe(first.pod.metadata?.uid);
    expect(fields(refreshed.line).frozen).toBe('old');

    // A rolling restart starts the new pod while the old one still runs: the kubelet serves it
    // the immutable Secret it already holds (it never re-reads one while a pod on the node uses it).
    await pods.restart('frozen-reader');
    const rolled = await pods.waitForLine('frozen-reader', (l) => fields(l).live === 'new', 'a rolled pod to print', {
      notPods: [first.pod.metadata?.uid ?? ''],
    });
    expect(fields(rolled.line).frozen).toBe('old');

    // Once no pod on the node uses it (scaled to zero and every pod deleted), a new pod reads
    // the replaced Secret.
    await pods.recreate('frozen-reader');
    const recreated = await pods.waitForLine(
      'frozen-reader',
      (l) => fields(l).frozen === 'new',
      'a recreated pod to print new',
      { notPods: [first.pod.metadata?.uid ?? '', rolled.pod.metadata?.uid ?? ''] },
    );
    expect(fields(recreated.line).live).toBe('new');
  }, 120_000);

  it('an environment variable keeps the old value until the pod restarts; the mounted file does not', async () => {
    const key = uniqueName('pods/env');
    await synced('env', key, 'old');
    await pods.deployment('env-reader', {
      mounts: { env: '/etc/app' },
      env: { V: ['env', 'v'] },
      script: `while true; do echo "env=$V file=$(cat /etc/app/v)"; ${printEvery}; done`,
    });
    const first = await pods.waitForLine('env-reader', (l) => fields(l).env === 'old', 'the pod to print env=old');

    await rotate(key, 'new');
    const refreshed = await pods.waitForLine('env-reader', (l) => fields(l).file === 'new', 'the file to show new');
    expect(refreshed.pod.metadata?.uid).toBe(first.pod.metadata?.uid);
    expect(fields(refreshed.line).env).toBe('old');

    await pods.restart('env-reader');
    const restarted = await pods.waitForLine('env-reader', (l) => fields(l).env === 'new', 'env=new after restart', {
      notPods: [first.pod.metadata?.uid ?? ''],
    });
    expect(fields(restarted.line).file).toBe('new');
  }, 120_000);
});
