// A directory of a volume, reached only through descriptors the writer opened itself: each name
// is one path component looked up in such a directory, a symlink is never followed, files are
// created exclusively, owner and mode are set on the open descriptor, and every directory is
// checked to lie on the volume's own filesystem. Whatever anyone puts inside the volume, no call
// here reaches a file outside it (the class of CVE-2017-1002102).
//
// Node has no openat(2) or mkdirat(2); `/proc/self/fd/<fd>/<name>` resolves <name> inside the
// directory the descriptor holds, which is what those calls do. No maintained npm package offers
// the *at calls without a native addon.
import { constants, type Dirent } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rmdir,
  symlink,
  unlink,
} from 'node:fs/promises';
import { FerryError } from '../../errors.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;
const O_CLOEXEC = 0o2000000; // not exported by node:fs; Linux's value on every architecture Node supports

/** The volume's content is not what the writer left: a link, another filesystem, a file for a directory. */
export class UnsafeEntryError extends FerryError {
  constructor(message: string) {
    super('UnsafeEntry', message);
  }
}

function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new UnsafeEntryError(`"${name}" is not a single path component`);
  }
  return name;
}

export interface FileState {
  bytes: Buffer;
  mode: number;
  gid: number;
}

export class VolumeDir {
  readonly #handle: FileHandle;
  readonly #dev: number;
  /** For messages only; never used to reach a file. */
  readonly path: string;

  private constructor(handle: FileHandle, dev: number, path: string) {
    this.#handle = handle;
    this.#dev = dev;
    this.path = path;
  }

  /** Opens the volume's root (the plugin's own mount point: a symlink there is refused). */
  static async openRoot(path: string): Promise<VolumeDir> {
    const handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const info = await handle.stat();
    return new VolumeDir(handle, info.dev, path);
  }

  /** The path that names `name` inside this directory, whatever happens to the path above it. */
  private at(name: string): string {
    return `/proc/self/fd/${this.#handle.fd}/${checkName(name)}`;
  }

  /** An existing sub-directory: not a symlink, and on the volume's filesystem. */
  async sub(name: string): Promise<VolumeDir> {
    const handle = await open(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC).catch((err) => {
      throw (err as NodeJS.ErrnoException).code === 'ELOOP' || (err as NodeJS.ErrnoException).code === 'ENOTDIR'
        ? new UnsafeEntryError(`${this.path}/${name} is not a directory`)
        : err;
    });
    const info = await handle.stat();
    if (info.dev !== this.#dev) {
      await handle.close();
      throw new UnsafeEntryError(`${this.path}/${name} is on another filesystem than the volume`);
    }
    return new VolumeDir(handle, this.#dev, `${this.path}/${name}`);
  }

  /** Creates a new sub-directory (never an existing one) owned by `gid` with `mode`. */
  async mkdir(name: string, mode: number, gid?: number): Promise<VolumeDir> {
    await mkdir(this.at(name), { mode: 0o700 });
    const dir = await this.sub(name);
    if (gid !== undefined) await dir.#handle.chown(process.getuid?.() ?? 0, gid);
    await dir.#handle.chmod(mode);
    return dir;
  }

  /** Creates a new file (never an existing one, never through a link), then sets owner and mode on it. */
  async createFile(name: string, bytes: Buffer, mode: number, gid?: number): Promise<void> {
    const handle = await open(this.at(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    try {
      await handle.writeFile(bytes);
      if (gid !== undefined) await handle.chown(process.getuid?.() ?? 0, gid);
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  }

  /** A regular file's bytes, mode and group; undefined for anything else (a link is not followed). */
  async readFile(name: string): Promise<FileState | undefined> {
    const handle = await open(this.at(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC).catch(() => undefined);
    if (!handle) return undefined;
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.dev !== this.#dev) return undefined;
      return { bytes: await handle.readFile(), mode: info.mode & 0o7777, gid: info.gid };
    } finally {
      await handle.close();
    }
  }

  entries(): Promise<Dirent[]> {
    return readdir(`/proc/self/fd/${this.#handle.fd}`, { withFileTypes: true });
  }

  /** What `name` is, without following it; undefined when there is nothing. */
  async kind(name: string): Promise<'file' | 'directory' | 'symlink' | 'other' | undefined> {
    const info = await lstat(this.at(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!info) return undefined;
    if (info.isSymbolicLink()) return 'symlink';
    if (info.isDirectory()) return 'directory';
    return info.isFile() ? 'file' : 'other';
  }

  /** A symlink's text, to compare with what the writer put there; never used as a path. */
  async linkText(name: string): Promise<string | undefined> {
    return readlink(this.at(name)).catch(() => undefined);
  }

  async symlink(text: string, name: string): Promise<void> {
    await symlink(text, this.at(name));
  }

  /** Renames within this directory; `to` is replaced if it is a file or link. */
  async rename(from: string, to: string): Promise<void> {
    await rename(this.at(from), this.at(to));
  }

  /**
   * Removes `name` if present: a file or link is unlinked (a link's target is never touched), a
   * directory is emptied through descriptors first. A mount inside the volume is refused.
   */
  async remove(name: string): Promise<void> {
    const kind = await this.kind(name);
    if (kind === undefined) return;
    if (kind !== 'directory') {
      await unlink(this.at(name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      return;
    }
    const dir = await this.sub(name);
    try {
      for (const entry of await dir.entries()) await dir.remove(entry.name);
    } finally {
      await dir.close();
    }
    await rmdir(this.at(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}
