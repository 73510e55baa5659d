/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's ${1} replacement syntax */
// dataFrom against AWS Secrets Manager (moto) with the real API server: find (ListSecrets with
// name, path and tag filters, then batched reads; one listing shared by every ExternalSecret
// with the same query) and rewrite of the expanded keys, as ESO manifests write them.
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateMoto,
} from '../support/testbed.ts';

const CANARY = 'canary-5d20-dataFrom';
const moto = usePrivateMoto();
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'aws-datafrom');
  pointAwsSdkAt(moto.get().access.endpoint);
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

function sm(): SecretsManagerClient {
  const { region, accessKeyId, secretAccessKey, endpoint } = moto.get().access;
  return new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
}

async function awsStore(): Promise<string> {
  const name = uniqueName('aws');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name: `${name}-creds` }, stringData: { id: 'test', secret: 'test' } },
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

const calls = async (operation: string) => {
  const { metrics } = ctl.controller;
  return metrics.total(metrics.providerCalls, { provider: 'aws', operation });
};

describe('dataFrom find (AWS)', () => {
  it('finds by tags, name regexp and path; one listing and batched reads serve many ExternalSecrets', async () => {
    const put = (Name: string, SecretString: string, tags: Record<string, string>) =>
      sm().send(
        new CreateSecretCommand({
          Name,
          SecretString,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    await put('team-a/db-user', 'app', { team: 'a', env: 'prod' });
    await put('team-a/db-pass', CANARY, { team: 'a', env: 'prod' });
    await put('team-a/api-key', 'k1', { team: 'a', env: 'dev' });
    await put('team-b/db-user', 'other', { team: 'b', env: 'prod' });
    await put('team-a-extra/x', 'x', { team: 'a', env: 'prod' });
    const store = await awsStore();
    const lists = await calls('list');
    const reads = (await calls('read')) + (await calls('read_many'));
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        o.externalSecret(`by-tags-${i}`, {
          secretStoreRef: { name: store },
          dataFrom: [{ find: { tags: { team: 'a', env: 'prod' }, path: 'team-a/' } }],
        }),
      ),
    );
    for (let i = 0; i < 5; i++)
      await o.waitForSecret(`by-tags-${i}`, (d) => d['team-a_db-pass'] !== undefined, `by-tags-${i}`);
    // Names become keys with `/` converted to `_` (ESO's Default conversion).
    expect(await o.secretText('by-tags-0')).toEqual({ 'team-a_db-user': 'app', 'team-a_db-pass': CANARY });
    // Five ExternalSecrets with the same query: one ListSecrets, and the two values in one batch each at most.
    expect((await calls('list')) - lists).toBe(1);
    expect((await calls('read')) + (await calls('read_many')) - reads).toBeLessThanOrEqual(2);

    await o.externalSecret('by-name', {
      secretStoreRef: { name: store },
      dataFrom: [
        {
          find: { name: { regexp: '^team-[ab]/db-' } },
          // A rewrite sees the names as found (ESO converts only without a rewrite).
          rewrite: [{ regexp: { source: '^team-(.)/db-(.*)', target: '${1}_${2}' } }],
        },
      ],
    });
    await o.waitForSecret('by-name', (d) => d.b_user !== undefined, 'found by name');
    expect(await o.secretText('by-name')).toEqual({ a_user: 'app', a_pass: CANARY, b_user: 'other' });
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });

  it('follows the listing: a deleted secret stays under Retain, and leaves the Secret once confirmed under Merge', async () => {
    await sm().send(
      new CreateSecretCommand({ Name: 'follow/one', SecretString: '1', Tags: [{ Key: 'f', Value: 'y' }] }),
    );
    await sm().send(
      new CreateSecretCommand({ Name: 'follow/two', SecretString: '2', Tags: [{ Key: 'f', Value: 'y' }] }),
    );
    const store = await awsStore();
    const find = { find: { tags: { f: 'y' } }, rewrite: [{ regexp: { source: '^follow/', target: '' } }] };
    await o.externalSecret('follow', { secretStoreRef: { name: store }, refreshInterval: '1s', dataFrom: [find] });
    await o.externalSecret('follow-merge', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Merge' },
      dataFrom: [find],
    });
    await o.waitForSecret('follow', (d) => d.one === '1' && d.two === '2', 'both found');
    await o.waitForSecret('follow-merge', (d) => d.one === '1' && d.two === '2', 'both found (Merge)');
    const kept = await o.secret('follow');
    await sm().send(new DeleteSecretCommand({ SecretId: 'follow/two', ForceDeleteWithoutRecovery: true }));
    await o.waitForSecret('follow-merge', (d) => d.one === '1' && d.two === undefined, 'the deleted one gone (Merge)');
    // deletionPolicy Retain (the default): the name gone from the listing is a missing key, kept.
    const { ready } = await o.waitForReady('follow', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/"follow\/two", listed by "dataFrom\[0\]\.find": NotFound: no longer listed/);
    expect((await o.secret('follow'))?.metadata?.resourceVersion).toBe(kept?.metadata?.resourceVersion);
  });

  it('reports a name regexp that does not compile', async () => {
    await o.externalSecret('bad-find', {
      secretStoreRef: { name: await awsStore() },
      dataFrom: [{ find: { name: { regexp: '(' } } }],
    });
    const { ready } = await o.waitForReady('bad-find', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(/dataFrom\[0\]\.find.*Invalid: find\.name\.regexp "\(" does not compile/);
  });
});

describe('dataFrom rewrite (AWS)', () => {
  it('rewrites expanded keys with a regexp and then a template, in order', async () => {
    await sm().send(
      new CreateSecretCommand({
        Name: 'app/config',
        SecretString: JSON.stringify({ 'db/user': 'app', 'db/pass': CANARY, 'cache/url': 'redis://c' }),
      }),
    );
    await o.externalSecret('rewritten', {
      secretStoreRef: { name: await awsStore() },
      dataFrom: [
        {
          extract: { key: 'app/config' },
          rewrite: [
            { regexp: { source: '^db/(.*)', target: 'DB_$1' } },
            { transform: { template: '{{ .value | replace "/" "_" | upper }}' } },
          ],
        },
      ],
    });
    await o.waitForSecret('rewritten', (d) => d.DB_PASS !== undefined, 'the rewritten Secret');
    expect(await o.secretText('rewritten')).toEqual({ DB_USER: 'app', DB_PASS: CANARY, CACHE_URL: 'redis://c' });
  });

  it('reports keys that collide after a rewrite, writes nothing, and never shows a value', async () => {
    await sm().send(
      new CreateSecretCommand({ Name: 'app/collide', SecretString: JSON.stringify({ 'a-x': CANARY, 'b-x': 'y' }) }),
    );
    await o.externalSecret('collide', {
      secretStoreRef: { name: await awsStore() },
      dataFrom: [{ extract: { key: 'app/collide' }, rewrite: [{ regexp: { source: '^[ab]-', target: '' } }] }],
    });
    const { ready } = await o.waitForReady('collide', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(/dataFrom\[0\]\.rewrite\[0\]: keys "a-x" and "b-x" both become "x"/);
    expect(ready.message).not.toContain(CANARY);
    expect(await o.secret('collide')).toBeUndefined();
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });
});
