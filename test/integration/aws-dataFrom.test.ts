// dataFrom against AWS Secrets Manager (moto) with the real API server: rewrite of the expanded
// keys, as ESO manifests write it.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
