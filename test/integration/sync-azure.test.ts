// Azure Key Vault end to end, against THE SPEC-FAITHFUL KEY VAULT TEST SERVER in this project's
// test code (test/support/key-vault-server.ts), not a third-party server: none can be had here.
// The real @azure/keyvault-secrets and @azure/identity clients talk to it over HTTPS, the
// controller runs against the real API server, and workload identity presents a ServiceAccount
// token minted by that API server's TokenRequest.
import { createPublicKey, generateKeyPairSync, type JsonWebKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, secretWrites, startController } from '../support/controller.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
import { Objects } from '../support/objects.ts';
import { selfSigned } from '../support/self-signed.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const TENANT = 'ferry-test-tenant';
let kv: KeyVaultTestServer;
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  kv = await KeyVaultTestServer.start({
    tenantId: TENANT,
    kubeIssuer: testbed().kube.server,
    kubeSigningKeyPem: await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8'),
  });
  kv.trustInThisProcess();
  // @azure/identity's managed identity asks IMDS here instead of 169.254.169.254.
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = kv.imdsHost;
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'azure');
  // The admin's opt-in: this file's SecretStores also show managed identity working (refused by
  // default, test/attacks/tenant-ambient-identity.test.ts).
  ctl = await startController(testbed().kube, { namespace, namespacedAmbientIdentity: true });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
  await kv?.stop();
  delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
});

const logins = (where: Record<string, string>) =>
  ctl.controller.metrics.total(ctl.controller.metrics.providerLogins as never, { provider: 'azurekv', ...where });

/** The store fields that point the real clients at the test server (a custom cloud). */
const local = () => ({
  vaultUrl: kv.vaultUrl,
  environmentType: 'AzureStackCloud',
  customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
});

/** A SecretStore authenticating as a service principal with a client secret from a Secret. */
async function spStore(secret = 'app-secret', clientId = 'app-1'): Promise<string> {
  kv.apps.set('app-1', { clientId: 'app-1', secret: 'app-secret' });
  const name = uniqueName('azure');
  await o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { metadata: { name: `${name}-sp` }, stringData: { id: clientId, secret } },
  });
  await o.secretStore(name, {
    azurekv: {
      ...local(),
      tenantId: TENANT,
      authSecretRef: {
        clientId: { name: `${name}-sp`, key: 'id' },
        clientSecret: { name: `${name}-sp`, key: 'secret' },
      },
    },
  });
  return name;
}

describe('Azure Key Vault (spec-faithful test server, not a third-party one)', () => {
  it('syncs current and pinned versions, properties, decoding and extract; the store validates', async () => {
    const first = kv.setSecret('db', JSON.stringify({ user: 'app', pass: 'p1' }));
    kv.setSecret('db', JSON.stringify({ user: 'app', pass: 'p2', tls: { ca: 'ca-pem' } }));
    kv.setSecret('b64', Buffer.from('decoded').toString('base64'));
    const store = await spStore();
    await o.externalSecret('az-all', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'pass', remoteRef: { key: 'db', property: 'pass' } },
        { secretKey: 'first', remoteRef: { key: 'secret/db', property: 'pass', version: first } },
        { secretKey: 'ca', remoteRef: { key: 'db', property: 'tls.ca' } },
        { secretKey: 'plain', remoteRef: { key: 'b64', decodingStrategy: 'Base64' } },
      ],
      dataFrom: [{ extract: { key: 'secret/db' } }],
    });
    await o.waitForSecret('az-all', (d) => d.pass === 'p2', 'the synced Secret');
    expect(await o.secretText('az-all')).toMatchObject({
      pass: 'p2',
      first: 'p1',
      ca: 'ca-pem',
      user: 'app',
      plain: 'decoded',
      tls: '{"ca":"ca-pem"}',
    });
    const ready = await eventually('the store validated', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'True', reason: 'Valid' });
    // The client followed the bearer challenge before its first authenticated call.
    expect(kv.counts.challenges).toBeGreaterThan(0);
  });

  it('rotates: a new version reaches the Secret on the next refresh', async () => {
    kv.setSecret('rotating', 'one');
    const store = await spStore();
    await o.externalSecret('az-rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'rotating' } }],
    });
    await o.waitForSecret('az-rotating', (d) => d.v === 'one', 'first value');
    kv.setSecret('rotating', 'two');
    await o.waitForSecret('az-rotating', (d) => d.v === 'two', 'the rotated value');
  });

  it('reads each secret once for 30 ExternalSecrets on 3 secrets, with one token', async () => {
    for (const k of ['s1', 's2', 's3']) kv.setSecret(`shared-${k}`, `value-${k}`);
    // Counted before the store exists: validating it logs in at once, and may beat this line.
    const loginsBefore = await logins({ method: 'clientSecret', outcome: 'ok' });
    const store = await spStore();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        o.externalSecret(`az-fan-${i}`, {
          secretStoreRef: { name: store },
          data: [{ secretKey: 'v', remoteRef: { key: `shared-s${(i % 3) + 1}` } }],
        }),
      ),
    );
    for (let i = 0; i < 30; i++) {
      await o.waitForSecret(`az-fan-${i}`, (d) => d.v === `value-s${(i % 3) + 1}`, `az-fan-${i}`);
    }
    expect(kv.reads('shared-s1') + kv.reads('shared-s2') + kv.reads('shared-s3')).toBe(3);
    expect((await logins({ method: 'clientSecret', outcome: 'ok' })) - loginsBefore).toBe(1);
  });

  it('keeps the Secret while a version is disabled (NotFound, SecretDisabled said so), and recovers', async () => {
    const version = kv.setSecret('toggled', 'enabled-value');
    const store = await spStore();
    await o.externalSecret('az-disabled', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'toggled', version } }],
    });
    const before = await o.waitForSecret('az-disabled', (d) => d.v === 'enabled-value', 'first sync');
    kv.setEnabled('toggled', version, false);
    const { ready } = await o.waitForReady('az-disabled', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(
      /remote key "toggled": NotFound: Azure SecretDisabled reading "toggled" version \w+: the secret version is disabled/,
    );
    expect(ready.message).toMatch(/deletionPolicy Retain keeps the Secret/);
    expect((await o.secret('az-disabled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    kv.setEnabled('toggled', version, true);
    await o.waitForReady('az-disabled', { status: 'True' }, 30_000);
    expect((await o.secret('az-disabled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('reports a deleted secret as SecretNotFound and keeps the Secret (deletionPolicy Retain)', async () => {
    kv.setSecret('removed', 'kept-value');
    const store = await spStore();
    await o.externalSecret('az-deleted', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'v', remoteRef: { key: 'removed' } }],
    });
    const before = await o.waitForSecret('az-deleted', (d) => d.v === 'kept-value', 'first sync');
    kv.deleteSecret('removed');
    const { ready } = await o.waitForReady('az-deleted', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/remote key "removed": NotFound: Azure SecretNotFound reading "removed"/);
    expect((await o.secret('az-deleted'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('reads certificates as their DER bytes and keys as ESO’s JWK JSON, current and pinned versions', async () => {
    const oldPem = await selfSignedPem('old-client');
    const pem = await selfSignedPem('db-client');
    const certPem = (p: string) => p.slice(0, p.indexOf('-----BEGIN PRIVATE KEY-----'));
    const oldCert = kv.setCertificate('db-client-cert', certPem(oldPem));
    kv.setCertificate('db-client-cert', certPem(pem), { tags: { owner: 'db-team' } });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const rsaVersion = kv.setKey('encryption-pubkey', rsa);
    kv.setKey('encryption-pubkey', ec, { tags: { purpose: 'signing' } });
    const store = await spStore();
    await o.externalSecret('az-objects', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'cert', remoteRef: { key: 'cert/db-client-cert' } },
        { secretKey: 'old-cert', remoteRef: { key: 'cert/db-client-cert', version: oldCert } },
        { secretKey: 'cert-tags', remoteRef: { key: 'cert/db-client-cert', metadataPolicy: 'Fetch' } },
        { secretKey: 'ec', remoteRef: { key: 'key/encryption-pubkey' } },
        { secretKey: 'rsa', remoteRef: { key: 'key/encryption-pubkey', version: rsaVersion } },
        { secretKey: 'rsa-e', remoteRef: { key: 'key/encryption-pubkey', version: rsaVersion, property: 'e' } },
        {
          secretKey: 'key-purpose',
          remoteRef: { key: 'key/encryption-pubkey', metadataPolicy: 'Fetch', property: 'purpose' },
        },
      ],
    });
    const secret = await o.waitForSecret('az-objects', (d) => d['key-purpose'] === 'signing', 'the synced Secret');
    const bytes = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64');
    // The certificate's DER, byte for byte: what ESO returns as cert/<name> ("raw value").
    expect(bytes('cert').equals(new X509Certificate(certPem(pem)).raw)).toBe(true);
    expect(bytes('old-cert').equals(new X509Certificate(certPem(oldPem)).raw)).toBe(true);
    expect(JSON.parse(bytes('cert-tags').toString())).toEqual({ owner: 'db-team' });
    // The public JWK as ESO writes it: kid, kty, key_ops, then n/e or crv/x/y, base64url.
    const kid = (v: string) => `${kv.vaultUrl}/keys/encryption-pubkey/${v}`;
    const rsaJwk = rsa.export({ format: 'jwk' });
    expect(bytes('rsa').toString()).toBe(
      JSON.stringify({
        kid: kid(rsaVersion),
        kty: 'RSA',
        key_ops: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
        n: rsaJwk.n,
        e: rsaJwk.e,
      }),
    );
    expect(bytes('rsa-e').toString()).toBe('AQAB');
    const ecJson = JSON.parse(bytes('ec').toString()) as Record<string, unknown>;
    expect(Object.keys(ecJson)).toEqual(['kid', 'kty', 'key_ops', 'crv', 'x', 'y']);
    expect(
      createPublicKey({
        key: { kty: 'EC', crv: ecJson.crv, x: ecJson.x, y: ecJson.y } as JsonWebKey,
        format: 'jwk',
      }).equals(ec),
    ).toBe(true);
    // One read per object and version, shared by the items that name it.
    expect(kv.reads('cert/db-client-cert')).toBe(3);
    expect(kv.reads('key/encryption-pubkey')).toBe(3);
  });

  it('reports a missing certificate or key as NotFound and keeps the Secret (deletionPolicy Retain)', async () => {
    const pem = await selfSignedPem('gone');
    kv.setCertificate('gone-cert', pem.slice(0, pem.indexOf('-----BEGIN PRIVATE KEY-----')));
    kv.setKey('gone-key', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    const store = await spStore();
    await o.externalSecret('az-objects-gone', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [
        { secretKey: 'cert', remoteRef: { key: 'cert/gone-cert' } },
        { secretKey: 'key', remoteRef: { key: 'key/gone-key' } },
      ],
    });
    const before = await o.waitForSecret('az-objects-gone', (d) => d.key?.includes('P-384') === true, 'first sync');
    kv.deleteObject('cert', 'gone-cert');
    const { ready } = await o.waitForReady('az-objects-gone', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(
      /remote key "cert\/gone-cert": NotFound: Azure CertificateNotFound reading "cert\/gone-cert"/,
    );
    expect((await o.secret('az-objects-gone'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    kv.setCertificate('gone-cert', pem.slice(0, pem.indexOf('-----BEGIN PRIVATE KEY-----')));
    await o.waitForReady('az-objects-gone', { status: 'True' }, 30_000);
    kv.deleteObject('key', 'gone-key');
    const missingKey = await o.waitForReady('az-objects-gone', { status: 'False', reason: 'SecretMissing' });
    expect(missingKey.ready.message).toMatch(
      /remote key "key\/gone-key": NotFound: Azure KeyNotFound reading "key\/gone-key"/,
    );
    expect((await o.secret('az-objects-gone'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('refuses unknown object types with a clear status message', async () => {
    const store = await spStore();
    await o.externalSecret('az-other', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'certificate/tls' } }],
    });
    const { ready } = await o.waitForReady('az-other', { status: 'False' });
    expect(ready.message).toMatch(/Invalid: Azure remote key "certificate\/tls": unknown object type "certificate\/"/);
    expect(await o.secret('az-other')).toBeUndefined();
  });

  it('keeps the Secret while Key Vault is down, even with deletionPolicy Delete, and recovers', async () => {
    kv.setSecret('outage', 'steady');
    const store = await spStore();
    await o.externalSecret('az-outage', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'outage' } }],
    });
    const before = await o.waitForSecret('az-outage', (d) => d.v === 'steady', 'first sync');
    await kv.stop();
    try {
      const { ready } = await o.waitForReady('az-outage', { status: 'False', reason: 'SecretSyncedError' });
      expect(ready.message).toMatch(/remote key "outage": Transient: Azure reading "outage": no answer/);
      expect((await o.secret('az-outage'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      await kv.listen();
    }
    await o.waitForReady('az-outage', { status: 'True', reason: 'SecretSynced' }, 60_000);
    expect((await o.secret('az-outage'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'az-outage')).toBe(1);
  });

  it('honours 429 Retry-After: keeps the Secret, pauses the whole store, recovers', async () => {
    kv.setSecret('busy', 'calm');
    const store = await spStore();
    await o.externalSecret('az-throttled', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'v', remoteRef: { key: 'busy' } }],
    });
    const before = await o.waitForSecret('az-throttled', (d) => d.v === 'calm', 'first sync');
    kv.throttle = { retryAfterSeconds: 3, name: 'busy' };
    try {
      const { ready } = await o.waitForReady('az-throttled', { status: 'False', message: /Throttled/ });
      expect(ready.message).toMatch(/Throttled: Azure Throttled reading "busy": Request was not processed/);
      const throttledAt = kv.counts.throttled;
      const since = Date.now();
      // Retry-After asks for 3 s: meanwhile the store makes no further calls.
      await eventually('1.5 s after the throttle', async () => (Date.now() - since > 1500 ? true : undefined));
      expect(kv.counts.throttled).toBe(throttledAt);
      expect((await o.secret('az-throttled'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    } finally {
      kv.throttle = undefined;
    }
    await o.waitForReady('az-throttled', { status: 'True' }, 30_000);
  });

  it('reports Denied for a wrong client secret, counting the refused login', async () => {
    kv.setSecret('guarded', 'x');
    const store = await spStore('not-the-secret');
    await o.externalSecret('az-denied', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'guarded' } }],
    });
    const { ready } = await o.waitForReady('az-denied', { status: 'False' });
    expect(ready.message).toMatch(
      /Denied: Azure obtaining a token \(auth clientSecret\): invalid_client: AADSTS7000215/,
    );
    expect(ready.message).not.toMatch(/not-the-secret/);
    expect(await logins({ method: 'clientSecret', outcome: 'Denied' })).toBeGreaterThan(0);
  });

  it('authenticates with a client certificate', async () => {
    kv.setSecret('via-cert', 'certified');
    const pem = await selfSignedPem();
    kv.apps.set('app-cert', { clientId: 'app-cert', certificatePem: pem });
    const name = uniqueName('azure-cert');
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name }, stringData: { id: 'app-cert', 'tls.pem': pem } },
    });
    await o.secretStore(name, {
      azurekv: {
        ...local(),
        tenantId: TENANT,
        authSecretRef: { clientId: { name, key: 'id' }, clientCertificate: { name, key: 'tls.pem' } },
      },
    });
    await o.externalSecret('az-cert-auth', {
      secretStoreRef: { name },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-cert' } }],
    });
    await o.waitForSecret('az-cert-auth', (d) => d.v === 'certified', 'a read with a client certificate');
    expect(kv.counts.tokens.clientCertificate).toBeGreaterThan(0);
  });

  it('authenticates with workload identity: a TokenRequest token for the ServiceAccount as the assertion', async () => {
    kv.setSecret('via-wi', 'federated');
    const sa = uniqueName('azure-wi');
    const subject = `system:serviceaccount:${o.namespace}:${sa}`;
    kv.apps.set('app-wi', { clientId: 'app-wi', federatedSubject: subject });
    await o.core.createNamespacedServiceAccount({
      namespace: o.namespace,
      body: {
        metadata: {
          name: sa,
          annotations: { 'azure.workload.identity/client-id': 'app-wi', 'azure.workload.identity/tenant-id': TENANT },
        },
      },
    });
    const store = uniqueName('azure-wi');
    await o.secretStore(store, {
      azurekv: { ...local(), authType: 'WorkloadIdentity', serviceAccountRef: { name: sa } },
    });
    await o.externalSecret('az-wi', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-wi' } }],
    });
    await o.waitForSecret('az-wi', (d) => d.v === 'federated', 'a read with workload identity');
    expect(kv.counts.tokens.federated).toBeGreaterThan(0);
    expect(await logins({ method: 'workloadIdentity', outcome: 'ok' })).toBe(1);

    // A ServiceAccount the app does not federate with is refused by subject.
    const other = uniqueName('azure-wi-other');
    await o.core.createNamespacedServiceAccount({
      namespace: o.namespace,
      body: { metadata: { name: other, annotations: { 'azure.workload.identity/client-id': 'app-wi' } } },
    });
    const refused = uniqueName('azure-wi-refused');
    await o.secretStore(refused, {
      azurekv: { ...local(), tenantId: TENANT, authType: 'WorkloadIdentity', serviceAccountRef: { name: other } },
    });
    await o.externalSecret('az-wi-refused', {
      secretStoreRef: { name: refused },
      data: [{ secretKey: 'v', remoteRef: { key: 'via-wi' } }],
    });
    const { ready } = await o.waitForReady('az-wi-refused', { status: 'False' });
    expect(ready.message).toMatch(/Denied: .*AADSTS70021: No matching federated identity record/);
  });

  it('authenticates with a managed identity (system-assigned, and user-assigned by identityId)', async () => {
    kv.setSecret('via-mi', 'managed');
    kv.identities.add('system');
    kv.identities.add('user-assigned-1');
    for (const [es, identityId] of [
      ['az-mi-system', undefined],
      ['az-mi-user', 'user-assigned-1'],
    ] as const) {
      const store = uniqueName('azure-mi');
      await o.secretStore(store, { azurekv: { ...local(), authType: 'ManagedIdentity', identityId } });
      await o.externalSecret(es, {
        secretStoreRef: { name: store },
        data: [{ secretKey: 'v', remoteRef: { key: 'via-mi' } }],
      });
      await o.waitForSecret(es, (d) => d.v === 'managed', `a read with managed identity (${es})`);
    }
    expect(kv.counts.tokens.imds).toBeGreaterThanOrEqual(2);
  });
});

/** PEM of a self-signed certificate followed by its unencrypted private key. */
async function selfSignedPem(cn = 'app-cert'): Promise<string> {
  const { cert, key } = await selfSigned(cn);
  return `${cert}${key}`;
}
