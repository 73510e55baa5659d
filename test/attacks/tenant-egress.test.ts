// A tenant who may write SecretStores in one namespace points Vault's `server` at an address only
// the controller can reach — loopback, the cloud metadata endpoint, a private or cluster-internal
// address — to have a KV v1 answer written into the tenant's Secret (server-side request forgery).
// Rule namespaced-store-egress (src/providers/egress.ts) refuses it unless the admin allow-listed
// the host: checked on the spelled host when the client is built and on the resolved address at
// connect time. The controllers and the CSI plugin here run WITHOUT the test bed's loopback
// allow-list, except the controller that shows the allow-list lets the same store through.

import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedRange, EGRESS_RULE } from '../../src/providers/egress.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { call, kubeletContext, publishRequest, type RunningPlugin, startPlugin } from '../support/csi.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

// A private API server: a ClusterSecretStore here is seen by this file's controllers only.
const own = usePrivateApiServer();
const VALUE = 'metadata-credentials';
let server: Server;
let port: number;
/** Requests the target server received: all, and those not from the admin's stores (token "tenant-token"). */
let requests = 0;
let attackRequests = 0;
let guarded: RunningController;
let allowing: RunningController;
let tenant: Objects;
let allowed: Objects;
let csi: RunningPlugin;

beforeAll(async () => {
  // A KV v1 server, as a metadata endpoint or an internal service would stand in for.
  server = createServer((req, res) => {
    requests++;
    if (req.headers['x-vault-token'] !== 'tenant-token') attackRequests++;
    res.setHeader('content-type', 'application/json');
    if (req.url?.endsWith('/auth/token/lookup-self')) {
      res.end(JSON.stringify({ data: { id: 't', ttl: 0, renewable: false, policies: ['default'] } }));
    } else if (req.url?.endsWith('/v1/internal/creds')) {
      res.end(JSON.stringify({ data: { v: VALUE } }));
    } else {
      res.statusCode = 404;
      res.end('{"errors":[]}');
    }
  });
  // Both loopback families, so a name resolving to ::1 or 127.0.0.1 would reach it.
  await new Promise<void>((r) => server.listen(0, '::', r));
  port = (server.address() as AddressInfo).port;
  const { kc, server: api } = own.get();
  tenant = new Objects(kc, uniqueName('tenant'));
  allowed = new Objects(kc, uniqueName('allowed'));
  for (const o of [tenant, allowed]) {
    await o.core.createNamespace({ body: { metadata: { name: o.namespace } } });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'vault-token' }, stringData: { token: 'tenant-token' } },
    });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'attack-token' }, stringData: { token: 'attack-token' } },
    });
  }
  // Some stores here name no credentials (Google ADC, Azure managed identity): the identity rule
  // (tenant-ambient-identity.test.ts) would refuse them before they connect, so this controller
  // allows it and the egress rule is the one that answers.
  guarded = await startController(api.access, {
    namespace: tenant.namespace,
    namespacedStoreAllowedHosts: [],
    namespacedAmbientIdentity: true,
  });
  allowing = await startController(api.access, {
    namespace: allowed.namespace,
    namespacedStoreAllowedHosts: ['127.0.0.0/8', '::1'],
    clusterStores: false,
  });
  csi = await startPlugin(api.access, join(testbed().runDir, `egress-csi-${randomBytes(3).toString('hex')}`), {
    namespacedStoreAllowedHosts: [],
    namespacedAmbientIdentity: true,
  });
});

afterAll(async () => {
  for (const record of csi?.plugin.volumes.list() ?? []) {
    await call(csi.node, 'NodeUnpublishVolume', { volume_id: record.volumeId, target_path: record.targetPath });
  }
  await csi?.stop();
  await guarded?.stop();
  await allowing?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/** A KV v1 store at `host`; the admin's stores log in with "tenant-token", the attacks with "attack-token". */
const vault = (host: string, opts: { namespace?: string; attack?: boolean } = {}) => ({
  vault: {
    server: `http://${host}:${port}`,
    path: 'internal',
    version: 'v1',
    auth: {
      tokenSecretRef: {
        name: opts.attack ? 'attack-token' : 'vault-token',
        key: 'token',
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
      },
    },
  },
});

async function storeReady(o: Objects, name: string, message: RegExp) {
  return eventually(`SecretStore ${name} Ready False ${message.source}`, async () => {
    const ready = (await o.getSecretStore(name)).status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'False' && message.test(ready.message ?? '') ? ready : undefined;
  });
}

/** Creates a namespaced store at `host` and an ExternalSecret on it, and shows both refused by the rule. */
async function expectRefused(host: string, what: RegExp) {
  const store = uniqueName('ssrf');
  await tenant.secretStore(store, vault(host, { attack: true }));
  const rule = new RegExp(
    `spec\\.provider\\.vault\\.server: a SecretStore may not make Ferry connect to ${what.source}.*${EGRESS_RULE}`,
  );
  const ready = await storeReady(tenant, store, rule);
  expect(ready.message).not.toContain(VALUE);
  await tenant.externalSecret(store, {
    secretStoreRef: { name: store },
    data: [{ secretKey: 'v', remoteRef: { key: 'creds', property: 'v' } }],
  });
  await tenant.waitForReady(store, { status: 'False', message: rule });
  const events = await tenant.events();
  expect(events.some((e) => e.involved === store && e.type === 'Warning' && rule.test(e.message ?? ''))).toBe(true);
  expect(await tenant.secret(store)).toBeUndefined();
  // Not one request of the attack reached the target: the connection was never made.
  expect(attackRequests).toBe(0);
}

describe('a namespaced Vault store pointed at an address only the controller can reach', () => {
  it('setup: the same server serves the value to a ClusterSecretStore and to an allow-listed namespace', async () => {
    const css = uniqueName('admin-vault');
    await tenant.clusterSecretStore(css, { provider: vault('127.0.0.1', { namespace: tenant.namespace }) });
    await tenant.externalSecret('via-cluster-store', {
      secretStoreRef: { name: css, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'v', remoteRef: { key: 'creds', property: 'v' } }],
    });
    await tenant.waitForSecret('via-cluster-store', (d) => d.v === VALUE, 'the ClusterSecretStore synced');

    await allowed.secretStore('loopback', vault('127.0.0.1'));
    await allowed.externalSecret('allow-listed', {
      secretStoreRef: { name: 'loopback' },
      data: [{ secretKey: 'v', remoteRef: { key: 'creds', property: 'v' } }],
    });
    await allowed.waitForSecret('allow-listed', (d) => d.v === VALUE, 'the allow-listed namespaced store synced');
    expect(requests).toBeGreaterThan(0);
    expect(attackRequests).toBe(0);
  });

  it('refuses loopback by address and by the name localhost', async () => {
    await expectRefused('127.0.0.1', /127\.0\.0\.1, a loopback address/);
    await expectRefused('[::1]', /::1, a loopback address/);
    await expectRefused('localhost', /localhost \(127\.0\.0\.1\), a loopback address/);
  });

  it('refuses a host name that resolves to loopback, at connect time (after DNS)', async () => {
    // This machine's own name resolves to a loopback or private address (/etc/hosts): the spelled
    // host passes the first check, and the resolved address is refused when connecting.
    const name = hostname().toLowerCase();
    const { address } = await lookup(name);
    expect(blockedRange(address), `${name} resolves to ${address}`).toBeDefined();
    await expectRefused(
      name,
      new RegExp(`${name.replace(/\./g, '\\.')} \\(${address.replace(/[.:]/g, '\\$&')}\\), a `),
    );
  });

  it('refuses the metadata endpoint, link-local, private and cluster-internal addresses', async () => {
    await expectRefused('169.254.169.254', /169\.254\.169\.254, a link-local/);
    await expectRefused('[fe80::1]', /fe80::1, a link-local/);
    await expectRefused('10.96.0.10', /10\.96\.0\.10, a private/);
    await expectRefused('192.168.1.1', /192\.168\.1\.1, a private/);
    await expectRefused('100.64.0.1', /100\.64\.0\.1, a shared address space/);
    // An IPv4-mapped IPv6 spelling of the metadata endpoint is the same address.
    await expectRefused('[::ffff:169.254.169.254]', /::ffff:a9fe:a9fe, a link-local/);
  });

  it('refuses endpoint overrides of Google and Azure stores to hosts the admin did not list', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { gcpsm: { projectID: 'p', endpoint: `http://127.0.0.1:${port}`, transport: 'REST' } },
        /spec\.provider\.gcpsm\.endpoint: a SecretStore may set this only to a host the admin allow-listed/,
      ],
      [
        { azurekv: { vaultUrl: `https://127.0.0.1:${port}`, authType: 'ManagedIdentity' } },
        /spec\.provider\.azurekv\.vaultUrl: a SecretStore may not make Ferry connect to 127\.0\.0\.1, a loopback/,
      ],
      [
        {
          azurekv: {
            vaultUrl: 'https://kv.tenant.example',
            authType: 'ManagedIdentity',
            environmentType: 'AzureStackCloud',
            customCloudConfig: { activeDirectoryEndpoint: 'https://login.tenant.example' },
          },
        },
        /spec\.provider\.azurekv\.environmentType \(AzureStackCloud: vaultUrl\): .*allow-listed/,
      ],
    ];
    for (const [provider, rule] of cases) {
      const store = uniqueName('override');
      await tenant.secretStore(store, provider);
      const ready = await storeReady(tenant, store, rule);
      expect(ready.message).toContain(EGRESS_RULE);
    }
    expect(attackRequests).toBe(0);
  });

  it('the CSI plugin refuses the same store for a pod volume, and mounts from the ClusterSecretStore', async () => {
    const pod = { namespace: tenant.namespace, name: uniqueName('pod'), serviceAccount: 'default' };
    const css = uniqueName('admin-vault');
    await tenant.clusterSecretStore(css, { provider: vault('127.0.0.1', { namespace: tenant.namespace }) });
    const store = uniqueName('ssrf');
    await tenant.secretStore(store, vault('127.0.0.1', { attack: true }));
    for (const [name, ref] of [
      ['csi-admin', { name: css, kind: 'ClusterSecretStore' }],
      ['csi-ssrf', { name: store }],
    ] as const) {
      await tenant.externalSecret(name, {
        secretStoreRef: ref,
        target: { creationPolicy: 'None' },
        data: [{ secretKey: 'v', remoteRef: { key: 'creds', property: 'v' } }],
      });
    }
    const publish = async (es: string) => {
      const volumeId = `csi-${randomBytes(8).toString('hex')}`;
      const target = join(testbed().runDir, 'egress-pods', volumeId, 'mount');
      const context = await kubeletContext(own.get().server.access, pod, es);
      // Retried as kubelet retries while the plugin's watch has not delivered the objects yet.
      return eventually(`NodePublishVolume for ${es}`, async () => {
        const err = await call(csi.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
          () => undefined,
          (e: ServiceError) => e,
        );
        if (err && /does not exist/.test(err.details)) return undefined;
        return { err, volumeId, target };
      });
    };
    // Setup: the plugin reaches the server for the admin's store and mounts the value.
    const ok = await publish('csi-admin');
    expect(ok.err).toBeUndefined();
    await call(csi.node, 'NodeUnpublishVolume', { volume_id: ok.volumeId, target_path: ok.target });
    const refused = await publish('csi-ssrf');
    expect(refused.err?.details).toMatch(
      new RegExp(
        `spec\\.provider\\.vault\\.server: a SecretStore may not make Ferry connect to 127\\.0\\.0\\.1, a loopback.*${EGRESS_RULE}`,
      ),
    );
    expect(refused.err?.details).not.toContain(VALUE);
    expect(attackRequests).toBe(0);
  });
});
