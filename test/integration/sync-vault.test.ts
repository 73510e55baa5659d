// Vault provider end to end against a real OpenBao dev server (private to this file, so tests can
// seal it) and the controller against the real API server: every auth method, KV v1 and v2,
// versions, rotation, token reuse and renewal, and the data-safety rules on every failure.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, secretWrites, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { enableKubernetesAuth } from '../support/openbao-kubernetes.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName, usePrivateOpenBao } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { type OpenBao, startOpenBao } from '../testbed/openbao.ts';

const openbao = usePrivateOpenBao();
let ctl: RunningController;
let o: Objects;
let bao: OpenBao['admin'];

const READER = 'path "secret/data/*" { capabilities = ["read"] }\npath "kv1/*" { capabilities = ["read"] }';

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'vault');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
  bao = openbao.get().admin;
  await bao.policy('reader', READER);
  await bao.enableKv1('kv1');
});

afterAll(async () => {
  await ctl?.stop();
});

const metric = (m: keyof RunningController['controller']['metrics'], where: Record<string, string> = {}) =>
  ctl.controller.metrics.total(ctl.controller.metrics[m] as never, where);
const logins = (where: Record<string, string> = {}) => metric('providerLogins', { provider: 'vault', ...where });
/** Provider calls the controller made for remote keys matching `key` (its debug log says each). */
const providerReadsOf = (key: RegExp) =>
  ctl.logs
    .map((line) => JSON.parse(line) as { msg?: string; provider?: string; key?: string })
    .filter((l) => l.msg === 'provider read' && l.provider === 'vault' && key.test(l.key ?? '')).length;

/** A SecretStore reading KV v2 at secret/ with `auth`, from the private server. */
async function vaultStore(auth: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName('vault');
  await o.secretStore(name, { vault: { server: openbao.get().access.address, path: 'secret', auth, ...extra } });
  return name;
}

async function credentials(data: Record<string, string>): Promise<string> {
  const name = uniqueName('creds');
  await o.core.createNamespacedSecret({ namespace: o.namespace, body: { metadata: { name }, stringData: data } });
  return name;
}

/** A store that logs in with a fresh AppRole holding `policies`. */
async function appRoleStore(policies = ['reader'], opts: { ttl?: string; maxTtl?: string } = {}) {
  const role = uniqueName('role');
  const { roleId, secretId } = await bao.appRole(role, policies, opts);
  const creds = await credentials({ 'secret-id': secretId });
  const store = await vaultStore({ appRole: { roleId, secretRef: { name: creds, key: 'secret-id' } } });
  return { store, role };
}

async function tokenStore(policies = ['reader']): Promise<{ store: string; creds: string }> {
  const creds = await credentials({ token: await bao.createToken(policies) });
  return { store: await vaultStore({ tokenSecretRef: { name: creds, key: 'token' } }), creds };
}

describe('Vault / OpenBao', () => {
  it('syncs KV v2 properties, nested paths, versions and whole objects, and KV v1', async () => {
    await bao.writeKv2('secret', 'app/db', { user: 'app', pass: 'p1', tls: { ca: 'ca-pem' } });
    await bao.writeKv2('secret', 'app/db', { user: 'app', pass: 'p2', tls: { ca: 'ca-pem' } });
    await bao.writeKv1('kv1', 'legacy', { api: 'v1-key' });
    const { store } = await tokenStore();
    const v1store = uniqueName('vault-v1');
    const { creds } = await tokenStore();
    await o.secretStore(v1store, {
      vault: {
        server: openbao.get().access.address,
        path: 'kv1',
        version: 'v1',
        auth: { tokenSecretRef: { name: creds, key: 'token' } },
      },
    });
    await o.externalSecret('kv2-all', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'pass', remoteRef: { key: 'app/db', property: 'pass' } },
        { secretKey: 'first', remoteRef: { key: 'app/db', property: 'pass', version: '1' } },
        { secretKey: 'ca', remoteRef: { key: 'app/db', property: 'tls.ca' } },
        { secretKey: 'whole', remoteRef: { key: 'secret/app/db' } },
      ],
      dataFrom: [{ extract: { key: 'app/db' } }],
    });
    await o.externalSecret('kv1', {
      secretStoreRef: { name: v1store },
      data: [{ secretKey: 'api', remoteRef: { key: 'legacy', property: 'api' } }],
    });
    await o.waitForSecret('kv2-all', (d) => d.pass === 'p2', 'the KV v2 Secret');
    const text = await o.secretText('kv2-all');
    expect(text).toMatchObject({ pass: 'p2', first: 'p1', ca: 'ca-pem', user: 'app', tls: '{"ca":"ca-pem"}' });
    expect(JSON.parse(text?.whole ?? '')).toEqual({ user: 'app', pass: 'p2', tls: { ca: 'ca-pem' } });
    await o.waitForSecret('kv1', (d) => d.api === 'v1-key', 'the KV v1 Secret');
    const ready = await eventually('the store validated', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it('reads KV v2 custom metadata with metadataPolicy Fetch; a provider without metadata refuses it', async () => {
    await bao.writeKv2('secret', 'described', { v: 'value' });
    await bao.must('POST', 'secret/metadata/described', { custom_metadata: { owner: 'team-a', tier: 'gold' } });
    // Metadata has its own path, and so its own policy rule.
    await bao.policy('metadata', 'path "secret/metadata/described" { capabilities = ["read"] }');
    const { store } = await tokenStore(['reader', 'metadata']);
    await o.externalSecret('with-metadata', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'v', remoteRef: { key: 'described', property: 'v' } },
        { secretKey: 'owner', remoteRef: { key: 'described', property: 'owner', metadataPolicy: 'Fetch' } },
      ],
      dataFrom: [{ extract: { key: 'described', metadataPolicy: 'Fetch' } }],
    });
    await o.waitForSecret('with-metadata', (d) => d.owner === 'team-a', 'the metadata in the Secret');
    expect(await o.secretText('with-metadata')).toEqual({ v: 'value', owner: 'team-a', tier: 'gold' });

    const fake = uniqueName('fake');
    await o.secretStore(fake, { fake: { data: [{ key: 'described', value: 'x' }] } });
    await o.externalSecret('fake-metadata', {
      secretStoreRef: { name: fake },
      data: [{ secretKey: 'v', remoteRef: { key: 'described', metadataPolicy: 'Fetch' } }],
    });
    const { ready } = await o.waitForReady('fake-metadata', { status: 'False' });
    expect(ready.message).toMatch(/Invalid: .*metadataPolicy Fetch is not supported by the fake provider/);
    expect(await o.secret('fake-metadata')).toBeUndefined();
  });

  it('rotates: a new KV v2 version reaches the Secret on the next refresh', async () => {
    await bao.writeKv2('secret', 'rotating', { v: 'one' });
    const { store } = await tokenStore();
    await o.externalSecret('rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'rotating', property: 'v' } }],
    });
    await o.waitForSecret('rotating', (d) => d.v === 'one', 'first value');
    await bao.writeKv2('secret', 'rotating', { v: 'two' });
    await o.waitForSecret('rotating', (d) => d.v === 'two', 'the rotated value');
  });

  it('logs in with AppRole once for 200 ExternalSecrets, and reads each path once', async () => {
    for (let k = 0; k < 10; k++) await bao.writeKv2('secret', `fleet/${k}`, { v: `value-${k}` });
    // Counted before the store exists: validating it logs in at once, and may beat this line.
    const loginsBefore = await logins({ method: 'approle', outcome: 'ok' });
    const { store } = await appRoleStore();
    const names = Array.from({ length: 200 }, (_, i) => `fleet-${i}`);
    await Promise.all(
      names.map((name, i) =>
        o.externalSecret(name, {
          secretStoreRef: { name: store },
          data: [{ secretKey: 'v', remoteRef: { key: `fleet/${i % 10}`, property: 'v' } }],
        }),
      ),
    );
    for (const [i, name] of names.entries()) {
      await o.waitForSecret(name, (d) => d.v === `value-${i % 10}`, name);
    }
    expect(await logins({ method: 'approle', outcome: 'ok' })).toBe(loginsBefore + 1);
    // Other tests' objects keep refreshing meanwhile: count only calls for these paths.
    expect(providerReadsOf(/^fleet\//)).toBeGreaterThanOrEqual(10);
    expect(providerReadsOf(/^fleet\//)).toBeLessThanOrEqual(10);
  });

  it('logs in with Kubernetes auth: a TokenRequest token that OpenBao checks with a real TokenReview', async () => {
    const kube = testbed().kube;
    // The reviewer: a ServiceAccount allowed to create TokenReviews, whose token OpenBao presents.
    await enableKubernetesAuth(bao, kube, o.namespace);
    await bao.must('POST', 'auth/kubernetes/role/ferry', {
      bound_service_account_names: ['ferry-vault'],
      bound_service_account_namespaces: [o.namespace],
      audience: 'vault',
      token_policies: ['reader'],
      token_ttl: '1h',
    });
    await o.core.createNamespacedServiceAccount({
      namespace: o.namespace,
      body: { metadata: { name: 'ferry-vault' } },
    });
    await bao.writeKv2('secret', 'via-kubernetes', { v: 'reviewed' });
    const store = await vaultStore({
      kubernetes: { role: 'ferry', serviceAccountRef: { name: 'ferry-vault', audiences: ['vault'] } },
    });
    await o.externalSecret('via-kubernetes', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-kubernetes', property: 'v' } }],
    });
    await o.waitForSecret('via-kubernetes', (d) => d.v === 'reviewed', 'a read after Kubernetes login');
    expect(await logins({ method: 'kubernetes', outcome: 'ok' })).toBe(1);

    // The legacy form: a ServiceAccount token kept in a Secret.
    const minted = await o.core.createNamespacedServiceAccountToken({
      namespace: o.namespace,
      name: 'ferry-vault',
      body: { spec: { audiences: ['vault'], expirationSeconds: 3600 } },
    });
    const creds = await credentials({ token: minted.status?.token ?? '' });
    const legacy = await vaultStore({ kubernetes: { role: 'ferry', secretRef: { name: creds, key: 'token' } } });
    await o.externalSecret('via-kubernetes-secret', {
      secretStoreRef: { name: legacy },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-kubernetes', property: 'v' } }],
    });
    await o.waitForSecret('via-kubernetes-secret', (d) => d.v === 'reviewed', 'a read with a stored token');

    // A SecretStore may not ask for the API server's own audience (test/attacks/tenant-token-audience.test.ts).
    await expect(
      vaultStore({ kubernetes: { role: 'ferry', serviceAccountRef: { name: 'ferry-vault' } } }),
    ).rejects.toThrow(/serviceAccountRef\.audiences/);
    // A token with another audience than the role's is refused by the role, and said so.
    const wrong = await vaultStore({
      kubernetes: { role: 'ferry', serviceAccountRef: { name: 'ferry-vault', audiences: ['not-vault'] } },
    });
    await o.externalSecret('wrong-audience', {
      secretStoreRef: { name: wrong },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-kubernetes', property: 'v' } }],
    });
    const { ready } = await o.waitForReady('wrong-audience', { status: 'False', message: /Denied/ });
    expect(ready.message).toMatch(/logging in with auth\/kubernetes.*audience/);
  });

  it('logs in with JWT auth using a ServiceAccount token (audience vault by default)', async () => {
    const kube = testbed().kube;
    const pub = await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8');
    await bao.enableAuth('jwt', 'jwt');
    await bao.must('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [pub], bound_issuer: kube.server });
    await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: 'ferry-jwt' } } });
    await bao.must('POST', 'auth/jwt/role/ferry', {
      role_type: 'jwt',
      bound_audiences: ['vault'],
      user_claim: 'sub',
      bound_subject: `system:serviceaccount:${o.namespace}:ferry-jwt`,
      token_policies: ['reader'],
      token_ttl: '1h',
    });
    await bao.writeKv2('secret', 'via-jwt', { v: 'signed' });
    const store = await vaultStore({
      jwt: { role: 'ferry', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'ferry-jwt' } } },
    });
    await o.externalSecret('via-jwt', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-jwt', property: 'v' } }],
    });
    await o.waitForSecret('via-jwt', (d) => d.v === 'signed', 'a read after JWT login');
    expect(await logins({ method: 'jwt', outcome: 'ok' })).toBe(1);

    // The JWT can come from a Secret too.
    const minted = await o.core.createNamespacedServiceAccountToken({
      namespace: o.namespace,
      name: 'ferry-jwt',
      body: { spec: { audiences: ['vault'], expirationSeconds: 3600 } },
    });
    const creds = await credentials({ jwt: minted.status?.token ?? '' });
    const fromSecret = await vaultStore({ jwt: { role: 'ferry', secretRef: { name: creds, key: 'jwt' } } });
    await o.externalSecret('via-jwt-secret', {
      secretStoreRef: { name: fromSecret },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-jwt', property: 'v' } }],
    });
    await o.waitForSecret('via-jwt-secret', (d) => d.v === 'signed', 'a read after JWT login with a stored JWT');

    // Token lifetimes are bounded: an hour is admitted, more is refused naming the field.
    const sat = (expirationSeconds: number) => ({
      jwt: {
        role: 'ferry',
        kubernetesServiceAccountToken: { serviceAccountRef: { name: 'ferry-jwt' }, expirationSeconds },
      },
    });
    await vaultStore(sat(3600));
    const err = await vaultStore(sat(86_400)).catch((e: unknown) => e);
    expect(String((err as { body?: string }).body ?? err)).toMatch(
      /kubernetesServiceAccountToken\.expirationSeconds: Invalid value: 86400: .*less than or equal to 3600/,
    );
  });

  it('renews its token before the TTL runs out instead of logging in again', async () => {
    await bao.writeKv2('secret', 'renewed', { v: 'kept' });
    const { store } = await appRoleStore(['reader'], { ttl: '3s', maxTtl: '1h' });
    const before = await logins({ method: 'approle' });
    await o.externalSecret('renewed', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'renewed', property: 'v' } }],
    });
    await o.waitForSecret('renewed', (d) => d.v === 'kept', 'first sync');
    // Past two full TTLs the token is still the one login's, renewed; reads kept succeeding.
    await eventually('8 s of refreshes', async () => {
      const es = await o.getExternalSecret('renewed');
      const synced = Date.parse(es.status?.refreshTime ?? '');
      const created = Date.parse(es.metadata.creationTimestamp as unknown as string);
      return synced - created > 8000 ? true : undefined;
    });
    expect((await o.waitForReady('renewed', { status: 'True' })).ready.reason).toBe('SecretSynced');
    expect((await logins({ method: 'approle' })) - before).toBe(1);
  });

  it('keeps the Secret while the token is revoked (Denied), and recovers with a new token in the Secret', async () => {
    await bao.writeKv2('secret', 'guarded', { v: 'ok' });
    const { store, creds } = await tokenStore();
    await o.externalSecret('revoked', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'guarded', property: 'v' } }],
    });
    const before = await o.waitForSecret('revoked', (d) => d.v === 'ok', 'first sync');
    const token = (await o.secretText(creds))?.token ?? '';
    await bao.revokeToken(token);
    const { ready } = await o.waitForReady('revoked', { status: 'False', message: /remote key "guarded": Denied/ });
    expect(ready.message).toMatch(/HTTP 403/);
    expect((await o.secret('revoked'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);

    await o.core.patchNamespacedSecret(
      { namespace: o.namespace, name: creds, body: { stringData: { token: await bao.createToken(['reader']) } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await o.waitForReady('revoked', { status: 'True' }, 30_000);
    expect((await o.secret('revoked'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('keeps the Secret while the policy denies reads, without a login per read, and recovers when it returns', async () => {
    await bao.policy('narrow', 'path "secret/data/narrow" { capabilities = ["read"] }');
    await bao.writeKv2('secret', 'narrow', { v: 'allowed' });
    const { store } = await appRoleStore(['narrow']);
    await o.externalSecret('narrow', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'narrow', property: 'v' } }],
    });
    const before = await o.waitForSecret('narrow', (d) => d.v === 'allowed', 'first sync');
    const loginsBefore = await logins({ method: 'approle' });
    await bao.policy('narrow', 'path "secret/data/other" { capabilities = ["read"] }');
    await o.waitForReady('narrow', { status: 'False', message: /remote key "narrow": Denied.*permission denied/ });
    expect((await o.secret('narrow'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    await bao.policy('narrow', 'path "secret/data/narrow" { capabilities = ["read"] }');
    await o.waitForReady('narrow', { status: 'True' }, 60_000);
    // A policy denial is no reason to log in again: lookup-self showed the token was still valid.
    expect(await logins({ method: 'approle' })).toBe(loginsBefore);
    expect((await o.secret('narrow'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('reports a deleted KV v2 version as not found, distinctly, and keeps the Secret', async () => {
    await bao.writeKv2('secret', 'deleted', { v: 'first' });
    const version = await bao.writeKv2('secret', 'deleted', { v: 'second' });
    const { store } = await tokenStore();
    await o.externalSecret('deleted-version', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'deleted', property: 'v' } }],
    });
    const before = await o.waitForSecret('deleted-version', (d) => d.v === 'second', 'first sync');
    await bao.must('POST', 'secret/delete/deleted', { versions: [version] });
    const { ready } = await o.waitForReady('deleted-version', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/NotFound: .*version deleted: version 2 was deleted at/);
    expect((await o.secret('deleted-version'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);

    await o.externalSecret('never-existed', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'no/such/path' } }],
    });
    const missing = await o.waitForReady('never-existed', { status: 'False', reason: 'SecretMissing' });
    expect(missing.ready.message).toMatch(/NotFound: .*no secret at this path/);
  });

  it('takes a store pointed at no engine, or at the wrong KV version, as misconfigured: nothing deleted (deletionPolicy Delete)', async () => {
    await bao.writeKv2('secret', 'routed', { v: 'kept' });
    // A policy that lets the token reach the wrong paths too: OpenBao checks policy before routing.
    await bao.policy(
      'routed',
      'path "secret/*" { capabilities = ["read"] }\npath "nomount/*" { capabilities = ["read"] }',
    );
    const { creds } = await tokenStore(['routed']);
    const store = uniqueName('vault-route');
    const server = openbao.get().access.address;
    const auth = { tokenSecretRef: { name: creds, key: 'token' } };
    await o.secretStore(store, { vault: { server, path: 'secret', auth } });
    await o.externalSecret('routed', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'routed', property: 'v' } }],
    });
    const before = await o.waitForSecret('routed', (d) => d.v === 'kept', 'first sync');
    const failures = () => ctl.logs.filter((l) => l.includes('"routed"') && l.includes('sync failed')).length;
    const heldThrough = async (message: RegExp) => {
      const { ready } = await o.waitForReady('routed', { status: 'False', message });
      expect(ready.message).toMatch(/remote key "routed": Invalid/);
      expect(ready.reason).toBe('SecretSyncedError');
      const seen = failures();
      // Failed syncs back off (1 s, 2 s, …): two more are past the one-second confirmation.
      await eventually('two more syncs of routed', async () => (failures() >= seen + 2 ? true : undefined), 60_000);
      expect((await o.secret('routed'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    };
    // A path where no engine is mounted: OpenBao answers 404 "no handler for route".
    await o.patch('secretstores', store, { spec: { provider: { vault: { server, path: 'nomount', auth } } } });
    await heldThrough(/no secrets engine is mounted at this path/);
    // KV v1 reads on the KV v2 engine: 404 with a warning about the versioned engine.
    await o.patch('secretstores', store, {
      spec: { provider: { vault: { server, path: 'secret', version: 'v1', auth } } },
    });
    await heldThrough(/KV version 2, the store says version "v1"/);
    await o.patch('secretstores', store, {
      spec: { provider: { vault: { server, path: 'secret', version: 'v2', auth } } },
    });
    await o.waitForReady('routed', { status: 'True' });
    expect((await o.secret('routed'))?.metadata?.uid).toBe(before.metadata?.uid);
  });

  it('reads and logs in inside a namespace (X-Vault-Namespace)', async () => {
    await bao.createNamespace('team-a');
    const team = bao.inNamespace('team-a');
    await team.must('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    await team.policy('reader', READER);
    await team.writeKv2('secret', 'app', { v: 'namespaced' });
    // The root namespace holds a different value under the same path: a missing header would read it.
    await bao.writeKv2('secret', 'app', { v: 'root-namespace' });
    const { roleId, secretId } = await team.appRole('ns-role', ['reader']);
    // The role ID from a Secret too (roleRef), as most GitOps setups keep it.
    const creds = await credentials({ 'role-id': roleId, 'secret-id': secretId });
    const store = await vaultStore(
      { appRole: { roleRef: { name: creds, key: 'role-id' }, secretRef: { name: creds, key: 'secret-id' } } },
      { namespace: 'team-a' },
    );
    await o.externalSecret('namespaced', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'app', property: 'v' } }],
    });
    await o.waitForSecret('namespaced', (d) => d.v === 'namespaced', 'the value from namespace team-a');
  });

  it('keeps the Secret while a rate-limit quota answers 429 (Throttled), and recovers when it is lifted', async () => {
    await bao.writeKv2('secret', 'limited', { v: 'calm' });
    const { store } = await tokenStore();
    await o.externalSecret('throttled', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'limited', property: 'v' } }],
    });
    const before = await o.waitForSecret('throttled', (d) => d.v === 'calm', 'first sync');
    await bao.must('POST', 'sys/quotas/rate-limit/ferry-test', {
      path: 'secret/data/limited',
      rate: 1,
      interval: '1h',
    });
    try {
      const { ready } = await o.waitForReady('throttled', { status: 'False', message: /Throttled/ });
      expect(ready.message).toMatch(/HTTP 429/);
      expect((await o.secret('throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      await bao.must('DELETE', 'sys/quotas/rate-limit/ferry-test');
    }
    await o.waitForReady('throttled', { status: 'True' }, 60_000);
    expect((await o.secret('throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('keeps the Secret while the server is sealed, says so, and recovers when unsealed', async () => {
    await bao.writeKv2('secret', 'through-seal', { v: 'steady' });
    const { store } = await appRoleStore();
    await o.externalSecret('sealed', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'through-seal', property: 'v' } }],
    });
    const before = await o.waitForSecret('sealed', (d) => d.v === 'steady', 'first sync');
    await bao.seal();
    try {
      const { ready } = await o.waitForReady('sealed', { status: 'False', reason: 'SecretSyncedError' });
      expect(ready.message).toMatch(/Transient: .*sealed/);
      expect((await o.secret('sealed'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      await bao.unseal();
    }
    await o.waitForReady('sealed', { status: 'True' }, 60_000);
    expect((await o.secret('sealed'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'sealed')).toBe(1);
  });

  it('keeps the Secret while the server is stopped, and recovers when it is back', async () => {
    const own = await startOpenBao(testbed().runDir);
    try {
      // A dev server keeps everything in memory: the same token, policy and data are made again after the restart.
      const seed = async () => {
        await own.admin.policy('reader', READER);
        await own.admin.writeKv2('secret', 'down', { v: 'up' });
        return own.admin.createToken(['reader'], { id: 'ferry-outage-token' });
      };
      const creds = await credentials({ token: await seed() });
      const store = uniqueName('vault-down');
      await o.secretStore(store, {
        vault: { server: own.access.address, path: 'secret', auth: { tokenSecretRef: { name: creds, key: 'token' } } },
      });
      await o.externalSecret('stopped', {
        secretStoreRef: { name: store },
        refreshInterval: '1s',
        data: [{ secretKey: 'v', remoteRef: { key: 'down', property: 'v' } }],
      });
      const before = await o.waitForSecret('stopped', (d) => d.v === 'up', 'first sync');
      await own.process.stop();
      const { ready } = await o.waitForReady('stopped', { status: 'False', reason: 'SecretSyncedError' });
      expect(ready.message).toMatch(/Transient: .*no answer/);
      expect((await o.secret('stopped'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
      await own.process.start();
      await seed();
      await o.waitForReady('stopped', { status: 'True' }, 60_000);
      expect((await o.secret('stopped'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      await own.process.stop();
      await own.admin.close();
    }
  });

  it('revokes the tokens it logged in for when the controller shuts down', async () => {
    const namespace = await createNamespace(kubeConfigFor(testbed().kube), 'vault-stop');
    const own = new Objects(kubeConfigFor(testbed().kube), namespace);
    const second = await startController(testbed().kube, { namespace });
    try {
      const { roleId, secretId } = await bao.appRole(uniqueName('stop'), ['reader']);
      await own.core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'approle' }, stringData: { 'secret-id': secretId } },
      });
      await bao.writeKv2('secret', 'at-stop', { v: 'x' });
      const before = new Set(await bao.tokenAccessors());
      await own.secretStore('store', {
        vault: {
          server: openbao.get().access.address,
          path: 'secret',
          auth: { appRole: { roleId, secretRef: { name: 'approle', key: 'secret-id' } } },
        },
      });
      await own.externalSecret('at-stop', {
        secretStoreRef: { name: 'store' },
        data: [{ secretKey: 'v', remoteRef: { key: 'at-stop', property: 'v' } }],
      });
      await own.waitForSecret('at-stop', (d) => d.v === 'x', 'first sync');
      const during = (await bao.tokenAccessors()).filter((a) => !before.has(a));
      expect(during).toHaveLength(1);
      await second.stop();
      const after = (await bao.tokenAccessors()).filter((a) => !before.has(a));
      expect(after).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});

describe('Vault over TLS', () => {
  const tls = usePrivateOpenBao({ tls: true });

  async function tlsStore(extra: Record<string, unknown>): Promise<string> {
    const admin = tls.get().admin;
    await admin.policy('reader', READER);
    const creds = await credentials({ token: await admin.createToken(['reader']) });
    const name = uniqueName('vault-tls');
    await o.secretStore(name, {
      vault: {
        server: tls.get().access.address,
        path: 'secret',
        auth: { tokenSecretRef: { name: creds, key: 'token' } },
        ...extra,
      },
    });
    return name;
  }

  it('verifies the server with caBundle or a caProvider ConfigMap, and refuses it without', async () => {
    const { access, admin } = tls.get();
    expect(access.address).toMatch(/^https:/);
    await admin.writeKv2('secret', 'tls', { v: 'encrypted' });
    const caPem = access.caPem ?? '';
    await o.core.createNamespacedConfigMap({
      namespace: o.namespace,
      body: { metadata: { name: 'vault-ca' }, data: { 'ca.crt': caPem } },
    });
    const bundle = await tlsStore({ caBundle: Buffer.from(caPem).toString('base64') });
    const provider = await tlsStore({ caProvider: { type: 'ConfigMap', name: 'vault-ca', key: 'ca.crt' } });
    const none = await tlsStore({});
    for (const [name, store] of [
      ['tls-bundle', bundle],
      ['tls-provider', provider],
      ['tls-none', none],
    ] as const) {
      await o.externalSecret(name, {
        secretStoreRef: { name: store },
        data: [{ secretKey: 'v', remoteRef: { key: 'tls', property: 'v' } }],
      });
    }
    await o.waitForSecret('tls-bundle', (d) => d.v === 'encrypted', 'a read verified with caBundle');
    await o.waitForSecret('tls-provider', (d) => d.v === 'encrypted', 'a read verified with caProvider');
    const { ready } = await o.waitForReady('tls-none', { status: 'False' });
    expect(ready.message).toMatch(/TLS verification failed/);
    expect(await o.secret('tls-none')).toBeUndefined();
  });
});
