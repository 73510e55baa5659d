// Azure Key Vault settings ESO manifests carry: the tenant ID read from a Secret
// (authSecretRef.tenantId, for a service principal and for workload identity with the client ID
// from a Secret too), and customCloudConfig with ESO's other endpoints and useAzureSDK. Against
// THE SPEC-FAITHFUL KEY VAULT TEST SERVER in this project's test code (test/support/
// key-vault-server.ts), driven by the real @azure/keyvault-secrets and @azure/identity clients;
// the test server refuses tokens asked for any tenant but its own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const TENANT = 'ferry-tenant-from-secret';
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
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'azure-tenant');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
  kv.apps.set('app-1', { clientId: 'app-1', secret: 'app-secret' });
});

afterAll(async () => {
  await ctl?.stop();
  await kv?.stop();
});

/** The store fields that point the real clients at the test server (a custom cloud). */
const local = () => ({
  vaultUrl: kv.vaultUrl,
  environmentType: 'AzureStackCloud',
  customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
});

async function secret(data: Record<string, string>): Promise<string> {
  const name = uniqueName('azure-creds');
  await o.core.createNamespacedSecret({ namespace: o.namespace, body: { metadata: { name }, stringData: data } });
  return name;
}

/** A service principal store whose tenant comes from the Secret (`tenant`), and `extra` fields. */
async function spStore(tenant: string, extra: Record<string, unknown> = {}): Promise<string> {
  const creds = await secret({ id: 'app-1', secret: 'app-secret', tenant });
  const name = uniqueName('azure');
  await o.secretStore(name, {
    azurekv: {
      ...local(),
      authSecretRef: {
        clientId: { name: creds, key: 'id' },
        clientSecret: { name: creds, key: 'secret' },
        tenantId: { name: creds, key: 'tenant' },
      },
      ...extra,
    },
  });
  return name;
}

async function read(name: string, store: string, key: string): Promise<void> {
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    data: [{ secretKey: 'v', remoteRef: { key } }],
  });
}

describe('Azure Key Vault: tenant from a Secret, custom cloud settings', () => {
  it('a service principal takes its tenant from authSecretRef.tenantId (no spec tenantId)', async () => {
    kv.setSecret('tenant-read', 'from-secret-tenant');
    await read('sp-tenant', await spStore(TENANT), 'tenant-read');
    await o.waitForSecret('sp-tenant', (d) => d.v === 'from-secret-tenant', 'a read with the tenant from a Secret');

    // The same store with another tenant in the Secret: the vault's challenge names its own tenant,
    // which the credential (built for the Secret's tenant) refuses to ask for; no Secret is made.
    await read('sp-other-tenant', await spStore('some-other-tenant'), 'tenant-read');
    const { ready } = await o.waitForReady('sp-other-tenant', { status: 'False' });
    expect(ready.message).toMatch(/Denied: .*not configured to acquire tokens for tenant ferry-tenant-from-secret/);
    expect(await o.secret('sp-other-tenant')).toBeUndefined();
  });

  it('refuses a store whose tenantId and authSecretRef.tenantId disagree, naming both fields', async () => {
    kv.setSecret('tenant-conflict', 'never-read');
    const before = kv.counts.tokens.clientSecret;
    await read('sp-conflict', await spStore('tenant-in-secret-x1', { tenantId: TENANT }), 'tenant-conflict');
    const { ready } = await o.waitForReady('sp-conflict', { status: 'False' });
    expect(ready.message).toMatch(
      /Invalid: .*spec\.provider\.azurekv\.tenantId and authSecretRef\.tenantId \(Secret .* key "tenant"\) name different tenants/,
    );
    // The Secret's tenant ID is not repeated in the status, and Entra was never asked.
    expect(ready.message).not.toContain('tenant-in-secret-x1');
    expect(kv.counts.tokens.clientSecret).toBe(before);
    expect(await o.secret('sp-conflict')).toBeUndefined();

    // When both name the same tenant (ESO's documented example sets both), the store works.
    await read('sp-agree', await spStore(TENANT, { tenantId: TENANT }), 'tenant-conflict');
    await o.waitForSecret('sp-agree', (d) => d.v === 'never-read', 'a read with agreeing tenant IDs');
  });

  it('workload identity takes clientId and tenantId from authSecretRef instead of ServiceAccount annotations', async () => {
    kv.setSecret('wi-secretref', 'federated-from-secret');
    const sa = uniqueName('azure-wi');
    kv.apps.set('app-wi-ref', {
      clientId: 'app-wi-ref',
      federatedSubject: `system:serviceaccount:${o.namespace}:${sa}`,
    });
    // As in ESO's azkv-workload-identity-secretref example: the ServiceAccount has no annotations.
    await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: sa } } });
    const creds = await secret({ clientId: 'app-wi-ref', tenantId: TENANT });
    const store = uniqueName('azure-wi');
    await o.secretStore(store, {
      azurekv: {
        ...local(),
        tenantId: TENANT,
        authType: 'WorkloadIdentity',
        serviceAccountRef: { name: sa },
        authSecretRef: { clientId: { name: creds, key: 'clientId' }, tenantId: { name: creds, key: 'tenantId' } },
      },
    });
    const federatedBefore = kv.counts.tokens.federated;
    await read('wi-secretref', store, 'wi-secretref');
    await o.waitForSecret('wi-secretref', (d) => d.v === 'federated-from-secret', 'a workload identity read');
    expect(kv.counts.tokens.federated).toBeGreaterThan(federatedBefore);
  });

  it('accepts useAzureSDK and customCloudConfig keyVaultEndpoint, keyVaultDNSSuffix, resourceManagerEndpoint (no effect)', async () => {
    kv.setSecret('custom-cloud', 'through-custom-cloud');
    const store = await spStore(TENANT, {
      useAzureSDK: true,
      customCloudConfig: {
        activeDirectoryEndpoint: `${kv.authorityHost}/`,
        keyVaultEndpoint: 'https://vault.local.azurestack.external/',
        keyVaultDNSSuffix: 'vault.local.azurestack.external',
        resourceManagerEndpoint: 'https://management.local.azurestack.external/',
      },
    });
    await read('custom-cloud', store, 'custom-cloud');
    await o.waitForSecret('custom-cloud', (d) => d.v === 'through-custom-cloud', 'a read in a custom cloud');
  });

  it('refuses at admission what ESO refuses or Ferry cannot use, naming the field', async () => {
    const refused = async (azurekv: Record<string, unknown>) => {
      try {
        await o.secretStore(uniqueName('azure-bad'), { azurekv: { vaultUrl: kv.vaultUrl, ...azurekv } });
      } catch (err) {
        return String((err as { body?: unknown }).body ?? err);
      }
      return 'accepted';
    };
    const ref = { name: 'x', key: 'k' };
    expect(await refused({ authSecretRef: { clientId: ref, clientSecret: ref } })).toMatch(
      /spec\.provider\.azurekv\.tenantId: Required value: authType ServicePrincipal needs tenantId or authSecretRef\.tenantId/,
    );
    expect(
      await refused({
        authType: 'WorkloadIdentity',
        serviceAccountRef: { name: 'sa' },
        authSecretRef: { clientId: ref, clientSecret: ref },
      }),
    ).toMatch(
      /spec\.provider\.azurekv\.authSecretRef: Forbidden: authType WorkloadIdentity takes only clientId and tenantId/,
    );
    expect(await refused({ authType: 'ManagedIdentity', authSecretRef: { clientId: ref } })).toMatch(
      /spec\.provider\.azurekv\.authSecretRef: Forbidden: authSecretRef is not used with authType ManagedIdentity/,
    );
    expect(await refused({ environmentType: 'AzureStackCloud', authType: 'ManagedIdentity' })).toMatch(
      /spec\.provider\.azurekv\.customCloudConfig: Required value: customCloudConfig is required with environmentType AzureStackCloud/,
    );
    // customCloudConfig with a built-in cloud is accepted (ESO: its activeDirectoryEndpoint replaces the authority).
    expect(
      await refused({
        environmentType: 'ChinaCloud',
        authType: 'ManagedIdentity',
        customCloudConfig: { activeDirectoryEndpoint: 'https://login.partner.microsoftonline.cn/' },
      }),
    ).toBe('accepted');
  });
});
