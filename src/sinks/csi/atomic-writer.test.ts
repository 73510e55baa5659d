import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkLayout,
  DATA_LINK,
  type FileEntry,
  footprintBytes,
  type WrittenSet,
  writeAtomically as writeWithRecord,
} from './atomic-writer.ts';

let base: string;
let root: string;
/** The writer's record of each root, as the volume manager keeps it. */
const records = new Map<string, WrittenSet>();
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ferry-atomic-'));
  root = join(base, 'volume');
  await mkdir(root);
  records.clear();
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const file = (path: string, text: string, mode = 0o644): FileEntry => ({ path, bytes: Buffer.from(text), mode });

/** Writes as the volume manager does: with the record of the previous write, keeping the new one. */
async function writeAtomically(at: string, files: FileEntry[], opts: { gid?: number } = {}): Promise<boolean> {
  const { changed, written } = await writeWithRecord(at, files, { ...opts, previous: records.get(at) });
  records.set(at, written);
  return changed;
}

describe('writeAtomically', () => {
  it('writes files with their modes behind ..data, visible through symlinks', async () => {
    expect(await writeAtomically(root, [file('password', 'p1', 0o400), file('db/user', 'app', 0o440)])).toBe(true);
    expect(await readFile(join(root, 'password'), 'utf8')).toBe('p1');
    expect(await readFile(join(root, 'db/user'), 'utf8')).toBe('app');
    expect((await stat(join(root, 'password'))).mode & 0o777).toBe(0o400);
    expect((await stat(join(root, 'db/user'))).mode & 0o777).toBe(0o440);
    expect((await lstat(join(root, 'password'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(root, 'password'))).toBe(join(DATA_LINK, 'password'));
    expect((await readlink(join(root, DATA_LINK))).startsWith('..')).toBe(true);
  });

  it('does not write when nothing changed, and swaps the whole set when something did', async () => {
    await writeAtomically(root, [file('a', '1'), file('b', '1')]);
    const first = await readlink(join(root, DATA_LINK));
    expect(await writeAtomically(root, [file('a', '1'), file('b', '1')])).toBe(false);
    expect(await readlink(join(root, DATA_LINK))).toBe(first);
    expect(await writeAtomically(root, [file('a', '2'), file('c', '2')])).toBe(true);
    expect(await readlink(join(root, DATA_LINK))).not.toBe(first);
    // The old set and the dropped key are gone; only the current set and its links remain.
    expect((await readdir(root)).filter((e) => !e.startsWith('..')).sort()).toEqual(['a', 'c']);
    expect((await readdir(root)).filter((e) => e.startsWith('..')).length).toBe(2);
    expect(await readFile(join(root, 'a'), 'utf8')).toBe('2');
  });

  it('a change of mode alone is a change', async () => {
    await writeAtomically(root, [file('a', '1', 0o644)]);
    expect(await writeAtomically(root, [file('a', '1', 0o400)])).toBe(true);
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o400);
  });

  it('gives the fsGroup ownership and group read', async () => {
    await writeAtomically(root, [file('a', '1', 0o400), file('d/b', '2', 0o400)], { gid: 4242 });
    for (const p of ['a', 'd/b']) {
      const info = await stat(join(root, p));
      expect(info.gid).toBe(4242);
      expect(info.mode & 0o777).toBe(0o440);
    }
  });

  it('never lets a concurrent reader see a mixed or partial set', async () => {
    const big = (v: number) => `${v}`.repeat(64 * 1024);
    await writeAtomically(root, [file('a', big(0)), file('b', big(0))]);
    let stop = false;
    let reads = 0;
    const problems: string[] = [];
    const reader = (async () => {
      while (!stop) {
        // A reader that resolves ..data once sees one consistent set.
        const dir = await readlink(join(root, DATA_LINK));
        const [a, b] = await Promise.all([
          readFile(join(root, dir, 'a'), 'utf8').catch((e: Error) => `error ${e.message}`),
          readFile(join(root, dir, 'b'), 'utf8').catch((e: Error) => `error ${e.message}`),
        ]);
        // The directory may be removed after a later swap; a complete old set is fine, a mix is not.
        if (!a.startsWith('error') && !b.startsWith('error') && a !== b) problems.push('mixed set');
        // Through the visible names, every read is one whole value.
        const viaLink = await readFile(join(root, 'a'), 'utf8');
        if (viaLink.length !== 64 * 1024 || new Set(viaLink).size !== 1) problems.push('partial file');
        reads++;
      }
    })();
    for (let v = 1; v <= 40; v++) await writeAtomically(root, [file('a', big(v % 10)), file('b', big(v % 10))]);
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});

describe('writeAtomically against a hostile volume', () => {
  /** A directory and a file outside the volume, and a check that both are as they were. */
  async function victim() {
    const dir = join(base, 'victim');
    await mkdir(join(dir, 'inner'), { recursive: true });
    await writeFile(join(dir, 'inner', 'keep'), 'precious');
    await chmod(join(dir, 'inner', 'keep'), 0o600);
    const before = await stat(join(dir, 'inner', 'keep'));
    return {
      dir,
      async intact() {
        const now = await stat(join(dir, 'inner', 'keep'));
        expect(await readFile(join(dir, 'inner', 'keep'), 'utf8')).toBe('precious');
        expect(now.mode).toBe(before.mode);
        expect(now.gid).toBe(before.gid);
        expect((await readdir(dir)).sort()).toEqual(['inner']);
        expect((await readdir(join(dir, 'inner'))).sort()).toEqual(['keep']);
      },
    };
  }

  it('never follows ..data: a link to a directory outside is replaced, not emptied', async () => {
    const v = await victim();
    await writeAtomically(root, [file('a', '1')]);
    await rm(join(root, DATA_LINK));
    await symlink('../victim', join(root, DATA_LINK));
    expect(await writeAtomically(root, [file('a', '2')])).toBe(true);
    await v.intact();
    expect(await readFile(join(root, 'a'), 'utf8')).toBe('2');
  });

  it('never follows the current version directory when it has become a link', async () => {
    const v = await victim();
    await writeAtomically(root, [file('a', '1')]);
    const current = records.get(root)?.dir ?? '';
    await rm(join(root, current), { recursive: true });
    await symlink(join(v.dir, 'inner'), join(root, current));
    expect(await writeAtomically(root, [file('a', '2')])).toBe(true);
    await v.intact();
    // The planted link named like a version is removed as a link; nothing behind it.
    await expect(lstat(join(root, current))).rejects.toThrow(/ENOENT/);
  });

  it('removes a visible name or ..data_tmp planted as a link without touching its target', async () => {
    const v = await victim();
    await writeAtomically(root, [file('a', '1'), file('d/b', '1')]);
    await rm(join(root, 'd'));
    await symlink(join(v.dir, 'inner'), join(root, 'd'));
    await symlink(v.dir, join(root, '..data_tmp'));
    expect(await writeAtomically(root, [file('a', '2'), file('d/b', '2')])).toBe(true);
    await v.intact();
    expect(await readFile(join(root, 'd', 'b'), 'utf8')).toBe('2');
    expect(await readlink(join(root, 'd'))).toBe(join(DATA_LINK, 'd'));
  });

  it('sees a file swapped for a link as a change, and rewrites without reading or changing the target', async () => {
    const v = await victim();
    await writeAtomically(root, [file('a', 'precious', 0o600)]);
    const current = records.get(root)?.dir ?? '';
    await rm(join(root, current, 'a'));
    await symlink(join(v.dir, 'inner', 'keep'), join(root, current, 'a'));
    expect(await writeAtomically(root, [file('a', 'precious', 0o600)])).toBe(true);
    await v.intact();
    expect((await lstat(join(root, DATA_LINK, 'a'))).isFile()).toBe(true);
  });

  it('collects version directories a crash left behind, and leaves entries it never made', async () => {
    await writeAtomically(root, [file('a', '1')]);
    await mkdir(join(root, '..2026_01_02_03_04_05.678_abcdef', 'x'), { recursive: true });
    await writeFile(join(root, 'planted'), 'not ours');
    await mkdir(join(root, '..not-a-version'));
    expect(await writeAtomically(root, [file('a', '2')])).toBe(true);
    const entries = (await readdir(root)).sort();
    expect(entries.filter((e) => /^\.\.\d/.test(e))).toEqual([records.get(root)?.dir]);
    expect(entries).toContain('planted');
    expect(entries).toContain('..not-a-version');
  });

  it('takes over a volume written before records were kept: its links are its visible names', async () => {
    const first = await writeWithRecord(root, [file('a', '1'), file('gone', '1')]);
    expect(first.changed).toBe(true);
    // No record: the old writer's layout, found on disk.
    const again = await writeWithRecord(root, [file('a', '2')]);
    expect(again.changed).toBe(true);
    expect((await readdir(root)).filter((e) => !e.startsWith('..'))).toEqual(['a']);
    expect((await readdir(root)).filter((e) => e.startsWith('..2')).length).toBe(1);
  });
});

describe('footprintBytes', () => {
  it('counts whole pages of data and a page per file and directory', () => {
    expect(footprintBytes([])).toBe(4096);
    expect(footprintBytes([file('a', 'x')])).toBe(3 * 4096);
    expect(footprintBytes([file('d/a', 'x'.repeat(4097)), file('d/b', '')])).toBe(4096 + 3 * 4096 + 4096 + 4096);
  });
});

describe('checkLayout', () => {
  it('refuses paths that escape the volume or collide', () => {
    expect(() => checkLayout([file('../x', '')])).toThrow(/must be relative/);
    expect(() => checkLayout([file('/etc/x', '')])).toThrow(/must be relative/);
    expect(() => checkLayout([file('..data', '')])).toThrow(/reserved/);
    expect(() => checkLayout([file('a//b', '')])).toThrow(/empty/);
    expect(() => checkLayout([file('a', ''), file('a', '')])).toThrow(/same file/);
    expect(() => checkLayout([file('a', ''), file('a/b', '')])).toThrow(/both a file and the directory/);
    expect(() => checkLayout([file('a', '', 0o1777)])).toThrow(/mode/);
  });
});
