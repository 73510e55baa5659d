// A canary value travels through every path Ferry has — successful syncs from the fake provider,
// AWS (Secrets Manager and Parameter Store), Vault (AppRole, userPass and AWS IAM logins), Google (drongo)
// and Azure (the spec-faithful Key Vault test server: secrets, a certificate, a key), dataFrom find,
// per-item stores, template functions, and each way a value can be rejected — and must then appear
// nowhere but the Secret.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { serviceAccountKeyJson } from '../support/gcp.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
import { Objects } from '../support/objects.ts';
import { selfSigned } from '../support/self-signed.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateMoto,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { DrongoAdmin } from '../testbed/drongo.ts';
import { OpenBaoAdmin } from '../testbed/openbao.ts';

const CANARY = `canary-${randomBytes(8).toString('hex')}`;
const moto = usePrivateMoto();
// Vault's AWS auth method runs only in an OpenBao started with its plugin (the shared one has none).
const iamOpenBao = usePrivateOpenBao({ awsAuthPlugin: true });
let ctl: RunningController;
let o: Objects;
let kv: KeyVaultTestServer;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'canary');
  pointAwsSdkAt(moto.get().access.endpoint);
  kv = await KeyVaultTestServer.start({
    tenantId: 'canary-tenant',
    kubeIssuer: testbed().kube.server,
    kubeSigningKeyPem: await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8'),
  });
  kv.trustInThisProcess();
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
  await kv?.stop();
});

describe('secret values never leak', () => {
  it('keeps a canary value out of logs, events, status, conditions, metrics and errors', async () => {
    const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
    const sm = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
    await sm.send(new CreateSecretCommand({ Name: 'canary/plain', SecretString: CANARY }));
    await sm.send(new CreateSecretCommand({ Name: 'canary/json', SecretString: JSON.stringify({ token: CANARY }) }));
    await sm.send(new CreateSecretCommand({ Name: 'canary/broken-json', SecretString: `{"token": "${CANARY}"` }));
    await sm.send(new CreateSecretCommand({ Name: 'canary/bad-key', SecretString: JSON.stringify({ '..': CANARY }) }));

    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'aws-creds' }, stringData: { id: accessKeyId, secret: secretAccessKey } },
    });
    const aws = uniqueName('aws');
    await o.secretStore(aws, {
      aws: {
        region,
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' },
            secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret' },
          },
        },
      },
    });
    // AWS Parameter Store: SecureString and String parameters, and a tag (metadataPolicy Fetch).
    const ssm = new SSMClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
    const param = (Name: string, Value: string, Tags?: { Key: string; Value: string }[]) =>
      ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Tags }));
    await param('/canary/plain', CANARY, [{ Key: 'holder', Value: CANARY }]);
    await param('/canary/json', JSON.stringify({ token: CANARY }));
    await param('/canary/broken-json', `{"token": "${CANARY}"`);
    await param('/canary/bad-key', JSON.stringify({ '..': CANARY }));
    await param('/canary/found/one', CANARY);
    const ssmStore = uniqueName('ssm');
    await o.secretStore(ssmStore, {
      aws: {
        service: 'ParameterStore',
        region,
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' },
            secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret' },
          },
        },
      },
    });
    // Vault: the shared bed's OpenBao, with the canary in KV v2 and as the AppRole secret ID.
    const vaultAccess = testbed().vault;
    if (!vaultAccess) throw new Error('the test bed was started without OpenBao');
    const bao = new OpenBaoAdmin(vaultAccess, '');
    const mount = uniqueName('canary');
    await bao.must('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
    await bao.writeKv2(mount, 'plain', { token: CANARY });
    await bao.writeKv2(mount, 'bad-key', { '..': CANARY });
    await bao.policy(
      mount,
      `path "${mount}/data/*" { capabilities = ["read"] }\npath "${mount}/metadata/*" { capabilities = ["list"] }`,
    );
    const { roleId } = await bao.appRole(mount, [mount]);
    await bao.must('POST', `auth/approle/role/${mount}/custom-secret-id`, { secret_id: CANARY });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'vault-approle' }, stringData: { 'secret-id': CANARY, wrong: `${CANARY}-wrong` } },
    });
    const vault = uniqueName('vault');
    const vaultWrong = uniqueName('vault-wrong');
    for (const [name, key] of [
      [vault, 'secret-id'],
      [vaultWrong, 'wrong'],
    ] as const) {
      await o.secretStore(name, {
        vault: {
          server: vaultAccess.address,
          path: mount,
          auth: { appRole: { roleId, secretRef: { name: 'vault-approle', key } } },
        },
      });
    }
    // Vault userPass: the canary is the password (userPass and ldap share this login code).
    const userpassMount = uniqueName('canary-up');
    await bao.enableAuth(userpassMount, 'userpass');
    await bao.must('POST', `auth/${userpassMount}/users/canary`, { password: CANARY, token_policies: [mount] });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'vault-userpass' }, stringData: { password: CANARY, wrong: `${CANARY}-wrong` } },
    });
    const vaultUp = uniqueName('vault-up');
    const vaultUpWrong = uniqueName('vault-up-wrong');
    for (const [name, key] of [
      [vaultUp, 'password'],
      [vaultUpWrong, 'wrong'],
    ] as const) {
      await o.secretStore(name, {
        vault: {
          server: vaultAccess.address,
          path: mount,
          auth: { userPass: { path: userpassMount, username: 'canary', secretRef: { name: 'vault-userpass', key } } },
        },
      });
    }
    // Vault auth.iam: Vault's AWS auth method checking with moto's STS; the canary is the AWS
    // session token, so it travels in the signed request Ferry hands to Vault.
    const iamBao = iamOpenBao.get().admin;
    await iamBao.awsAuth(moto.get().access);
    await iamBao.writeKv2('secret', 'iam', { token: CANARY });
    await iamBao.policy('iam-canary', 'path "secret/data/*" { capabilities = ["read"] }');
    const iamApi = new IAMClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
    const iamUsers: { arn: string; id: string; secret: string }[] = [];
    for (const UserName of ['canary-iam', 'canary-iam-other']) {
      const user = await iamApi.send(new CreateUserCommand({ UserName }));
      const key = (await iamApi.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
      iamUsers.push({ arn: user.User?.Arn ?? '', id: key?.AccessKeyId ?? '', secret: key?.SecretAccessKey ?? '' });
    }
    iamApi.destroy();
    const [iamUser, iamOther] = iamUsers as [(typeof iamUsers)[0], (typeof iamUsers)[0]];
    await iamBao.awsIamRole('canary', [iamUser.arn], ['iam-canary']);
    await iamBao.awsIamRole('canary-unbound', [iamOther.arn], ['iam-canary']);
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: {
        metadata: { name: 'vault-iam' },
        stringData: { id: iamUser.id, secret: iamUser.secret, session: CANARY },
      },
    });
    const vaultIam = uniqueName('vault-iam');
    const vaultIamWrong = uniqueName('vault-iam-wrong');
    for (const [name, vaultRole] of [
      [vaultIam, 'canary'],
      [vaultIamWrong, 'canary-unbound'],
    ] as const) {
      await o.secretStore(name, {
        vault: {
          server: iamOpenBao.get().access.address,
          path: 'secret',
          auth: {
            iam: {
              vaultRole,
              secretRef: {
                accessKeyIDSecretRef: { name: 'vault-iam', key: 'id' },
                secretAccessKeySecretRef: { name: 'vault-iam', key: 'secret' },
                sessionTokenSecretRef: { name: 'vault-iam', key: 'session' },
              },
            },
          },
        },
      });
    }
    const fake = uniqueName('fake');
    await o.secretStore(fake, { fake: { data: [{ key: 'canary', value: CANARY }] } });
    // Tenancy: a store whose remoteKeyPolicy refuses some keys (refusals name keys, never values).
    const fenced = uniqueName('fenced');
    await o.secretStore(
      fenced,
      {
        fake: {
          data: [
            { key: 'mine-canary', value: CANARY },
            { key: 'theirs-canary', value: CANARY },
          ],
        },
      },
      { remoteKeyPolicy: { rules: [{ allow: ['mine-*'] }] } },
    );
    // Google: the shared bed's drongo, with the canary in secrets and in a credentials Secret that is no key.
    const gcpAccess = testbed().gcp;
    if (!gcpAccess) throw new Error('the test bed was started without drongo');
    const drongo = new DrongoAdmin(gcpAccess);
    const gcpId = uniqueName('canary');
    await drongo.secret('canary', `${gcpId}-plain`, CANARY);
    await drongo.secret('canary', `${gcpId}-json`, JSON.stringify({ token: CANARY }));
    await drongo.secret('canary', `${gcpId}-bad-key`, JSON.stringify({ '..': CANARY }));
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: {
        metadata: { name: 'gcp-sa' },
        stringData: { key: serviceAccountKeyJson(), wrong: JSON.stringify({ type: 'user', private_key: CANARY }) },
      },
    });
    const gcp = uniqueName('gcp');
    const gcpWrong = uniqueName('gcp-wrong');
    for (const [name, key] of [
      [gcp, 'key'],
      [gcpWrong, 'wrong'],
    ] as const) {
      await o.secretStore(name, {
        gcpsm: {
          projectID: 'canary',
          transport: 'REST',
          endpoint: gcpAccess.endpoint,
          auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-sa', key } } },
        },
      });
    }

    // Azure: the spec-faithful Key Vault test server, with the canary in secrets and as the client secret.
    kv.setSecret('canary-plain', CANARY);
    kv.setSecret('canary-json', JSON.stringify({ token: CANARY }));
    kv.setSecret('canary-bad-key', JSON.stringify({ '..': CANARY }));
    kv.apps.set('canary-app', { clientId: 'canary-app', secret: CANARY });
    // A certificate (its DER holds the canary as the subject CN) and a key carrying it in a tag.
    kv.setCertificate('canary-cert', (await selfSigned(CANARY, 'ec')).cert);
    kv.setKey('canary-key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, { tags: { holder: CANARY } });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: {
        metadata: { name: 'azure-sp' },
        stringData: { id: 'canary-app', secret: CANARY, wrong: `${CANARY}-wrong` },
      },
    });
    const azure = uniqueName('azure');
    const azureWrong = uniqueName('azure-wrong');
    for (const [name, key] of [
      [azure, 'secret'],
      [azureWrong, 'wrong'],
    ] as const) {
      await o.secretStore(name, {
        azurekv: {
          vaultUrl: kv.vaultUrl,
          environmentType: 'AzureStackCloud',
          customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
          tenantId: 'canary-tenant',
          authSecretRef: { clientId: { name: 'azure-sp', key: 'id' }, clientSecret: { name: 'azure-sp', key } },
        },
      });
    }

    const ok = [
      { name: 'aws-ok', store: aws, data: [{ secretKey: 'plain', remoteRef: { key: 'canary/plain' } }] },
      {
        name: 'aws-prop',
        store: aws,
        data: [{ secretKey: 'token', remoteRef: { key: 'canary/json', property: 'token' } }],
      },
      { name: 'ssm-ok', store: ssmStore, data: [{ secretKey: 'plain', remoteRef: { key: '/canary/plain' } }] },
      {
        name: 'ssm-prop',
        store: ssmStore,
        data: [{ secretKey: 'token', remoteRef: { key: '/canary/json', property: 'token' } }],
      },
      {
        name: 'ssm-tag',
        store: ssmStore,
        data: [{ secretKey: 'holder', remoteRef: { key: '/canary/plain', metadataPolicy: 'Fetch' as const } }],
      },
      { name: 'fake-ok', store: fake, data: [{ secretKey: 'v', remoteRef: { key: 'canary' } }] },
      {
        name: 'vault-ok',
        store: vault,
        data: [{ secretKey: 'token', remoteRef: { key: 'plain', property: 'token' } }],
      },
      { name: 'vault-whole', store: vault, data: [{ secretKey: 'json', remoteRef: { key: 'plain' } }] },
      {
        name: 'vault-userpass-ok',
        store: vaultUp,
        data: [{ secretKey: 'token', remoteRef: { key: 'plain', property: 'token' } }],
      },
      {
        name: 'vault-iam-ok',
        store: vaultIam,
        data: [{ secretKey: 'token', remoteRef: { key: 'iam', property: 'token' } }],
      },
      { name: 'gcp-ok', store: gcp, data: [{ secretKey: 'plain', remoteRef: { key: `${gcpId}-plain` } }] },
      {
        name: 'gcp-prop',
        store: gcp,
        data: [{ secretKey: 'token', remoteRef: { key: `${gcpId}-json`, property: 'token' } }],
      },
      { name: 'azure-ok', store: azure, data: [{ secretKey: 'plain', remoteRef: { key: 'canary-plain' } }] },
      {
        name: 'azure-prop',
        store: azure,
        data: [{ secretKey: 'token', remoteRef: { key: 'secret/canary-json', property: 'token' } }],
      },
      { name: 'azure-cert', store: azure, data: [{ secretKey: 'der', remoteRef: { key: 'cert/canary-cert' } }] },
      {
        name: 'azure-key-tag',
        store: azure,
        data: [{ secretKey: 'tags', remoteRef: { key: 'key/canary-key', metadataPolicy: 'Fetch' as const } }],
      },
    ];
    const failing = [
      {
        name: 'bad-json',
        store: aws,
        data: [{ secretKey: 't', remoteRef: { key: 'canary/broken-json', property: 'token' } }],
      },
      {
        name: 'bad-b64',
        store: aws,
        data: [{ secretKey: 't', remoteRef: { key: 'canary/plain', decodingStrategy: 'Base64' as const } }],
      },
      {
        name: 'ssm-bad-json',
        store: ssmStore,
        data: [{ secretKey: 't', remoteRef: { key: '/canary/broken-json', property: 'token' } }],
      },
      {
        name: 'ssm-bad-b64',
        store: ssmStore,
        data: [{ secretKey: 't', remoteRef: { key: '/canary/plain', decodingStrategy: 'Base64' as const } }],
      },
      {
        name: 'ssm-bad-tag',
        store: ssmStore,
        data: [
          { secretKey: 't', remoteRef: { key: '/canary/plain', metadataPolicy: 'Fetch' as const, property: 'nope' } },
        ],
      },
      { name: 'bad-prop', store: fake, data: [{ secretKey: 't', remoteRef: { key: 'canary', property: 'nope' } }] },
      {
        name: 'vault-login-refused',
        store: vaultWrong,
        data: [{ secretKey: 't', remoteRef: { key: 'plain', property: 'token' } }],
      },
      {
        name: 'vault-userpass-refused',
        store: vaultUpWrong,
        data: [{ secretKey: 't', remoteRef: { key: 'plain', property: 'token' } }],
      },
      {
        name: 'vault-iam-refused',
        store: vaultIamWrong,
        data: [{ secretKey: 't', remoteRef: { key: 'iam', property: 'token' } }],
      },
      {
        name: 'vault-bad-b64',
        store: vault,
        data: [{ secretKey: 't', remoteRef: { key: 'plain', property: 'token', decodingStrategy: 'Base64' as const } }],
      },
      {
        name: 'gcp-bad-b64',
        store: gcp,
        data: [{ secretKey: 't', remoteRef: { key: `${gcpId}-plain`, decodingStrategy: 'Base64' as const } }],
      },
      { name: 'gcp-not-a-key', store: gcpWrong, data: [{ secretKey: 't', remoteRef: { key: `${gcpId}-plain` } }] },
      {
        name: 'azure-bad-b64',
        store: azure,
        data: [{ secretKey: 't', remoteRef: { key: 'canary-plain', decodingStrategy: 'Base64' as const } }],
      },
      {
        // ESO ignores property on a certificate; Ferry says the DER is not JSON, without the value.
        name: 'azure-cert-prop',
        store: azure,
        data: [{ secretKey: 't', remoteRef: { key: 'cert/canary-cert', property: 'token' } }],
      },
      {
        name: 'azure-login-refused',
        store: azureWrong,
        data: [{ secretKey: 't', remoteRef: { key: 'canary-plain' } }],
      },
    ];
    for (const es of [...ok, ...failing]) {
      await o.externalSecret(es.name, { secretStoreRef: { name: es.store }, refreshInterval: '1s', data: es.data });
    }
    await o.externalSecret('bad-key', {
      secretStoreRef: { name: aws },
      refreshInterval: '1s',
      dataFrom: [{ extract: { key: 'canary/bad-key' } }],
    });
    await o.externalSecret('ssm-bad-key', {
      secretStoreRef: { name: ssmStore },
      refreshInterval: '1s',
      dataFrom: [{ extract: { key: '/canary/bad-key' } }],
    });
    await o.externalSecret('ssm-found', {
      secretStoreRef: { name: ssmStore },
      refreshInterval: '1s',
      dataFrom: [{ find: { path: '/canary/found' } }],
    });
    await o.externalSecret('fenced-find', {
      secretStoreRef: { name: fenced },
      refreshInterval: '1s',
      dataFrom: [{ find: { name: { regexp: 'canary' } } }],
    });
    await o.externalSecret('fenced-refused', {
      secretStoreRef: { name: fenced },
      refreshInterval: '1s',
      data: [{ secretKey: 't', remoteRef: { key: 'theirs-canary' } }],
    });
    await o.externalSecret('vault-bad-key', {
      secretStoreRef: { name: vault },
      refreshInterval: '1s',
      dataFrom: [{ extract: { key: 'bad-key' } }],
    });

    // The canary did flow: every successful target holds it.
    for (const es of ok) {
      await o.waitForSecret(es.name, (d) => Object.values(d).some((v) => v.includes(CANARY)), `${es.name} synced`);
      await o.waitForReady(es.name, { status: 'True' });
    }
    await o.waitForSecret('ssm-found', (d) => d._canary_found_one === CANARY, 'ssm-found synced');
    await o.externalSecret('gcp-bad-key', {
      secretStoreRef: { name: gcp },
      refreshInterval: '1s',
      dataFrom: [{ extract: { key: `${gcpId}-bad-key` } }],
    });
    await o.externalSecret('azure-bad-key', {
      secretStoreRef: { name: azure },
      refreshInterval: '1s',
      dataFrom: [{ extract: { key: 'canary-bad-key' } }],
    });
    await o.waitForSecret('fenced-find', (d) => d['mine-canary'] === CANARY, 'fenced-find synced');
    // dataFrom find, per-item stores and template functions carry the canary too.
    const more: [string, ExternalSecretSpec][] = [
      ['vault-find', { secretStoreRef: { name: vault }, dataFrom: [{ find: { name: { regexp: '^plain$' } } }] }],
      ['gcp-find', { secretStoreRef: { name: gcp }, dataFrom: [{ find: { name: { regexp: `^${gcpId}-plain$` } } }] }],
      ['azure-find', { secretStoreRef: { name: azure }, dataFrom: [{ find: { name: { regexp: '^canary-plain$' } } }] }],
      [
        'two-stores',
        {
          data: [
            { secretKey: 'a', remoteRef: { key: 'canary' }, sourceRef: { storeRef: { name: fake } } },
            { secretKey: 'b', remoteRef: { key: 'canary/plain' }, sourceRef: { storeRef: { name: aws } } },
          ],
        },
      ],
    ];
    const templated = (name: string, template: string): [string, ExternalSecretSpec] => [
      name,
      {
        secretStoreRef: { name: fake },
        data: [{ secretKey: 'v', remoteRef: { key: 'canary' } }],
        target: { template: { data: { out: template } } },
      },
    ];
    const moreFailing = [
      templated('template-fail', '{{ fail (printf "bad: %s" .v) }}'),
      templated('template-pkcs12', '{{ .v | pkcs12keyPass .v }}'),
      templated('template-htpasswd', '{{ htpasswd (printf "%s:x" .v) .v }}'),
      // the canary as certificate (inside a PEM block), key and password; as ciphertext and key
      templated(
        'template-pem-to-pkcs12',
        '{{ pemToPkcs12Pass (printf "-----BEGIN CERTIFICATE-----\\n%s\\n-----END CERTIFICATE-----\\n" (b64enc .v)) .v .v }}',
      ),
      templated(
        'template-rsa-decrypt',
        '{{ rsaDecrypt "RSA-OAEP" "SHA256" .v (printf "-----BEGIN PRIVATE KEY-----\\n%s\\n-----END PRIVATE KEY-----\\n" (b64enc .v)) }}',
      ),
    ];
    for (const [name, spec] of [...more, ...moreFailing])
      await o.externalSecret(name, { ...spec, refreshInterval: '1s' });
    for (const [name] of more) {
      await o.waitForSecret(name, (d) => Object.values(d).some((v) => v.includes(CANARY)), `${name} synced`);
      await o.waitForReady(name, { status: 'True' });
    }
    const failed = [
      ...failing.map((f) => f.name),
      'bad-key',
      'ssm-bad-key',
      'vault-bad-key',
      'gcp-bad-key',
      'azure-bad-key',
      'fenced-refused',
      ...moreFailing.map(([name]) => name),
    ];
    for (const name of failed) await o.waitForReady(name, { status: 'False' });

    const statuses = await Promise.all(
      [...ok.map((es) => es.name), 'ssm-found', 'fenced-find', ...more.map(([name]) => name), ...failed].map(
        async (name) => JSON.stringify((await o.getExternalSecret(name)).status),
      ),
    );
    const stores = await Promise.all(
      [
        aws,
        ssmStore,
        fake,
        fenced,
        vault,
        vaultWrong,
        vaultUp,
        vaultUpWrong,
        vaultIam,
        vaultIamWrong,
        gcp,
        gcpWrong,
        azure,
        azureWrong,
      ].map(async (s) => JSON.stringify((await o.getSecretStore(s)).status)),
    );
    const events = JSON.stringify(await o.events());
    const metrics = await ctl.controller.metrics.registry.metrics();
    const logs = ctl.logs.join('');

    const haystacks = { logs, events, statuses: statuses.join('\n'), stores: stores.join('\n'), metrics };
    const needles = [CANARY, Buffer.from(CANARY).toString('base64')];
    for (const [where, text] of Object.entries(haystacks)) {
      for (const needle of needles) expect(text.includes(needle), `canary found in ${where}`).toBe(false);
    }
    // The failures were reported, so the search above covered real error text.
    const messages = statuses
      .map((st) => (JSON.parse(st) as { conditions: { message: string }[] }).conditions[0]?.message)
      .join('\n');
    expect(messages).toMatch(/not valid JSON/);
    expect(messages).toMatch(/remote key "cert\/canary-cert"\): the remote value is not valid JSON/);
    expect(messages).toMatch(/error calling fail: \(message withheld/);
    expect(messages).toMatch(/unable to decode pkcs12/);
    expect(messages).toMatch(/htpasswd: invalid username/);
    expect(messages).toMatch(/pemToPkcs12Pass: x509: malformed certificate/);
    expect(messages).toMatch(/rsaDecrypt: could not parse private key/);
    expect(messages).toMatch(/not valid Base64/);
    expect(messages).toMatch(/key "\.\." is not a valid Secret key/);
    expect(messages).toMatch(/logging in with auth\/approle.*Denied|Denied.*logging in with auth\/approle/);
    expect(messages).toContain(`Denied: Vault logging in with auth/${userpassMount}`);
    expect(messages).toMatch(
      /Denied: Vault logging in with auth\/aws as spec\.provider\.vault\.auth\.iam\.vaultRole "canary-unbound".*does not belong to the role/,
    );
    expect(messages).toMatch(/is not a service-account key/);
    expect(messages).toMatch(/Denied: Azure obtaining a token \(auth clientSecret\): invalid_client: AADSTS7000215/);
    expect(messages).toMatch(/remote key "theirs-canary" is not allowed .* \(spec\.remoteKeyPolicy\)/);
    // The listed name the policy refused is counted for the admin only, never in the status.
    expect(statuses.join('\n')).not.toMatch(/listed names not allowed/);
    const m = ctl.controller.metrics;
    expect(await m.total(m.tenancyDenials, { reason: 'find_result_filtered' })).toBeGreaterThanOrEqual(1);
    expect(logs).toMatch(/sync failed/);
  });
});
