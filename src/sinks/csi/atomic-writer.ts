// Writes a set of files into a volume so that a reader never sees a half-written set: kubelet's
// AtomicWriter layout. Files live in a timestamped directory `..<time>`; `..data` is a symlink to
// the current one, swapped with one rename(2); the visible names are symlinks through `..data`.
//
//   <root>/..data -> ..2026_11_29_17_45_00.123_ab12
//   <root>/password -> ..data/password
//   <root>/db -> ..data/db            (a sub-directory, for paths like db/user)
//
// The writer trusts nothing it finds on disk: which directory is current and which names are
// visible come from the caller's record of the last write (never from readlink), every file
// operation goes through volume-dir.ts (no link followed, nothing outside the volume reachable),
// and it removes only what it made: the names its record lists, `..data_tmp`, and directories
// named like its own versions (including those a crash left behind).
//
// Written by hand: no maintained npm package implements this layout, and kubelet's is Go.
import { randomBytes } from 'node:crypto';
import { FerryError } from '../../errors.ts';
import { VolumeDir } from './volume-dir.ts';

export interface FileEntry {
  /** Relative path, e.g. `password` or `db/user`. */
  path: string;
  bytes: Buffer;
  /** Permission bits (0o000–0o777). */
  mode: number;
}

/** What the writer made last: its record of the volume's content, kept by the caller. */
export interface WrittenSet {
  /** The current version directory (`..<time>`). */
  dir: string;
  /** The visible top-level names, each a symlink through ..data. */
  names: string[];
}

export const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';
const VERSION_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{3}_[0-9a-f]{6}$/;

export class FileLayoutError extends FerryError {
  constructor(message: string) {
    super('FileLayout', message);
  }
}

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

/** With an fsGroup the group may always read, as kubelet does for read-only volumes. */
function effectiveMode(mode: number, gid?: number): number {
  return gid === undefined ? mode : mode | 0o440;
}

const topName = (path: string) => path.split('/')[0] ?? path;

/**
 * Bytes of memory a set takes on tmpfs: whole pages of data, and a page for each file and
 * directory (inodes and directory entries), a safe over-estimate.
 */
export function footprintBytes(files: FileEntry[]): number {
  const page = 4096;
  const dirs = new Set<string>();
  let bytes = page; // the version directory
  for (const f of files) {
    bytes += Math.ceil(f.bytes.length / page) * page + page;
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return bytes + dirs.size * page;
}

/** True when `dir` holds exactly `files` (no more), as regular files with these bytes and modes. */
async function holdsExactly(dir: VolumeDir, files: Map<string, FileEntry>, prefix: string, gid?: number) {
  for (const entry of await dir.entries()) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const sub = await dir.sub(entry.name).catch(() => undefined);
      if (!sub) return false;
      try {
        if (!(await holdsExactly(sub, files, rel, gid))) return false;
      } finally {
        await sub.close();
      }
      continue;
    }
    const want = files.get(rel);
    const have = want && (await dir.readFile(entry.name));
    if (!want || !have || have.mode !== effectiveMode(want.mode, gid)) return false;
    if ((gid !== undefined && have.gid !== gid) || !have.bytes.equals(want.bytes)) return false;
    files.delete(rel);
  }
  return true;
}

/** The volume already shows `files` through the set the record names, links included. */
async function unchanged(root: VolumeDir, previous: WrittenSet, files: FileEntry[], gid?: number): Promise<boolean> {
  if (!VERSION_DIR.test(previous.dir) || (await root.linkText(DATA_LINK)) !== previous.dir) return false;
  const top = new Set(files.map((f) => topName(f.path)));
  if (top.size !== previous.names.length || previous.names.some((n) => !top.has(n))) return false;
  for (const name of top) if ((await root.linkText(name)) !== `${DATA_LINK}/${name}`) return false;
  const dir = await root.sub(previous.dir).catch(() => undefined);
  if (!dir) return false;
  try {
    const wanted = new Map(files.map((f) => [f.path, f]));
    return (await holdsExactly(dir, wanted, '', gid)) && wanted.size === 0;
  } finally {
    await dir.close();
  }
}

/** Writes every file into a new version directory `name`, creating sub-directories as it goes. */
async function writeVersion(root: VolumeDir, name: string, files: FileEntry[], gid?: number): Promise<void> {
  const dirMode = gid === undefined ? 0o755 : 0o2750;
  const version = await root.mkdir(name, dirMode, gid);
  const dirs = new Map<string, VolumeDir>([['', version]]);
  try {
    for (const f of files) {
      const parts = f.path.split('/');
      const base = parts.pop() ?? f.path;
      let parent = version;
      let at = '';
      for (const part of parts) {
        at = at ? `${at}/${part}` : part;
        let next = dirs.get(at);
        if (!next) {
          next = await parent.mkdir(part, dirMode, gid);
          dirs.set(at, next);
        }
        parent = next;
      }
      await parent.createFile(base, f.bytes, effectiveMode(f.mode, gid), gid);
    }
  } finally {
    for (const d of dirs.values()) await d.close();
  }
}

/** Points ..data at `version` with one rename; anything squatting on the names is removed first. */
async function swap(root: VolumeDir, version: string): Promise<void> {
  await root.remove(DATA_TMP_LINK);
  await root.symlink(version, DATA_TMP_LINK);
  try {
    await root.rename(DATA_TMP_LINK, DATA_LINK);
  } catch (err) {
    // rename(2) does not replace a directory with a link: only a non-link squats on ..data.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    await root.remove(DATA_LINK);
    await root.rename(DATA_TMP_LINK, DATA_LINK);
  }
}

/** The visible names a volume written before the writer kept a record has: links through ..data. */
async function linkedNames(root: VolumeDir): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await root.entries()) {
    if (!entry.name.startsWith('..') && (await root.linkText(entry.name)) === `${DATA_LINK}/${entry.name}`) {
      names.push(entry.name);
    }
  }
  return names;
}

export interface WriteResult {
  changed: boolean;
  written: WrittenSet;
}

/**
 * Makes `files` the content of the volume at `root`, given the record of the previous write (none
 * for a new volume, or one written before records were kept). Writes nothing when the volume
 * already shows exactly these files. `gid` (the pod's fsGroup) owns every file and directory.
 */
export async function writeAtomically(
  root: string,
  files: FileEntry[],
  opts: { gid?: number; previous?: WrittenSet } = {},
): Promise<WriteResult> {
  checkLayout(files);
  const { gid, previous } = opts;
  const dir = await VolumeDir.openRoot(root);
  try {
    if (previous && (await unchanged(dir, previous, files, gid))) return { changed: false, written: previous };

    const fresh = timestampedName();
    try {
      await writeVersion(dir, fresh, files, gid);
      await swap(dir, fresh);
    } catch (err) {
      await dir.remove(fresh).catch(() => undefined);
      throw err;
    }

    const top = [...new Set(files.map((f) => topName(f.path)))];
    for (const name of top) {
      if ((await dir.linkText(name)) === `${DATA_LINK}/${name}`) continue;
      await dir.remove(name);
      await dir.symlink(`${DATA_LINK}/${name}`, name);
    }
    const before = previous?.names ?? (await linkedNames(dir));
    for (const name of before) if (!top.includes(name)) await dir.remove(name);
    for (const entry of await dir.entries()) {
      if (entry.name !== fresh && VERSION_DIR.test(entry.name)) await dir.remove(entry.name);
    }
    return { changed: true, written: { dir: fresh, names: top } };
  } finally {
    await dir.close();
  }
}
