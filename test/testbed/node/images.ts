// Container images without a registry: a docker-archive written by hand (manifest.json, one
// config per image, one layer holding Debian's static busybox and its applet links), imported
// into the bed's containerd with `ctr`. Pods use them with imagePullPolicy: Never.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ctr } from './containerd.ts';

const run = promisify(execFile);

const BUSYBOX = '/bin/busybox';
/** A shell and the usual tools; pods run `sh -c '…'` in it. */
export const APP_IMAGE = 'ferry.test/busybox:1';
/** The sandbox ("pause") image: sleeps until the pod is stopped. */
export const PAUSE_IMAGE = 'ferry.test/pause:1';

function imageConfig(diffId: string, entrypoint: string[] | null, cmd: string[] | null): string {
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], Entrypoint: entrypoint, Cmd: cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  });
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Writes the archive holding both images into `dir` and imports it; returns the archive's path. */
export async function importImages(dir: string, socket: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['etc', 'tmp', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  const { stdout } = await run(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => undefined);
  }
  const tarOwner = ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name'];
  await run('tar', [
    ...tarOwner,
    '-cf',
    join(dir, 'layer.tar'),
    '-C',
    rootfs,
    'bin',
    'etc',
    'tmp',
    'proc',
    'sys',
    'dev',
  ]);
  const diffId = `sha256:${await sha256(join(dir, 'layer.tar'))}`;

  const images = [
    { tag: APP_IMAGE, config: imageConfig(diffId, null, ['sh']) },
    { tag: PAUSE_IMAGE, config: imageConfig(diffId, ['/bin/busybox', 'sleep', '2147483647'], null) },
  ];
  const manifest = [];
  for (const image of images) {
    const name = `${createHash('sha256').update(image.config).digest('hex')}.json`;
    await writeFile(join(dir, name), image.config);
    manifest.push({ Config: name, RepoTags: [image.tag], Layers: ['layer.tar'] });
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(dir, 'images.tar');
  await run('tar', [
    ...tarOwner,
    '-cf',
    archive,
    '-C',
    dir,
    'manifest.json',
    'layer.tar',
    ...manifest.map((m) => m.Config),
  ]);
  await ctr(socket, ['images', 'import', archive]);
  return archive;
}
