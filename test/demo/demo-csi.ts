// The demo's second sink: a real pod mounts an ExternalSecret through Ferry's CSI driver — files
// on a tmpfs, no Secret in etcd — and sees a rotation at the provider in the same file. The
// plugin runs in this process and registers itself with the bed's kubelet. Without a node it says
// plainly what it skipped and why.
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../src/observability/logger.ts';
import { CsiPlugin } from '../../src/sinks/csi/csi-plugin.ts';
import type { TestBedInfo } from '../testbed/bed.ts';
import { chartCsiDriver } from '../testbed/chart.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';
import { fields, NodeApps } from '../testbed/node/apps.ts';
import { cacheDir } from '../testbed/tools.ts';

export interface FilesDemo {
  namespace: string;
  externalSecret: string;
  key: string;
  refresh: string;
  from: string;
  to: string;
  rotate(to: string): Promise<void>;
  logger: Logger;
  step(text: string): void;
  say(text: string): void;
}

export async function showPodReadingFiles(kc: KubeConfig, bed: TestBedInfo, demo: FilesDemo): Promise<void> {
  const { step, say } = demo;
  if (!bed.node) {
    step('Skipped: a real pod reading files from the CSI driver');
    say(`the test bed could not start its node (kubelet + containerd): ${bed.nodeError ?? 'not requested'}`);
    return;
  }
  step(`The CSI driver: ExternalSecret "${demo.externalSecret}" as files in a real pod, no Secret in etcd`);
  const manifest = await chartCsiDriver();
  await kc
    .makeApiClient(StorageV1Api)
    .createCSIDriver({ body: manifest })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  const stop = new AbortController();
  const plugin = new CsiPlugin(
    kc,
    {
      nodeName: bed.node.name,
      socketPath: join(bed.runDir, 'csi.sock'),
      dataDir: join(bed.runDir, 'csi-data'),
      protoDir: join(cacheDir(), 'proto', 'csi-v1.12.0'),
      registrationDir: bed.node.pluginsRegistryDir,
      kubeQps: 20,
      kubeBurst: 40,
      providerQps: 20,
      providerBurst: 40,
      shareWindowMs: 2000,
      namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
      volumeMemoryBytes: 128 * 1024 * 1024,
      version: 'demo',
    },
    demo.logger,
  );
  const running = plugin.run(stop.signal);
  try {
    await plugin.registered;
    say(`ferry csi-node registered with the kubelet as csi.ferry.dev (CSIDriver applied from helm/ferry/templates/)`);
    const apps = new NodeApps(kc, demo.namespace, bed.node);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: demo.namespace,
      body: {
        metadata: { name: 'files-reader', labels: { app: 'files-reader' } },
        spec: {
          nodeName: bed.node.name,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: bed.node.appImage,
              imagePullPolicy: 'Never',
              command: ['sh', '-c', `while true; do echo "${demo.key}=$(cat /secrets/${demo.key})"; sleep 0.2; done`],
              volumeMounts: [{ name: 'secrets', mountPath: '/secrets', readOnly: true }],
            },
          ],
          volumes: [
            {
              name: 'secrets',
              csi: {
                driver: 'csi.ferry.dev',
                readOnly: true,
                volumeAttributes: { externalSecret: demo.externalSecret },
              },
            },
          ],
        },
      },
    });
    const first = await apps.waitForLine(
      'files-reader',
      (l) => fields(l)[demo.key] === demo.from,
      'the pod to print the file',
    );
    say(`pod files-reader prints  ${first.line}   (read from /secrets/${demo.key}, a tmpfs on the node)`);
    const secret = await core.readNamespacedSecret({ namespace: demo.namespace, name: demo.externalSecret }).then(
      () => 'exists',
      () => 'does not exist (creationPolicy None: the value never reached etcd)',
    );
    say(`Secret ${demo.namespace}/${demo.externalSecret} ${secret}`);
    const t0 = Date.now();
    await demo.rotate(demo.to);
    say(`changed the source: ${demo.from} -> ${demo.to}`);
    const next = await apps.waitForLine('files-reader', (l) => fields(l)[demo.key] === demo.to, 'the rotated file');
    say(
      `pod files-reader prints  ${next.line}   (after ${((Date.now() - t0) / 1000).toFixed(1)}s, same pod, the file swapped atomically; refreshInterval ${demo.refresh})`,
    );
    await core.deleteNamespacedPod({ namespace: demo.namespace, name: 'files-reader', gracePeriodSeconds: 0 });
  } finally {
    stop.abort();
    await running;
  }
}
