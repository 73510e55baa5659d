// Vault AWS IAM auth (auth.iam) end to end: the real OpenBao dev server running Vault's own AWS
// auth method (hashicorp/vault builtin/credential/aws, an external plugin built by provision.sh),
// which sends Ferry's signed GetCallerIdentity to moto's STS, and the controller against the real
// API server. moto checks SigV4 signatures only while its IAM enforcement is on, so the first
// test turns it on: a wrongly signed request would be refused there.
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { dryRunCreate } from '../support/eso-examples.ts';
import { Objects } from '../support/objects.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';
import { enforceMotoAuth, type Moto, startMoto } from '../testbed/moto.ts';
import type { OpenBao } from '../testbed/openbao.ts';

const openbao = usePrivateOpenBao({ awsAuthPlugin: true });
const SERVER_ID = 'vault.ferry.test';
let moto: Moto;
let iam: IAMClient;
let ctl: RunningController;
let o: Objects;
let bao: OpenBao['admin'];

beforeAll(async () => {
  moto = await startMoto(testbed().runDir);
  const { endpoint, region, accessKeyId, secretAccessKey } = moto.access;
  // Ferry's signed request and its AssumeRole calls go to moto (the AWS SDK's standard setting).
  pointAwsSdkAt(endpoint);
  iam = new IAMClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'vault-iam');
  ctl = await startController(testbed().kube, {
    namespace,
    // The stores here are namespaced: the server IDs they sign must be allow-listed
    // (namespaced-store-egress), the wrong one too, so that Vault is what refuses it.
    namespacedStoreAllowedHosts: [...BED_LOOPBACK_ALLOWED_HOSTS, SERVER_ID, 'other.example'],
  });
  o = new Objects(kc, namespace);
  bao = openbao.get().admin;
  await bao.awsAuth(moto.access);
  await bao.awsAuth(moto.access, { path: 'aws-sid', iamServerId: SERVER_ID });
});

afterAll(async () => {
  await ctl?.stop();
  iam?.destroy();
  await moto?.process.stop();
});

const logins = (where: Record<string, string>) =>
  ctl.controller.metrics.total(ctl.controller.metrics.providerLogins as never, { provider: 'vault', ...where });

/** An IAM user in moto with an access key. */
async function iamUser(): Promise<{ arn: string; accessKeyId: string; secretAccessKey: string }> {
  const UserName = uniqueName('ferry');
  const user = await iam.send(new CreateUserCommand({ UserName }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
  if (!user.User?.Arn || !key?.AccessKeyId || !key.SecretAccessKey) throw new Error('moto made no user or key');
  return { arn: user.User.Arn, accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

/** A Secret holding the keys; returns the store's auth.iam.secretRef for it. */
async function keySecret(keys: { accessKeyId: string; secretAccessKey: string }) {
  const name = uniqueName('aws-keys');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name }, stringData: { id: keys.accessKeyId, secret: keys.secretAccessKey } },
  });
  return {
    accessKeyIDSecretRef: { name, key: 'id' },
    secretAccessKeySecretRef: { name, key: 'secret' },
  };
}

/** A Vault role of auth/<path> (auth_type iam) bound to `arns`, reading secret/data/<prefix>/*. */
async function vaultRole(arns: string[], prefix: string, path = 'aws'): Promise<{ role: string; policy: string }> {
  const role = uniqueName('iam');
  await bao.policy(role, `path "secret/data/${prefix}/*" { capabilities = ["read"] }`);
  await bao.awsIamRole(role, arns, [role], { path });
  return { role, policy: role };
}

async function store(iamAuth: Record<string, unknown>): Promise<string> {
  const name = uniqueName('vault-iam');
  await o.secretStore(name, {
    vault: { server: openbao.get().access.address, path: 'secret', auth: { iam: iamAuth } },
  });
  return name;
}

/** Live tokens in OpenBao carrying `policy` (each a login with that Vault role). */
async function tokensWith(policy: string): Promise<number> {
  let n = 0;
  for (const accessor of await bao.tokenAccessors()) {
    const info = await bao.call('POST', 'auth/token/lookup-accessor', { accessor });
    const policies = (info.body?.data as { policies?: string[] } | undefined)?.policies ?? [];
    if (policies.includes(policy)) n++;
  }
  return n;
}

describe('Vault auth.iam', () => {
  it('logs in once with static keys for 20 ExternalSecrets, moto verifying the signature', async () => {
    const user = await iamUser();
    const { role, policy } = await vaultRole([user.arn], 'iam-static');
    for (let k = 0; k < 5; k++) await bao.writeKv2('secret', `iam-static/${k}`, { v: `value-${k}` });
    const before = await logins({ method: 'iam', outcome: 'ok' });
    await enforceMotoAuth(moto.access.endpoint, true);
    try {
      const name = await store({ vaultRole: role, secretRef: await keySecret(user) });
      for (let i = 0; i < 20; i++) {
        await o.externalSecret(`static-${i}`, {
          secretStoreRef: { name },
          data: [{ secretKey: 'v', remoteRef: { key: `iam-static/${i % 5}`, property: 'v' } }],
        });
      }
      for (let i = 0; i < 20; i++) {
        await o.waitForSecret(`static-${i}`, (d) => d.v === `value-${i % 5}`, `Secret static-${i}`);
      }
    } finally {
      await enforceMotoAuth(moto.access.endpoint, false);
    }
    expect((await logins({ method: 'iam', outcome: 'ok' })) - before).toBe(1);
    expect(await tokensWith(policy)).toBe(1);
  });

  it('signs X-Vault-AWS-IAM-Server-ID when vaultAwsIamServerID is set; a mount requiring it refuses a store without it', async () => {
    const user = await iamUser();
    const { role } = await vaultRole([user.arn], 'iam-sid', 'aws-sid');
    await bao.writeKv2('secret', 'iam-sid/app', { v: 'with-server-id' });
    const secretRef = await keySecret(user);
    const withId = await store({ path: 'aws-sid', vaultRole: role, vaultAwsIamServerID: SERVER_ID, secretRef });
    const withoutId = await store({ path: 'aws-sid', vaultRole: role, secretRef });
    const wrongId = await store({ path: 'aws-sid', vaultRole: role, vaultAwsIamServerID: 'other.example', secretRef });
    for (const [es, name] of [
      ['sid-ok', withId],
      ['sid-missing', withoutId],
      ['sid-wrong', wrongId],
    ] as const) {
      await o.externalSecret(es, {
        secretStoreRef: { name },
        data: [{ secretKey: 'v', remoteRef: { key: 'iam-sid/app', property: 'v' } }],
      });
    }
    await o.waitForSecret('sid-ok', (d) => d.v === 'with-server-id', 'a read after a login with the server ID');
    for (const es of ['sid-missing', 'sid-wrong']) {
      const { ready } = await o.waitForReady(es, {
        status: 'False',
        message: /Denied.*logging in with auth\/aws-sid as spec\.provider\.vault\.auth\.iam\.vaultRole/,
      });
      expect(ready.message).toMatch(/X-Vault-AWS-IAM-Server-ID|header/i);
      expect(await o.secret(es)).toBeUndefined();
    }
  });

  it('an unbound principal: Denied in status and an Event naming auth.iam.vaultRole, the Secret untouched, then recovers', async () => {
    const user = await iamUser();
    const other = await iamUser();
    const good = await vaultRole([user.arn], 'iam-guard');
    const bound = await vaultRole([other.arn], 'iam-guard');
    await bao.writeKv2('secret', 'iam-guard/app', { v: 'kept' });
    const name = await store({ vaultRole: good.role, secretRef: await keySecret(user) });
    await o.externalSecret('guarded', {
      secretStoreRef: { name },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'iam-guard/app', property: 'v' } }],
    });
    const synced = await o.waitForSecret('guarded', (d) => d.v === 'kept', 'first sync');
    // The store now names a Vault role bound to another IAM user: a new identity, a new login, refused.
    await o.patch('secretstores', name, {
      spec: { provider: { vault: { auth: { iam: { vaultRole: bound.role } } } } },
    });
    const { ready } = await o.waitForReady('guarded', {
      status: 'False',
      message: new RegExp(
        `Denied.*logging in with auth/aws as spec\\.provider\\.vault\\.auth\\.iam\\.vaultRole "${bound.role}"`,
      ),
    });
    expect(ready.message).not.toContain(user.secretAccessKey);
    const events = (await o.events()).filter((e) => e.involved === 'guarded' && e.type === 'Warning');
    expect(events.some((e) => e.message?.includes('spec.provider.vault.auth.iam.vaultRole'))).toBe(true);
    expect((await o.secret('guarded'))?.metadata?.resourceVersion).toBe(synced.metadata?.resourceVersion);
    expect(await logins({ method: 'iam', outcome: 'Denied' })).toBeGreaterThan(0);

    await o.patch('secretstores', name, { spec: { provider: { vault: { auth: { iam: { vaultRole: good.role } } } } } });
    await o.waitForReady('guarded', { status: 'True' }, 60_000);
    expect((await o.secret('guarded'))?.metadata?.resourceVersion).toBe(synced.metadata?.resourceVersion);
  });

  it('assumes iam.role with the keys first (moto STS) and logs in as that role', async () => {
    const user = await iamUser();
    const RoleName = uniqueName('vault-reader');
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'sts:AssumeRole' }],
    };
    const created = await iam.send(
      new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    );
    const roleArn = created.Role?.Arn ?? '';
    // Bound to the role: a login as the user itself would be refused.
    const { role } = await vaultRole([roleArn], 'iam-role');
    await bao.writeKv2('secret', 'iam-role/app', { v: 'as-role' });
    const before = await logins({ method: 'assumeRole', outcome: 'ok' });
    const name = await store({
      vaultRole: role,
      role: roleArn,
      externalID: 'ferry-ext',
      secretRef: await keySecret(user),
    });
    await o.externalSecret('as-role', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'iam-role/app', property: 'v' } }],
    });
    await o.waitForSecret('as-role', (d) => d.v === 'as-role', 'a read after logging in as the assumed role');
    expect((await logins({ method: 'assumeRole', outcome: 'ok' })) - before).toBe(1);
  });

  it('exchanges a ServiceAccount token (iam.jwt) for the role of its eks.amazonaws.com/role-arn annotation', async () => {
    const RoleName = uniqueName('irsa');
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Federated: 'kubernetes' }, Action: 'sts:AssumeRoleWithWebIdentity' }],
    };
    const created = await iam.send(
      new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    );
    const roleArn = created.Role?.Arn ?? '';
    const { role } = await vaultRole([roleArn], 'iam-jwt');
    await bao.writeKv2('secret', 'iam-jwt/app', { v: 'via-irsa' });
    const sa = uniqueName('irsa');
    await o.core.createNamespacedServiceAccount({
      namespace: o.namespace,
      body: { metadata: { name: sa, annotations: { 'eks.amazonaws.com/role-arn': roleArn } } },
    });
    const before = await logins({ method: 'webIdentity', outcome: 'ok' });
    const name = await store({ vaultRole: role, jwt: { serviceAccountRef: { name: sa } } });
    await o.externalSecret('via-irsa', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'iam-jwt/app', property: 'v' } }],
    });
    await o.waitForSecret('via-irsa', (d) => d.v === 'via-irsa', 'a read after a web-identity login');
    expect((await logins({ method: 'webIdentity', outcome: 'ok' })) - before).toBe(1);
  });

  it('refuses at admission a missing vaultRole and combinations that cannot work, naming the fields', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const keys = {
      accessKeyIDSecretRef: { name: 'k', key: 'id' },
      secretAccessKeySecretRef: { name: 'k', key: 'secret' },
    };
    const dryRun = (auth: Record<string, unknown>) =>
      dryRunCreate(
        kc,
        { group: 'ferry.dev', version: 'v1alpha1', plural: 'secretstores', scope: 'Namespaced' },
        {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'SecretStore',
          metadata: { name: uniqueName('adm') },
          spec: { provider: { vault: { server: 'http://vault:8200', auth } } },
        },
        o.namespace,
      );
    expect(await dryRun({ iam: { vaultRole: 'r', secretRef: keys } })).toBeUndefined();
    expect(await dryRun({ iam: { vaultRole: 'r' } })).toBeUndefined();
    expect(await dryRun({ iam: { secretRef: keys } })).toMatch(
      /spec\.provider\.vault\.auth\.iam\.vaultRole: Required value/,
    );
    expect(
      await dryRun({ iam: { vaultRole: 'r', secretRef: keys, jwt: { serviceAccountRef: { name: 'sa' } } } }),
    ).toMatch(/spec\.provider\.vault\.auth\.iam\.jwt.*set at most one of iam\.secretRef and iam\.jwt/);
    expect(await dryRun({ iam: { vaultRole: 'r', externalID: 'x' } })).toMatch(
      /spec\.provider\.vault\.auth\.iam\.externalID.*iam\.externalID needs iam\.role/,
    );
    expect(
      await dryRun({ iam: { vaultRole: 'r' }, appRole: { roleId: 'x', secretRef: { name: 's', key: 'k' } } }),
    ).toMatch(/set exactly one of .*auth\.iam/);
  });
});
