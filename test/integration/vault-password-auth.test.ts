// Vault userPass and ldap auth end to end against a real OpenBao dev server (private to this file)
// and the controller against the real API server: login, token reuse across ExternalSecrets,
// renewal, revocation at shutdown, a wrong password (Denied, Secret kept) and recovery.
//
// The ldap method shares userPass's login code and its HTTP shape (POST auth/<path>/login/<user>
// with {password}). No LDAP server runs on the test bed, so the `ldap` store here logs in to a
// userpass auth method mounted at the path `ldap`: it proves the request Ferry sends for auth.ldap,
// not OpenBao's LDAP backend talking to a directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName, usePrivateOpenBao } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import type { OpenBao } from '../testbed/openbao.ts';

const openbao = usePrivateOpenBao();
let ctl: RunningController;
let o: Objects;
let bao: OpenBao['admin'];

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'vault-pw');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
  bao = openbao.get().admin;
  await bao.policy('reader', 'path "secret/data/*" { capabilities = ["read"] }');
  await bao.enableAuth('userpass', 'userpass');
  await bao.enableAuth('ldap', 'userpass');
  await bao.enableAuth('people', 'userpass');
});

afterAll(async () => {
  await ctl?.stop();
});

const logins = (where: Record<string, string>) =>
  ctl.controller.metrics.total(ctl.controller.metrics.providerLogins as never, { provider: 'vault', ...where });

/** A userpass user on `mount` with the reader policy. */
async function user(mount: string, password: string, opts: { ttl?: string; maxTtl?: string } = {}): Promise<string> {
  const name = uniqueName('user');
  await bao.must('POST', `auth/${mount}/users/${name}`, {
    password,
    token_policies: ['reader'],
    token_ttl: opts.ttl ?? '1h',
    token_max_ttl: opts.maxTtl ?? '24h',
  });
  return name;
}

async function passwordSecret(password: string): Promise<string> {
  const name = uniqueName('pw');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name }, stringData: { password } },
  });
  return name;
}

async function store(auth: Record<string, unknown>): Promise<string> {
  const name = uniqueName('vault');
  await o.secretStore(name, { vault: { server: openbao.get().access.address, path: 'secret', auth } });
  return name;
}

describe('Vault userPass and ldap auth', () => {
  it('logs in with userPass once for many ExternalSecrets (default mount userpass)', async () => {
    for (let k = 0; k < 5; k++) await bao.writeKv2('secret', `up/${k}`, { v: `value-${k}` });
    const username = await user('userpass', ' pass with spaces ');
    const creds = await passwordSecret(' pass with spaces ');
    // Counted from before the store exists: validating the store is the first use of its login.
    const before = await logins({ method: 'userpass', outcome: 'ok' });
    const name = await store({ userPass: { username, secretRef: { name: creds, key: 'password' } } });
    for (let i = 0; i < 20; i++) {
      await o.externalSecret(`up-${i}`, {
        secretStoreRef: { name },
        data: [{ secretKey: 'v', remoteRef: { key: `up/${i % 5}`, property: 'v' } }],
      });
    }
    for (let i = 0; i < 20; i++) await o.waitForSecret(`up-${i}`, (d) => d.v === `value-${i % 5}`, `Secret up-${i}`);
    expect((await logins({ method: 'userpass', outcome: 'ok' })) - before).toBe(1);
    const ready = await eventually('the store validated', async () => {
      const s = await o.getSecretStore(name);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it('logs in with auth.ldap at the default path ldap and with userPass at a custom path', async () => {
    await bao.writeKv2('secret', 'ldap-read', { v: 'via-ldap-path' });
    const ldapUser = await user('ldap', 'ldap-password');
    const ldapBefore = await logins({ method: 'ldap', outcome: 'ok' });
    const ldapStore = await store({
      ldap: { username: ldapUser, secretRef: { name: await passwordSecret('ldap-password'), key: 'password' } },
    });
    const peopleUser = await user('people', 'people-password');
    const peopleStore = await store({
      userPass: {
        path: 'people',
        username: peopleUser,
        secretRef: { name: await passwordSecret('people-password'), key: 'password' },
      },
    });
    await o.externalSecret('via-ldap', {
      secretStoreRef: { name: ldapStore },
      data: [{ secretKey: 'v', remoteRef: { key: 'ldap-read', property: 'v' } }],
    });
    await o.externalSecret('via-people', {
      secretStoreRef: { name: peopleStore },
      data: [{ secretKey: 'v', remoteRef: { key: 'ldap-read', property: 'v' } }],
    });
    await o.waitForSecret('via-ldap', (d) => d.v === 'via-ldap-path', 'a read after an auth.ldap login');
    await o.waitForSecret('via-people', (d) => d.v === 'via-ldap-path', 'a read after a userPass login at people/');
    expect((await logins({ method: 'ldap', outcome: 'ok' })) - ldapBefore).toBe(1);
  });

  it('keeps the Secret on a wrong password (Denied), and recovers when the Secret holds the right one', async () => {
    await bao.writeKv2('secret', 'pw-guarded', { v: 'ok' });
    const username = await user('userpass', 'first-password');
    const creds = await passwordSecret('first-password');
    const name = await store({ userPass: { username, secretRef: { name: creds, key: 'password' } } });
    await o.externalSecret('pw-guarded', {
      secretStoreRef: { name },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'pw-guarded', property: 'v' } }],
    });
    const before = await o.waitForSecret('pw-guarded', (d) => d.v === 'ok', 'first sync');
    // The password changes in Vault, and the token Ferry holds is revoked: the next login fails.
    await bao.must('POST', `auth/userpass/users/${username}/password`, { password: 'second-password' });
    for (const accessor of await bao.tokenAccessors()) {
      const info = await bao.must('POST', 'auth/token/lookup-accessor', { accessor });
      const meta = (info?.data as { meta?: { username?: string } } | undefined)?.meta;
      if (meta?.username === username) await bao.must('POST', 'auth/token/revoke-accessor', { accessor });
    }
    const { ready } = await o.waitForReady('pw-guarded', {
      status: 'False',
      message: /Denied.*logging in with auth\/userpass/,
    });
    expect(ready.message).not.toContain('first-password');
    expect((await o.secret('pw-guarded'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await logins({ method: 'userpass', outcome: 'Denied' })).toBeGreaterThan(0);

    const { setHeaderOptions } = await import('@kubernetes/client-node');
    await o.core.patchNamespacedSecret(
      { namespace: o.namespace, name: creds, body: { stringData: { password: 'second-password' } } },
      setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await o.waitForReady('pw-guarded', { status: 'True' }, 60_000);
    expect((await o.secret('pw-guarded'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('renews the userPass token before its TTL runs out instead of logging in again', async () => {
    await bao.writeKv2('secret', 'pw-renewed', { v: 'kept' });
    const username = await user('userpass', 'renew-password', { ttl: '3s', maxTtl: '1h' });
    const creds = await passwordSecret('renew-password');
    const before = await logins({ method: 'userpass' });
    const name = await store({ userPass: { username, secretRef: { name: creds, key: 'password' } } });
    await o.externalSecret('pw-renewed', {
      secretStoreRef: { name },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'pw-renewed', property: 'v' } }],
    });
    await o.waitForSecret('pw-renewed', (d) => d.v === 'kept', 'first sync');
    await eventually('8 s of refreshes', async () => {
      const es = await o.getExternalSecret('pw-renewed');
      const synced = Date.parse(es.status?.refreshTime ?? '');
      const created = Date.parse(es.metadata.creationTimestamp as unknown as string);
      return synced - created > 8000 ? true : undefined;
    });
    expect((await o.waitForReady('pw-renewed', { status: 'True' })).ready.reason).toBe('SecretSynced');
    expect((await logins({ method: 'userpass' })) - before).toBe(1);
  });

  it('revokes the userPass and ldap tokens it logged in for when the controller shuts down', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'vault-pw-stop');
    const own = new Objects(kc, namespace);
    const second = await startController(testbed().kube, { namespace });
    try {
      await bao.writeKv2('secret', 'pw-at-stop', { v: 'x' });
      const upUser = await user('userpass', 'stop-up');
      const ldapUser = await user('ldap', 'stop-ldap');
      await own.core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'pw' }, stringData: { up: 'stop-up', ldap: 'stop-ldap' } },
      });
      const before = new Set(await bao.tokenAccessors());
      const server = openbao.get().access.address;
      await own.secretStore('up', {
        vault: {
          server,
          path: 'secret',
          auth: { userPass: { username: upUser, secretRef: { name: 'pw', key: 'up' } } },
        },
      });
      await own.secretStore('ldap', {
        vault: {
          server,
          path: 'secret',
          auth: { ldap: { username: ldapUser, secretRef: { name: 'pw', key: 'ldap' } } },
        },
      });
      for (const s of ['up', 'ldap']) {
        await own.externalSecret(s, {
          secretStoreRef: { name: s },
          data: [{ secretKey: 'v', remoteRef: { key: 'pw-at-stop', property: 'v' } }],
        });
      }
      await own.waitForSecret('up', (d) => d.v === 'x', 'userPass sync');
      await own.waitForSecret('ldap', (d) => d.v === 'x', 'ldap sync');
      expect((await bao.tokenAccessors()).filter((a) => !before.has(a))).toHaveLength(2);
      await second.stop();
      expect((await bao.tokenAccessors()).filter((a) => !before.has(a))).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
