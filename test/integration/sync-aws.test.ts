// AWS Secrets Manager end to end: the real SDK against moto, the controller against the real
// API server. moto is private to this file, so tests can reset and stop it.
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { motoUserAllowedOnly } from '../support/aws-iam.ts';
import { startAwsRecorder } from '../support/aws-recorder.ts';
import { type RunningController, secretWrites, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateMoto,
} from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { enforceMotoAuth } from '../testbed/moto.ts';

const moto = usePrivateMoto();
let ctl: RunningController;
let o: Objects;
let sm: SecretsManagerClient;

function sdkConfig(endpoint = moto.get().access.endpoint) {
  const { region, accessKeyId, secretAccessKey } = moto.get().access;
  return { region, endpoint, credentials: { accessKeyId, secretAccessKey } };
}

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'aws');
  pointAwsSdkAt(moto.get().access.endpoint);
  // The admin's opt-in: this file's SecretStores also show the SDK default chain working (refused by
  // default, test/attacks/tenant-ambient-identity.test.ts).
  ctl = await startController(testbed().kube, { namespace, namespacedAmbientIdentity: true });
  o = new Objects(kc, namespace);
});

beforeEach(() => {
  sm = new SecretsManagerClient(sdkConfig());
});

afterAll(async () => {
  await ctl?.stop();
});

/** A SecretStore with static keys read from a Secret in the namespace. */
async function awsStore(keys = { id: 'test', secret: 'test' }): Promise<string> {
  const name = uniqueName('aws');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name: `${name}-creds` }, stringData: { id: keys.id, secret: keys.secret } },
  });
  await o.secretStore(name, {
    aws: {
      region: moto.get().access.region,
      auth: {
        secretRef: {
          accessKeyIDSecretRef: { name: `${name}-creds`, key: 'id' },
          secretAccessKeySecretRef: { name: `${name}-creds`, key: 'secret' },
        },
      },
    },
  });
  return name;
}

const awsReads = async () => {
  const { metrics } = ctl.controller;
  const reads = await metrics.total(metrics.providerCalls, { provider: 'aws', operation: 'read' });
  return reads + (await metrics.total(metrics.providerCalls, { provider: 'aws', operation: 'read_many' }));
};

describe('AWS Secrets Manager', () => {
  it('syncs properties, whole JSON objects, binary values, stages and version ids', async () => {
    const db = await sm.send(new CreateSecretCommand({ Name: 'prod/db', SecretString: '{"user":"app","pass":"p1"}' }));
    await sm.send(new CreateSecretCommand({ Name: 'prod/cert', SecretBinary: Buffer.from([0, 1, 2, 250]) }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'prod/db', SecretString: '{"user":"app","pass":"p2"}' }));
    const store = await awsStore();
    await o.externalSecret('aws-all', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'pass', remoteRef: { key: 'prod/db', property: 'pass' } },
        { secretKey: 'previous', remoteRef: { key: 'prod/db', property: 'pass', version: 'AWSPREVIOUS' } },
        { secretKey: 'first', remoteRef: { key: 'prod/db', property: 'pass', version: `uuid/${db.VersionId}` } },
        { secretKey: 'cert', remoteRef: { key: 'prod/cert' } },
      ],
      dataFrom: [{ extract: { key: 'prod/db' } }],
    });
    const secret = await o.waitForSecret('aws-all', (d) => d.pass === 'p2', 'the synced Secret');
    const text = await o.secretText('aws-all');
    expect(text).toMatchObject({ pass: 'p2', previous: 'p1', first: 'p1', user: 'app' });
    expect(Buffer.from(secret.data?.cert ?? '', 'base64')).toEqual(Buffer.from([0, 1, 2, 250]));
    const store_ = await eventually('store validated', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(store_).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it('rotates: a new AWSCURRENT version reaches the Secret on the next refresh', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' }));
    const store = await awsStore();
    await o.externalSecret('aws-rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'rotating' } }],
    });
    await o.waitForSecret('aws-rotating', (d) => d.v === 'one', 'first value');
    await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' }));
    await o.waitForSecret('aws-rotating', (d) => d.v === 'two', 'the rotated value');
  });

  it('reads each remote key once for many ExternalSecrets, in batches', async () => {
    for (const k of ['s1', 's2', 's3'])
      await sm.send(new CreateSecretCommand({ Name: `shared/${k}`, SecretString: `value-${k}` }));
    const store = await awsStore();
    const before = await awsReads();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        o.externalSecret(`fan-${i}`, {
          secretStoreRef: { name: store },
          data: [{ secretKey: 'v', remoteRef: { key: `shared/s${(i % 3) + 1}` } }],
        }),
      ),
    );
    for (let i = 0; i < 30; i++) await o.waitForSecret(`fan-${i}`, (d) => d.v === `value-s${(i % 3) + 1}`, `fan-${i}`);
    // 30 objects, 3 unique keys: at most one call per key, fewer when batched.
    const reads = (await awsReads()) - before;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(3);
  });

  it('reads ahead for queued ExternalSecrets at a cold start: few workers, full batch calls', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `ahead/k${i}`);
    for (const k of keys) await sm.send(new CreateSecretCommand({ Name: k, SecretString: `value-${k}` }));
    // Its own namespace and controller, started once every object exists: a cold start.
    const kc = kubeConfigFor(testbed().kube);
    const local = new Objects(kc, await createNamespace(kc, 'aws-ahead'));
    const store = await local.awsStore(moto.get().access);
    await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        local.externalSecret(`ahead-${i}`, {
          secretStoreRef: { name: store },
          data: [{ secretKey: 'v', remoteRef: { key: keys[Math.floor(i / 2)] ?? '' } }],
        }),
      ),
    );
    // Two workers reach two keys at a time: without read-ahead each batch call would carry two.
    const cold = await startController(testbed().kube, { namespace: local.namespace, concurrency: 2 });
    try {
      for (let i = 0; i < 80; i++) {
        const key = keys[Math.floor(i / 2)];
        await local.waitForSecret(`ahead-${i}`, (d) => d.v === `value-${key}`, `ahead-${i}`);
      }
      const { metrics } = cold.controller;
      const batchCalls = await metrics.total(metrics.providerCalls, { provider: 'aws', operation: 'read_many' });
      const singleCalls = await metrics.total(metrics.providerCalls, { provider: 'aws', operation: 'read' });
      const keysRead = await metrics.total(metrics.sharedReads, { provider: 'aws', served: 'call' });
      expect(keysRead).toBe(40);
      // 40 keys, 20 per BatchGetSecretValue: 2 when every call is full; a few more when a call
      // leaves before the queue was looked at.
      expect(batchCalls + singleCalls).toBeLessThanOrEqual(5);
      expect(await metrics.total(metrics.readAhead, { provider: 'aws' })).toBeGreaterThanOrEqual(30);
    } finally {
      await cold.stop();
    }
  });

  it('after a restart reads each overdue key once (first readers first where the store batches) and leaves recent objects waiting', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `storm/k${i}`);
    for (const k of keys) await sm.send(new CreateSecretCommand({ Name: k, SecretString: `value-${k}` }));
    const kc = kubeConfigFor(testbed().kube);
    const local = new Objects(kc, await createNamespace(kc, 'aws-storm'));
    const store = await local.awsStore(moto.get().access);
    // A store that reads each key with a call of its own (the fake provider, as Vault, Google
    // and Azure): its overdue refreshes keep the grouped order, reads paced by the store budget.
    const fakeKeys = Array.from({ length: 40 }, (_, i) => `fake/k${i}`);
    await local.secretStore('fake', { fake: { data: fakeKeys.map((key) => ({ key, value: `value-${key}` })) } });
    // Three objects per key, overdue after the restart; ten more synced just before it.
    const overdue = Array.from({ length: 120 }, (_, i) => ({ name: `due-${i}`, key: keys[i % 40] ?? '', store }));
    const fakeDue = Array.from({ length: 120 }, (_, i) => ({
      name: `fake-${i}`,
      key: fakeKeys[i % 40] ?? '',
      store: 'fake',
    }));
    const recent = Array.from({ length: 10 }, (_, i) => ({ name: `recent-${i}`, key: keys[i] ?? '', store }));
    for (const x of [...overdue, ...fakeDue, ...recent]) {
      await local.externalSecret(x.name, {
        secretStoreRef: { name: x.store },
        refreshInterval: '1h',
        data: [{ secretKey: 'v', remoteRef: { key: x.key } }],
      });
    }
    const first = await startController(testbed().kube, { namespace: local.namespace });
    try {
      for (const { name, key } of [...overdue, ...fakeDue, ...recent])
        await local.waitForSecret(name, (d) => d.v === `value-${key}`, name);
      await eventually('all Ready', async () => {
        for (const { name } of [...overdue, ...fakeDue, ...recent]) {
          const es = await local.getExternalSecret(name);
          if (!es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
        }
        return true;
      });
    } finally {
      await first.stop();
    }
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
    for (const { name } of [...overdue, ...fakeDue]) {
      await local.custom.patchNamespacedCustomObjectStatus(
        {
          group: 'ferry.dev',
          version: 'v1alpha1',
          namespace: local.namespace,
          plural: 'externalsecrets',
          name,
          body: { status: { refreshTime: twoHoursAgo } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    const recentTimes = new Map<string, string | undefined>();
    for (const { name } of recent) recentTimes.set(name, (await local.getExternalSecret(name)).status?.refreshTime);

    // One worker: the order refreshes complete in is the order they were queued in.
    const refreshed: string[] = [];
    const req = await new Watch(kc).watch(
      `/apis/ferry.dev/v1alpha1/namespaces/${local.namespace}/externalsecrets`,
      {},
      (type: string, es: { metadata: { name: string }; status?: { refreshTime?: string } }) => {
        const t = es.status?.refreshTime;
        if (type === 'MODIFIED' && t && t !== twoHoursAgo && !refreshed.includes(es.metadata.name))
          refreshed.push(es.metadata.name);
      },
      () => undefined,
    );
    const restarted = await startController(testbed().kube, { namespace: local.namespace, concurrency: 1 });
    try {
      await eventually(
        'every overdue object refreshed',
        async () => ([...overdue, ...fakeDue].every((x) => refreshed.includes(x.name)) ? true : undefined),
        60_000,
      );
      const keyOf = new Map([...overdue, ...fakeDue].map((x) => [x.name, x.key]));
      // AWS: the first 40 refreshes read the 40 keys; the 80 after them reuse those reads.
      expect(new Set(refreshed.slice(0, 40).map((n) => keyOf.get(n))).size).toBe(40);
      // The fake store: 20 keys interleaved at a time, each key's three objects together.
      const fakeOrder = refreshed.filter((n) => n.startsWith('fake-'));
      expect(new Set(fakeOrder.slice(0, 60).map((n) => keyOf.get(n))).size).toBe(20);
      const { metrics } = restarted.controller;
      for (const provider of ['aws', 'fake']) {
        expect(await metrics.total(metrics.sharedReads, { provider, served: 'call' })).toBe(40);
        expect(await metrics.total(metrics.sharedReads, { provider, served: 'shared' })).toBe(80);
      }
      for (const { name } of [...overdue, ...fakeDue, ...recent]) expect(secretWrites(restarted, name)).toBe(0);
      for (const { name } of recent)
        expect((await local.getExternalSecret(name)).status?.refreshTime).toBe(recentTimes.get(name));
      expect(refreshed.filter((n) => n.startsWith('recent-'))).toEqual([]);
    } finally {
      req.abort();
      await restarted.stop();
    }
  });

  it('assumes spec.role with STS on top of the static keys', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'via-role', SecretString: 'assumed' }));
    const name = uniqueName('role');
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name }, stringData: { id: 'test', secret: 'test' } },
    });
    await o.secretStore(name, {
      aws: {
        region: moto.get().access.region,
        role: 'arn:aws:iam::123456789012:role/ferry-reader',
        auth: {
          secretRef: { accessKeyIDSecretRef: { name, key: 'id' }, secretAccessKeySecretRef: { name, key: 'secret' } },
        },
      },
    });
    await o.externalSecret('aws-role', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-role' } }],
    });
    await o.waitForSecret('aws-role', (d) => d.v === 'assumed', 'a read with assumed-role credentials');
  });

  it('authenticates with a ServiceAccount token (auth.jwt, web identity)', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'via-jwt', SecretString: 'federated' }));
    await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: 'ferry-aws' } } });
    const name = uniqueName('jwt');
    await o.secretStore(name, {
      aws: {
        region: moto.get().access.region,
        role: 'arn:aws:iam::123456789012:role/ferry-web-identity',
        auth: { jwt: { serviceAccountRef: { name: 'ferry-aws' } } },
      },
    });
    await o.externalSecret('aws-jwt', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-jwt' } }],
    });
    await o.waitForSecret('aws-jwt', (d) => d.v === 'federated', 'a read with web-identity credentials');
    const tokens = await ctl.controller.metrics.total(ctl.controller.metrics.kubeRequests, {
      resource: 'serviceaccounts/token',
    });
    expect(tokens).toBeGreaterThan(0);
  });

  it('resolves namespace-less credentials of a ClusterSecretStore in the ExternalSecret namespace', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'via-css', SecretString: 'referent' }));
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'local-aws' }, stringData: { id: 'test', secret: 'test' } },
    });
    const name = uniqueName('css');
    await o.clusterSecretStore(name, {
      provider: {
        aws: {
          region: moto.get().access.region,
          auth: {
            secretRef: {
              accessKeyIDSecretRef: { name: 'local-aws', key: 'id' },
              secretAccessKeySecretRef: { name: 'local-aws', key: 'secret' },
            },
          },
        },
      },
    });
    await o.externalSecret('aws-css', {
      secretStoreRef: { name, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-css' } }],
    });
    await o.waitForSecret('aws-css', (d) => d.v === 'referent', 'a read through the ClusterSecretStore');
    const store = await eventually('the ClusterSecretStore status', async () => {
      const s = await o.getClusterSecretStore(name);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(store).toMatchObject({ status: 'Unknown', reason: 'ValidationUnknown' });
  });

  it("uses the controller's own identity (the SDK default chain) when the store has no auth", async () => {
    await sm.send(new CreateSecretCommand({ Name: 'via-default-chain', SecretString: 'ambient' }));
    // The controller runs in this process: its environment is the ambient identity.
    process.env.AWS_ACCESS_KEY_ID = moto.get().access.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.get().access.secretAccessKey;
    try {
      const name = uniqueName('ambient');
      await o.secretStore(name, { aws: { region: moto.get().access.region } });
      await o.externalSecret('aws-ambient', {
        secretStoreRef: { name },
        data: [{ secretKey: 'v', remoteRef: { key: 'via-default-chain' } }],
      });
      await o.waitForSecret('aws-ambient', (d) => d.v === 'ambient', 'a read with the default credential chain');
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('leaves the Secret untouched while AWS is down, says why, and recovers by itself', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'outage', SecretString: 'steady' }));
    const store = await awsStore();
    await o.externalSecret('aws-outage', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'outage' } }],
    });
    const before = await o.waitForSecret('aws-outage', (d) => d.v === 'steady', 'first sync');
    await moto.get().process.stop();
    const { ready } = await o.waitForReady('aws-outage', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(/remote key "outage": Transient/);
    const during = await o.secret('aws-outage');
    expect(during?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await o.secretText('aws-outage')).toEqual({ v: 'steady' });

    await moto.get().process.start();
    // moto keeps its data in memory: the provider comes back with the secret re-created.
    await new SecretsManagerClient(sdkConfig()).send(
      new CreateSecretCommand({ Name: 'outage', SecretString: 'steady' }),
    );
    await o.waitForReady('aws-outage', { status: 'True', reason: 'SecretSynced' }, 60_000);
    expect((await o.secret('aws-outage'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'aws-outage')).toBe(1);
  });

  it('keeps the Secret and reports Denied when access is revoked', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'guarded', SecretString: 'ok' }));
    // The reader may only ask who it is; once moto enforces IAM, every read is refused.
    const store = await awsStore(await motoUserAllowedOnly(moto.get().access, 'reader', ['sts:GetCallerIdentity']));
    await o.externalSecret('aws-denied', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'a', remoteRef: { key: 'guarded' } }],
    });
    const before = await o.waitForSecret('aws-denied', (d) => d.a === 'ok', 'the first sync');
    await enforceMotoAuth(moto.get().access.endpoint, true);
    const { ready } = await o.waitForReady('aws-denied', { status: 'False', message: /remote key "guarded": Denied/ });
    expect(ready.message).toMatch(/HTTP 403/);
    // Denied is never taken for not-found: even with deletionPolicy Delete the Secret stays.
    await eventually('two more refreshes', async () => {
      const es = await o.getExternalSecret('aws-denied');
      const since = Date.parse(es.status?.conditions?.[0]?.lastTransitionTime ?? '');
      return Date.now() - since > 2500 ? true : undefined;
    });
    expect((await o.secret('aws-denied'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('honours throttling: keeps the Secret, waits out Retry-After for the whole store, recovers', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'busy', SecretString: 'calm' }));
    // moto never throttles: a proxy in front of it answers ThrottlingException with Retry-After: 3.
    const proxy = await startAwsRecorder(moto.get().access.endpoint);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.url;
    try {
      const store = await awsStore();
      await o.externalSecret('aws-throttled', {
        secretStoreRef: { name: store },
        refreshInterval: '1s',
        data: [{ secretKey: 'v', remoteRef: { key: 'busy' } }],
      });
      const before = await o.waitForSecret('aws-throttled', (d) => d.v === 'calm', 'first sync');
      proxy.throttle = (c) => /GetSecretValue/.test(c.operation) && JSON.stringify(c.params).includes('"busy"');
      const { ready } = await o.waitForReady('aws-throttled', { status: 'False', message: /Throttled/ });
      expect(ready.message).toMatch(/ThrottlingException/);
      const throttledAt = proxy.throttled;
      // Retry-After is 3 s: while it runs, the store makes no further calls.
      await new Promise((r) => setTimeout(r, 1500));
      expect(proxy.throttled).toBe(throttledAt);
      expect((await o.secret('aws-throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
      proxy.throttle = undefined;
      await o.waitForReady('aws-throttled', { status: 'True' }, 30_000);
    } finally {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.get().access.endpoint;
      proxy.close();
    }
  });
});
