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

/** True when `path` is the root of another filesystem than its parent's (two stats): always so for
 * a volume's tmpfs and every bind of it, so it answers for the plugin's own mounts. */
export async function isVolumeMount(path: string): Promise<boolean> {
  const target = resolve(path);
  const [self, parent] = await Promise.all([
    stat(target).catch(() => undefined),
    stat(dirname(target)).catch(() => undefined),
  ]);
  return self !== undefined && parent !== undefined && self.dev !== parent.dev;
}

/** One mount(8) or umount(8) call, without its -n. */
export type MountCommand = ['mount' | 'umount', ...string[]];

/**
 * Runs mount(8) and umount(8) calls in order in one shell, stopping at the first that fails. One
 * process spawned from the plugin instead of one per call: a spawn from a process of Node's size
 * costs milliseconds of the event loop, and a mount needs three calls. Every argument is passed to
 * the shell as a positional parameter, never spliced into the script. -n: no userspace mount table
 * (the plugin's root filesystem is read-only, and util-linux would mount, then fail on
 * /run/mount/utab for a move).
 */
export async function runMounts(commands: MountCommand[], what: string): Promise<void> {
  const args: string[] = [];
  const steps = commands.map(([program, ...rest]) => {
    const words = [program, '-n', ...rest].map((word) => {
      args.push(word);
      return `"\${${args.length}}"`;
    });
    return words.join(' ');
  });
  try {
    await run('sh', ['-c', steps.join(' && '), 'ferry-mount', ...args]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new Error(`${what} failed (the plugin needs root / CAP_SYS_ADMIN): ${stderr}`);
  }
}

/** Whether this kernel takes tmpfs's noswap option (Linux 6.4+); learnt by probeNoSwap. */
let noswap = false;

/** Learns whether tmpfs takes noswap here, with a throwaway mount at `dir` (an empty directory). */
export async function probeNoSwap(dir: string): Promise<boolean> {
  noswap = await runMounts(
    [
      ['mount', '-t', 'tmpfs', '-o', 'size=4096,noswap', 'ferry-csi-probe', dir],
      ['umount', dir],
    ],
    'probing tmpfs noswap',
  ).then(
    () => true,
    () => false,
  );
  return noswap;
}

/** The mount(8) call of a volume's tmpfs at `target`: small, nothing runnable, out of swap when the kernel can. */
export function tmpfsMount(target: string, opts: { sizeBytes: number; gid?: number }): MountCommand {
  const options = [`size=${opts.sizeBytes}`, 'nosuid', 'nodev', 'noexec'];
  options.push(...(opts.gid === undefined ? ['mode=0755'] : [`gid=${opts.gid}`, 'mode=0750']));
  if (noswap) options.push('noswap');
  return ['mount', '-t', 'tmpfs', '-o', options.join(','), 'ferry-csi', target];
}

/**
 * The calls that show `source` at `target` read-only, without set-uid, devices or execution. The
 * bind is made read-only at `staging` (a private place) and then moved to `target`: a mount's flags
 * are copied when it propagates to the target's peers (the node's own view of a pod directory, when
 * the plugin runs in a container), but a later remount is not, so binding at the target and then
 * remounting would leave the node's view writable.
 */
export function readOnlyView(source: string, target: string, staging: string): MountCommand[] {
  return [
    ['mount', '--bind', '-o', POD_VIEW, source, staging],
    ['mount', '--move', staging, target],
  ];
}

/** The calls that show the filesystem at `source` writable at `target`, for the plugin alone. */
export function writableView(source: string, target: string): MountCommand[] {
  return [
    ['mount', '--bind', source, target],
    // Out of the source's peer group: nothing the plugin mounts here reaches the pod's directory.
    ['mount', '--make-private', target],
    ['mount', '-o', 'remount,bind,rw,nosuid,nodev,noexec', target],
  ];
}

/**
 * Makes `dir` a mount point of its own with private propagation, so that mounts made under it
 * stay with the plugin (and can be moved from there) even where the node's root is shared.
 */
export async function ensurePrivateMountPoint(dir: string): Promise<void> {
  const commands: MountCommand[] = (await isMountPoint(dir)) ? [] : [['mount', '--bind', dir, dir]];
  await runMounts([...commands, ['mount', '--make-rprivate', dir]], `making ${dir} a private mount point`);
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
  if (await isMountPoint(target)) await runMounts([['umount', target]], `unmounting ${target}`);
}
