// A real kubelet on the bed's containerd, registered as Node "localhost": the API server dials
// the kubelet by node name for logs and exec, and "localhost" is the one name that resolves.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpOk } from '../probes.ts';
import { ServerProcess } from '../server-process.ts';
import { toolPath } from '../tools.ts';

export const NODE_NAME = 'localhost';
export const KUBELET_HEALTHZ = 'http://127.0.0.1:10248/healthz';
/** How often the kubelet re-syncs pods, and with them Secret volumes (1m by default). */
export const KUBELET_SYNC_FREQUENCY = '2s';

function kubeletConfig(dir: string, containerdSocket: string): string {
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      containerRuntimeEndpoint: `unix://${containerdSocket}`,
      cgroupDriver: 'cgroupfs',
      // This VM has cgroup v1; 1.35 refuses it unless told otherwise.
      failCgroupV1: false,
      failSwapOn: false,
      address: '127.0.0.1',
      port: 10250,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      readOnlyPort: 0,
      // Anonymous and AlwaysAllow are acceptable only because it listens on loopback.
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        'memory.available': '1Mi',
        'nodefs.available': '1%',
        'imagefs.available': '1%',
        'nodefs.inodesFree': '1%',
      },
      syncFrequency: KUBELET_SYNC_FREQUENCY,
      podLogsDir: join(dir, 'pod-logs'),
      serializeImagePulls: false,
    },
    null,
    2,
  );
}

export async function startKubelet(
  dir: string,
  containerdSocket: string,
  kubeconfigPath: string,
): Promise<ServerProcess> {
  await mkdir(join(dir, 'pod-logs'), { recursive: true });
  const config = join(dir, 'kubelet-config.json');
  await writeFile(config, kubeletConfig(dir, containerdSocket));
  const proc = new ServerProcess({
    name: 'kubelet',
    command: toolPath('kubelet'),
    args: [
      `--config=${config}`,
      `--kubeconfig=${kubeconfigPath}`,
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      '--v=1',
    ],
    logFile: join(dir, '..', 'kubelet.log'),
    probe: httpOk(KUBELET_HEALTHZ),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return proc;
}
