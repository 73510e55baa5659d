import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLayout, DATA_LINK, type FileEntry, writeAtomically } from './atomic-writer.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-atomic-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const file = (path: string, text: string, mode = 0o644): FileEntry => ({ path, bytes: Buffer.from(text), mode });

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
