// The CSI node plugin's own identity, as root on any node can take it (the plugin pod's
// ServiceAccount token is on the node's disk). Against a private API server holding the chart's
// RBAC (csiNode.enabled, one credential namespace): used directly, the token reads no Secret and
// mints no token outside what the chart grants; then the plugin runs as that identity through a
// scenario that needs every rule, each rule is removed in turn, and the test shows what breaks.
// The plugin's refusal to serve without podInfoOnMount is shown here too (a CSIDriver the shared
// bed's other tests must not see changed).
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ServiceError } from '@grpc/grpc-js';
import {
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  StorageV1Api,
  setHeaderOptions,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSI_TEST_TOKEN_REQUESTS,
  call,
  GCP_TEST_PROJECT,
  kubeletContext,
  type PodLike,
  publishRequest,
  type RunningPlugin,
  startPlugin,
} from '../support/csi.ts';
import { withoutMetadataServer } from '../support/gcp.ts';
import { GoogleTokenStub } from '../support/google-token-stub.ts';
import { chartCsiDriver, type Manifest, renderChart } from '../support/helm.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import {
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateDrongo,
  usePrivateMoto,
} from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { createAwsClusterStore } from '../testbed/aws-store.ts';

const own = usePrivateApiServer();
const moto = usePrivateMoto();
const drongo = usePrivateDrongo();
const CREDS = 'platform-creds';
const RELEASE_NS = 'ferry-system';
let admin: KubeConfig;
let core: CoreV1Api;
let chartRules: V1PolicyRule[];
let credentialRules: V1PolicyRule[];
let apps: Objects;
let stub: GoogleTokenStub;

beforeAll(async () => {
  admin = own.get().kc;
  core = admin.makeApiClient(CoreV1Api);
  const rendered = await renderChart({}, { csiNode: { enabled: true, credentialNamespaces: [CREDS] } });
  const find = (kind: string, name: string): Manifest => {
    const found = rendered.find((m) => m.kind === kind && m.metadata.name === name);
    if (!found) throw new Error(`the chart rendered no ${kind} ${name}`);
    return found;
  };
  chartRules = find('ClusterRole', 'ferry-csi-node').rules as V1PolicyRule[];
  credentialRules = find('Role', 'ferry-csi-node-credentials').rules as V1PolicyRule[];
  expect(find('RoleBinding', 'ferry-csi-node-credentials').metadata.namespace).toBe(CREDS);
  for (const name of [RELEASE_NS, CREDS]) await core.createNamespace({ body: { metadata: { name } } });
  const appNs = uniqueName('apps');
  await core.createNamespace({ body: { metadata: { name: appNs, labels: { team: 'a' } } } });
  apps = new Objects(admin, appNs);
  await admin
    .makeApiClient(StorageV1Api)
    .createCSIDriver({ body: await chartCsiDriver({ tokenRequests: CSI_TEST_TOKEN_REQUESTS }) });

  // The three kinds of store a volume reads through: static credentials in the credential
  // namespace (AWS, moto), a ClusterSecretStore admitting namespaces by label (fake), and Google
  // Workload Identity logging in as the pod (STS and IAM stand-ins, drongo).
  pointAwsSdkAt(moto.get().access.endpoint);
  await createAwsClusterStore(admin, moto.get().access, CREDS, 'aws-shared');
  withoutMetadataServer();
  stub = await GoogleTokenStub.start();
  stub.trustInThisProcess();
  Object.assign(process.env, stub.env);
  await apps.clusterSecretStore('labelled', {
    provider: { fake: { data: [{ key: 'k', value: 'by-label' }] } },
    conditions: [{ namespaceSelector: { matchLabels: { team: 'a' } } }],
  });
  await apps.secretStore('google', {
    gcpsm: {
      projectID: GCP_TEST_PROJECT,
      transport: 'REST',
      endpoint: drongo.get().access.endpoint,
      auth: {
        workloadIdentity: {
          serviceAccountRef: { name: 'default' },
          clusterLocation: 'europe-west1',
          clusterName: 'bed',
          clusterProjectID: GCP_TEST_PROJECT,
        },
      },
    },
  });
  const files = { creationPolicy: 'None' as const };
  await apps.externalSecret('static', {
    secretStoreRef: { name: 'aws-shared', kind: 'ClusterSecretStore' },
    target: files,
    data: [{ secretKey: 'v', remoteRef: { key: 'shared/db' } }],
  });
  await apps.externalSecret('by-label', {
    secretStoreRef: { name: 'labelled', kind: 'ClusterSecretStore' },
    target: files,
    data: [{ secretKey: 'v', remoteRef: { key: 'k' } }],
  });
  await apps.externalSecret('as-pod', {
    secretStoreRef: { name: 'google' },
    target: files,
    data: [{ secretKey: 'v', remoteRef: { key: 'wi-db' } }],
  });
  for (const name of ['default', 'app']) {
    await core.createNamespacedServiceAccount({
      namespace: appNs,
      body: {
        metadata: {
          name,
          annotations: { 'iam.gke.io/gcp-service-account': `${name}@ferry-test.iam.gserviceaccount.com` },
        },
      },
    });
  }
});

afterAll(async () => {
  if (stub) for (const k of Object.keys(stub.env)) delete process.env[k];
  await stub?.close();
});

/** The plugin's ServiceAccount bound to exactly these rules (cluster-wide, and in CREDS), and its token. */
async function pluginIdentity(rules: V1PolicyRule[], inCredentials: V1PolicyRule[]): Promise<KubeConfig> {
  const name = uniqueName('ferry-csi-node');
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const subjects = [{ kind: 'ServiceAccount', name, namespace: RELEASE_NS }];
  await core.createNamespacedServiceAccount({ namespace: RELEASE_NS, body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    },
  });
  if (inCredentials.length > 0) {
    await rbac.createNamespacedRole({ namespace: CREDS, body: { metadata: { name }, rules: inCredentials } });
    await rbac.createNamespacedRoleBinding({
      namespace: CREDS,
      body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects },
    });
  }
  const token = await core.createNamespacedServiceAccountToken({
    namespace: RELEASE_NS,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return kubeConfigFor({ ...own.get().server.access, token: token.status?.token ?? '' });
}

/** The HTTP status a call made with `kc` ends in (200 when it succeeds). */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  return call().then(
    () => 200,
    (err: { code?: number }) => err.code ?? 0,
  );
}

describe("the CSI node plugin's identity", () => {
  it('its token reads no Secret and mints no token outside the credential namespaces the chart names', async () => {
    const elsewhere = uniqueName('elsewhere');
    await core.createNamespace({ body: { metadata: { name: elsewhere } } });
    for (const ns of [elsewhere, apps.namespace]) {
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'db' }, stringData: { p: 'x' } } });
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'ca' }, data: { c: 'x' } } });
    }
    await core.createNamespacedServiceAccount({ namespace: elsewhere, body: { metadata: { name: 'app' } } });
    const asPlugin = (await pluginIdentity(chartRules, credentialRules)).makeApiClient(CoreV1Api);
    const mint = (namespace: string, name: string) => () =>
      asPlugin.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [] } } });

    // The setup works: the objects exist (the admin reads and mints), and the identity is accepted
    // for what the chart grants it.
    expect(await statusOf(() => core.readNamespacedSecret({ namespace: elsewhere, name: 'db' }))).toBe(200);
    expect(
      await statusOf(() =>
        core.createNamespacedServiceAccountToken({ namespace: elsewhere, name: 'app', body: { spec: {} } }),
      ),
    ).toBe(200);
    expect(await statusOf(() => asPlugin.readNamespacedSecret({ namespace: CREDS, name: 'aws-shared' }))).toBe(200);
    expect(await statusOf(() => asPlugin.readNamespacedServiceAccount({ namespace: elsewhere, name: 'app' }))).toBe(
      200,
    );

    // The attack fails: no Secret, ConfigMap or token anywhere else, the pods' namespace included.
    for (const ns of [elsewhere, apps.namespace]) {
      expect(await statusOf(() => asPlugin.readNamespacedSecret({ namespace: ns, name: 'db' })), ns).toBe(403);
      expect(await statusOf(() => asPlugin.readNamespacedConfigMap({ namespace: ns, name: 'ca' })), ns).toBe(403);
    }
    expect(await statusOf(() => asPlugin.listSecretForAllNamespaces())).toBe(403);
    expect(await statusOf(mint(elsewhere, 'app'))).toBe(403);
    expect(await statusOf(mint(apps.namespace, 'app'))).toBe(403);
    expect(await statusOf(mint(RELEASE_NS, 'default'))).toBe(403);
    expect(await statusOf(() => asPlugin.listNamespacedPod({ namespace: elsewhere }))).toBe(403);
    expect(
      await statusOf(() =>
        asPlugin.createNamespacedSecret({ namespace: CREDS, body: { metadata: { name: 'planted' } } }),
      ),
    ).toBe(403);
  });

  it('serves every kind of store with the rules the chart gives it; without each rule, what it is for breaks', async () => {
    const all = await scenario(chartRules, credentialRules);
    expect(all).toEqual({ ready: true, staticCredentials: true, namespaceCondition: true, asThePod: true });

    const without = async (label: string) =>
      scenario(
        chartRules.filter((r) => ruleLabel(r) !== label),
        credentialRules,
      );
    // Watching ExternalSecrets and stores, and its own CSIDriver: without either it never serves.
    expect(await without('ferry.dev/externalsecrets,secretstores,clustersecretstores')).toMatchObject({ ready: false });
    expect(await without('storage.k8s.io/csidrivers')).toMatchObject({ ready: false });
    // Namespace labels, for ClusterSecretStore conditions.
    expect(await without('core/namespaces')).toEqual({
      ready: true,
      staticCredentials: true,
      namespaceCondition: expect.stringMatching(/namespaces .* is forbidden/),
      asThePod: true,
    });
    // The pod's ServiceAccount annotations, for a store that logs in as the pod.
    expect(await without('core/serviceaccounts')).toEqual({
      ready: true,
      staticCredentials: true,
      namespaceCondition: true,
      asThePod: expect.stringMatching(/could not read ServiceAccount .*\/app/),
    });
    // The credential namespace's Role, for static credentials.
    expect(await scenario(chartRules, [])).toEqual({
      ready: true,
      staticCredentials: expect.stringMatching(
        /PermissionDenied|Denied: .*may not read Secret platform-creds\/aws-shared: .*csiNode\.credentialNamespaces/,
      ),
      namespaceCondition: true,
      asThePod: true,
    });
  });

  it('every rule the chart gives the plugin is covered above', () => {
    expect(chartRules.map(ruleLabel).sort()).toEqual([
      'core/namespaces',
      'core/serviceaccounts',
      'ferry.dev/externalsecrets,secretstores,clustersecretstores',
      'storage.k8s.io/csidrivers',
    ]);
    expect(chartRules.find((r) => ruleLabel(r) === 'storage.k8s.io/csidrivers')?.resourceNames).toEqual([
      'csi.ferry.dev',
    ]);
    expect(credentialRules.map(ruleLabel)).toEqual(['core/secrets,configmaps']);
    expect(chartRules.flatMap((r) => r.verbs ?? []).filter((v) => !['get', 'list', 'watch'].includes(v))).toEqual([]);
  });

  it('refuses to serve while its CSIDriver does not set podInfoOnMount, and serves once it does', async () => {
    const storage = admin.makeApiClient(StorageV1Api);
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await storage.patchCSIDriver({ name: 'csi.ferry.dev', body: { spec: { podInfoOnMount: false } } }, mergePatch);
    const plugin = await startPlugin(
      own.get().server.access,
      join(testbed().runDir, `csi-id-${randomBytes(2).toString('hex')}`),
      {
        kubeConfig: await pluginIdentity(chartRules, credentialRules),
      },
    );
    try {
      const refused = await publishOn(plugin, 'by-label');
      expect(refused.err?.code).toBe(9); // FAILED_PRECONDITION
      expect(refused.err?.details).toMatch(/CSIDriver object csi\.ferry\.dev does not set podInfoOnMount: true/);
      await storage.patchCSIDriver({ name: 'csi.ferry.dev', body: { spec: { podInfoOnMount: true } } }, mergePatch);
      const served = await eventually('a mount once podInfoOnMount is set', async () => {
        const attempt = await publishOn(plugin, 'by-label');
        return attempt.err ? undefined : attempt;
      });
      await call(plugin.node, 'NodeUnpublishVolume', { volume_id: served.volumeId, target_path: served.target });
    } finally {
      await plugin.stop();
    }
  });
});

function ruleLabel(r: V1PolicyRule): string {
  return `${r.apiGroups?.join(',') || 'core'}/${r.resources?.join(',')}`;
}

const appPod = (): PodLike => ({ namespace: apps.namespace, name: uniqueName('pod'), serviceAccount: 'app' });

/** NodePublishVolume of `externalSecret` for a new pod of the app namespace, as kubelet sends it. */
async function publishOn(plugin: RunningPlugin, externalSecret: string) {
  const volumeId = `csi-${randomBytes(8).toString('hex')}`;
  const dir = join(plugin.dataDir, '..', 'pods');
  await mkdir(dir, { recursive: true });
  const target = join(dir, volumeId);
  const context = await kubeletContext(own.get().server.access, appPod(), externalSecret, [
    `${GCP_TEST_PROJECT}.svc.id.goog`,
  ]);
  const err = await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
    () => undefined,
    (e: ServiceError) => e,
  );
  return { err, volumeId, target };
}

/** Per kind of store: true when a volume mounted, else the status the plugin answered. */
interface Outcome {
  ready: boolean;
  staticCredentials: true | string;
  namespaceCondition: true | string;
  asThePod: true | string;
}

/** Runs the plugin as an identity with these rules and mounts one volume through each kind of store. */
async function scenario(rules: V1PolicyRule[], inCredentials: V1PolicyRule[]): Promise<Outcome> {
  const kubeConfig = await pluginIdentity(rules, inCredentials);
  const plugin = await startPlugin(
    own.get().server.access,
    join(testbed().runDir, `csi-id-${randomBytes(2).toString('hex')}`),
    {
      kubeConfig,
      waitReady: false,
    },
  );
  try {
    // Ready, or refused by the API server while listing what it watches (it then never serves).
    const ready = await eventually('the plugin ready or refused', async () => {
      if (plugin.plugin.ready) return true;
      return plugin.logs.some((l) => l.includes('HTTP 403')) ? false : undefined;
    });
    if (!ready)
      return { ready, staticCredentials: 'not ready', namespaceCondition: 'not ready', asThePod: 'not ready' };
    const mounts = async (externalSecret: string) => {
      const { err, volumeId, target } = await publishOn(plugin, externalSecret);
      if (err) return err.details;
      await call(plugin.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
      return true as const;
    };
    // moto and drongo are reset before each test.
    await drongo
      .get()
      .admin.secret(GCP_TEST_PROJECT, 'wi-db', 'from-google')
      .catch(() => undefined);
    const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
    await new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } })
      .send(new CreateSecretCommand({ Name: 'shared/db', SecretString: 'from-aws' }))
      .catch((err: Error) => {
        if (err.name !== 'ResourceExistsException') throw err;
      });
    return {
      ready,
      staticCredentials: await mounts('static'),
      namespaceCondition: await mounts('by-label'),
      asThePod: await mounts('as-pod'),
    };
  } finally {
    await plugin.stop();
  }
}
