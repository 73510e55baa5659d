// Real pods on the bed's node that mount Ferry's CSI volumes: the plugin run in this process and
// registered with the kubelet (one registration at a time, node-lock.ts), reader pods that print
// their file, and the Events kubelet records for a refused mount.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod, V1PodSecurityContext } from '@kubernetes/client-node';
import type { NodeInfo } from '../testbed/node/node.ts';
import { ensureCsiDriver, type RunningPlugin, startPlugin } from './csi.ts';
import { holdCsiDriverRegistration } from './node-lock.ts';
import type { Objects } from './objects.ts';
import { Pods } from './pods.ts';
import { kubeConfigFor, testbed, uniqueName } from './testbed.ts';
import { eventually } from './wait.ts';

export interface RegisteredPlugin extends RunningPlugin {
  /** Stops the plugin and lets other test files register theirs. */
  release(): Promise<void>;
}

/** Starts the plugin in this process and waits until the node's kubelet registered it. */
export async function startRegisteredPlugin(node: NodeInfo, label: string): Promise<RegisteredPlugin> {
  const kc = kubeConfigFor(testbed().kube);
  await ensureCsiDriver(kc);
  const releaseDriver = await holdCsiDriverRegistration(280_000);
  let plugin: RunningPlugin | undefined;
  try {
    plugin = await startPlugin(testbed().kube, join(testbed().runDir, `${label}-${randomBytes(2).toString('hex')}`), {
      registrationDir: node.pluginsRegistryDir,
      nodeName: node.name,
    });
    await Promise.race([
      plugin.plugin.registered,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the kubelet did not register the plugin in 30 s')), 30_000),
      ),
    ]);
  } catch (err) {
    await plugin?.stop();
    await releaseDriver();
    throw err;
  }
  const running = plugin;
  return {
    ...running,
    async release() {
      try {
        await running.stop();
      } finally {
        await releaseDriver();
      }
    },
  };
}

export interface ReaderOptions {
  serviceAccount?: string;
  fsGroup?: number;
  file?: string;
  /** volumes[].csi.readOnly (default true). */
  csiReadOnly?: boolean;
  /** volumeMounts[].readOnly (default true). */
  mountReadOnly?: boolean;
  securityContext?: V1PodSecurityContext;
  /** The shell loop the container runs (default: print `v=<file> gid=<group>` every half second). */
  script?: string;
}

/** Pods in one namespace that mount `externalSecret` at /secrets and print what they read. */
export class CsiPods {
  readonly apps: Pods;
  private readonly o: Objects;
  private readonly node: NodeInfo;

  constructor(o: Objects, node: NodeInfo) {
    this.o = o;
    this.node = node;
    this.apps = new Pods(kubeConfigFor(testbed().kube), o.namespace, node);
  }

  async reader(externalSecret: string, opts: ReaderOptions = {}): Promise<string> {
    const name = uniqueName('reader');
    const file = opts.file ?? 'v';
    const script =
      opts.script ??
      `while true; do echo "v=$(cat /secrets/${file}) gid=$(stat -L -c %g /secrets/${file})"; sleep 0.5; done`;
    await this.o.core.createNamespacedPod({
      namespace: this.o.namespace,
      body: {
        metadata: { name },
        spec: {
          nodeName: this.node.name,
          serviceAccountName: opts.serviceAccount,
          terminationGracePeriodSeconds: 1,
          securityContext: {
            ...opts.securityContext,
            ...(opts.fsGroup === undefined ? {} : { fsGroup: opts.fsGroup }),
          },
          containers: [
            {
              name: 'app',
              image: this.node.appImage,
              imagePullPolicy: 'Never',
              command: ['sh', '-c', script],
              volumeMounts: [{ name: 'secrets', mountPath: '/secrets', readOnly: opts.mountReadOnly ?? true }],
            },
          ],
          volumes: [
            {
              name: 'secrets',
              csi: {
                driver: 'csi.ferry.dev',
                readOnly: opts.csiReadOnly ?? true,
                volumeAttributes: { externalSecret },
              },
            },
          ],
        },
      },
    });
    return name;
  }

  pod(name: string): Promise<V1Pod> {
    return this.o.core.readNamespacedPod({ namespace: this.o.namespace, name });
  }

  /** Waits until the running pod prints a line matching `want`; returns it. */
  async waitForLine(name: string, want: RegExp, timeoutMs = 60_000): Promise<string> {
    let last = '';
    try {
      return await eventually(
        `pod ${name} printing ${want.source}`,
        async () => {
          const p = await this.pod(name);
          if (p.status?.phase !== 'Running') return undefined;
          last = await this.apps.lastLine(p);
          return want.test(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message} (last line: ${JSON.stringify(last)})`);
    }
  }

  /** The first Event of `reason` about the pod. */
  event(name: string, reason: string, timeoutMs = 60_000): Promise<CoreV1Event> {
    return eventually(
      `a ${reason} event of pod ${name}`,
      async () => {
        const list = await this.o.core.listNamespacedEvent({ namespace: this.o.namespace });
        return list.items.find((e) => e.involvedObject.name === name && e.reason === reason);
      },
      timeoutMs,
    );
  }

  /**
   * Deletes the pod gracefully and waits until it is gone from the API server, which kubelet allows
   * only once its volumes are unmounted.
   */
  async remove(name: string, timeoutMs = 60_000): Promise<void> {
    await this.o.core.deleteNamespacedPod({ namespace: this.o.namespace, name });
    await eventually(
      `pod ${name} gone`,
      () =>
        this.pod(name).then(
          () => undefined,
          () => true,
        ),
      timeoutMs,
    );
  }
}

/** The node's mounts of a pod's CSI volumes (by pod UID), from this process's mount table. */
export async function csiMountsOf(podUid: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => l.includes(podUid) && l.includes('csi'));
}
