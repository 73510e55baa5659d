// Google Cloud Secret Manager end to end: the real client library (REST transport) against a
// drongo server private to this file (so tests can reset and stop it), and the controller
// against the real API server. What drongo cannot serve (gRPC, regional names, checksums,
// workload identity, pagination) is unit-tested under src/providers/gcp.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { EgressPolicy } from '../../src/providers/egress.ts';
import { gcpProvider } from '../../src/providers/gcp/gcp-provider.ts';
import type { StoreContext } from '../../src/providers/provider.ts';
import { SecretValue } from '../../src/values.ts';
import { type RunningController, secretWrites, startController } from '../support/controller.ts';
import { serviceAccountKeyJson, withoutMetadataServer } from '../support/gcp.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName, usePrivateDrongo } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { ChaosProxy } from '../testbed/chaos-proxy.ts';

const PROJECT = 'p1';
const drongo = usePrivateDrongo();
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  withoutMetadataServer();
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'gcp');
  // The admin's opt-in: this file's SecretStores also show Application Default Credentials working (refused by
  // default, test/attacks/tenant-ambient-identity.test.ts).
  ctl = await startController(testbed().kube, { namespace, namespacedAmbientIdentity: true });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

const gcp = () => drongo.get().admin;
const metric = (m: 'providerCalls' | 'providerLogins', where: Record<string, string>) =>
  ctl.controller.metrics.total(ctl.controller.metrics[m] as never, { provider: 'gcpsm', ...where });

/** Provider calls the controller made for remote keys matching `key` (its debug log says each). */
const providerReadsOf = (key: RegExp) =>
  ctl.logs
    .map((line) => JSON.parse(line) as { msg?: string; provider?: string; key?: string })
    .filter((l) => l.msg === 'provider read' && l.provider === 'gcpsm' && key.test(l.key ?? '')).length;

/** A SecretStore on the private drongo authenticating with a service-account key from a Secret. */
async function gcpStore(extra: Record<string, unknown> = {}, key = serviceAccountKeyJson()): Promise<string> {
  const name = uniqueName('gcp');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name: `${name}-sa` }, stringData: { 'credentials.json': key } },
  });
  await o.secretStore(name, {
    gcpsm: {
      projectID: PROJECT,
      transport: 'REST',
      endpoint: drongo.get().access.endpoint,
      auth: { secretRef: { secretAccessKeySecretRef: { name: `${name}-sa`, key: 'credentials.json' } } },
      ...extra,
    },
  });
  return name;
}

describe('Google Cloud Secret Manager (drongo)', () => {
  it('syncs latest and numbered versions, properties, decoding and whole JSON objects; the store validates', async () => {
    await gcp().secret(PROJECT, 'db', JSON.stringify({ user: 'app', pass: 'p1' }));
    await gcp().addVersion(PROJECT, 'db', JSON.stringify({ user: 'app', pass: 'p2', tls: { ca: 'ca-pem' } }));
    await gcp().secret(PROJECT, 'cert', Buffer.from([0, 1, 2, 250]));
    await gcp().secret(PROJECT, 'b64', Buffer.from('decoded').toString('base64'));
    const store = await gcpStore();
    await o.externalSecret('gcp-all', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'pass', remoteRef: { key: 'db', property: 'pass' } },
        { secretKey: 'first', remoteRef: { key: 'db', property: 'pass', version: '1' } },
        { secretKey: 'ca', remoteRef: { key: 'db', property: 'tls.ca' } },
        { secretKey: 'cert', remoteRef: { key: 'cert' } },
        { secretKey: 'plain', remoteRef: { key: 'b64', decodingStrategy: 'Base64' } },
      ],
      dataFrom: [{ extract: { key: 'db', version: 'latest' } }],
    });
    const secret = await o.waitForSecret('gcp-all', (d) => d.pass === 'p2', 'the synced Secret');
    expect(await o.secretText('gcp-all')).toMatchObject({
      pass: 'p2',
      first: 'p1',
      ca: 'ca-pem',
      user: 'app',
      plain: 'decoded',
      tls: '{"ca":"ca-pem"}',
    });
    expect(Buffer.from(secret.data?.cert ?? '', 'base64')).toEqual(Buffer.from([0, 1, 2, 250]));
    const ready = await eventually('the store validated', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it('rotates: a new version reaches the Secret on the next refresh', async () => {
    await gcp().secret(PROJECT, 'rotating', 'one');
    const store = await gcpStore();
    await o.externalSecret('gcp-rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'rotating' } }],
    });
    await o.waitForSecret('gcp-rotating', (d) => d.v === 'one', 'first value');
    await gcp().addVersion(PROJECT, 'rotating', 'two');
    await o.waitForSecret('gcp-rotating', (d) => d.v === 'two', 'the rotated value');
  });

  it('reads each secret once for 30 ExternalSecrets on 3 secrets, with one credential set-up', async () => {
    for (const k of ['s1', 's2', 's3']) await gcp().secret(PROJECT, `shared-${k}`, `value-${k}`);
    // Counted before the store exists: validating it logs in at once, and may beat this line.
    const loginsBefore = await metric('providerLogins', { method: 'serviceAccountKey' });
    const store = await gcpStore();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        o.externalSecret(`gcp-fan-${i}`, {
          secretStoreRef: { name: store },
          data: [{ secretKey: 'v', remoteRef: { key: `shared-s${(i % 3) + 1}` } }],
        }),
      ),
    );
    for (let i = 0; i < 30; i++) {
      await o.waitForSecret(`gcp-fan-${i}`, (d) => d.v === `value-s${(i % 3) + 1}`, `gcp-fan-${i}`);
    }
    // Other tests' objects keep refreshing meanwhile: count only calls for these secrets.
    expect(providerReadsOf(/^shared-s/)).toBe(3);
    expect((await metric('providerLogins', { method: 'serviceAccountKey' })) - loginsBefore).toBe(1);
  });

  it('keeps the Secret while a version is disabled (NotFound, said so), and recovers when it is enabled', async () => {
    const version = await gcp().secret(PROJECT, 'toggled', 'enabled-value');
    const store = await gcpStore();
    await o.externalSecret('gcp-disabled', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'toggled', version } }],
    });
    const before = await o.waitForSecret('gcp-disabled', (d) => d.v === 'enabled-value', 'first sync');
    await gcp().setVersionState(PROJECT, 'toggled', version, 'disable');
    const { ready } = await o.waitForReady('gcp-disabled', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(
      /remote key "toggled": NotFound: GCP FAILED_PRECONDITION .*version not accessible \(disabled or destroyed\).*DISABLED/,
    );
    expect(ready.message).toMatch(/deletionPolicy Retain keeps the Secret/);
    expect((await o.secret('gcp-disabled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    await gcp().setVersionState(PROJECT, 'toggled', version, 'enable');
    await o.waitForReady('gcp-disabled', { status: 'True' }, 30_000);
    expect((await o.secret('gcp-disabled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('with deletionPolicy Delete, deletes the Secret only once a destroyed version is confirmed gone', async () => {
    const version = await gcp().secret(PROJECT, 'doomed', 'short-lived');
    const store = await gcpStore();
    await o.externalSecret('gcp-destroyed', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'doomed', version } }],
    });
    await o.waitForSecret('gcp-destroyed', (d) => d.v === 'short-lived', 'first sync');
    await gcp().setVersionState(PROJECT, 'doomed', version, 'destroy');
    const { ready } = await o.waitForReady('gcp-destroyed', { reason: 'SecretDeleted' });
    expect(ready.message).toMatch(/FAILED_PRECONDITION.*DESTROYED/);
    expect(await o.secret('gcp-destroyed')).toBeUndefined();
  });

  it('reports a deleted secret as not found and keeps the Secret (deletionPolicy Retain)', async () => {
    await gcp().secret(PROJECT, 'removed', 'kept-value');
    const store = await gcpStore();
    await o.externalSecret('gcp-deleted', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'removed' } }],
    });
    const before = await o.waitForSecret('gcp-deleted', (d) => d.v === 'kept-value', 'first sync');
    await gcp().deleteSecret(PROJECT, 'removed');
    const { ready } = await o.waitForReady('gcp-deleted', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/remote key "removed": NotFound: GCP NOT_FOUND reading "removed" version latest/);
    expect((await o.secret('gcp-deleted'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('keeps the Secret while Secret Manager is down, even with deletionPolicy Delete, and recovers', async () => {
    await gcp().secret(PROJECT, 'outage', 'steady');
    const store = await gcpStore();
    await o.externalSecret('gcp-outage', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'outage' } }],
    });
    const before = await o.waitForSecret('gcp-outage', (d) => d.v === 'steady', 'first sync');
    await drongo.get().process.stop();
    const { ready } = await o.waitForReady('gcp-outage', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(/remote key "outage": Transient: GCP UNAVAILABLE/);
    expect((await o.secret('gcp-outage'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    // drongo keeps its data in memory: it comes back empty, which is a real not-found that
    // deletionPolicy Delete acts on once confirmed a refresh later. With a 1 s refresh, a loaded
    // machine could take longer than that to re-create the secret (CI once did, and the Secret
    // was deleted as configured). So the refresh is made long first, and the sync after the
    // secret is back is forced.
    await o.patch('externalsecrets', 'gcp-outage', { spec: { refreshInterval: '1h' } });
    await drongo.get().process.start();
    await gcp().secret(PROJECT, 'outage', 'steady');
    await o.patch('externalsecrets', 'gcp-outage', {
      metadata: { annotations: { 'ferry.dev/force-sync': 'after-outage' } },
    });
    await o.waitForReady('gcp-outage', { status: 'True', reason: 'SecretSynced' }, 60_000);
    expect((await o.secret('gcp-outage'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'gcp-outage')).toBe(1);
  });

  it('honours RESOURCE_EXHAUSTED: keeps the Secret, waits out RetryInfo for the whole store, recovers', async () => {
    await gcp().secret(PROJECT, 'busy', 'calm');
    const proxy = await throttlingProxy(drongo.get().access.endpoint, 'busy');
    try {
      const store = await gcpStore({ endpoint: proxy.url });
      await o.externalSecret('gcp-throttled', {
        secretStoreRef: { name: store },
        refreshInterval: '1s',
        target: { deletionPolicy: 'Delete' },
        data: [{ secretKey: 'v', remoteRef: { key: 'busy' } }],
      });
      const before = await o.waitForSecret('gcp-throttled', (d) => d.v === 'calm', 'first sync');
      proxy.throttle = true;
      const { ready } = await o.waitForReady('gcp-throttled', { status: 'False', message: /Throttled/ });
      expect(ready.message).toMatch(/GCP RESOURCE_EXHAUSTED reading "busy" version latest: Quota exceeded/);
      const throttledAt = proxy.throttled;
      // RetryInfo asks for 3 s: meanwhile the store makes no further calls.
      await eventually('1.5 s after the throttle', async () =>
        Date.now() - proxy.lastThrottleAt > 1500 ? true : undefined,
      );
      expect(proxy.throttled).toBe(throttledAt);
      expect((await o.secret('gcp-throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
      // The delay really comes from RetryInfo, decoded by the client library's REST transport.
      const client = await gcpProvider.createClient(
        {
          projectID: PROJECT,
          transport: 'REST',
          endpoint: proxy.url,
          auth: { secretRef: { secretAccessKeySecretRef: { name: 'unused', key: 'unused' } } },
        },
        bareContext(),
      );
      const direct = await client.read({ key: 'busy' }, AbortSignal.timeout(5000)).catch((e: unknown) => e);
      await client.close();
      expect(direct).toMatchObject({ kind: 'Throttled', retryAfterMs: 3000 });
      proxy.throttle = false;
      await o.waitForReady('gcp-throttled', { status: 'True' }, 30_000);
    } finally {
      await proxy.stop();
    }
  });

  it("uses the controller's Application Default Credentials when the store has no auth", async () => {
    await gcp().secret(PROJECT, 'via-adc', 'ambient');
    const dir = await mkdtemp(join(tmpdir(), 'ferry-adc-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'key.json');
    await writeFile(file, serviceAccountKeyJson('ambient@p1.iam.gserviceaccount.com'));
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    try {
      const name = uniqueName('adc');
      await o.secretStore(name, {
        gcpsm: { projectID: PROJECT, transport: 'REST', endpoint: drongo.get().access.endpoint },
      });
      await o.externalSecret('gcp-adc', {
        secretStoreRef: { name },
        data: [{ secretKey: 'v', remoteRef: { key: 'via-adc' } }],
      });
      await o.waitForSecret('gcp-adc', (d) => d.v === 'ambient', 'a read with Application Default Credentials');
    } finally {
      delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    }
  });

  it('reports Denied, and keeps running, when the store sets no auth and there are no default credentials', async () => {
    await gcp().secret(PROJECT, 'no-adc', 'x');
    const name = uniqueName('no-adc');
    await o.secretStore(name, {
      gcpsm: { projectID: PROJECT, transport: 'REST', endpoint: drongo.get().access.endpoint },
    });
    await o.externalSecret('gcp-no-adc', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'no-adc' } }],
    });
    const { ready } = await o.waitForReady('gcp-no-adc', { status: 'False' });
    expect(ready.message).toMatch(/Denied: GCP: the store sets no auth and the controller has no Application Default/);
    expect(await metric('providerLogins', { method: 'applicationDefault', outcome: 'Denied' })).toBeGreaterThan(0);
  });

  it('refuses a credentials Secret that holds no service-account key, naming it and never its content', async () => {
    await gcp().secret(PROJECT, 'unreachable', 'x');
    const store = await gcpStore({}, '{"type":"authorized_user","refresh_token":"not-a-key-canary"}');
    await o.externalSecret('gcp-bad-key', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'unreachable' } }],
    });
    const { ready } = await o.waitForReady('gcp-bad-key', { status: 'False' });
    expect(ready.message).toMatch(/is not a service-account key \(needs type service_account/);
    expect(ready.message).not.toMatch(/not-a-key-canary/);
    expect(await o.secret('gcp-bad-key')).toBeUndefined();
  });
});

/**
 * An HTTP proxy to drongo that, on demand, answers accesses of `secretId` the way Secret Manager
 * throttles: 429 RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of 3 s (drongo never throttles).
 */
async function throttlingProxy(target: string, secretId: string) {
  const state = { throttle: false, throttled: 0, lastThrottleAt: 0 };
  const proxy = await ChaosProxy.start(target);
  proxy.intercept = (req, res) => {
    if (!state.throttle || !req.url?.includes(`/secrets/${secretId}/versions/`)) return false;
    state.throttled++;
    state.lastThrottleAt = Date.now();
    res.writeHead(429, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: {
          code: 429,
          message: 'Quota exceeded',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }],
        },
      }),
    );
    return true;
  };
  return Object.assign(state, { url: proxy.url, stop: () => proxy.stop() });
}

/** A StoreContext for calling the provider directly, outside a controller: a key, no Kubernetes. */
function bareContext(): StoreContext {
  const none = () => Promise.reject(new Error('not available outside a controller'));
  return {
    storeKind: 'SecretStore',
    storeName: 'direct',
    defaultNamespace: 'default',
    readSecretKey: async () => SecretValue.fromString(serviceAccountKeyJson()),
    readConfigMapKey: none,
    requestToken: none,
    readServiceAccountAnnotations: none,
    // Called directly, as an admin-written store would be: the egress rule is tested elsewhere.
    egress: EgressPolicy.unrestricted,
    recordLogin: () => {},
  };
}
