// Provider chaos: every provider is reached through a fault-injecting proxy (test/support/
// chaos-proxy.ts) in front of its real server — moto, OpenBao, drongo, and the spec-faithful Key
// Vault test server. While 5xx answers, resets, hung requests, 429 + Retry-After, 403, 404,
// expired credentials and slow answers go on, no Secret is written (each keeps its
// resourceVersion); while the provider does not answer at all, Ferry probes it about once per
// backoff step instead of once per object and refresh; after recovery a rotated value reaches
// every Secret. The figures are printed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { serviceAccountKeyJson } from '../support/gcp.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
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
import { ChaosProxy, type Fault } from '../testbed/chaos-proxy.ts';
import { DrongoAdmin } from '../testbed/drongo.ts';
import { OpenBaoAdmin } from '../testbed/openbao.ts';

const OBJECTS = 8;
const KEYS = 2;
const PHASE_MS = 8_000;
const moto = usePrivateMoto();
let ctl: RunningController;
let o: Objects;
let kv: KeyVaultTestServer;
const proxies: ChaosProxy[] = [];

/** Each provider's own error bodies, so its SDK sees what the real service would send. */
interface Provider {
  name: string;
  proxy: ChaosProxy;
  store: string;
  keys: string[];
  /** Writes each key's first value; moto is reset before each test, so this runs in the test. */
  seed(): Promise<void>;
  rotate(key: string, value: string): Promise<void>;
  faults: Record<'unavailable' | 'throttled' | 'denied' | 'notFound' | 'expired', Fault>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Fault => ({
  kind: 'status',
  status,
  body: JSON.stringify(body),
  headers,
});
const aws = (status: number, type: string, headers?: Record<string, string>): Fault =>
  json(status, { __type: type, message: `chaos: ${type}` }, { 'x-amzn-errortype': type, ...headers });
const gcp = (status: number, code: string): Fault =>
  json(status, { error: { code: status, message: `chaos: ${code}`, status: code } });
const azure = (status: number, code: string, headers?: Record<string, string>): Fault =>
  json(status, { error: { code, message: `chaos: ${code}` } }, headers);
const vault = (status: number, error: string, headers?: Record<string, string>): Fault =>
  json(status, { errors: [error] }, headers);

const providers: Provider[] = [];

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'chaos');
  o = new Objects(kc, namespace);

  // AWS: a private moto behind the proxy; the SDK of this process is pointed at the proxy.
  const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
  const awsProxy = await ChaosProxy.start(endpoint);
  pointAwsSdkAt(awsProxy.url);
  const sm = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
  const awsStore = await o.awsStore(moto.get().access);
  const awsKeys = Array.from({ length: KEYS }, (_, i) => `chaos/k${i}`);
  providers.push({
    name: 'aws',
    proxy: awsProxy,
    store: awsStore,
    keys: awsKeys,
    seed: async () => {
      for (const k of awsKeys) await sm.send(new CreateSecretCommand({ Name: k, SecretString: 'v0' }));
    },
    rotate: async (key, value) => {
      await sm.send(new PutSecretValueCommand({ SecretId: key, SecretString: value }));
    },
    faults: {
      unavailable: aws(503, 'ServiceUnavailable'),
      throttled: aws(400, 'ThrottlingException', { 'retry-after': '2' }),
      denied: aws(400, 'AccessDeniedException'),
      notFound: aws(400, 'ResourceNotFoundException'),
      expired: aws(400, 'ExpiredTokenException'),
    },
  });

  // Vault: the shared OpenBao behind the proxy, a token from a Secret.
  const vaultAccess = testbed().vault;
  if (!vaultAccess) throw new Error('the test bed was started without OpenBao');
  const bao = new OpenBaoAdmin(vaultAccess, '');
  const mount = uniqueName('chaos');
  await bao.must('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
  const vaultKeys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  for (const k of vaultKeys) await bao.writeKv2(mount, k, { v: 'v0' });
  await bao.policy(mount, `path "${mount}/data/*" { capabilities = ["read"] }`);
  await o.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vault-token' }, stringData: { token: await bao.createToken([mount]) } },
  });
  const vaultProxy = await ChaosProxy.start(vaultAccess.address);
  const vaultStore = uniqueName('vault');
  await o.secretStore(vaultStore, {
    vault: { server: vaultProxy.url, path: mount, auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } },
  });
  providers.push({
    name: 'vault',
    seed: async () => {},
    proxy: vaultProxy,
    store: vaultStore,
    keys: vaultKeys.map((k) => k),
    rotate: async (key, value) => {
      await bao.writeKv2(mount, key, { v: value });
    },
    faults: {
      unavailable: vault(503, 'Vault is sealed'),
      throttled: vault(429, 'request path "x": rate limit quota exceeded', { 'retry-after': '2' }),
      denied: vault(403, 'permission denied'),
      notFound: json(404, { errors: [] }),
      expired: vault(403, 'permission denied'),
    },
  });

  // Google: the shared drongo behind the proxy.
  const gcpAccess = testbed().gcp;
  if (!gcpAccess) throw new Error('the test bed was started without drongo');
  const drongo = new DrongoAdmin(gcpAccess);
  const project = 'chaos';
  const prefix = uniqueName('chaos');
  const gcpKeys = Array.from({ length: KEYS }, (_, i) => `${prefix}-k${i}`);
  for (const k of gcpKeys) await drongo.secret(project, k, 'v0');
  await o.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'gcp-sa' }, stringData: { key: serviceAccountKeyJson() } },
  });
  const gcpProxy = await ChaosProxy.start(gcpAccess.endpoint);
  const gcpStore = uniqueName('gcp');
  await o.secretStore(gcpStore, {
    gcpsm: {
      projectID: project,
      transport: 'REST',
      endpoint: gcpProxy.url,
      auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-sa', key: 'key' } } },
    },
  });
  providers.push({
    name: 'gcp',
    seed: async () => {},
    proxy: gcpProxy,
    store: gcpStore,
    keys: gcpKeys,
    rotate: async (key, value) => {
      await drongo.addVersion(project, key, value);
    },
    faults: {
      unavailable: gcp(503, 'UNAVAILABLE'),
      throttled: gcp(429, 'RESOURCE_EXHAUSTED'),
      denied: gcp(403, 'PERMISSION_DENIED'),
      notFound: gcp(404, 'NOT_FOUND'),
      expired: gcp(401, 'UNAUTHENTICATED'),
    },
  });

  // Azure: the spec-faithful Key Vault test server (no third-party server exists), behind an
  // HTTPS proxy with the server's own certificate.
  kv = await KeyVaultTestServer.start({
    tenantId: 'chaos-tenant',
    kubeIssuer: testbed().kube.server,
    kubeSigningKeyPem: await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8'),
  });
  kv.trustInThisProcess();
  kv.apps.set('chaos-app', { clientId: 'chaos-app', secret: 'chaos-secret' });
  const azureKeys = Array.from({ length: KEYS }, (_, i) => `chaos-k${i}`);
  for (const k of azureKeys) kv.setSecret(k, 'v0');
  await o.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'azure-sp' }, stringData: { id: 'chaos-app', secret: 'chaos-secret' } },
  });
  const azureProxy = await ChaosProxy.start(kv.vaultUrl, kv.servingTls);
  const azureStore = uniqueName('azure');
  await o.secretStore(azureStore, {
    azurekv: {
      vaultUrl: azureProxy.url,
      environmentType: 'AzureStackCloud',
      customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
      tenantId: 'chaos-tenant',
      authSecretRef: { clientId: { name: 'azure-sp', key: 'id' }, clientSecret: { name: 'azure-sp', key: 'secret' } },
    },
  });
  providers.push({
    name: 'azure',
    seed: async () => {},
    proxy: azureProxy,
    store: azureStore,
    keys: azureKeys,
    rotate: async (key, value) => {
      kv.setSecret(key, value);
    },
    faults: {
      unavailable: azure(503, 'ServiceUnavailable'),
      throttled: azure(429, 'Throttled', { 'retry-after': '2' }),
      denied: azure(403, 'Forbidden'),
      notFound: azure(404, 'SecretNotFound'),
      expired: azure(401, 'Unauthorized'),
    },
  });
  proxies.push(awsProxy, vaultProxy, gcpProxy, azureProxy);

  ctl = await startController(testbed().kube, { namespace });
}, 120_000);

afterAll(async () => {
  if (process.env.FERRY_CHAOS_DEBUG) {
    for (const l of ctl?.logs ?? []) if (/warn|error|"level":[45]0/.test(l)) process.stdout.write(l);
  }
  await ctl?.stop();
  for (const p of proxies) await p.stop();
  await kv?.stop();
});

const objectName = (p: Provider, i: number) => `${p.name}-${i}`;
const remoteKey = (p: Provider, i: number) => p.keys[i % KEYS] ?? '';

async function secretVersions(): Promise<Map<string, string>> {
  const list = await o.core.listNamespacedSecret({ namespace: o.namespace, labelSelector: 'ferry.dev/managed=true' });
  return new Map(list.items.map((s) => [s.metadata?.name ?? '', s.metadata?.resourceVersion ?? '']));
}

/** Every ExternalSecret Ready and refreshed after `since`, within 2 minutes. */
async function allResynced(since: number, phase: string): Promise<void> {
  for (const p of providers) {
    for (let i = 0; i < OBJECTS; i++) {
      await eventually(
        `${objectName(p, i)} resynced after ${phase}`,
        async () => {
          const es = await o.getExternalSecret(objectName(p, i));
          const ready = es.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
          return ready && Date.parse(es.status?.refreshTime ?? '') >= since - 1000 ? true : undefined;
        },
        120_000,
      );
    }
  }
}

describe('provider chaos', () => {
  it('no Secret changes during any fault, a down provider is probed per backoff step, and a rotation lands after recovery', async () => {
    for (const p of providers) await p.seed();
    for (const p of providers) {
      for (let i = 0; i < OBJECTS; i++) {
        const item =
          p.name === 'vault'
            ? { secretKey: 'v', remoteRef: { key: remoteKey(p, i), property: 'v' } }
            : { secretKey: 'v', remoteRef: { key: remoteKey(p, i) } };
        await o.externalSecret(objectName(p, i), {
          secretStoreRef: { name: p.store },
          refreshInterval: '1s',
          data: [item],
        });
      }
    }
    for (const p of providers) {
      for (let i = 0; i < OBJECTS; i++)
        await o.waitForSecret(objectName(p, i), (d) => d.v === 'v0', `${objectName(p, i)} synced`);
    }
    const before = await secretVersions();
    expect(before.size).toBe(providers.length * OBJECTS);

    // Faults with an answer first, then those without (they open the store breakers).
    const phases = ['slow', 'throttled', 'denied', 'notFound', 'expired', 'unavailable', 'reset', 'hang'] as const;
    const figures: string[] = [];
    for (const phase of phases) {
      const seenBefore = providers.map((p) => p.proxy.seen());
      const calls = async () => ctl.controller.metrics.total(ctl.controller.metrics.providerCalls).then((n) => n);
      const callsBefore = await calls();
      for (const p of providers) {
        p.proxy.set(
          phase === 'reset'
            ? { kind: 'reset' }
            : phase === 'hang'
              ? { kind: 'hang' }
              : phase === 'slow'
                ? { kind: 'slow', delayMs: 3000 }
                : p.faults[phase],
        );
      }
      await new Promise((r) => setTimeout(r, PHASE_MS));
      const made = (await calls()) - callsBefore;
      const requests = providers.map((p, i) => `${p.name} ${p.proxy.seen() - (seenBefore[i] ?? 0)}`);
      for (const p of providers) p.proxy.set({ kind: 'pass' });
      const recoveredAt = Date.now();
      await allResynced(recoveredAt, phase);
      figures.push(
        `${phase.padEnd(12)} ${PHASE_MS / 1000}s: Ferry provider calls ${made}, HTTP requests ${requests.join(', ')}; all resynced ${Date.now() - recoveredAt} ms after recovery`,
      );
      if (process.env.FERRY_CHAOS_DEBUG) process.stdout.write(`${figures.at(-1)}\n`);
      // Nothing was written, blanked or deleted while the fault lasted.
      expect(await secretVersions(), `after ${phase}`).toEqual(before);
      if (phase === 'unavailable' || phase === 'reset' || phase === 'hang') {
        // 4 stores × 8 objects refreshing each second would be 256 calls in 8 s; the breaker
        // lets one probe per store per backoff step through (steps of 0.5–1, 1–2, 2–4, 4–8 s).
        expect(made, `${phase}: Ferry provider calls`).toBeLessThanOrEqual(providers.length * 6);
      }
    }
    process.stdout.write(
      `provider chaos, ${providers.length} stores × ${OBJECTS} ExternalSecrets refreshing every 1 s:\n  ${figures.join('\n  ')}\n`,
    );

    // Recovery: a rotated value reaches every Secret.
    const t0 = Date.now();
    for (const p of providers) for (const k of p.keys) await p.rotate(k, 'v1');
    for (const p of providers) {
      for (let i = 0; i < OBJECTS; i++) {
        await eventually(
          `${objectName(p, i)} rotated after the faults`,
          async () => ((await o.secretText(objectName(p, i)))?.v === 'v1' ? true : undefined),
          120_000,
        );
      }
    }
    process.stdout.write(
      `after recovery, a rotation reached all ${providers.length * OBJECTS} Secrets in ${Date.now() - t0} ms\n`,
    );
  }, 600_000);
});
