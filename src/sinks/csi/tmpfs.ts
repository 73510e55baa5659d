// tmpfs mounts for volumes: the files live in memory on the node only, never on its disk or in
// etcd, and never in swap where the kernel can promise it (noswap, Linux 6.4+). Each volume's
// tmpfs is mounted at a path private to the plugin, where only the plugin writes; the pod's
// target path gets a read-only bind of it. mount(8)/umount(8) from util-linux do the work (Node
// has no mount syscall binding).
import { execFile } from 'node:child_process';
import { readFile, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TMPFS_MAGIC = 0x01021994;
/** What the pod's view of a volume always carries: read-only, and nothing runnable. */
const POD_VIEW = 'ro,nosuid,nodev,noexec';

/** Decodes the octal escapes mountinfo uses for spaces, tabs, newlines and backslashes. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * True when `path` is itself a mount point. kubelet republishes every volume every sync period,
 * so the common case must be cheap: a directory on another device than its parent is a mount
 * (always so for the plugin's tmpfs); only when the devices match is /proc/self/mountinfo read,
 * which also finds a bind mount of the same filesystem.
 */
export async function isMountPoint(path: string): Promise<boolean> {
  const target = resolve(path);
  const [self, parent] = await Promise.all([
    stat(target).catch(() => undefined),
    stat(dirname(target)).catch(() => undefined),
  ]);
  if (!self) return false;
  if (parent && self.dev !== parent.dev) return true;
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === target);
}

/** True when `path` is on a tmpfs (the plugin's volumes are; anything else at a target is not one). */
export async function isTmpfs(path: string): Promise<boolean> {
  const info = await statfs(path).catch(() => undefined);
  return info?.type === TMPFS_MAGIC;
}

async function mount(args: string[], what: string): Promise<void> {
  try {
    // -n: no userspace mount table; the plugin's root filesystem is read-only (util-linux would
    // mount, then fail on /run/mount/utab for a move).
    await run('mount', ['-n', ...args]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new Error(`${what} failed (the plugin needs root / CAP_SYS_ADMIN): ${stderr}`);
  }
}

/** Whether this kernel takes tmpfs's noswap option; learnt from the first mount. */
let noswap: boolean | undefined;

/** Whether tmpfs pages of volumes are kept out of swap (undefined until the first mount). */
export function tmpfsNoSwap(): boolean | undefined {
  return noswap;
}

export async function mountTmpfs(target: string, opts: { sizeBytes: number; gid?: number }): Promise<void> {
  const options = [`size=${opts.sizeBytes}`, 'nosuid', 'nodev', 'noexec'];
  options.push(...(opts.gid === undefined ? ['mode=0755'] : [`gid=${opts.gid}`, 'mode=0750']));
  const what = `mounting a tmpfs at ${target}`;
  if (noswap !== false) {
    try {
      await mount(['-t', 'tmpfs', '-o', [...options, 'noswap'].join(','), 'ferry-csi', target], what);
      noswap = true;
      return;
    } catch (err) {
      // Kernels before 6.4 refuse the option; any other failure repeats without it and is reported.
      if (noswap === true) throw err;
      noswap = false;
    }
  }
  await mount(['-t', 'tmpfs', '-o', options.join(','), 'ferry-csi', target], what);
}

/**
 * Shows `source` at `target` read-only, without set-uid, devices or execution. The bind is made
 * read-only at `staging` (a private place) and then moved to `target`: a mount's flags are copied
 * when it propagates to the target's peers (the node's own view of a pod directory, when the
 * plugin runs in a container), but a later remount is not, so binding at the target and then
 * remounting would leave the node's view writable.
 */
export async function bindReadOnly(source: string, target: string, staging: string): Promise<void> {
  await mount(['--bind', '-o', POD_VIEW, source, staging], `binding ${source} read-only at ${staging}`);
  try {
    await mount(['--move', staging, target], `moving the read-only view of ${source} to ${target}`);
  } catch (err) {
    await unmount(staging).catch(() => undefined);
    throw err;
  }
}

/** Shows the filesystem mounted at `source` writable at `target`, for the plugin alone. */
export async function bindWritable(source: string, target: string): Promise<void> {
  await mount(['--bind', source, target], `binding ${source} at ${target}`);
  // Out of the source's peer group: nothing the plugin does here reaches the pod's directory.
  await mount(['--make-private', target], `making ${target} private`);
  await mount(['-o', 'remount,bind,rw,nosuid,nodev,noexec', target], `remounting ${target} writable`);
}

/**
 * Makes `dir` a mount point of its own with private propagation, so that mounts made under it
 * stay with the plugin (and can be moved from there) even where the node's root is shared.
 */
export async function ensurePrivateMountPoint(dir: string): Promise<void> {
  if (!(await isMountPoint(dir))) await mount(['--bind', dir, dir], `binding ${dir} onto itself`);
  await mount(['--make-rprivate', dir], `making ${dir} private`);
}

/** Whether the mount at `path` (the last one mounted there) is read-only. */
export async function isReadOnlyMount(path: string): Promise<boolean> {
  const target = resolve(path);
  const lines = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((line) => unescapeMountPath(line.split(' ')[4] ?? '') === target);
  return (lines.at(-1)?.split(' ')[5] ?? '').split(',').includes('ro');
}

/** Unmounts `target` if it is a mount point; a second call is a no-op. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await run('umount', ['-n', target]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new Error(`unmounting ${target} failed: ${stderr}`);
  }
}
