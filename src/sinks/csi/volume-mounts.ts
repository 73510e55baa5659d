// Where a volume lives: a tmpfs mounted at a directory private to the plugin (under its data
// directory, where no pod can reach), and a read-only bind of it at the pod's target path. The
// plugin writes only through the private mount; the pod's view is read-only whatever the pod asks,
// so nothing a pod does can become a path the plugin follows. Each operation is one spawn of
// mount(8) calls (tmpfs.ts).
import { createHash } from 'node:crypto';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ensurePrivateMountPoint,
  isReadOnlyMount,
  isTmpfs,
  isVolumeMount,
  type MountCommand,
  probeNoSwap,
  readOnlyView,
  runMounts,
  tmpfsMount,
  writableView,
} from './tmpfs.ts';

/** Room for a full 1 MiB Secret's worth of files twice over (old and new set during a swap). */
export const TMPFS_BYTES = 4 * 1024 * 1024;

export interface VolumePaths {
  /** The plugin's own writable mount of the volume's tmpfs. */
  private: string;
  /** Where the pod's read-only view is made before it is moved to the target. */
  staging: string;
  /** kubelet's target_path: the pod's read-only view. */
  target: string;
}

/** The directory under the data directory that holds the plugin's own mounts. */
export const mountsDir = (dataDir: string) => join(dataDir, 'mounts');

export function volumePaths(dataDir: string, volumeId: string, target: string): VolumePaths {
  const id = createHash('sha256').update(volumeId).digest('hex').slice(0, 32);
  return { private: join(mountsDir(dataDir), id), staging: join(mountsDir(dataDir), `${id}.staging`), target };
}

/**
 * Prepares the plugin's mounts directory (private propagation, whatever the node's root has) and
 * learns whether tmpfs takes noswap. Returns that.
 */
export async function prepareMountsDir(dataDir: string): Promise<boolean> {
  await mkdir(mountsDir(dataDir), { recursive: true, mode: 0o700 });
  await ensurePrivateMountPoint(mountsDir(dataDir));
  const probe = join(mountsDir(dataDir), 'noswap-probe');
  await mkdir(probe, { recursive: true, mode: 0o700 });
  try {
    return await probeNoSwap(probe);
  } finally {
    await removeDir(probe);
  }
}

const removeDir = (path: string) =>
  rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });

const makeDir = (path: string, mode: number) => mkdir(path, { recursive: true, mode });

/**
 * Mounts a new volume: a tmpfs at the private path and its read-only view at the target, then
 * fills it (kubelet starts no container before the call returns). On any failure nothing is left
 * mounted.
 */
export async function mountVolume<T>(
  paths: VolumePaths,
  opts: { gid?: number },
  fill: (privateDir: string) => Promise<T>,
): Promise<T> {
  // Left from an attempt that failed half-way: start clean.
  if ((await isVolumeMount(paths.private)) || (await isVolumeMount(paths.target))) await unmountVolume(paths);
  await Promise.all([makeDir(paths.private, 0o700), makeDir(paths.staging, 0o700), makeDir(paths.target, 0o750)]);
  try {
    await runMounts(
      [
        tmpfsMount(paths.private, { sizeBytes: TMPFS_BYTES, gid: opts.gid }),
        ...readOnlyView(paths.private, paths.target, paths.staging),
      ],
      `mounting a tmpfs at ${paths.private} and its read-only view at ${paths.target}`,
    );
    await removeDir(paths.staging);
    return await fill(paths.private);
  } catch (err) {
    await unmountVolume(paths).catch(() => undefined);
    throw err;
  }
}

/**
 * After a restart: the volume is still mounted at its target (else 'gone'). The private mount is
 * made again from it when the plugin's mount namespace lost it, and a target an older plugin
 * mounted writable is replaced with a read-only view (a running container keeps the view it has).
 */
export async function reattachVolume(paths: VolumePaths): Promise<'attached' | 'gone'> {
  if (!(await isVolumeMount(paths.target)) || !(await isTmpfs(paths.target))) return 'gone';
  if (!(await isVolumeMount(paths.private))) {
    await makeDir(paths.private, 0o700);
    await runMounts(writableView(paths.target, paths.private), `taking back the volume at ${paths.target}`);
  }
  if (!(await isReadOnlyMount(paths.target))) {
    await makeDir(paths.staging, 0o700);
    await runMounts(
      [['umount', paths.target], ...readOnlyView(paths.private, paths.target, paths.staging)],
      `making the volume at ${paths.target} read-only`,
    );
    await removeDir(paths.staging);
  }
  return 'attached';
}

/** Whether the plugin can still write the volume and the pod still sees it. */
export async function isAttached(paths: VolumePaths): Promise<boolean> {
  return (await isVolumeMount(paths.target)) && (await isVolumeMount(paths.private));
}

/** Unmounts the pod's view and the plugin's mounts, and removes their directories; idempotent. */
export async function unmountVolume(paths: VolumePaths): Promise<void> {
  const mounted: MountCommand[] = [];
  for (const path of [paths.target, paths.staging, paths.private]) {
    if (await isVolumeMount(path)) mounted.push(['umount', path]);
  }
  if (mounted.length > 0) await runMounts(mounted, `unmounting the volume at ${paths.target}`);
  for (const path of [paths.target, paths.staging, paths.private]) await removeDir(path);
}
