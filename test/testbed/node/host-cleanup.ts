// What a node leaves on the host beyond its processes — mounts, container processes in
// cgroups, containerd shims, the CNI bridge — and how to remove it: after a normal stop, and at
// start for whatever a killed earlier run left behind.
import { execFile } from 'node:child_process';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BRIDGE_NAME = 'ferry0';
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The cgroup trees the kubelet (cgroupfs driver) and containerd create under each controller. */
const CGROUP_TREES = ['kubepods', 'k8s.io'];
/** A node directory of any test bed: `<runDir>/node`, run dirs named ferry-testbed-<hex>. */
const ANY_NODE_DIR = /\/ferry-testbed-[^/]+\/node(\/|$)/;

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded). */
async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))));
}

/** Unmounts every mount the predicate selects, deepest first (Secret tmpfs mounts outlive the kubelet). */
export async function unmountWhere(select: (mountPoint: string) => boolean): Promise<string[]> {
  const points = [...new Set((await mountPoints()).filter(select))].sort((a, b) => b.length - a.length);
  const failed: string[] = [];
  for (const p of points) {
    await run('umount', [p]).catch(() => run('umount', ['-l', p]).catch(() => failed.push(p)));
  }
  return failed;
}

export function under(dir: string): (mountPoint: string) => boolean {
  return (p) => p === dir || p.startsWith(`${dir}/`);
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

/** Every directory below `dir`, deepest first. */
async function treeDeepestFirst(dir: string): Promise<string[]> {
  const below = await Promise.all((await subdirs(dir)).map(treeDeepestFirst));
  return [...below.flat(), dir];
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((p) => Number(p));
}

/**
 * Kills the processes left in the node's cgroups (containers whose shim is gone) and removes
 * the cgroups, on every controller hierarchy (cgroup v1 here; v2 has one).
 */
export async function removeNodeCgroups(deadlineMs = 10_000): Promise<string[]> {
  const roots: string[] = [];
  for (const controller of [CGROUP_ROOT, ...(await subdirs(CGROUP_ROOT))]) {
    for (const tree of CGROUP_TREES) {
      const dir = join(controller, tree);
      if ((await subdirs(controller)).includes(dir)) roots.push(dir);
    }
  }
  const left: string[] = [];
  for (const root of roots) {
    const dirs = await treeDeepestFirst(root);
    const deadline = Date.now() + deadlineMs;
    for (const dir of dirs) {
      for (;;) {
        const pids = await pidsIn(dir);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        const removed = await rmdir(dir).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
        );
        if (removed) break;
        if (Date.now() > deadline) {
          left.push(dir);
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  return left;
}

/** containerd shims outlive containerd by design; kills those serving a socket the predicate selects. */
export async function killShims(select: (address: string) => boolean): Promise<number> {
  let killed = 0;
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const argv: string[] = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (t) => t.split('\0'),
      () => [],
    );
    if (!argv[0]?.endsWith('containerd-shim-runc-v2')) continue;
    const address = argv[argv.indexOf('-address') + 1];
    if (argv.includes('-address') && address && select(address)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

export async function deleteBridge(): Promise<void> {
  await run('ip', ['link', 'delete', BRIDGE_NAME]).catch(() => undefined);
}

/**
 * Removes what a killed earlier run left: its shims, container processes, cgroups, mounts and
 * bridge. Only called while holding the host lock, so no live node owns any of it.
 */
export async function sweepStaleNodeState(previousNodeDir: string | undefined): Promise<void> {
  const stale = (p: string) => ANY_NODE_DIR.test(p) || (previousNodeDir !== undefined && under(previousNodeDir)(p));
  await killShims(stale);
  await removeNodeCgroups();
  await unmountWhere(stale);
  await deleteBridge();
}
