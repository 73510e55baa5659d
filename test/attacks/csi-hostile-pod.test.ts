// Attacks by a pod on the CSI node plugin, with real pods on the bed's kubelet (docs/security.md,
// "A pod that mounts a Ferry volume"). Each test first shows that its setup worked (a pod mounted
// the volume and read the value), then that the attack failed. The plugin runs as root on this
// machine: every victim lives under the bed's run directory and every link planted resolves inside
// it, so even a plugin without the defences could not touch anything outside the bed.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { volumePaths } from '../../src/sinks/csi/volume-mounts.ts';
import { CsiPods, csiMountsOf, type RegisteredPlugin, startRegisteredPlugin } from '../support/csi-pods.ts';
import { Objects } from '../support/objects.ts';
import { requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import type { NodeInfo } from '../testbed/node/node.ts';

let node: NodeInfo;
let plugin: RegisteredPlugin | undefined;
let o: Objects;
let csi: CsiPods;

let setup: Promise<void> | undefined;
beforeEach(async () => {
  setup ??= (async () => {
    node = requireNode();
    const kc = kubeConfigFor(testbed().kube);
    o = new Objects(kc, await createNamespace(kc, 'csi-attack'));
    csi = new CsiPods(o, node);
    await csi.apps.waitForDefaultServiceAccount();
    plugin = await startRegisteredPlugin(node, 'csi-attack');
  })();
  await setup;
}, 300_000);

afterAll(async () => {
  await plugin?.release();
});

async function fakeExternalSecret(name: string, values: Record<string, string>, extra: object = {}): Promise<string> {
  const store = uniqueName('fake');
  await o.secretStore(store, { fake: { data: Object.entries(values).map(([key, value]) => ({ key, value })) } });
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    refreshInterval: '1s',
    target: { creationPolicy: 'None' },
    data: Object.keys(values).map((key) => ({ secretKey: key, remoteRef: { key } })),
    ...extra,
  });
  return store;
}

describe('a pod against its CSI volume', () => {
  it('a pod that does not mark its volume read-only is refused, with an event that says what to set', async () => {
    await fakeExternalSecret('ro-check', { v: 'value' });
    const good = await csi.reader('ro-check');
    await csi.waitForLine(good, /^v=value /);

    const bad = await csi.reader('ro-check', {
      csiReadOnly: false,
      mountReadOnly: false,
      securityContext: { runAsUser: 0 },
    });
    const event = await csi.event(bad, 'FailedMount');
    expect(event.message).toMatch(
      /InvalidArgument.*set readOnly: true on the pod's csi volume \(volumes\[\]\.csi\.readOnly\)/,
    );
    const waiting = await csi.pod(bad);
    expect(waiting.status?.phase).toBe('Pending');
    expect(await csiMountsOf(waiting.metadata?.uid ?? '')).toEqual([]);
  });

  it('a pod running as root that mounts its volume writable still cannot write, link or remove in it', async () => {
    await fakeExternalSecret('root-writer', { v: 'value' });
    const name = await csi.reader('root-writer', {
      mountReadOnly: false,
      securityContext: { runAsUser: 0 },
      script: [
        'while true; do',
        '  w=$(echo x 2>&1 > /secrets/planted || echo refused);',
        '  l=$(ln -sf / /secrets/..data 2>&1 || echo refused);',
        '  r=$(rm -f /secrets/v 2>&1 || echo refused);',
        '  echo "v=$(cat /secrets/v) write=$w link=$l rm=$r" | tr "\\n" " "; echo;',
        '  sleep 0.5;',
        'done',
      ].join(' '),
    });
    const line = await csi.waitForLine(name, /^v=value /);
    expect(line).toMatch(/write=.*Read-only file system/);
    expect(line).toMatch(/link=.*Read-only file system/);
    expect(line).toMatch(/rm=.*Read-only file system/);
  });

  it("links and files planted in the plugin's own tmpfs never make it delete, create, chown or chmod outside the volume", async () => {
    const store = await fakeExternalSecret(
      'hostile',
      { user: 'u-0', pass: 'p-0' },
      {
        target: {
          creationPolicy: 'None',
          files: {
            items: [
              { key: 'user', path: 'db/user' },
              { key: 'pass', path: 'pass', mode: 0o440 },
            ],
          },
        },
      },
    );
    const name = await csi.reader('hostile', { fsGroup: 2345, file: 'pass' });
    await csi.waitForLine(name, /^v=p-0 gid=2345$/);
    const uid = (await csi.pod(name)).metadata?.uid ?? '';
    const record = plugin?.plugin.volumes.list().find((r) => r.podUid === uid);
    if (!record) throw new Error('no volume record for the pod');
    const root = volumePaths(plugin?.dataDir ?? '', record.volumeId, record.targetPath).private;

    // The victims: a directory and files outside the volume, as a node's own files would be.
    const runDir = testbed().runDir;
    const victim = join(runDir, `victim-${randomBytes(3).toString('hex')}`);
    await mkdir(join(victim, 'inner'), { recursive: true });
    await writeFile(join(victim, 'inner', 'keep'), 'precious');
    await chmod(join(victim, 'inner', 'keep'), 0o600);
    await writeFile(join(victim, 'top'), 'also precious');
    const before = await snapshot(victim);

    /** A symlink at `at` to `to`, relative, refused unless it resolves inside the bed's run dir. */
    const plant = async (at: string, to: string) => {
      const text = relative(dirname(at), to);
      if (!resolve(dirname(at), text).startsWith(`${runDir}/`)) throw new Error(`${text} would leave the bed`);
      await rm(`${at}.planted`, { force: true });
      await symlink(text, `${at}.planted`);
      await rename(`${at}.planted`, at).catch(async () => {
        await rm(at, { recursive: true, force: true });
        await rename(`${at}.planted`, at);
      });
    };

    // A racer that swaps whatever the writer creates in a new version for links to the victims.
    let racing = true;
    let raced = 0;
    const racer = (async () => {
      while (racing) {
        for (const entry of await readdir(root).catch(() => [] as string[])) {
          if (!/^\.\.\d{4}_/.test(entry)) continue;
          for (const [inside, to] of [
            ['db', join(victim, 'inner')],
            ['pass', join(victim, 'inner', 'keep')],
            ['db/user', join(victim, 'top')],
          ] as const) {
            const at = join(root, entry, inside);
            const info = await lstat(at).catch(() => undefined);
            if (!info || info.isSymbolicLink()) continue;
            await plant(at, to).then(
              () => raced++,
              () => undefined,
            );
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const rotations = () => plugin?.plugin.metrics.total(plugin.plugin.metrics.csiRotations) ?? Promise.resolve(0);
    try {
      for (let round = 1; round <= 5; round++) {
        // Before each rotation: ..data, ..data_tmp, the current version and a visible name point
        // at the victims.
        const current = plugin?.plugin.volumes.list().find((r) => r.podUid === uid)?.written?.dir;
        await plant(join(root, '..data'), victim);
        await plant(join(root, '..data_tmp'), victim);
        await plant(join(root, 'db'), join(victim, 'inner'));
        if (current) await plant(join(root, current), join(victim, 'inner'));
        const attempts = await rotations();
        await o.patch('secretstores', store, {
          spec: {
            provider: {
              fake: {
                data: [
                  { key: 'user', value: `u-${round}` },
                  { key: 'pass', value: `p-${round}` },
                ],
              },
            },
          },
        });
        await eventually(
          'two more refreshes of the volume',
          async () => ((await rotations()) >= attempts + 2 ? true : undefined),
          30_000,
        );
      }
    } finally {
      racing = false;
      await racer;
    }
    expect(raced).toBeGreaterThan(0);
    expect(await snapshot(victim)).toEqual(before);
    // Left alone, the plugin writes the volume whole again, and the pod reads the last value.
    await csi.waitForLine(name, /^v=p-5 gid=2345$/, 60_000);
    expect(await snapshot(victim)).toEqual(before);
  });
});

/** Every entry under `dir`: type, mode, owner, size, content, modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string) => {
    for (const name of (await readdir(at)).sort()) {
      const path = join(at, name);
      const info = await lstat(path);
      const content = info.isFile() ? await readFile(path, 'utf8') : '';
      out[relative(dir, path)] =
        `${info.isDirectory() ? 'd' : info.isFile() ? 'f' : 'other'} ${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid} ${info.size} ${content} ${info.mtimeMs}`;
      if (info.isDirectory()) await walk(path);
    }
  };
  const self = await stat(dir);
  out['.'] = `${(self.mode & 0o7777).toString(8)} ${self.uid}:${self.gid} ${self.mtimeMs}`;
  await walk(dir);
  return out;
}
