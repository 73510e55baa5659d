// The CSI driver end to end with the bed's real kubelet: the plugin registers itself through the
// kubelet's plugin-registration socket, the CSIDriver object is applied, and real pods with an
// inline csi volume start, read their files, see them rotate, keep them through a provider
// outage, lose the mount when deleted, wait with an Event when their ExternalSecret is missing,
// and read with their own ServiceAccount's identity.
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startController } from '../support/controller.ts';
import { GCP_TEST_PROJECT } from '../support/csi.ts';
import { CsiPods, csiMountsOf, type RegisteredPlugin, startRegisteredPlugin } from '../support/csi-pods.ts';
import { withoutMetadataServer } from '../support/gcp.ts';
import { GoogleTokenStub } from '../support/google-token-stub.ts';
import { Objects } from '../support/objects.ts';
import { twoTeams } from '../support/openbao-kubernetes.ts';
import { requireNode } from '../support/pods.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateDrongo,
  usePrivateMoto,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import type { NodeInfo } from '../testbed/node/node.ts';

const moto = usePrivateMoto();
const drongo = usePrivateDrongo();
const openbao = usePrivateOpenBao();
let node: NodeInfo;
let plugin: RegisteredPlugin | undefined;
let o: Objects;
let csi: CsiPods;
let sm: SecretsManagerClient;

// Set up from beforeEach, once: without a node every test fails with the reason (a failing
// beforeAll would only mark them skipped).
let setup: Promise<void> | undefined;
beforeEach(async () => {
  setup ??= setUp();
  await setup;
}, 300_000);

async function setUp(): Promise<void> {
  node = requireNode();
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'csi-pods'));
  csi = new CsiPods(o, node);
  await csi.apps.waitForDefaultServiceAccount();
  pointAwsSdkAt(moto.get().access.endpoint);
  plugin = await startRegisteredPlugin(node, 'csi-e2e');
  const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
  sm = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
}

afterAll(async () => {
  await plugin?.release();
});

const readerPod = (externalSecret: string, opts: Parameters<CsiPods['reader']>[1] = {}) =>
  csi.reader(externalSecret, opts);
const pod = (name: string) => csi.pod(name);
const waitForLine = (name: string, want: RegExp, timeoutMs?: number) => csi.waitForLine(name, want, timeoutMs);
const mountsOf = csiMountsOf;

describe('CSI volumes in real pods', () => {
  it('a pod reads its files, sees them rotate without a restart, keeps them through an outage, and leaves no mount', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'pods/db', SecretString: 'one' }));
    const store = await o.awsStore(moto.get().access);
    await o.externalSecret('db', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'pods/db' } }],
    });
    const name = await readerPod('db', { fsGroup: 2345 });
    expect(await waitForLine(name, /^v=one gid=2345$/)).toBe('v=one gid=2345');
    const before = await pod(name);
    const uid = before.metadata?.uid ?? '';
    expect(await mountsOf(uid)).not.toEqual([]);
    expect(await o.secret('db')).toBeUndefined();

    await sm.send(new PutSecretValueCommand({ SecretId: 'pods/db', SecretString: 'two' }));
    await waitForLine(name, /^v=two /);
    expect((await pod(name)).status?.containerStatuses?.[0]?.restartCount).toBe(0);

    await moto.get().process.stop();
    try {
      const volume = await eventually('a failed refresh of the volume', async () =>
        plugin?.plugin.volumes.list().find((r) => r.podUid === uid && r.lastError?.startsWith('Transient')),
      );
      expect(volume.lastError).toMatch(/Transient/);
      expect(await waitForLine(name, /^v=/)).toMatch(/^v=two /);
    } finally {
      await moto.get().process.start();
    }
    pointAwsSdkAt(moto.get().access.endpoint);
    // moto keeps data in memory: after its restart the secret comes back with a new value.
    await sm.send(new CreateSecretCommand({ Name: 'pods/db', SecretString: 'three' }));
    await waitForLine(name, /^v=three /);

    await o.core.deleteNamespacedPod({ namespace: o.namespace, name, gracePeriodSeconds: 0 });
    await eventually(
      'the pod gone and its mount removed',
      async () => {
        const gone = await pod(name).then(
          () => false,
          () => true,
        );
        // NodeUnpublishVolume unmounts first and then forgets the volume's record; wait for both.
        const recorded = plugin?.plugin.volumes.list().some((r) => r.podUid === uid);
        return gone && !recorded && (await mountsOf(uid)).length === 0 ? true : undefined;
      },
      60_000,
    );
    expect(await mountsOf(uid)).toEqual([]);
  });

  it('a pod whose ExternalSecret is missing waits in ContainerCreating with an Event that says why, then starts', async () => {
    const name = await readerPod('not-yet');
    const event = await csi.event(name, 'FailedMount');
    expect(event.message).toMatch(/ExternalSecret .*not-yet does not exist/);
    const waiting = await pod(name);
    expect(waiting.status?.phase).toBe('Pending');
    expect(waiting.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating').toBe(
      'ContainerCreating',
    );
    const fake = uniqueName('fake');
    await o.secretStore(fake, { fake: { data: [{ key: 'k', value: 'arrived' }] } });
    await o.externalSecret('not-yet', {
      secretStoreRef: { name: fake },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'k' } }],
    });
    await waitForLine(name, /^v=arrived /, 120_000);
  });

  it('rolls a Deployment that reads its files only at start when the content changes (target.rolloutRestartTargets)', async () => {
    const ctl = await startController(testbed().kube, {
      namespace: o.namespace,
      rolloutDebounceMs: 1000,
      workloadRollouts: true,
    });
    try {
      const store = uniqueName('fake');
      await o.secretStore(store, { fake: { data: [{ key: 'k', value: 'boot-1' }] } });
      await o.externalSecret('startup', {
        secretStoreRef: { name: store },
        refreshInterval: '1s',
        target: { creationPolicy: 'None', rolloutRestartTargets: [{ kind: 'Deployment', name: 'startup' }] },
        data: [{ secretKey: 'v', remoteRef: { key: 'k' } }],
      });
      await kubeConfigFor(testbed().kube)
        .makeApiClient(AppsV1Api)
        .createNamespacedDeployment({
          namespace: o.namespace,
          body: {
            metadata: { name: 'startup', annotations: { 'ferry.dev/rollout-from': 'startup' } },
            spec: {
              selector: { matchLabels: { app: 'startup' } },
              template: {
                metadata: { labels: { app: 'startup' } },
                spec: {
                  terminationGracePeriodSeconds: 1,
                  containers: [
                    {
                      name: 'app',
                      image: node.appImage,
                      imagePullPolicy: 'Never',
                      // Reads the file once, at start, as many apps do.
                      command: ['sh', '-c', 'V=$(cat /secrets/v); while true; do echo "v=$V"; sleep 0.5; done'],
                      volumeMounts: [{ name: 'secrets', mountPath: '/secrets', readOnly: true }],
                    },
                  ],
                  volumes: [
                    {
                      name: 'secrets',
                      csi: { driver: 'csi.ferry.dev', readOnly: true, volumeAttributes: { externalSecret: 'startup' } },
                    },
                  ],
                },
              },
            },
          },
        });
      await csi.apps.waitForLine('startup', (l) => l === 'v=boot-1', 'the pod reading boot-1 at start', {
        timeoutMs: 90_000,
      });
      await o.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value: 'boot-2' }] } } } });
      await csi.apps.waitForLine('startup', (l) => l === 'v=boot-2', 'a new pod reading boot-2 at start', {
        timeoutMs: 90_000,
      });
      const d = await kubeConfigFor(testbed().kube)
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ namespace: o.namespace, name: 'startup' });
      expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    } finally {
      await ctl.stop();
    }
  }, 240_000);

  it("each pod reads with its own ServiceAccount's token, and gets only what that identity allows", async () => {
    const bao = openbao.get().admin;
    const kube = testbed().kube;
    await twoTeams(bao, kube, o, openbao.get().access.address);
    const a = await readerPod('team-a', { serviceAccount: 'team-a' });
    const b = await readerPod('team-b', { serviceAccount: 'team-b' });
    await waitForLine(a, /^v=secret-of-a /);
    await waitForLine(b, /^v=secret-of-b /);
    // A pod of team b naming team a's ExternalSecret logs in as team b, and Vault refuses it.
    const intruder = await readerPod('team-a', { serviceAccount: 'team-b' });
    const event = await csi.event(intruder, 'FailedMount');
    expect(event.message).toMatch(/PermissionDenied|PERMISSION_DENIED|Denied/);
    expect((await pod(intruder)).status?.phase).toBe('Pending');
  });

  it("a pod logs in to Google with its own ServiceAccount through Workload Identity, not the store's", async () => {
    withoutMetadataServer();
    const stub = await GoogleTokenStub.start();
    stub.trustInThisProcess();
    Object.assign(process.env, stub.env);
    try {
      await drongo.get().admin.secret(GCP_TEST_PROJECT, 'wi-db', 'from-google');
      for (const [sa, gsa] of [
        ['gcp-app', 'app@ferry-test.iam.gserviceaccount.com'],
        ['gcp-other', 'other@ferry-test.iam.gserviceaccount.com'],
        ['store-sa', 'store@ferry-test.iam.gserviceaccount.com'],
      ]) {
        await o.core.createNamespacedServiceAccount({
          namespace: o.namespace,
          body: { metadata: { name: sa, annotations: { 'iam.gke.io/gcp-service-account': gsa ?? '' } } },
        });
      }
      const store = uniqueName('gcp-wi');
      await o.secretStore(store, {
        gcpsm: {
          projectID: GCP_TEST_PROJECT,
          transport: 'REST',
          endpoint: drongo.get().access.endpoint,
          auth: {
            workloadIdentity: {
              serviceAccountRef: { name: 'store-sa' },
              clusterLocation: 'europe-west1',
              clusterName: 'bed',
              clusterProjectID: GCP_TEST_PROJECT,
            },
          },
        },
      });
      await o.externalSecret('gcp-wi', {
        secretStoreRef: { name: store },
        target: { creationPolicy: 'None' },
        data: [{ secretKey: 'v', remoteRef: { key: 'wi-db' } }],
      });
      const app = await readerPod('gcp-wi', { serviceAccount: 'gcp-app' });
      const other = await readerPod('gcp-wi', { serviceAccount: 'gcp-other' });
      await waitForLine(app, /^v=from-google /);
      await waitForLine(other, /^v=from-google /);

      // Each pod's own token, minted by kubelet for the pool's audience, was exchanged; the
      // store's ServiceAccount never was, and each pod impersonated its own Google account.
      const subjects = stub.exchanges.map((e) => e.subject).sort();
      expect(subjects).toEqual([
        `system:serviceaccount:${o.namespace}:gcp-app`,
        `system:serviceaccount:${o.namespace}:gcp-other`,
      ]);
      for (const e of stub.exchanges) {
        expect(e.tokenAudiences).toEqual([`${GCP_TEST_PROJECT}.svc.id.goog`]);
        expect(e.audience).toBe(
          `identitynamespace:${GCP_TEST_PROJECT}.svc.id.goog:https://container.googleapis.com/v1/projects/${GCP_TEST_PROJECT}/locations/europe-west1/clusters/bed`,
        );
      }
      expect(stub.impersonations.map((i) => [i.account, i.federated]).sort()).toEqual([
        ['app@ferry-test.iam.gserviceaccount.com', true],
        ['other@ferry-test.iam.gserviceaccount.com', true],
      ]);
    } finally {
      for (const k of Object.keys(stub.env)) delete process.env[k];
      await stub.close();
    }
  });
});
