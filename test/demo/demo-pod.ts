// The demo's last act: a real pod on the test bed's node (kubelet + containerd) reads the
// Secret Ferry synced, and sees a rotation at the provider in its mounted file. Without a node
// (not root, no containerd) it says plainly what it skipped and why.
import type { KubeConfig } from '@kubernetes/client-node';
import type { TestBedInfo } from '../testbed/bed.ts';
import { fields, NodeApps } from '../testbed/node/apps.ts';

export interface PodDemo {
  namespace: string;
  /** Secret (and key) to mount. */
  secret: string;
  key: string;
  refresh: string;
  /** Changes the value at the provider. */
  rotate(to: string): Promise<void>;
  from: string;
  to: string;
  step(text: string): void;
  say(text: string): void;
}

export async function showPodReadingSecret(kc: KubeConfig, bed: TestBedInfo, demo: PodDemo): Promise<void> {
  const { step, say } = demo;
  if (!bed.node) {
    step('Skipped: a real pod reading the Secret');
    say(`the test bed could not start its node (kubelet + containerd): ${bed.nodeError ?? 'not requested'}`);
    return;
  }
  step(`A real pod (kubelet + containerd on node "${bed.node.name}") mounts Secret ${demo.secret} and prints it`);
  const apps = new NodeApps(kc, demo.namespace, bed.node);
  await apps.waitForDefaultServiceAccount();
  await apps.deployment('reader', {
    mounts: { [demo.secret]: '/etc/app' },
    script: `while true; do echo "${demo.key}=$(cat /etc/app/${demo.key})"; sleep 0.2; done`,
  });
  const first = await apps.waitForLine(
    'reader',
    (l) => fields(l)[demo.key] === demo.from,
    'the pod to print the value',
  );
  say(`pod ${first.pod.metadata?.name} prints  ${first.line}   (its logs, read through the API server)`);
  const t0 = Date.now();
  await demo.rotate(demo.to);
  say(`changed the source: ${demo.from} -> ${demo.to}`);
  const next = await apps.waitForLine(
    'reader',
    (l) => fields(l)[demo.key] === demo.to,
    'the pod to print the new value',
  );
  const same = next.pod.metadata?.uid === first.pod.metadata?.uid ? 'same pod, no restart' : 'a new pod';
  say(
    `pod ${next.pod.metadata?.name} prints  ${next.line}   (after ${((Date.now() - t0) / 1000).toFixed(1)}s, ${same}; refreshInterval ${demo.refresh}, kubelet syncFrequency ${bed.node.kubeletSyncFrequency})`,
  );
}
