// Where a volume lives: a tmpfs mounted at a directory private to the plugin (under its data
// directory, where no pod can reach), and a read-only bind of it at the pod's target path. The
// plugin writes only through the private mount; the pod's view is read-only whatever the pod asks,
// so nothing a pod does can become a path the plugin follows.
import { createHash } from 'node:crypto';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bindReadOnly,
  bindWritable,
  ensurePrivateMountPoint,
  isMountPoint,
  isReadOnlyMount,
  isTmpfs,
  mountTmpfs,
  unmount,
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

/** Prepares the plugin's mounts directory: private propagation, whatever the node's root has. */
export async function prepareMountsDir(dataDir: string): Promise<void> {
  await mkdir(mountsDir(dataDir), { recursive: true, mode: 0o700 });
  await ensurePrivateMountPoint(mountsDir(dataDir));
}

const removeDir = (path: string) =>
  rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });

/**
 * Mounts a new volume: a tmpfs at the private path, filled by `fill` while no pod can see it, then
 * shown read-only at the target. On any failure nothing is left mounted.
 */
export async function mountVolume<T>(
  paths: VolumePaths,
  opts: { gid?: number },
  fill: (privateDir: string) => Promise<T>,
): Promise<T> {
  await mkdir(paths.private, { recursive: true, mode: 0o700 });
  await mkdir(paths.target, { recursive: true, mode: 0o750 });
  try {
    if (!(await isMountPoint(paths.private)))
      await mountTmpfs(paths.private, { sizeBytes: TMPFS_BYTES, gid: opts.gid });
    const result = await fill(paths.private);
    await showReadOnly(paths);
    return result;
  } catch (err) {
    await unmountVolume(paths).catch(() => undefined);
    throw err;
  }
}

/** Makes the pod's view at the target a read-only bind of the private mount (replacing what is there). */
async function showReadOnly(paths: VolumePaths): Promise<void> {
  await unmount(paths.target);
  await mkdir(paths.staging, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  try {
    await bindReadOnly(paths.private, paths.target, paths.staging);
  } finally {
    await removeDir(paths.staging).catch(() => undefined);
  }
}

/**
 * After a restart: the volume is still mounted at its target (else 'gone'). The private mount is
 * made again from it when the plugin's mount namespace lost it, and a target an older plugin
 * mounted writable is replaced with a read-only view (a running container keeps the view it has).
 */
export async function reattachVolume(paths: VolumePaths): Promise<'attached' | 'gone'> {
  if (!(await isMountPoint(paths.target)) || !(await isTmpfs(paths.target))) return 'gone';
  if (!(await isMountPoint(paths.private))) {
    await mkdir(paths.private, { recursive: true, mode: 0o700 });
    await bindWritable(paths.target, paths.private);
  }
  if (!(await isReadOnlyMount(paths.target))) await showReadOnly(paths);
  return 'attached';
}

/** Whether the plugin can still write the volume and the pod still sees it. */
export async function isAttached(paths: VolumePaths): Promise<boolean> {
  return (await isMountPoint(paths.target)) && (await isMountPoint(paths.private));
}

/** Unmounts the pod's view and the plugin's mounts, and removes their directories; idempotent. */
export async function unmountVolume(paths: VolumePaths): Promise<void> {
  for (const path of [paths.target, paths.staging, paths.private]) await unmount(path);
  for (const path of [paths.target, paths.staging, paths.private]) await removeDir(path);
}
