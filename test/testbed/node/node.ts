// A real node for the bed: kube-controller-manager and kube-scheduler, the bed's own
// containerd with hand-made images, and a kubelet, started until Node "localhost" is Ready, and
// torn down so nothing stays on the host (test-bed.md §1.7's order).
import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from '../kube-apiserver.ts';
import type { Pki } from '../pki.ts';
import type { ServerProcess } from '../server-process.ts';
import { CNI_BIN_DIR, type Containerd, RUNTIME_PATH, removeAllContainers, startContainerd } from './containerd.ts';
import {
  deleteBridge,
  killShims,
  removeNodeCgroups,
  sweepStaleNodeState,
  under,
  unmountWhere,
} from './host-cleanup.ts';
import { acquireHostLock, type HostLock } from './host-lock.ts';
import { APP_IMAGE, importImages, PAUSE_IMAGE } from './images.ts';
import { startControllerManager, startScheduler } from './kube-controllers.ts';
import { KUBELET_SYNC_FREQUENCY, NODE_NAME, startKubelet } from './kubelet.ts';

/** What a test needs to run pods on the node; plain data so it can cross into test workers. */
export interface NodeInfo {
  name: string;
  /** Image with busybox's shell and tools; use with imagePullPolicy: Never. */
  appImage: string;
  pauseImage: string;
  kubeletSyncFrequency: string;
  dir: string;
  /** The kubelet's plugin-registration directory: a CSI plugin registers by serving a socket here. */
  pluginsRegistryDir: string;
  pids: { kubelet?: number; containerd?: number; controllerManager?: number; scheduler?: number };
  /** Milliseconds from the start call until the node was Ready, and per phase. */
  startMs: { total: number; controllers: number; runtime: number; kubeletToReady: number };
}

export interface RunningNode {
  info: NodeInfo;
  stop(): Promise<void>;
}

const RUNTIME_COMMANDS = [
  ['containerd', 'containerd'],
  ['ctr', 'containerd'],
  ['runc', 'runc'],
] as const;

function coreApi(kube: KubeAccess): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of RUNTIME_PATH.split(':')) {
    if (
      await access(join(dir, command), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** Fails early, naming what is missing and how to get it. */
export async function checkHost(uid = process.getuid?.()): Promise<void> {
  if (uid !== 0) {
    throw new Error(
      'a real node (kubelet + containerd) needs root: it mounts volumes, creates cgroups and network namespaces. Run the tests as root.',
    );
  }
  const missing = new Set<string>();
  for (const [command, pkg] of RUNTIME_COMMANDS) if (!(await onPath(command))) missing.add(pkg);
  const files = [
    ['/bin/busybox', 'busybox-static'],
    [join(CNI_BIN_DIR, 'bridge'), 'containernetworking-plugins'],
  ] as const;
  for (const [file, pkg] of files) {
    if (
      !(await access(file).then(
        () => true,
        () => false,
      ))
    )
      missing.add(pkg);
  }
  if (missing.size > 0) {
    const list = [...missing].join(' ');
    throw new Error(`the node needs ${list}: run \`npm run testbed:setup\` as root, or apt-get install -y ${list}`);
  }
}

/**
 * Waits for Ready reported by this kubelet: a Node left by an earlier kubelet of the same bed
 * still shows its last Ready, so the heartbeat must be no older than the kubelet's start
 * (heartbeats have one-second resolution).
 */
async function waitNodeReady(
  kube: KubeAccess,
  kubelet: ServerProcess,
  kubeletStart: number,
  timeoutMs = 90_000,
): Promise<void> {
  const core = coreApi(kube);
  const since = Math.floor(kubeletStart / 1000) * 1000;
  const deadline = Date.now() + timeoutMs;
  let last = 'not registered';
  while (Date.now() < deadline) {
    if (!kubelet.running) throw new Error(`the kubelet exited while waiting for Node ${NODE_NAME} to be Ready`);
    const node = await core.readNode({ name: NODE_NAME }).catch(() => undefined);
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
    const fresh = ready?.lastHeartbeatTime && new Date(ready.lastHeartbeatTime).getTime() >= since;
    if (ready?.status === 'True' && fresh) return;
    if (ready) last = `${ready.reason ?? ''}: ${ready.message ?? ''}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Node ${NODE_NAME} was not Ready within ${timeoutMs / 1000}s (last: ${last})`);
}

/** Deletes every pod through the API (so the kubelet stops them and CNI cleans up) and waits a while. */
async function deleteAllPods(kube: KubeAccess, timeoutMs = 30_000): Promise<void> {
  const core = coreApi(kube);
  const pods = await core.listPodForAllNamespaces().catch(() => undefined);
  if (!pods) return;
  const namespaces = new Set(pods.items.map((p) => p.metadata?.namespace ?? ''));
  for (const namespace of namespaces) {
    await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 1 }).catch(() => undefined);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = await core.listPodForAllNamespaces().catch(() => undefined);
    if (!left || left.items.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startNode(opts: { runDir: string; pki: Pki; kube: KubeAccess }): Promise<RunningNode> {
  const t0 = Date.now();
  const dir = join(opts.runDir, 'node');
  await checkHost();
  await mkdir(dir, { recursive: true });
  const lock = await acquireHostLock(dir);
  const parts: {
    lock: HostLock;
    controllerManager?: ServerProcess;
    scheduler?: ServerProcess;
    containerd?: Containerd;
    kubelet?: ServerProcess;
  } = { lock };

  const stop = async () => {
    await parts.controllerManager?.stop();
    await parts.scheduler?.stop();
    if (parts.kubelet?.running) await deleteAllPods(opts.kube);
    await parts.kubelet?.stop();
    if (parts.containerd?.process.running) await removeAllContainers(parts.containerd.socket);
    await parts.containerd?.process.stop();
    await killShims(under(dir));
    await unmountWhere(under(dir));
    await removeNodeCgroups();
    await deleteBridge();
    parts.lock.release();
  };

  try {
    await sweepStaleNodeState(lock.previousNodeDir);
    const controllersStarted = Promise.all([
      startControllerManager(join(dir, 'controllers'), opts.pki, opts.kube).then((p) => {
        parts.controllerManager = p;
      }),
      startScheduler(join(dir, 'controllers'), opts.pki, opts.kube).then((p) => {
        parts.scheduler = p;
      }),
    ]).then(() => Date.now() - t0);
    const runtimeStarted = (async () => {
      parts.containerd = await startContainerd(join(dir, 'containerd'), PAUSE_IMAGE);
      await importImages(join(dir, 'images'), parts.containerd.socket);
      return Date.now() - t0;
    })();
    // allSettled: a part that finishes starting after another failed must still be stopped.
    const settled = await Promise.allSettled([controllersStarted, runtimeStarted]);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [controllersMs = 0, runtimeMs = 0] = settled.map((r) => (r.status === 'fulfilled' ? r.value : 0));
    const socket = parts.containerd?.socket ?? '';
    const kubeletStart = Date.now();
    parts.kubelet = await startKubelet(join(dir, 'kubelet'), socket, opts.kube.kubeconfigPath);
    await waitNodeReady(opts.kube, parts.kubelet, kubeletStart);
    const info: NodeInfo = {
      name: NODE_NAME,
      appImage: APP_IMAGE,
      pauseImage: PAUSE_IMAGE,
      kubeletSyncFrequency: KUBELET_SYNC_FREQUENCY,
      dir,
      pluginsRegistryDir: join(dir, 'kubelet', 'root', 'plugins_registry'),
      pids: {
        kubelet: parts.kubelet.pid,
        containerd: parts.containerd?.process.pid,
        controllerManager: parts.controllerManager?.pid,
        scheduler: parts.scheduler?.pid,
      },
      startMs: {
        total: Date.now() - t0,
        controllers: controllersMs,
        runtime: runtimeMs,
        kubeletToReady: Date.now() - kubeletStart,
      },
    };
    return { info, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
