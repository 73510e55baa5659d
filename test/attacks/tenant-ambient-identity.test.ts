// A tenant who may write SecretStores in its namespace tries to make Ferry authenticate as itself
// (the controller's identity, or the node's in the CSI plugin) against a server the tenant runs:
// a loopback HTTPS "credential collector". The process holds ambient credentials of every kind —
// a Google key file (Application Default Credentials), AWS keys in its environment (the SDK's
// default chain, also what Vault auth.iam signs with), and an Azure managed identity — each
// pointing at, or presented to, the collector. Every case first proves the path really leaks
// (the admin's opt-in on: the collector receives the process's credential), then that with the
// default the store is refused before anything is sent, in the controller and in the CSI
// plugin: the collector receives no request at all, and the ExternalSecret's and the store's
// status (or the failed NodePublishVolume) name the rule (store-identity.ts,
// --namespaced-ambient-identity).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController } from '../support/controller.ts';
import { bearerClaims, type CollectedRequest, CredentialCollector } from '../support/credential-collector.ts';
import { call, kubeletContext, publishRequest, startPlugin } from '../support/csi.ts';
import { serviceAccountKeyJson, withoutMetadataServer } from '../support/gcp.ts';
import { KeyVaultTestServer } from '../support/key-vault-server.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';

/** The controller's own identities, as its environment gives them. */
const AMBIENT_EMAIL = 'controller@platform.iam.gserviceaccount.com';
const AMBIENT_KEY_ID = 'AKIACONTROLLERAMBIENT';
const TENANT = '11111111-2222-3333-4444-555555555555';
const RULE = /a SecretStore may not authenticate as Ferry itself .*--namespaced-ambient-identity=on/;

let keyDir: string;
let imds: KeyVaultTestServer;
const saved: Record<string, string | undefined> = {};

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k];
    process.env[k] = v;
  }
}

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'ferry-ambient-'));
  const keyFile = join(keyDir, 'controller-key.json');
  await writeFile(keyFile, serviceAccountKeyJson(AMBIENT_EMAIL));
  // The managed identity's token service (IMDS) belongs to the platform, not to the tenant.
  imds = await KeyVaultTestServer.start({
    tenantId: TENANT,
    kubeIssuer: testbed().kube.server,
    kubeSigningKeyPem: await readFile(join(testbed().pkiDir, 'sa.pub'), 'utf8'),
  });
  imds.identities.add('system');
  withoutMetadataServer();
  setEnv({
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    AWS_ACCESS_KEY_ID: AMBIENT_KEY_ID,
    AWS_SECRET_ACCESS_KEY: 'controller-secret-access-key',
    AWS_EC2_METADATA_DISABLED: 'true',
    AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost,
  });
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await imds?.stop();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

/** A SigV4 signature by the controller's AWS keys, in a header or inside Vault's iam login body. */
function signedByController(text: string | undefined): boolean {
  return (text ?? '').includes(`Credential=${AMBIENT_KEY_ID}/`);
}

interface Case {
  name: string;
  /** The tenant's store, aimed at `collector`. */
  spec(collector: CredentialCollector): Record<string, unknown>;
  /** The request carries the process's own credential. */
  leaked(req: CollectedRequest): boolean;
  /** The field the refusal names. */
  field: RegExp;
}

const CASES: Case[] = [
  {
    name: 'Google Application Default Credentials (gcpsm without auth, endpoint of the tenant)',
    spec: (c) => ({ gcpsm: { projectID: 'tenant-project', transport: 'REST', endpoint: c.url } }),
    leaked: (req) => bearerClaims(req)?.iss === AMBIENT_EMAIL,
    field: /spec\.provider\.gcpsm\.auth sets neither secretRef nor workloadIdentity/,
  },
  {
    name: 'Azure managed identity (AzureStackCloud, any vaultUrl)',
    spec: (c) => ({
      azurekv: {
        vaultUrl: c.url,
        environmentType: 'AzureStackCloud',
        customCloudConfig: { activeDirectoryEndpoint: c.url },
        authType: 'ManagedIdentity',
      },
    }),
    leaked: (req) => bearerClaims(req)?.sub === 'system' && bearerClaims(req)?.tid === TENANT,
    field: /spec\.provider\.azurekv\.authType is ManagedIdentity/,
  },
  {
    name: 'Vault auth.iam without keys (GetCallerIdentity signed with the AWS default chain)',
    spec: (c) => ({
      vault: {
        server: c.url,
        caBundle: Buffer.from(c.caPem).toString('base64'),
        path: 'secret',
        auth: { iam: { vaultRole: 'stolen', vaultAwsIamServerID: 'vault.example.com' } },
      },
    }),
    leaked: (req) => {
      const headers = (JSON.parse(req.body || '{}') as { iam_request_headers?: string }).iam_request_headers;
      return signedByController(Buffer.from(headers ?? '', 'base64').toString('utf8'));
    },
    field: /spec\.provider\.vault\.auth\.iam sets neither secretRef nor jwt/,
  },
  {
    name: 'AWS default chain, with a role assumed on top of it',
    spec: () => ({ aws: { region: 'us-east-1', role: 'arn:aws:iam::123456789012:role/controller-only' } }),
    leaked: (req) => signedByController(req.headers.authorization),
    field: /spec\.provider\.aws\.auth sets neither secretRef nor jwt, so the AWS SDK's default credential chain/,
  },
];

/** A namespace with its own controller and one collector, where the AWS SDK of this process also calls. */
async function tenantSetup(c: Case, namespacedAmbientIdentity: boolean) {
  const collector = await CredentialCollector.start();
  // The platform's AWS endpoints: where the controller's own AWS identity is presented.
  setEnv({ AWS_ENDPOINT_URL_SECRETS_MANAGER: collector.url, AWS_ENDPOINT_URL_STS: collector.url });
  const kc = kubeConfigFor(testbed().kube);
  const o = new Objects(kc, await createNamespace(kc, 'ambient'));
  const ctl = await startController(testbed().kube, {
    namespace: o.namespace,
    namespacedAmbientIdentity,
    // The Vault case names an IAM server ID, an endpoint override the egress rule wants listed.
    namespacedStoreAllowedHosts: [...BED_LOOPBACK_ALLOWED_HOSTS, 'vault.example.com'],
  });
  const store = uniqueName('borrow');
  await o.secretStore(store, c.spec(collector));
  await o.externalSecret('borrowed', {
    secretStoreRef: { name: store },
    data: [{ secretKey: 'v', remoteRef: { key: 'anything' } }],
  });
  return {
    collector,
    o,
    store,
    async stop() {
      await ctl.stop();
      await collector.stop();
    },
  };
}

describe("a tenant's SecretStore borrowing the controller's identity", () => {
  it.each(CASES)('$name: sent only with the admin opt-in, refused by default', async (c) => {
    // Setup: with the opt-in, the path really hands the controller's credential to the tenant's server.
    const open = await tenantSetup(c, true);
    try {
      await eventually('the collector receives the controller credential', async () =>
        open.collector.requests.some(c.leaked) ? true : undefined,
      );
    } finally {
      await open.stop();
    }

    // The attack: the same store under the default is refused before any request is made.
    const closed = await tenantSetup(c, false);
    try {
      const { ready } = await closed.o.waitForReady('borrowed', { status: 'False', message: RULE });
      expect(ready.message).toMatch(c.field);
      const store = await eventually('the SecretStore status', async () => {
        const s = await closed.o.getSecretStore(closed.store);
        const cond = s.status?.conditions?.find((x) => x.type === 'Ready');
        return cond?.status === 'False' ? cond : undefined;
      });
      expect(store.message).toMatch(RULE);
      await eventually('a Warning Event naming the rule', async () =>
        (await closed.o.events()).some(
          (e) => e.involved === 'borrowed' && e.type === 'Warning' && RULE.test(e.message ?? ''),
        )
          ? true
          : undefined,
      );
      // Both the ExternalSecret and the store validation were refused: nothing reached the collector.
      expect(closed.collector.requests).toEqual([]);
    } finally {
      await closed.stop();
    }
  });
});

describe("a tenant's SecretStore borrowing the node's identity through the CSI plugin", () => {
  it.each(CASES)('$name: sent only with the admin opt-in, refused by default', async (c) => {
    const kc = kubeConfigFor(testbed().kube);
    const o = new Objects(kc, await createNamespace(kc, 'ambient-csi'));
    const dir = join(testbed().runDir, `ambient-csi-${randomBytes(3).toString('hex')}`);

    /** A pod's volume of an ExternalSecret through the tenant's store, published by a plugin. */
    const mount = async (namespacedAmbientIdentity: boolean) => {
      const collector = await CredentialCollector.start();
      setEnv({ AWS_ENDPOINT_URL_SECRETS_MANAGER: collector.url, AWS_ENDPOINT_URL_STS: collector.url });
      const store = uniqueName('borrow');
      await o.secretStore(store, c.spec(collector));
      const es = uniqueName('volume');
      await o.externalSecret(es, {
        secretStoreRef: { name: store },
        target: { creationPolicy: 'None' },
        data: [{ secretKey: 'v', remoteRef: { key: 'anything' } }],
      });
      const plugin = await startPlugin(testbed().kube, join(dir, es), {
        namespacedAmbientIdentity,
        namespacedStoreAllowedHosts: [...BED_LOOPBACK_ALLOWED_HOSTS, 'vault.example.com'],
      });
      const volumeId = `csi-${randomBytes(8).toString('hex')}`;
      const target = join(dir, 'pods', volumeId, 'mount');
      await mkdir(join(dir, 'pods', volumeId), { recursive: true });
      const pod = { namespace: o.namespace, name: uniqueName('pod'), serviceAccount: 'default' };
      const context = await kubeletContext(testbed().kube, pod, es);
      try {
        // Retried as kubelet retries, while the plugin's watch catches up with the new objects.
        const err = await eventually('NodePublishVolume to fail on the store', async () => {
          const e = await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
            () => undefined,
            (x: ServiceError) => x,
          );
          return e && !/does not exist/.test(e.details) ? e : undefined;
        });
        return { collector, err };
      } finally {
        await plugin.stop();
        await collector.stop();
      }
    };

    const open = await mount(true);
    expect(open.collector.requests.some(c.leaked)).toBe(true);

    const closed = await mount(false);
    expect(closed.err.details).toMatch(RULE);
    expect(closed.err.details).toMatch(c.field);
    expect(closed.collector.requests).toEqual([]);
  });
});
