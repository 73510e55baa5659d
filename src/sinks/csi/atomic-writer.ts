// Writes a set of files into a volume so that a reader never sees a half-written set: kubelet's
// AtomicWriter layout. Files live in a timestamped directory `..<time>`; `..data` is a symlink to
// the current one, swapped with one rename(2); the visible names are symlinks through `..data`.
//
//   <root>/..data -> ..2026_11_29_17_45_00.123_ab12
//   <root>/password -> ..data/password
//   <root>/db -> ..data/db            (a sub-directory, for paths like db/user)
//
// Written by hand: no maintained npm package implements this layout, and kubelet's is Go.
import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileEntry {
  /** Relative path, e.g. `password` or `db/user`. */
  path: string;
  bytes: Buffer;
  /** Permission bits (0o000–0o777). */
  mode: number;
}

export const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';

export class FileLayoutError extends Error {}

/** Rejects paths that could escape the volume or collide with the writer's own entries. */
export function checkLayout(files: FileEntry[]): void {
  const seen = new Set<string>();
  for (const { path, mode } of files) {
    const parts = path.split('/');
    if (path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p.startsWith('..'))) {
      throw new FileLayoutError(
        `file path "${path}" must be relative, without empty, . or .. segments (names starting with .. are reserved)`,
      );
    }
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw new FileLayoutError(`file "${path}": mode ${mode} is not between 0 and 0777`);
    }
    if (seen.has(path)) throw new FileLayoutError(`two keys are written to the same file "${path}"`);
    seen.add(path);
  }
  for (const path of seen) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (seen.has(prefix)) throw new FileLayoutError(`"${prefix}" is both a file and the directory of "${path}"`);
    }
  }
}

function timestampedName(): string {
  const iso = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  return `..${iso}_${randomBytes(3).toString('hex')}`;
}

async function currentDir(root: string): Promise<string | undefined> {
  try {
    return await readlink(join(root, DATA_LINK));
  } catch {
    return undefined;
  }
}

/** True when the current set already has exactly these files, contents and modes. */
async function sameAsCurrent(root: string, dir: string, files: FileEntry[], gid?: number): Promise<boolean> {
  const listed = await listFiles(join(root, dir)).catch(() => undefined);
  if (!listed || listed.length !== files.length) return false;
  for (const f of files) {
    const full = join(root, dir, f.path);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile() || (info.mode & 0o777) !== effectiveMode(f.mode, gid)) return false;
    if (gid !== undefined && info.gid !== gid) return false;
    if (!(await readFile(full)).equals(f.bytes)) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** With an fsGroup the group may always read, as kubelet does for read-only volumes. */
function effectiveMode(mode: number, gid?: number): number {
  return gid === undefined ? mode : mode | 0o440;
}

/**
 * Makes `files` the content of `root`. Returns false when nothing changed (no write at all).
 * `gid` (the pod's fsGroup) owns every file and directory.
 */
export async function writeAtomically(root: string, files: FileEntry[], opts: { gid?: number } = {}): Promise<boolean> {
  checkLayout(files);
  const { gid } = opts;
  const old = await currentDir(root);
  if (old && (await sameAsCurrent(root, old, files, gid))) return false;

  const fresh = timestampedName();
  const dirMode = gid === undefined ? 0o755 : 0o2750;
  const owner = async (path: string) => {
    if (gid !== undefined) await chown(path, process.getuid?.() ?? 0, gid);
  };
  await mkdir(join(root, fresh), { mode: dirMode });
  await owner(join(root, fresh));
  try {
    for (const f of files) {
      const full = join(root, fresh, f.path);
      const parent = dirname(full);
      if (parent !== join(root, fresh)) {
        await mkdir(parent, { recursive: true, mode: dirMode });
        for (let p = parent; p !== join(root, fresh); p = dirname(p)) await owner(p);
      }
      // mode is applied after the write: writeFile's mode is filtered through the umask.
      await writeFile(full, f.bytes, { mode: 0o600 });
      await owner(full);
      await chmod(full, effectiveMode(f.mode, gid));
    }
    // The swap: a new symlink renamed over ..data replaces the whole set in one step.
    await rm(join(root, DATA_TMP_LINK), { force: true });
    await symlink(fresh, join(root, DATA_TMP_LINK));
    await rename(join(root, DATA_TMP_LINK), join(root, DATA_LINK));
  } catch (err) {
    await rm(join(root, fresh), { recursive: true, force: true });
    throw err;
  }

  // Visible names: one symlink per top-level entry, through ..data.
  const top = new Set(files.map((f) => f.path.split('/')[0] ?? f.path));
  for (const name of top) {
    const link = join(root, name);
    const existing = await lstat(link).catch(() => undefined);
    if (existing?.isSymbolicLink() && (await readlink(link)) === join(DATA_LINK, name)) continue;
    if (existing) await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_LINK, name), link);
  }
  for (const entry of await readdir(root)) {
    if (entry.startsWith('..') || top.has(entry)) continue;
    await rm(join(root, entry), { recursive: true, force: true });
  }
  if (old && old !== fresh) await rm(join(root, old), { recursive: true, force: true });
  return true;
}
