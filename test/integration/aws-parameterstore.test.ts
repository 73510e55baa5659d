/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's ${1} replacement syntax */
// AWS Parameter Store, metadataPolicy Fetch and role chaining end to end: the real SDK against
// moto, the controller against the real API server. Every call the controller makes goes through
// a recording proxy, so calls are counted on the wire (GetParameters batches, AssumeRole logins).
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  LabelParameterVersionCommand,
  type ParameterType,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { motoUserAllowedOnly } from '../support/aws-iam.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
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

const CANARY = 'canary-7c31-parameterstore';
const moto = usePrivateMoto();
let ctl: RunningController;
let o: Objects;
let rec: AwsRecorder;

function sdkConfig() {
  const { region, accessKeyId, secretAccessKey, endpoint } = moto.get().access;
  return { region, endpoint, credentials: { accessKeyId, secretAccessKey } };
}
const ssm = () => new SSMClient(sdkConfig());

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'aws-ssm');
  rec = await startAwsRecorder(moto.get().access.endpoint);
  pointAwsSdkAt(rec.url);
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

beforeEach(() => {
  rec.throttle = undefined;
});

afterAll(async () => {
  await ctl?.stop();
  rec?.close();
});

async function put(name: string, value: string, type: ParameterType = 'String', tags: Record<string, string> = {}) {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  await ssm().send(
    new PutParameterCommand({ Name: name, Value: value, Type: type, Tags: Tags.length ? Tags : undefined }),
  );
}

/** A SecretStore with static keys from a Secret; `aws` adds or overrides provider fields. */
async function awsStore(aws: Record<string, unknown> = {}, keys = { id: 'test', secret: 'test' }): Promise<string> {
  const name = uniqueName('ssm');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name: `${name}-creds` }, stringData: { id: keys.id, secret: keys.secret } },
  });
  await o.secretStore(name, {
    aws: {
      service: 'ParameterStore',
      region: moto.get().access.region,
      auth: {
        secretRef: {
          accessKeyIDSecretRef: { name: `${name}-creds`, key: 'id' },
          secretAccessKeySecretRef: { name: `${name}-creds`, key: 'secret' },
        },
      },
      ...aws,
    },
  });
  return name;
}

/** The parameter or secret names a recorded call asks for. */
function namesOf(params: Record<string, unknown>): string[] {
  const one = params.Name ?? params.Path ?? params.ResourceId ?? params.SecretId ?? params.RoleArn;
  return (params.Names as string[] | undefined) ?? (typeof one === 'string' ? [one] : []);
}

/**
 * Calls of `operation` made from now on about names under `prefix` (ExternalSecrets of earlier
 * tests keep refreshing their own names), and the names each asked for.
 */
function watchCalls(operation: string, prefix: string) {
  const from = rec.calls.length;
  const calls = () =>
    rec.calls
      .slice(from)
      .filter(
        (c) => c.operation === operation && (prefix === '' || namesOf(c.params).some((n) => n.startsWith(prefix))),
      );
  return { count: () => calls().length, names: () => calls().map((c) => namesOf(c.params)), calls };
}

describe('AWS Parameter Store', () => {
  it('syncs String, StringList and SecureString values, properties, versions, labels, extract and a prefix', async () => {
    await put('/app/plain', 'hello');
    await put('/app/list', 'a,b,c', 'StringList');
    await put('/app/secure', CANARY, 'SecureString');
    await put('/app/json', '{"user":"app","pass":"pw1"}', 'SecureString');
    await ssm().send(
      new PutParameterCommand({
        Name: '/app/json',
        Value: '{"user":"app","pass":"pw2"}',
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
    await ssm().send(new LabelParameterVersionCommand({ Name: '/app/json', ParameterVersion: 1, Labels: ['first'] }));
    const store = await awsStore();
    const batches = watchCalls('GetParameters', '/app/');
    const singles = watchCalls('GetParameter', '/app/');
    await o.externalSecret('ssm-all', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'plain', remoteRef: { key: '/app/plain' } },
        { secretKey: 'list', remoteRef: { key: '/app/list' } },
        { secretKey: 'secure', remoteRef: { key: '/app/secure' } },
        { secretKey: 'db-pass', remoteRef: { key: '/app/json', property: 'pass' } },
        { secretKey: 'db-pass-v1', remoteRef: { key: '/app/json', property: 'pass', version: '1' } },
        { secretKey: 'db-pass-first', remoteRef: { key: '/app/json', property: 'pass', version: 'first' } },
      ],
      dataFrom: [{ extract: { key: '/app/json' } }],
    });
    await o.waitForSecret('ssm-all', (d) => d['db-pass'] !== undefined, 'the synced Secret');
    expect(await o.secretText('ssm-all')).toEqual({
      plain: 'hello',
      list: 'a,b,c',
      secure: CANARY,
      'db-pass': 'pw2',
      'db-pass-v1': 'pw1',
      'db-pass-first': 'pw1',
      user: 'app',
      pass: 'pw2',
    });
    // The four current values in one GetParameters, each version selector on its own.
    expect(batches.count()).toBe(1);
    expect(batches.names()[0]?.sort()).toEqual(['/app/json', '/app/list', '/app/plain', '/app/secure']);
    expect(singles.names().flat().sort()).toEqual(['/app/json:1', '/app/json:first']);
    const decrypted = rec.calls
      .filter((c) => c.operation.startsWith('GetParameter'))
      .every((c) => c.params.WithDecryption);
    expect(decrypted).toBe(true);

    const prefixed = await awsStore({ prefix: '/app/' });
    await o.externalSecret('ssm-prefixed', {
      secretStoreRef: { name: prefixed },
      data: [{ secretKey: 'v', remoteRef: { key: 'plain' } }],
    });
    await o.waitForSecret('ssm-prefixed', (d) => d.v === 'hello', 'a read through the prefix');
    const ready = await eventually('store validated', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });

  it('rotates: a new parameter version reaches the Secret on the next refresh', async () => {
    await put('/rotating', 'one', 'SecureString');
    await o.externalSecret('ssm-rotating', {
      secretStoreRef: { name: await awsStore() },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: '/rotating' } }],
    });
    await o.waitForSecret('ssm-rotating', (d) => d.v === 'one', 'first value');
    await ssm().send(
      new PutParameterCommand({ Name: '/rotating', Value: 'two', Type: 'SecureString', Overwrite: true }),
    );
    await o.waitForSecret('ssm-rotating', (d) => d.v === 'two', 'the rotated value');
  });

  it('reads 25 parameters in 3 GetParameters calls, shared by 5 ExternalSecrets', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `/batch/p${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) await put(name, `value-${i}`);
    const store = await awsStore();
    const batches = watchCalls('GetParameters', '/batch/');
    const singles = watchCalls('GetParameter', '/batch/');
    await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        o.externalSecret(`ssm-batch-${n}`, {
          secretStoreRef: { name: store },
          data: names.map((key, i) => ({ secretKey: `k${i}`, remoteRef: { key } })),
        }),
      ),
    );
    for (let n = 0; n < 5; n++) await o.waitForSecret(`ssm-batch-${n}`, (d) => d.k24 === 'value-24', `ssm-batch-${n}`);
    expect((await o.secretText('ssm-batch-3'))?.k7).toBe('value-7');
    // 25 unique keys, at most 10 names per call: 3 calls for all five ExternalSecrets.
    expect(batches.count()).toBe(3);
    expect(
      batches
        .names()
        .map((n) => n.length)
        .sort(),
    ).toEqual([10, 10, 5]);
    expect(singles.count()).toBe(0);
  });

  it('keeps the Secret when a parameter disappears and names the missing key', async () => {
    await put('/m/a', 'kept-a');
    await put('/m/b', 'kept-b');
    await o.externalSecret('ssm-missing', {
      secretStoreRef: { name: await awsStore() },
      refreshInterval: '1s',
      data: [
        { secretKey: 'a', remoteRef: { key: '/m/a' } },
        { secretKey: 'b', remoteRef: { key: '/m/b' } },
      ],
    });
    const before = await o.waitForSecret('ssm-missing', (d) => d.b === 'kept-b', 'first sync');
    await ssm().send(new DeleteParameterCommand({ Name: '/m/b' }));
    const { ready } = await o.waitForReady('ssm-missing', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/remote key "\/m\/b": NotFound: AWS ParameterNotFound reading "\/m\/b"/);
    expect(ready.message).not.toMatch(/"\/m\/a"/);
    expect((await o.secret('ssm-missing'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await o.secretText('ssm-missing')).toEqual({ a: 'kept-a', b: 'kept-b' });

    await o.externalSecret('ssm-never', {
      secretStoreRef: { name: await awsStore() },
      data: [{ secretKey: 'v', remoteRef: { key: '/never/there', version: '3' } }],
    });
    const never = await o.waitForReady('ssm-never', { status: 'False' });
    expect(never.ready.message).toMatch(/remote key "\/never\/there": NotFound/);
    expect(await o.secret('ssm-never')).toBeUndefined();
  });

  it('honours throttling: keeps the Secret, waits out Retry-After, recovers', async () => {
    await put('/busy', 'calm');
    await o.externalSecret('ssm-throttled', {
      secretStoreRef: { name: await awsStore() },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: '/busy' } }],
    });
    const before = await o.waitForSecret('ssm-throttled', (d) => d.v === 'calm', 'first sync');
    rec.throttle = (c) => c.operation.startsWith('GetParameter') && JSON.stringify(c.params).includes('"/busy"');
    const { ready } = await o.waitForReady('ssm-throttled', { status: 'False', message: /Throttled/ });
    expect(ready.message).toMatch(/ThrottlingException/);
    const throttledAt = rec.throttled;
    // Retry-After is 3 s: while it runs, the store makes no further calls.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rec.throttled).toBe(throttledAt);
    expect((await o.secret('ssm-throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    rec.throttle = undefined;
    await o.waitForReady('ssm-throttled', { status: 'True' }, 30_000);
    expect(secretWrites(ctl, 'ssm-throttled')).toBe(1);
  });

  it('keeps the Secret and reports Denied when access is revoked', async () => {
    await put('/guarded', 'ok', 'SecureString');
    // The reader may only ask who it is; once moto enforces IAM, every read is refused.
    const keys = await motoUserAllowedOnly(moto.get().access, 'ssm-reader', ['sts:GetCallerIdentity']);
    const store = await awsStore({}, keys);
    await o.externalSecret('ssm-denied', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'a', remoteRef: { key: '/guarded' } }],
    });
    const before = await o.waitForSecret('ssm-denied', (d) => d.a === 'ok', 'the first sync');
    try {
      await enforceMotoAuth(moto.get().access.endpoint, true);
      const { ready } = await o.waitForReady('ssm-denied', {
        status: 'False',
        message: /remote key "\/guarded": Denied/,
      });
      expect(ready.message).toMatch(/HTTP 403/);
      await eventually('two more refreshes', async () => {
        const es = await o.getExternalSecret('ssm-denied');
        const since = Date.parse(es.status?.conditions?.[0]?.lastTransitionTime ?? '');
        return Date.now() - since > 2500 ? true : undefined;
      });
      expect((await o.secret('ssm-denied'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      await enforceMotoAuth(moto.get().access.endpoint, false);
    }
  });
});

describe('dataFrom find (AWS Parameter Store)', () => {
  it('finds by path and name (GetParametersByPath) and by tags (DescribeParameters), values read in batches', async () => {
    await put('/team-a/db/user', 'app', 'String', { team: 'a', env: 'prod' });
    await put('/team-a/db/pass', CANARY, 'SecureString', { team: 'a', env: 'prod' });
    await put('/team-a/api/key', 'k1', 'String', { team: 'a', env: 'dev' });
    await put('/team-b/db/user', 'other', 'String', { team: 'b', env: 'prod' });
    await put('/team-ab/db/user', 'not-under-team-a', 'String', { team: 'a', env: 'prod' });
    const store = await awsStore();
    const byPath = watchCalls('GetParametersByPath', '/team-a');
    const described = watchCalls('DescribeParameters', '');
    const batches = watchCalls('GetParameters', '/team-');
    const singles = watchCalls('GetParameter', '/team-');
    await o.externalSecret('ssm-find-name', {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { path: '/team-a', name: { regexp: '/db/' } } }],
    });
    await o.waitForSecret('ssm-find-name', (d) => d['_team-a_db_pass'] !== undefined, 'found by path and name');
    // Names become keys with `/` converted to `_`, as ESO's Default conversion does.
    expect(await o.secretText('ssm-find-name')).toEqual({ '_team-a_db_user': 'app', '_team-a_db_pass': CANARY });
    expect(byPath.count()).toBeGreaterThanOrEqual(1);
    expect(described.count()).toBe(0);

    await o.externalSecret('ssm-find-tags', {
      secretStoreRef: { name: store },
      dataFrom: [
        {
          find: { path: '/team-a', tags: { env: 'prod' } },
          // A rewrite sees the names as found (ESO converts only without a rewrite).
          rewrite: [{ regexp: { source: '^/team-a/db/(.*)', target: 'DB_${1}' } }],
        },
      ],
    });
    await o.waitForSecret('ssm-find-tags', (d) => d.DB_pass !== undefined, 'found by tags');
    expect(await o.secretText('ssm-find-tags')).toEqual({ DB_user: 'app', DB_pass: CANARY });
    expect(described.count()).toBe(1);

    await o.externalSecret('ssm-find-team-b', {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { tags: { team: 'b' } } }],
    });
    await o.waitForSecret('ssm-find-team-b', (d) => d['_team-b_db_user'] === 'other', 'found by tag alone');
    expect(Object.keys((await o.secretText('ssm-find-team-b')) ?? {})).toEqual(['_team-b_db_user']);
    // Found values go through the shared, batched reads: the two of team a in one call for both
    // ExternalSecrets, team b's single value on its own.
    expect(batches.names()).toEqual([expect.arrayContaining(['/team-a/db/user', '/team-a/db/pass'])]);
    expect(singles.names()).toEqual([['/team-b/db/user']]);
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });
});

describe('metadataPolicy Fetch (AWS)', () => {
  it('writes the tags of a parameter and of a secret as JSON, or one tag with property', async () => {
    await put('/meta/p', CANARY, 'SecureString', { owner: 'payments', tier: 'gold' });
    await ssm().send(
      new AddTagsToResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: '/meta/p',
        Tags: [{ Key: 'cost', Value: '42' }],
      }),
    );
    const tagReads = watchCalls('ListTagsForResource', '/meta/');
    await o.externalSecret('ssm-meta', {
      secretStoreRef: { name: await awsStore() },
      data: [
        { secretKey: 'tags', remoteRef: { key: '/meta/p', metadataPolicy: 'Fetch' } },
        { secretKey: 'owner', remoteRef: { key: '/meta/p', metadataPolicy: 'Fetch', property: 'owner' } },
        { secretKey: 'value', remoteRef: { key: '/meta/p' } },
      ],
    });
    await o.waitForSecret('ssm-meta', (d) => d.owner !== undefined, 'parameter tags');
    const text = await o.secretText('ssm-meta');
    expect(JSON.parse(text?.tags ?? '')).toEqual({ owner: 'payments', tier: 'gold', cost: '42' });
    expect(text).toMatchObject({ owner: 'payments', value: CANARY });
    // Both Fetch items share one tag read.
    expect(tagReads.count()).toBe(1);

    await new SecretsManagerClient(sdkConfig()).send(
      new CreateSecretCommand({
        Name: 'meta/s',
        SecretString: CANARY,
        Tags: [
          { Key: 'owner', Value: 'billing' },
          { Key: 'rotation', Value: '30d' },
        ],
      }),
    );
    const describes = watchCalls('DescribeSecret', 'meta/');
    await o.externalSecret('sm-meta', {
      secretStoreRef: { name: await awsStore({ service: 'SecretsManager' }) },
      data: [
        { secretKey: 'tags', remoteRef: { key: 'meta/s', metadataPolicy: 'Fetch' } },
        { secretKey: 'rotation', remoteRef: { key: 'meta/s', metadataPolicy: 'Fetch', property: 'rotation' } },
        { secretKey: 'value', remoteRef: { key: 'meta/s' } },
      ],
    });
    await o.waitForSecret('sm-meta', (d) => d.rotation !== undefined, 'secret tags');
    const sm = await o.secretText('sm-meta');
    expect(JSON.parse(sm?.tags ?? '')).toEqual({ owner: 'billing', rotation: '30d' });
    expect(sm).toMatchObject({ rotation: '30d', value: CANARY });
    expect(describes.count()).toBe(1);

    await o.externalSecret('ssm-meta-missing', {
      secretStoreRef: { name: await awsStore() },
      data: [{ secretKey: 'tags', remoteRef: { key: '/meta/nothing', metadataPolicy: 'Fetch' } }],
    });
    const { ready } = await o.waitForReady('ssm-meta-missing', { status: 'False' });
    expect(ready.message).toMatch(/remote key "\/meta\/nothing": NotFound/);
  });
});

describe('AWS role chaining', () => {
  it('assumes additionalRoles in order, then role with externalID and session tags, and reuses the credentials', async () => {
    await put('/chained', 'via-chain', 'SecureString');
    const roles = ['hop-one', 'hop-two', 'target'].map((r) => `arn:aws:iam::123456789012:role/${r}`);
    const { metrics } = ctl.controller;
    const logins = () =>
      metrics.total(metrics.providerLogins, { provider: 'aws', method: 'assumeRole', outcome: 'ok' });
    const loginsBefore = await logins();
    const assumed = watchCalls('AssumeRole', 'arn:');
    const chainedReads = watchCalls('GetParameter', '/chained');
    const from = rec.calls.length;
    await o.externalSecret('ssm-chain', {
      secretStoreRef: {
        name: await awsStore({
          additionalRoles: roles.slice(0, 2),
          role: roles[2],
          externalID: 'ext-1234',
          sessionTags: [
            { key: 'team', value: 'payments' },
            { key: 'env', value: 'prod' },
          ],
          transitiveTagKeys: ['team'],
        }),
      },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: '/chained' } }],
    });
    await o.waitForSecret('ssm-chain', (d) => d.v === 'via-chain', 'a read with chained-role credentials');
    // Three more refreshes, each a provider read.
    const reads = () => chainedReads.count();
    const first = reads();
    await eventually('three more refreshes', async () => (reads() >= first + 3 ? true : undefined), 20_000);

    const calls = rec.calls.slice(from).filter((c) => c.operation === 'AssumeRole');
    expect(calls.map((c) => c.params.RoleArn)).toEqual(roles);
    expect(assumed.count()).toBe(3);
    // Each hop is signed with the credentials the previous one returned.
    const keyOf = (xml = '') => /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
    expect(calls[0]?.accessKeyId).toBe('test');
    expect(calls[1]?.accessKeyId).toBe(keyOf(calls[0]?.response));
    expect(calls[2]?.accessKeyId).toBe(keyOf(calls[1]?.response));
    const finalKey = keyOf(calls[2]?.response);
    expect(finalKey).toMatch(/^ASIA/);
    // Only the last hop carries externalID and the session tags.
    expect(calls[0]?.params.ExternalId).toBeUndefined();
    expect(calls[1]?.params.ExternalId).toBeUndefined();
    expect(calls[1]?.params['Tags.member.1.Key']).toBeUndefined();
    expect(calls[2]?.params).toMatchObject({
      ExternalId: 'ext-1234',
      'Tags.member.1.Key': 'team',
      'Tags.member.1.Value': 'payments',
      'Tags.member.2.Key': 'env',
      'TransitiveTagKeys.member.1': 'team',
    });
    // Every read, and the store's identity check, used the final role; moto names it.
    const ssmCalls = chainedReads.calls();
    expect(ssmCalls.length).toBeGreaterThanOrEqual(4);
    expect(new Set(ssmCalls.map((c) => c.accessKeyId))).toEqual(new Set([finalKey]));
    const whoami = rec.calls.slice(from).find((c) => c.operation === 'GetCallerIdentity' && c.accessKeyId === finalKey);
    expect(whoami?.response).toMatch(/assumed-role\/target\//);
    // Three logins in all, however many refreshes.
    expect((await logins()) - loginsBefore).toBe(3);
  });

  it('sessionTagsPolicy Custom tags the role session with the ExternalSecret namespace, the store and custom tags', async () => {
    await put('/abac', 'tagged-session');
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'abac-keys' }, stringData: { id: 'test', secret: 'test' } },
    });
    const role = 'arn:aws:iam::123456789012:role/abac';
    const assumed = watchCalls('AssumeRole', role);
    const name = uniqueName('abac');
    await o.clusterSecretStore(name, {
      provider: {
        aws: {
          service: 'ParameterStore',
          region: moto.get().access.region,
          role,
          sessionTags: [{ key: 'cost-center', value: 'c-42' }],
          sessionTagsPolicy: 'Custom',
          customSessionTags: { env: 'production', skipped: '' },
          auth: {
            secretRef: {
              accessKeyIDSecretRef: { name: 'abac-keys', key: 'id' },
              secretAccessKeySecretRef: { name: 'abac-keys', key: 'secret' },
            },
          },
        },
      },
    });
    await o.externalSecret('ssm-abac', {
      secretStoreRef: { name, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'v', remoteRef: { key: '/abac' } }],
    });
    await o.waitForSecret('ssm-abac', (d) => d.v === 'tagged-session', 'a read with a tagged session');
    const call = assumed.calls().find((c) => c.accessKeyId === 'test');
    const params = call?.params ?? {};
    const tags: Record<string, unknown> = {};
    for (let n = 1; params[`Tags.member.${n}.Key`] !== undefined; n++)
      tags[String(params[`Tags.member.${n}.Key`])] = params[`Tags.member.${n}.Value`];
    expect(tags).toEqual({
      'cost-center': 'c-42',
      env: 'production',
      esoNamespace: o.namespace,
      esoStoreName: name,
      esoStoreKind: 'ClusterSecretStore',
    });
  });

  it('with auth.jwt, exchanges the token for the first role and assumes the rest on top', async () => {
    await put('/jwt-chained', 'via-web-identity');
    await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: 'ssm-chain' } } });
    const web = 'arn:aws:iam::123456789012:role/web-entry';
    const target = 'arn:aws:iam::123456789012:role/jwt-target';
    const exchanges = watchCalls('AssumeRoleWithWebIdentity', web);
    const assumed = watchCalls('AssumeRole', target);
    const reads = watchCalls('GetParameter', '/jwt-chained');
    const jwtStore = (name: string, extra: Record<string, unknown>) =>
      o.secretStore(name, {
        aws: {
          service: 'ParameterStore',
          region: moto.get().access.region,
          auth: { jwt: { serviceAccountRef: { name: 'ssm-chain' } } },
          ...extra,
        },
      });
    const name = uniqueName('jwt');
    await jwtStore(name, { additionalRoles: [web], role: target, externalID: 'ext-jwt' });
    await o.externalSecret('ssm-jwt-chain', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: '/jwt-chained' } }],
    });
    await o.waitForSecret('ssm-jwt-chain', (d) => d.v === 'via-web-identity', 'a read through web identity and a role');
    expect(exchanges.count()).toBe(1);
    expect(assumed.calls().map((c) => c.params.ExternalId)).toEqual(['ext-jwt']);
    const keyOf = (xml = '') => /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
    expect(assumed.calls()[0]?.accessKeyId).toBe(keyOf(exchanges.calls()[0]?.response));
    expect(new Set(reads.calls().map((c) => c.accessKeyId))).toEqual(new Set([keyOf(assumed.calls()[0]?.response)]));

    // Without additionalRoles the token is exchanged for role itself: externalID cannot apply.
    const bad = uniqueName('jwt-bad');
    await jwtStore(bad, { role: target, externalID: 'ext-jwt' });
    await o.externalSecret('ssm-jwt-bad', {
      secretStoreRef: { name: bad },
      data: [{ secretKey: 'v', remoteRef: { key: '/jwt-chained' } }],
    });
    const { ready } = await o.waitForReady('ssm-jwt-bad', { status: 'False' });
    expect(ready.message).toMatch(/externalID, sessionTags and sessionTagsPolicy apply to an AssumeRole of role/);
  });

  it('reports a role that cannot be assumed, naming it, and counts the refused login', async () => {
    await put('/chain-denied', 'never-read');
    const keys = await motoUserAllowedOnly(moto.get().access, 'no-assume', [
      'ssm:GetParameter*',
      'sts:GetCallerIdentity',
    ]);
    const { metrics } = ctl.controller;
    const refused = () =>
      metrics.total(metrics.providerLogins, { provider: 'aws', method: 'assumeRole', outcome: 'Denied' });
    const before = await refused();
    await enforceMotoAuth(moto.get().access.endpoint, true);
    try {
      const store = await awsStore({ role: 'arn:aws:iam::123456789012:role/out-of-reach' }, keys);
      await o.externalSecret('ssm-chain-denied', {
        secretStoreRef: { name: store },
        data: [{ secretKey: 'v', remoteRef: { key: '/chain-denied' } }],
      });
      const { ready } = await o.waitForReady('ssm-chain-denied', { status: 'False' });
      expect(ready.message).toMatch(
        /remote key "\/chain-denied": Denied: AWS AccessDenied \(HTTP 403\) assuming role "arn:aws:iam::123456789012:role\/out-of-reach"/,
      );
      expect(await o.secret('ssm-chain-denied')).toBeUndefined();
      expect(await refused()).toBeGreaterThan(before);
    } finally {
      await enforceMotoAuth(moto.get().access.endpoint, false);
    }
  });
});
