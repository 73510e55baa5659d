// The CSI driver end to end with the bed's real kubelet: the plugin registers itself through the
// kubelet's plugin-registration socket, the CSIDriver object is applied, and real pods with an
// inline csi volume start, read their files, see them rotate, keep them through a provider
// outage, lose the mount when deleted, wait with an Event when their ExternalSecret is missing,
// and read with their own ServiceAccount's identity.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/testbed/node/node.ts';
import { startController } from '../support/controller.ts';
import { ensureCsiDriver, type RunningPlugin, startPlugin } from '../support/csi.ts';
import { holdCsiDriverRegistration } from '../support/node-lock.ts';
import { Objects } from '../support/objects.ts';
import { twoTeams } from '../support/openbao-kubernetes.ts';
import { Pods, requireNode } from '../support/pods.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateMoto,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const moto = usePrivateMoto();
const openbao = usePrivateOpenBao();
let node: NodeInfo;
let plugin: RunningPlugin | undefined;
let o: Objects;
let pods: Pods;
let sm: SecretsManagerClient;

// Set up from beforeEach, once: without a node every test fails with the reason (a failing
// beforeAll would only mark them skipped).
let setup: Promise<void> | undefined;
beforeEach(async () => {
  setup ??= setUp();
  await setup;
}, 300_000);

let releaseDriver: (() => Promise<void>) | undefined;

async function setUp(): Promise<void> {
  node = requireNode();
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'csi-pods'));
  pods = new Pods(kc, o.namespace, node);
  await pods.waitForDefaultServiceAccount();
  await ensureCsiDriver(kc);
  pointAwsSdkAt(moto.get().access.endpoint);
  releaseDriver = await holdCsiDriverRegistration(280_000);
  plugin = await startPlugin(testbed().kube, join(testbed().runDir, `csi-e2e-${randomBytes(2).toString('hex')}`), {
    registrationDir: node.pluginsRegistryDir,
    nodeName: node.name,
  });
  await Promise.race([
    plugin.plugin.registered,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the kubelet did not register the plugin in 30 s')), 30_000),
    ),
  ]);
  const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
  sm = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
}

afterAll(async () => {
  await plugin?.stop();
  await releaseDriver?.();
});

/** A pod that prints `v=<contents of /secrets/v> gid=<group of the file>` every half second. */
async function readerPod(
  externalSecret: string,
  opts: { serviceAccount?: string; fsGroup?: number; file?: string } = {},
): Promise<string> {
  const name = uniqueName('reader');
  const file = opts.file ?? 'v';
  await o.core.createNamespacedPod({
    namespace: o.namespace,
    body: {
      metadata: { name },
      spec: {
        nodeName: node.name,
        serviceAccountName: opts.serviceAccount,
        terminationGracePeriodSeconds: 1,
        securityContext: opts.fsGroup === undefined ? undefined : { fsGroup: opts.fsGroup },
        containers: [
          {
            name: 'app',
            image: node.appImage,
            imagePullPolicy: 'Never',
            command: [
              'sh',
              '-c',
              `while true; do echo "v=$(cat /secrets/${file}) gid=$(stat -L -c %g /secrets/${file})"; sleep 0.5; done`,
            ],
            volumeMounts: [{ name: 'secrets', mountPath: '/secrets', readOnly: true }],
          },
        ],
        volumes: [
          { name: 'secrets', csi: { driver: 'csi.ferry.dev', readOnly: true, volumeAttributes: { externalSecret } } },
        ],
      },
    },
  });
  return name;
}

async function pod(name: string): Promise<V1Pod> {
  return o.core.readNamespacedPod({ namespace: o.namespace, name });
}

async function waitForLine(name: string, want: RegExp, timeoutMs = 60_000): Promise<string> {
  let last = '';
  return eventually(
    `pod ${name} printing ${want.source} (last: "${last}")`,
    async () => {
      const p = await pod(name);
      if (p.status?.phase !== 'Running') return undefined;
      last = await pods.lastLine(p);
      return want.test(last) ? last : undefined;
    },
    timeoutMs,
  );
}

const mountsOf = async (podUid: string) =>
  (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(podUid) && l.includes('csi'));

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
    const event = await eventually(
      'a FailedMount event',
      async () => {
        const list = await o.core.listNamespacedEvent({ namespace: o.namespace });
        return list.items.find((e) => e.involvedObject.name === name && e.reason === 'FailedMount');
      },
      60_000,
    );
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
    const ctl = await startController(testbed().kube, { namespace: o.namespace, rolloutDebounceMs: 1000 });
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
            metadata: { name: 'startup' },
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
      await pods.waitForLine('startup', (l) => l === 'v=boot-1', 'the pod reading boot-1 at start', {
        timeoutMs: 90_000,
      });
      await o.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value: 'boot-2' }] } } } });
      await pods.waitForLine('startup', (l) => l === 'v=boot-2', 'a new pod reading boot-2 at start', {
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
    const event = await eventually(
      'the refused mount',
      async () => {
        const list = await o.core.listNamespacedEvent({ namespace: o.namespace });
        return list.items.find((e) => e.involvedObject.name === intruder && e.reason === 'FailedMount');
      },
      60_000,
    );
    expect(event.message).toMatch(/PermissionDenied|PERMISSION_DENIED|Denied/);
    expect((await pod(intruder)).status?.phase).toBe('Pending');
  });
});
