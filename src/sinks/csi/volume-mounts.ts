// Where a volume lives: a tmpfs mounted at a directory private to the plugin (under its data
// directory, where no pod can reach), and a read-only bind of it at the pod's target path. The
// plugin writes only through the private mount; the pod's view is read-only whatever the pod asks,
// so nothing a pod does can become a path the plugin follows.
import { createHash } from 'node:crypto';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bindReadOnly, bindWritable, isMountPoint, isTmpfs, mountTmpfs, remountReadOnly, unmount } from './tmpfs.ts';

/** Room for a full 1 MiB Secret's worth of files twice over (old and new set during a swap). */
export const TMPFS_BYTES = 4 * 1024 * 1024;

export interface VolumePaths {
  /** The plugin's own writable mount of the volume's tmpfs. */
  private: string;
  /** kubelet's target_path: the pod's read-only view. */
  target: string;
}

export function volumePaths(dataDir: string, volumeId: string, target: string): VolumePaths {
  const id = createHash('sha256').update(volumeId).digest('hex').slice(0, 32);
  return { private: join(dataDir, 'mounts', id), target };
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
    if (!(await isMountPoint(paths.target))) await bindReadOnly(paths.private, paths.target);
    return result;
  } catch (err) {
    await unmountVolume(paths).catch(() => undefined);
    throw err;
  }
}

/**
 * After a restart: the volume is still mounted at its target (else 'gone'). The private mount is
 * made again from it when the plugin's mount namespace lost it, and the target is made read-only,
 * which also converts a volume an older plugin mounted writable straight at the target.
 */
export async function reattachVolume(paths: VolumePaths): Promise<'attached' | 'gone'> {
  if (!(await isMountPoint(paths.target)) || !(await isTmpfs(paths.target))) return 'gone';
  if (!(await isMountPoint(paths.private))) {
    await mkdir(paths.private, { recursive: true, mode: 0o700 });
    await bindWritable(paths.target, paths.private);
  }
  await remountReadOnly(paths.target);
  return 'attached';
}

/** Whether the plugin can still write the volume and the pod still sees it. */
export async function isAttached(paths: VolumePaths): Promise<boolean> {
  return (await isMountPoint(paths.target)) && (await isMountPoint(paths.private));
}

/** Unmounts the pod's view and the private mount, and removes both directories; idempotent. */
export async function unmountVolume(paths: VolumePaths): Promise<void> {
  await unmount(paths.target);
  await unmount(paths.private);
  await removeDir(paths.target);
  await removeDir(paths.private);
}
