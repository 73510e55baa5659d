// tmpfs mounts for volumes: the files live in memory on the node only, never on its disk or in
// etcd. mount(8)/umount(8) from util-linux do the work (Node has no mount syscall binding).
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

export async function mountTmpfs(target: string, opts: { sizeBytes: number; gid?: number }): Promise<void> {
  const options = [`size=${opts.sizeBytes}`, 'nosuid', 'nodev', 'noexec'];
  options.push(...(opts.gid === undefined ? ['mode=0755'] : [`gid=${opts.gid}`, 'mode=0750']));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'ferry-csi', target]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new Error(`mounting a tmpfs at ${target} failed (the plugin needs root / CAP_SYS_ADMIN): ${stderr}`);
  }
}

/** Unmounts `target` if it is a mount point; a second call is a no-op. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await run('umount', [target]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new Error(`unmounting ${target} failed: ${stderr}`);
  }
}
