// `ferry csi-uninstall-check`: the chart's pre-delete hook. Watches pods until none still mounts a
// Ferry CSI volume (at most --wait), then exits 0; otherwise names them and exits 1, so that
// `helm uninstall` stops before it removes the driver their unmount needs.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parseDuration } from '../api/duration.ts';
import { Informer } from '../kube/informer.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { type MountingPod, mountingPod, refusal } from '../sinks/csi/uninstall-check.ts';

const USAGE = `usage: ferry csi-uninstall-check [--wait DUR] [--kubeconfig PATH]
  --wait DUR          how long pods that mount csi.ferry.dev volumes may take to go (default 60s)
  --kubeconfig PATH   kubeconfig to use (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)`;

/** Where kubelet reads a container's termination message (kubectl describe shows it). */
const TERMINATION_LOG = '/dev/termination-log';

export const command = {
  summary: 'wait until no pod mounts a Ferry CSI volume (the chart runs it before helm uninstall)',
  async run(argv: string[]): Promise<number> {
    let waitMs: number;
    let kubeconfig: string | undefined;
    try {
      const { values } = parseArgs({
        args: argv,
        options: { wait: { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean' } },
      });
      if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      waitMs = parseDuration(values.wait ?? '60s');
      kubeconfig = values.kubeconfig;
    } catch (err) {
      process.stderr.write(`ferry csi-uninstall-check: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    const kc = new KubeConfig();
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
    const logger = createLogger('warn');
    // Only what the check reads is cached: a cluster's pods would otherwise take the pod's memory.
    const pods = new Informer<V1Pod>({
      kc,
      path: '/api/v1/pods',
      resource: 'pods',
      logger,
      metrics: new Metrics(),
      transform: (pod) => ({
        metadata: {
          namespace: pod.metadata?.namespace,
          name: pod.metadata?.name,
          deletionTimestamp: pod.metadata?.deletionTimestamp,
        },
        spec: { nodeName: pod.spec?.nodeName, containers: [], volumes: pod.spec?.volumes?.filter((v) => v.csi) },
        status: { phase: pod.status?.phase },
      }),
    });
    const stop = new AbortController();
    const running = pods.run(stop.signal);
    const remaining = () =>
      pods.list().flatMap((p): MountingPod[] => {
        const pod = mountingPod(p);
        return pod ? [pod] : [];
      });
    const deadline = Date.now() + waitMs;
    let last = '';
    try {
      await pods.synced;
      for (;;) {
        const left = remaining();
        if (left.length === 0) {
          process.stdout.write('no pod mounts a csi.ferry.dev volume: the CSI node plugin can be removed\n');
          return 0;
        }
        const names = left.map((p) => `${p.namespace}/${p.name}`).join(', ');
        if (names !== last)
          process.stdout.write(`waiting for ${left.length} pod(s) that mount csi.ferry.dev volumes: ${names}\n`);
        last = names;
        if (Date.now() >= deadline) {
          const message = refusal(left);
          process.stdout.write(`${message}\n`);
          await writeFile(TERMINATION_LOG, message).catch(() => undefined);
          return 1;
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
      }
    } finally {
      stop.abort();
      await running;
    }
  },
};
