// dataFrom[].find for Vault/OpenBao (real server), Google Secret Manager (drongo) and Azure Key
// Vault (the spec-faithful test server), with the controller against the real API server: the
// listing each provider makes, the filters, the keys as ESO names them, and one listing shared by
// every ExternalSecret asking the same.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { serviceAccountKeyJson, withoutMetadataServer } from '../support/gcp.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
import { Objects } from '../support/objects.ts';
import {
  createNamespace,
  kubeConfigFor,
  testbed,
  uniqueName,
  usePrivateDrongo,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { ChaosProxy } from '../testbed/chaos-proxy.ts';

const CANARY = 'find-canary-4b1d9e';
const TENANT = 'ferry-test-tenant';
const PROJECT = 'p1';
const openbao = usePrivateOpenBao();
const drongo = usePrivateDrongo();
let kv: KeyVaultTestServer;
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  withoutMetadataServer();
  kv = await KeyVaultTestServer.start({
    tenantId: TENANT,
    kubeIssuer: testbed().kube.server,
    kubeSigningKeyPem: await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8'),
  });
  kv.trustInThisProcess();
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'find');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
  await kv?.stop();
});

const lists = (provider: string) =>
  ctl.controller.metrics.total(ctl.controller.metrics.providerCalls as never, { provider, operation: 'list' });

async function secretWith(data: Record<string, string>): Promise<string> {
  const name = uniqueName('creds');
  await o.core.createNamespacedSecret({ namespace: o.namespace, body: { metadata: { name }, stringData: data } });
  return name;
}

describe('dataFrom find: Vault / OpenBao', () => {
  const LISTER = [
    'path "secret/data/*" { capabilities = ["read"] }',
    'path "secret/metadata/*" { capabilities = ["read", "list"] }',
    'path "kv1/*" { capabilities = ["read", "list"] }',
  ].join('\n');

  async function vaultStore(extra: Record<string, unknown> = {}): Promise<string> {
    const bao = openbao.get().admin;
    const creds = await secretWith({ token: await bao.createToken(['lister']) });
    const name = uniqueName('vault');
    await o.secretStore(name, {
      vault: {
        server: openbao.get().access.address,
        path: 'secret',
        auth: { tokenSecretRef: { name: creds, key: 'token' } },
        ...extra,
      },
    });
    return name;
  }

  it('lists recursively under path, matches name.regexp and custom_metadata tags; one listing for many', async () => {
    const bao = openbao.get().admin;
    await bao.policy('lister', LISTER);
    await bao.writeKv2('secret', 'team-a/db', { user: 'app', pass: CANARY });
    await bao.writeKv2('secret', 'team-a/api', { key: 'k1' });
    await bao.writeKv2('secret', 'team-a/nested/cache', { url: 'redis://c' });
    await bao.writeKv2('secret', 'team-b/db', { user: 'other' });
    await bao.must('POST', 'secret/metadata/team-a/db', { custom_metadata: { team: 'a', env: 'prod' } });
    await bao.must('POST', 'secret/metadata/team-a/nested/cache', { custom_metadata: { team: 'a', env: 'prod' } });
    await bao.must('POST', 'secret/metadata/team-a/api', { custom_metadata: { team: 'a', env: 'dev' } });
    await bao.must('POST', 'secret/metadata/team-b/db', { custom_metadata: { team: 'b', env: 'prod' } });
    const store = await vaultStore();

    await o.externalSecret('vault-path', { secretStoreRef: { name: store }, dataFrom: [{ find: { path: 'team-a' } }] });
    await o.waitForSecret('vault-path', (d) => d['team-a_nested_cache'] !== undefined, 'found under team-a');
    // The whole secret (its data map as JSON) under its path from the mount, `/` converted to `_`.
    const byPath = await o.secretText('vault-path');
    expect(Object.keys(byPath ?? {}).sort()).toEqual(['team-a_api', 'team-a_db', 'team-a_nested_cache']);
    expect(JSON.parse(byPath?.['team-a_db'] ?? '{}')).toEqual({ user: 'app', pass: CANARY });

    const before = await lists('vault');
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        o.externalSecret(`vault-tags-${i}`, {
          secretStoreRef: { name: store },
          dataFrom: [{ find: { tags: { team: 'a', env: 'prod' } } }],
        }),
      ),
    );
    for (let i = 0; i < 4; i++)
      await o.waitForSecret(`vault-tags-${i}`, (d) => d['team-a_db'] !== undefined, `vault-tags-${i}`);
    expect(Object.keys((await o.secretText('vault-tags-0')) ?? {}).sort()).toEqual([
      'team-a_db',
      'team-a_nested_cache',
    ]);
    expect((await lists('vault')) - before).toBe(1);

    await o.externalSecret('vault-name', {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { name: { regexp: '/db$' } }, rewrite: [{ regexp: { source: '/db$', target: '' } }] }],
    });
    await o.waitForSecret('vault-name', (d) => d['team-b'] !== undefined, 'found by name');
    expect(Object.keys((await o.secretText('vault-name')) ?? {}).sort()).toEqual(['team-a', 'team-b']);
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });

  it('finds on KV v1 by name, and refuses tags there with a clear status error', async () => {
    const bao = openbao.get().admin;
    await bao.policy('lister', LISTER);
    await bao.enableKv1('kv1').catch(() => undefined);
    await bao.writeKv1('kv1', 'legacy/one', { a: '1' });
    await bao.writeKv1('kv1', 'legacy/two', { b: '2' });
    const store = await vaultStore({ path: 'kv1', version: 'v1' });
    await o.externalSecret('v1-name', {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { path: 'legacy', name: { regexp: 'one|two' } } }],
    });
    await o.waitForSecret('v1-name', (d) => d.legacy_two !== undefined, 'KV v1 found');
    expect(await o.secretText('v1-name')).toEqual({ legacy_one: '{"a":"1"}', legacy_two: '{"b":"2"}' });

    await o.externalSecret('v1-tags', { secretStoreRef: { name: store }, dataFrom: [{ find: { tags: { a: 'b' } } }] });
    const { ready } = await o.waitForReady('v1-tags', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(/dataFrom\[0\]\.find.*Invalid: find\.tags needs KV v2/);
    expect(await o.secret('v1-tags')).toBeUndefined();
  });
});

/** An HTTP proxy to drongo that records the `filter` of every ListSecrets call. */
async function recordingProxy(target: string) {
  const filters: (string | null)[] = [];
  const proxy = await ChaosProxy.start(target);
  proxy.intercept = (req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && /\/secrets$/.test(url.pathname)) filters.push(url.searchParams.get('filter'));
    return false;
  };
  return { filters, url: proxy.url, stop: () => proxy.stop() };
}

describe('dataFrom find: Google Secret Manager (drongo)', () => {
  async function labelled(id: string, value: string, labels: Record<string, string>) {
    const endpoint = drongo.get().access.endpoint;
    const res = await fetch(`${endpoint}/v1/projects/${PROJECT}/secrets?secretId=${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replication: { automatic: {} }, labels }),
    });
    if (!res.ok) throw new Error(`drongo refused secret ${id}: ${res.status}`);
    await drongo.get().admin.addVersion(PROJECT, id, value);
  }

  it('lists with a labels filter, matches path and name.regexp on the short name; one listing for many', async () => {
    await labelled('app-db', CANARY, { team: 'a' });
    await labelled('app-api', 'k1', { team: 'a' });
    await labelled('other-db', 'x', { team: 'b' });
    const proxy = await recordingProxy(drongo.get().access.endpoint);
    try {
      const name = uniqueName('gcp');
      const creds = await secretWith({ 'credentials.json': serviceAccountKeyJson() });
      await o.secretStore(name, {
        gcpsm: {
          projectID: PROJECT,
          transport: 'REST',
          endpoint: proxy.url,
          auth: { secretRef: { secretAccessKeySecretRef: { name: creds, key: 'credentials.json' } } },
        },
      });
      const before = await lists('gcpsm');
      await Promise.all(
        Array.from({ length: 3 }, (_, i) =>
          o.externalSecret(`gcp-path-${i}`, { secretStoreRef: { name }, dataFrom: [{ find: { path: 'app-' } }] }),
        ),
      );
      for (let i = 0; i < 3; i++)
        await o.waitForSecret(`gcp-path-${i}`, (d) => d['app-db'] !== undefined, `gcp-path-${i}`);
      expect(await o.secretText('gcp-path-0')).toEqual({ 'app-db': CANARY, 'app-api': 'k1' });
      expect((await lists('gcpsm')) - before).toBe(1);
      expect(proxy.filters).toContain('name:app-');

      await o.externalSecret('gcp-name', {
        secretStoreRef: { name },
        dataFrom: [{ find: { name: { regexp: '-db$' } } }],
      });
      await o.waitForSecret('gcp-name', (d) => d['other-db'] !== undefined, 'found by name');
      expect(await o.secretText('gcp-name')).toEqual({ 'app-db': CANARY, 'other-db': 'x' });

      // Tags go to the server as ESO sends them. drongo 0.8.0 ignores `filter` (it answers every
      // secret), so what it returns for this query says nothing; the request is what is checked.
      await o.externalSecret('gcp-tags', {
        secretStoreRef: { name },
        dataFrom: [{ find: { tags: { team: 'a', env: 'prod env' } } }],
      });
      await o.waitForReady('gcp-tags', { status: 'True' });
      expect(proxy.filters).toContain('labels.env="prod env" labels.team=a');
      expect(ctl.logs.join('')).not.toContain(CANARY);
    } finally {
      await proxy.stop();
    }
  });
});

describe('dataFrom find: Azure Key Vault (spec-faithful test server)', () => {
  it('pages through the secret properties, skips disabled secrets, matches tags and name.regexp', async () => {
    kv.apps.set('app-1', { clientId: 'app-1', secret: 'app-secret' });
    for (let i = 0; i < 30; i++) kv.setSecret(`bulk-${i}`, `v${i}`, { tags: { team: 'bulk' } });
    kv.setSecret('pay-db', CANARY, { tags: { team: 'pay', env: 'prod' } });
    kv.setSecret('pay-api', 'k1', { tags: { team: 'pay', env: 'dev' } });
    const off = kv.setSecret('pay-old', 'old', { tags: { team: 'pay', env: 'prod' } });
    kv.setEnabled('pay-old', off, false);
    const creds = await secretWith({ id: 'app-1', secret: 'app-secret' });
    const store = uniqueName('azure');
    await o.secretStore(store, {
      azurekv: {
        vaultUrl: kv.vaultUrl,
        environmentType: 'AzureStackCloud',
        customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
        tenantId: TENANT,
        authSecretRef: { clientId: { name: creds, key: 'id' }, clientSecret: { name: creds, key: 'secret' } },
      },
    });
    const before = await lists('azurekv');
    const pages = kv.counts.secretListPages;
    await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        o.externalSecret(`az-tags-${i}`, {
          secretStoreRef: { name: store },
          dataFrom: [{ find: { tags: { team: 'pay', env: 'prod' } } }],
        }),
      ),
    );
    for (let i = 0; i < 3; i++) await o.waitForSecret(`az-tags-${i}`, (d) => d['pay-db'] !== undefined, `az-tags-${i}`);
    expect(await o.secretText('az-tags-0')).toEqual({ 'pay-db': CANARY });
    expect((await lists('azurekv')) - before).toBe(1);
    // 33 secrets at 25 a page: two pages for the one listing (the store's validation lists one more).
    expect(kv.counts.secretListPages - pages).toBeLessThanOrEqual(3);
    expect(kv.counts.secretListPages - pages).toBeGreaterThanOrEqual(2);

    await o.externalSecret('az-name', {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { name: { regexp: '^bulk-2[0-9]$' } } }],
    });
    await o.waitForSecret('az-name', (d) => d['bulk-29'] !== undefined, 'found by name across pages');
    expect(Object.keys((await o.secretText('az-name')) ?? {}).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `bulk-2${i}`),
    );
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });
});
