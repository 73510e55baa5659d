// Apps on the test bed's node: Deployments of the busybox image that print what they see,
// read back through the API server's pod logs (no kubectl), as a user would. Used by the
// tests, the demo and the bench.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
  type V1Volume,
} from '@kubernetes/client-node';
import type { NodeInfo } from './node.ts';

/** Polls `check` until it returns a value, or fails after `timeoutMs` naming `what` and the last error. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last error: ${String(last)}` : ''}`);
}

export interface AppSpec {
  /** Shell script the container runs; it should print one line of what it sees, in a loop. */
  script: string;
  /** Secret volumes: Secret name → mount path. */
  mounts?: Record<string, string>;
  /** Environment variables from Secret keys: variable → [Secret name, key]. */
  env?: Record<string, [string, string]>;
  /** Annotations of the workload itself (not its pods), e.g. ferry.dev/rollout-from. */
  annotations?: Record<string, string>;
}

export class NodeApps {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly namespace: string;
  readonly node: NodeInfo;

  constructor(kc: KubeConfig, namespace: string, node: NodeInfo) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.namespace = namespace;
    this.node = node;
  }

  /** Pods are refused until kube-controller-manager has made the namespace's `default` ServiceAccount. */
  async waitForDefaultServiceAccount(): Promise<void> {
    await eventually(`ServiceAccount ${this.namespace}/default`, () =>
      this.core.readNamespacedServiceAccount({ namespace: this.namespace, name: 'default' }),
    );
  }

  async deployment(name: string, spec: AppSpec): Promise<void> {
    const mounts = Object.entries(spec.mounts ?? {});
    const volumes: V1Volume[] = mounts.map(([secretName], i) => ({ name: `s${i}`, secret: { secretName } }));
    const container: V1Container = {
      name: 'app',
      image: this.node.appImage,
      imagePullPolicy: 'Never',
      command: ['sh', '-c', spec.script],
      volumeMounts: mounts.map(([, mountPath], i) => ({ name: `s${i}`, mountPath, readOnly: true })),
      env: Object.entries(spec.env ?? {}).map(([envName, [secret, key]]) => ({
        name: envName,
        valueFrom: { secretKeyRef: { name: secret, key } },
      })),
    };
    await this.apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: {
        metadata: { name, annotations: spec.annotations },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            // busybox as PID 1 ignores SIGTERM; a short grace keeps restarts and teardown quick.
            spec: { containers: [container], volumes, terminationGracePeriodSeconds: 1 },
          },
        },
      },
    });
  }

  /** What `kubectl rollout restart` does: a new template annotation, so new pods replace the old. */
  async restart(name: string): Promise<void> {
    await this.patchDeployment(name, {
      template: { metadata: { annotations: { 'ferry.test/restartedAt': new Date().toISOString() } } },
    });
  }

  /** Scales to zero, waits until every pod is deleted from the API, and scales back to one. */
  async recreate(name: string): Promise<void> {
    await this.patchDeployment(name, { replicas: 0 });
    await eventually(
      `every pod of ${name} deleted`,
      async () => {
        const list = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${name}` });
        return list.items.length === 0 ? true : undefined;
      },
      60_000,
    );
    await this.patchDeployment(name, { replicas: 1 });
  }

  private async patchDeployment(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.apps.patchNamespacedDeployment(
      { namespace: this.namespace, name, body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** The Deployment's running pods that are not being deleted. */
  async runningPods(name: string): Promise<V1Pod[]> {
    const list = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${name}` });
    return list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  }

  /** The last line the pod printed, through the API server (which asks the kubelet). */
  async lastLine(pod: V1Pod): Promise<string> {
    const log = await this.core.readNamespacedPodLog({
      namespace: this.namespace,
      name: pod.metadata?.name ?? '',
      tailLines: 1,
    });
    return String(log).trim();
  }

  /**
   * Waits until a running pod of the Deployment (other than those in `notPods`) prints a line
   * `want` accepts; returns the pod and the line.
   */
  async waitForLine(
    name: string,
    want: (line: string) => boolean,
    what: string,
    opts: { notPods?: string[]; timeoutMs?: number } = {},
  ): Promise<{ pod: V1Pod; line: string }> {
    let seen = '(no running pod yet)';
    try {
      return await eventually(
        what,
        async () => {
          for (const pod of await this.runningPods(name)) {
            if (opts.notPods?.includes(pod.metadata?.uid ?? '')) continue;
            const line = await this.lastLine(pod);
            seen = `pod ${pod.metadata?.name}: ${JSON.stringify(line)}`;
            if (want(line)) return { pod, line };
          }
          return undefined;
        },
        opts.timeoutMs ?? 60_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen ${seen}`);
    }
  }
}

/** Parses `a=1 b=2` lines the test apps print. */
export function fields(line: string): Record<string, string> {
  return Object.fromEntries(
    line
      .split(' ')
      .map((part) => part.split('='))
      .filter((kv): kv is [string, string] => kv.length === 2),
  );
}
