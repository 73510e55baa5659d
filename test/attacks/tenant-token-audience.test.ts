// A tenant's SecretStore names its own Vault server and asks Ferry to log in with a ServiceAccount
// token for the API server's own audience: that token is a credential to the cluster itself,
// handed to the tenant's server. Rule: a SecretStore's token audiences are never the API server's
// (docs/security.md, "ServiceAccount tokens a store asks for"): refused at admission where the
// value is fixed (blank, kubernetes.default.svc and its variants, no audiences for Vault
// Kubernetes auth) and in code always, the API server's published issuer included. The server here
// stands in for the tenant's Vault and keeps every token it is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { startTokenRecordingVault, type TokenRecordingVault } from '../support/token-recording-vault.ts';
import { eventually } from '../support/wait.ts';

let ctl: RunningController;
let o: Objects;
let vaultServer: TokenRecordingVault;
let address: string;
const clusterStores: string[] = [];

beforeAll(async () => {
  vaultServer = await startTokenRecordingVault();
  address = vaultServer.address;
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'token-audience'));
  await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: 'app' } } });
  ctl = await startController(testbed().kube, { namespace: o.namespace });
});

afterAll(async () => {
  for (const name of clusterStores) {
    await o.custom.deleteClusterCustomObject({
      group: 'ferry.dev',
      version: 'v1alpha1',
      plural: 'clustersecretstores',
      name,
    });
  }
  await ctl?.stop();
  await vaultServer?.close();
});

function vault(auth: Record<string, unknown>) {
  return { vault: { server: address, path: 'secret', auth } };
}

async function readThrough(storeRef: { name: string; kind?: 'SecretStore' | 'ClusterSecretStore' }): Promise<string> {
  const name = uniqueName('es');
  await o.externalSecret(name, {
    secretStoreRef: storeRef,
    refreshInterval: '1h',
    data: [{ secretKey: 'v', remoteRef: { key: 'k', property: 'v' } }],
  });
  return name;
}

describe("a SecretStore asking for a token for the API server's own audience", () => {
  it('logs in with the audience the provider expects (setup)', async () => {
    const store = uniqueName('vault');
    await o.secretStore(
      store,
      vault({ kubernetes: { role: 'setup', serviceAccountRef: { name: 'app', audiences: ['vault'] } } }),
    );
    const es = await readThrough({ name: store });
    await o.waitForSecret(es, (d) => d.v === 'from the tenant', 'a read after the login');
    expect(vaultServer.received.filter((r) => r.role === 'setup').map((r) => r.aud)).toContainEqual(['vault']);
  });

  it('is refused at admission, naming the field, for the fixed spellings', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { kubernetes: { role: 'r', serviceAccountRef: { name: 'app' } } },
        /serviceAccountRef\.audiences.*needs audiences/,
      ],
      [
        {
          kubernetes: { role: 'r', serviceAccountRef: { name: 'app', audiences: ['https://kubernetes.default.svc'] } },
        },
        /serviceAccountRef\.audiences.*API server's own/,
      ],
      [
        { kubernetes: { role: 'r', serviceAccountRef: { name: 'app', audiences: ['vault', ''] } } },
        /serviceAccountRef\.audiences.*API server's own/,
      ],
      [
        {
          jwt: {
            role: 'r',
            kubernetesServiceAccountToken: {
              serviceAccountRef: { name: 'app' },
              audiences: ['kubernetes.default.svc.cluster.local'],
            },
          },
        },
        /kubernetesServiceAccountToken\.audiences.*API server's own/,
      ],
    ];
    for (const [auth, message] of cases) {
      await expect(o.secretStore(uniqueName('refused'), vault(auth)), JSON.stringify(auth)).rejects.toThrow(message);
    }
    // A ClusterSecretStore, written by the platform team, may (the default of Vault's Kubernetes auth).
    const css = uniqueName('css-default-audience');
    clusterStores.push(css);
    await o.clusterSecretStore(css, {
      provider: vault({ kubernetes: { role: 'cluster', serviceAccountRef: { name: 'app' } } }),
    });
    const es = await readThrough({ name: css, kind: 'ClusterSecretStore' });
    await o.waitForSecret(es, (d) => d.v === 'from the tenant', 'a read through the ClusterSecretStore');
    expect(vaultServer.received.some((r) => r.role === 'cluster')).toBe(true);
  });

  it("is refused in code for the API server's issuer, which admission cannot know: no token leaves", async () => {
    const issuer = testbed().kube.server;
    const store = uniqueName('vault-issuer');
    // Admitted: the issuer is an address of this cluster's choosing, not a fixed spelling.
    await o.secretStore(
      store,
      vault({ kubernetes: { role: 'issuer', serviceAccountRef: { name: 'app', audiences: [issuer] } } }),
    );
    const es = await readThrough({ name: store });
    const { ready } = await o.waitForReady(es, { status: 'False' });
    expect(ready.message).toContain('serviceAccountRef.audiences');
    expect(ready.message).toContain(`${issuer} is the API server's own audience, refused in a SecretStore`);
    await eventually('the store reported not ready', async () => {
      const s = await o.getSecretStore(store);
      const cond = (s.status?.conditions as { type: string; status: string }[] | undefined)?.find(
        (c) => c.type === 'Ready',
      );
      return cond?.status === 'False' ? true : undefined;
    });
    expect(vaultServer.received.filter((r) => r.role === 'issuer')).toEqual([]);
    expect(await o.secret(es)).toBeUndefined();
  });

  it('is refused in code for an audience the admin names (--api-audiences)', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const other = new Objects(kc, await createNamespace(kc, 'api-audiences'));
    await other.core.createNamespacedServiceAccount({
      namespace: other.namespace,
      body: { metadata: { name: 'app' } },
    });
    const named = await startController(testbed().kube, {
      namespace: other.namespace,
      apiAudiences: ['https://api.cluster.example'],
    });
    try {
      const ok = uniqueName('vault');
      await other.secretStore(
        ok,
        vault({ kubernetes: { role: 'named-ok', serviceAccountRef: { name: 'app', audiences: ['vault'] } } }),
      );
      const refused = uniqueName('vault');
      await other.secretStore(
        refused,
        vault({
          kubernetes: {
            role: 'named',
            serviceAccountRef: { name: 'app', audiences: ['https://api.cluster.example/'] },
          },
        }),
      );
      const read = (store: string) => ({
        secretStoreRef: { name: store },
        data: [{ secretKey: 'v', remoteRef: { key: 'k', property: 'v' } }],
      });
      // Setup: this controller logs in for another audience.
      await other.externalSecret('ok', read(ok));
      await other.waitForSecret('ok', (d) => d.v === 'from the tenant', 'a read after the login');
      await other.externalSecret('named', read(refused));
      const { ready } = await other.waitForReady('named', { status: 'False' });
      expect(ready.message).toContain(
        "https://api.cluster.example/ is the API server's own audience, refused in a SecretStore",
      );
      expect(vaultServer.received.filter((r) => r.role === 'named')).toEqual([]);
    } finally {
      await named.stop();
    }
  });
});
