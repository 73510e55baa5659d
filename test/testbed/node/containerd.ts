// The bed's own containerd (Debian's 1.6): its config, root, state, socket and CNI config all
// live in the node directory, never the system ones, and `ctr` talks to it.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ServerProcess } from '../server-process.ts';
import { BRIDGE_NAME } from './host-cleanup.ts';

const run = promisify(execFile);

export const CNI_BIN_DIR = '/usr/lib/cni';
export const POD_SUBNET = '10.244.0.0/24';
/** Debian puts runc in /usr/sbin, which a non-login root shell may lack on PATH; containerd finds runc on PATH. */
export const RUNTIME_PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(':');

export interface Containerd {
  socket: string;
  process: ServerProcess;
}

function configToml(dir: string, sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${dir}/containerd.sock"

[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"

[${cri}]
  sandbox_image = "${sandboxImage}"
  # Root here lacks CAP_SYS_RESOURCE: without this runc fails every sandbox
  # ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  # Network namespaces under our state dir, so teardown finds them with the other mounts.
  netns_mounts_under_state_dir = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "${dir}/runc"

[${cri}.cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${dir}/cni"
`;
}

/** One bridge + host-local network; no masquerade or gateway: pod traffic stays on this machine. */
function cniConflist(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'ferry-testbed',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE_NAME,
          isGateway: false,
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: join(dir, 'cni-ipam') },
        },
      ],
    },
    null,
    2,
  );
}

/** Runs `ctr` against this containerd in the namespace the CRI plugin uses. */
export async function ctr(socket: string, args: string[]): Promise<string> {
  const { stdout } = await run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], {
    maxBuffer: 16 << 20,
    env: { ...process.env, PATH: RUNTIME_PATH },
  });
  return stdout;
}

export async function startContainerd(dir: string, sandboxImage: string): Promise<Containerd> {
  await mkdir(join(dir, 'cni'), { recursive: true });
  await writeFile(join(dir, 'config.toml'), configToml(dir, sandboxImage));
  await writeFile(join(dir, 'cni', '10-ferry-testbed.conflist'), cniConflist(dir));
  const socket = join(dir, 'containerd.sock');
  const proc = new ServerProcess({
    name: 'containerd',
    command: 'containerd',
    args: ['--config', join(dir, 'config.toml'), '--log-level', 'warn'],
    env: { PATH: RUNTIME_PATH },
    logFile: join(dir, '..', 'containerd.log'),
    probe: () => ctr(socket, ['version']).then(() => true),
    readyTimeoutMs: 30_000,
  });
  await proc.start();
  return { socket, process: proc };
}

/** Kills and deletes every task and container left in the k8s.io namespace. */
export async function removeAllContainers(socket: string): Promise<void> {
  const tasks = (await ctr(socket, ['tasks', 'list', '--quiet']).catch(() => ''))
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((id): id is string => Boolean(id));
  for (const id of tasks) {
    await ctr(socket, ['tasks', 'kill', '--signal', 'SIGKILL', id]).catch(() => undefined);
    await ctr(socket, ['tasks', 'delete', '--force', id]).catch(() => undefined);
  }
  const containers = (await ctr(socket, ['containers', 'list', '--quiet']).catch(() => ''))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (containers.length > 0) await ctr(socket, ['containers', 'delete', ...containers]).catch(() => undefined);
}
