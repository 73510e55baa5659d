// The CSI node plugin, called exactly as kubelet calls it (volume context with pod info and
// ServiceAccount tokens from the real API server), writing real tmpfs mounts: files, modes,
// fsGroup, atomic rotation under readers, one provider read for many volumes, outages, bad
// references, unpublish, a plugin restart, per-pod identity against OpenBao, and csi-sanity.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ServiceError } from '@grpc/grpc-js';
import { StorageV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_LINK } from '../../src/sinks/csi/atomic-writer.ts';
import { isMountPoint } from '../../src/sinks/csi/tmpfs.ts';
import { volumePaths } from '../../src/sinks/csi/volume-mounts.ts';
import { call, kubeletContext, type PodLike, publishRequest, type RunningPlugin, startPlugin } from '../support/csi.ts';
import { chartCsiDriver } from '../support/helm.ts';
import { Objects } from '../support/objects.ts';
import { twoTeams } from '../support/openbao-kubernetes.ts';
import {
  createNamespace,
  kubeConfigFor,
  pointAwsSdkAt,
  testbed,
  uniqueName,
  usePrivateMoto,
  usePrivateOpenBao,
} from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { toolPath } from '../testbed/tools.ts';

const run = promisify(execFile);
const moto = usePrivateMoto();
const openbao = usePrivateOpenBao();
let plugin: RunningPlugin;
let o: Objects;
let dir: string;
let sm: SecretsManagerClient;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'csi'));
  dir = join(testbed().runDir, `csi-${randomBytes(3).toString('hex')}`);
  pointAwsSdkAt(moto.get().access.endpoint);
  plugin = await startPlugin(testbed().kube, dir);
  const { region, endpoint, accessKeyId, secretAccessKey } = moto.get().access;
  sm = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
});

afterAll(async () => {
  // Leave no mount behind, whatever a test did.
  for (const record of plugin?.plugin.volumes.list() ?? []) {
    await call(plugin.node, 'NodeUnpublishVolume', { volume_id: record.volumeId, target_path: record.targetPath });
  }
  await plugin?.stop();
});

const pod = (name = uniqueName('pod'), serviceAccount = 'default'): PodLike => ({
  namespace: o.namespace,
  name,
  serviceAccount,
});

async function fakeStore(data: Record<string, string>): Promise<string> {
  const name = uniqueName('fake');
  await o.secretStore(name, { fake: { data: Object.entries(data).map(([key, value]) => ({ key, value })) } });
  return name;
}

/** Publishes a volume for `p` and returns its target path. */
/**
 * NodePublishVolume as kubelet sends it, retried as kubelet retries while the plugin's watch has
 * not yet delivered an ExternalSecret or store that the API server already has.
 */
async function publishAttempt(
  externalSecret: string,
  p: PodLike,
  opts: { gid?: number; audiences?: string[] } = {},
): Promise<{ err?: ServiceError; volumeId: string; target: string }> {
  const volumeId = `csi-${randomBytes(8).toString('hex')}`;
  const target = join(dir, 'pods', volumeId, 'mount');
  await mkdir(join(dir, 'pods', volumeId), { recursive: true });
  const context = await kubeletContext(testbed().kube, p, externalSecret, opts.audiences);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const err = await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context, opts.gid)).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    const notSeenYet =
      err &&
      /does not exist/.test(err.details) &&
      (await o.getExternalSecret(externalSecret).then(
        () => true,
        () => false,
      ));
    if (!notSeenYet || Date.now() > deadline) return { err, volumeId, target };
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function publish(
  externalSecret: string,
  p: PodLike = pod(),
  opts: { gid?: number; audiences?: string[] } = {},
): Promise<{ volumeId: string; target: string }> {
  const { err, volumeId, target } = await publishAttempt(externalSecret, p, opts);
  if (err) throw err;
  return { volumeId, target };
}

async function publishError(
  externalSecret: string,
  p: PodLike = pod(),
): Promise<{ err: ServiceError; target: string }> {
  const { err, target } = await publishAttempt(externalSecret, p);
  if (!err) throw new Error(`publishing ${externalSecret} succeeded`);
  return { err, target };
}

const text = (path: string) => readFile(path, 'utf8');

describe('CSI node plugin', () => {
  it('answers Identity and Node capability calls as a node-only plugin', async () => {
    expect(await call(plugin.identity, 'GetPluginInfo', {})).toMatchObject({ name: 'csi.ferry.dev' });
    expect(await call(plugin.identity, 'Probe', {})).toMatchObject({ ready: { value: true } });
    const caps = await call<{ capabilities: { rpc: { type: string } }[] }>(plugin.node, 'NodeGetCapabilities', {});
    expect(caps.capabilities.map((c) => c.rpc.type)).toEqual(['VOLUME_MOUNT_GROUP']);
    expect(await call(plugin.node, 'NodeGetInfo', {})).toMatchObject({ node_id: 'test-node' });
  });

  it('mounts a tmpfs with every key as a file, files only (no Secret in etcd)', async () => {
    const store = await fakeStore({ 'db/password': 'p1', 'db/user': 'app' });
    await o.externalSecret('files-only', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [
        { secretKey: 'password', remoteRef: { key: 'db/password' } },
        { secretKey: 'user', remoteRef: { key: 'db/user' } },
      ],
    });
    const { target } = await publish('files-only');
    expect(await isMountPoint(target)).toBe(true);
    const { stdout } = await run('findmnt', ['-n', '-o', 'FSTYPE', target]);
    expect(stdout.trim()).toBe('tmpfs');
    expect(await text(join(target, 'password'))).toBe('p1');
    expect(await text(join(target, 'user'))).toBe('app');
    expect((await stat(join(target, 'password'))).mode & 0o777).toBe(0o644);
    expect((await readdir(target)).filter((e) => !e.startsWith('..')).sort()).toEqual(['password', 'user']);
    expect(await o.secret('files-only')).toBeUndefined();
  });

  it('lays out target.files items at their paths and modes, owned by the pod fsGroup', async () => {
    const store = await fakeStore({ key: 'tls-key', cert: 'tls-cert', ignored: 'x' });
    await o.externalSecret('laid-out', {
      secretStoreRef: { name: store },
      target: {
        creationPolicy: 'None',
        files: {
          defaultMode: 0o440,
          items: [
            { key: 'key', path: 'tls/tls.key', mode: 0o400 },
            { key: 'cert', path: 'tls/tls.crt' },
          ],
        },
      },
      data: [
        { secretKey: 'key', remoteRef: { key: 'key' } },
        { secretKey: 'cert', remoteRef: { key: 'cert' } },
        { secretKey: 'ignored', remoteRef: { key: 'ignored' } },
      ],
    });
    const { target } = await publish('laid-out', pod(), { gid: 3000 });
    expect(await text(join(target, 'tls/tls.key'))).toBe('tls-key');
    expect(await text(join(target, 'tls/tls.crt'))).toBe('tls-cert');
    const key = await stat(join(target, 'tls/tls.key'));
    const cert = await stat(join(target, 'tls/tls.crt'));
    // fsGroup: group-owned and group-readable, as kubelet does for read-only volumes.
    expect([key.gid, cert.gid]).toEqual([3000, 3000]);
    expect([key.mode & 0o777, cert.mode & 0o777]).toEqual([0o440, 0o440]);
    expect((await readdir(target)).filter((e) => !e.startsWith('..'))).toEqual(['tls']);
  });

  it('rotates atomically when the source changes; readers never see a partial or mixed set', async () => {
    const value = (v: number) => String(v).repeat(32 * 1024);
    await sm.send(
      new CreateSecretCommand({ Name: 'csi/pair', SecretString: JSON.stringify({ a: value(0), b: value(0) }) }),
    );
    const store = await o.awsStore(moto.get().access);
    await o.externalSecret('rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      dataFrom: [{ extract: { key: 'csi/pair' } }],
    });
    const { target, volumeId } = await publish('rotating');
    let stop = false;
    const problems: string[] = [];
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const set = await readlink(join(target, DATA_LINK));
        const [a, b] = await Promise.all([
          text(join(target, set, 'a')).catch(() => 'gone'),
          text(join(target, set, 'b')).catch(() => 'gone'),
        ]);
        if (a !== 'gone' && b !== 'gone' && a !== b) problems.push('mixed set');
        const viaName = await text(join(target, 'a'));
        if (viaName.length !== 32 * 1024) problems.push(`partial read of ${viaName.length} bytes`);
        reads++;
      }
    })();
    for (let v = 1; v <= 3; v++) {
      await sm.send(
        new PutSecretValueCommand({ SecretId: 'csi/pair', SecretString: JSON.stringify({ a: value(v), b: value(v) }) }),
      );
      await eventually(`version ${v} in the volume`, async () =>
        (await text(join(target, 'a'))) === value(v) ? true : undefined,
      );
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(problems).toEqual([]);
    const record = plugin.plugin.volumes.list().find((r) => r.volumeId === volumeId);
    expect(Object.keys(record?.versions ?? {})).toEqual(['csi/pair']);
  });

  it('reads each remote key once per refresh for all volumes on the node', async () => {
    for (const k of ['one', 'two'])
      await sm.send(new CreateSecretCommand({ Name: `csi/fan/${k}`, SecretString: `${k}-v1` }));
    const store = await o.awsStore(moto.get().access);
    await o.externalSecret('fan', {
      secretStoreRef: { name: store },
      refreshInterval: '2s',
      target: { creationPolicy: 'None' },
      data: [
        { secretKey: 'one', remoteRef: { key: 'csi/fan/one' } },
        { secretKey: 'two', remoteRef: { key: 'csi/fan/two' } },
      ],
    });
    const targets = await Promise.all(Array.from({ length: 20 }, () => publish('fan').then((v) => v.target)));
    const readsOf = () =>
      plugin.logs
        .map((l) => JSON.parse(l) as { msg?: string; key?: string })
        .filter((l) => l.msg === 'provider read' && l.key?.startsWith('csi/fan/')).length;
    // 20 first mounts: one read per key.
    expect(readsOf()).toBe(2);
    const before = readsOf();
    await sm.send(new PutSecretValueCommand({ SecretId: 'csi/fan/one', SecretString: 'one-v2' }));
    for (const t of targets) {
      await eventually('the rotated file in every volume', async () =>
        (await text(join(t, 'one'))) === 'one-v2' ? true : undefined,
      );
    }
    // One refresh cycle brought the change to all 20: at most one read per key per cycle it took.
    const cycles = Math.max(1, Math.ceil((readsOf() - before) / 2));
    expect(readsOf() - before).toBeLessThanOrEqual(2 * cycles);
    expect(cycles).toBeLessThanOrEqual(3);
  });

  it('keeps the mounted files untouched while the provider is down, and catches up after', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'csi/outage', SecretString: 'steady' }));
    const store = await o.awsStore(moto.get().access);
    await o.externalSecret('outage', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'csi/outage' } }],
    });
    const { target, volumeId } = await publish('outage');
    const set = await readlink(join(target, DATA_LINK));
    await moto.get().process.stop();
    try {
      await eventually('a failed refresh recorded', async () => {
        const record = plugin.plugin.volumes.list().find((r) => r.volumeId === volumeId);
        return record?.lastError?.startsWith('Transient') ? record : undefined;
      });
      expect(await text(join(target, 'v'))).toBe('steady');
      expect(await readlink(join(target, DATA_LINK))).toBe(set);
    } finally {
      await moto.get().process.start();
    }
    pointAwsSdkAt(moto.get().access.endpoint);
    await sm.send(new CreateSecretCommand({ Name: 'csi/outage', SecretString: 'after' }));
    await eventually(
      'the volume caught up',
      async () => ((await text(join(target, 'v'))) === 'after' ? true : undefined),
      30_000,
    );
  });

  it('refuses a volume it cannot fill with a clear status, and mounts nothing', async () => {
    const missing = await publishError('no-such-external-secret');
    expect(missing.err.code).toBe(9); // FAILED_PRECONDITION
    expect(missing.err.details).toMatch(/ExternalSecret .*no-such-external-secret does not exist/);
    expect(await isMountPoint(missing.target)).toBe(false);
    await expect(stat(missing.target)).rejects.toThrow(/ENOENT/);

    const store = await fakeStore({ present: 'x' });
    await o.externalSecret('absent-key', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'absent' } }],
    });
    const absent = await publishError('absent-key');
    expect(absent.err.code).toBe(5); // NOT_FOUND
    expect(absent.err.details).toMatch(/remote key "absent": NotFound/);
    expect(await isMountPoint(absent.target)).toBe(false);

    const noEphemeral = await call(plugin.node, 'NodePublishVolume', publishRequest('v', join(dir, 'x'), {})).catch(
      (e: ServiceError) => e,
    );
    expect((noEphemeral as ServiceError).code).toBe(3); // INVALID_ARGUMENT
    expect((noEphemeral as ServiceError).details).toMatch(/only inline ephemeral volumes/);
  });

  it("enforces the store's remoteKeyPolicy for volumes: a refused key mounts nothing, find results are filtered", async () => {
    const store = uniqueName('fenced');
    await o.secretStore(
      store,
      {
        fake: {
          data: [
            { key: `${o.namespace}-db`, value: 'mine' },
            { key: 'someone-else-db', value: 'theirs' },
          ],
        },
      },
      { remoteKeyPolicy: { rules: [{ allow: ['{namespace}-*'] }] } },
    );
    await o.externalSecret('fenced-refused', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'someone-else-db' } }],
    });
    const refused = await publishError('fenced-refused');
    expect(refused.err.code).toBe(9); // FAILED_PRECONDITION
    expect(refused.err.details).toMatch(
      /spec\.data\[0\]\.remoteRef\.key: remote key "someone-else-db" is not allowed in namespace .* \(spec\.remoteKeyPolicy\)/,
    );
    expect(await isMountPoint(refused.target)).toBe(false);
    const m = plugin.plugin.metrics;
    const storeId = `SecretStore/${o.namespace}/${store}`;
    expect(await m.total(m.tenancyDenials, { store: storeId, reason: 'remote_key_not_allowed' })).toBe(1);

    await o.externalSecret('fenced-find', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      dataFrom: [{ find: { name: { regexp: '-db$' } } }],
    });
    const { target } = await publish('fenced-find');
    expect((await readdir(target)).filter((e) => !e.startsWith('..'))).toEqual([`${o.namespace}-db`]);
    expect(await text(join(target, `${o.namespace}-db`))).toBe('mine');
    expect(await m.total(m.tenancyDenials, { store: storeId, reason: 'find_result_filtered' })).toBe(1);
  });

  it('refuses a volume the pod did not mark read-only, naming the field, and mounts nothing', async () => {
    const store = await fakeStore({ k: 'v' });
    await o.externalSecret('writable', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const volumeId = `csi-${randomBytes(8).toString('hex')}`;
    const target = join(dir, 'pods', volumeId, 'mount');
    const context = await kubeletContext(testbed().kube, pod(), 'writable');
    const err = (await call(
      plugin.node,
      'NodePublishVolume',
      publishRequest(volumeId, target, context, undefined, false),
    ).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(3); // INVALID_ARGUMENT
    expect(err.details).toMatch(/set readOnly: true on the pod's csi volume \(volumes\[\]\.csi\.readOnly\)/);
    expect(await isMountPoint(target)).toBe(false);
    // The same volume marked read-only mounts.
    await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context));
    expect(await text(join(target, 'k'))).toBe('v');
  });

  it('shows the pod a read-only view that not even root can write, kept out of swap; the plugin writes through its own mount', async () => {
    const store = await fakeStore({ k: 'first' });
    await o.externalSecret('view', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const { target, volumeId } = await publish('view');
    await expect(writeFile(join(target, 'planted'), 'x')).rejects.toThrow(/EROFS/);
    await expect(unlink(join(target, DATA_LINK))).rejects.toThrow(/EROFS/);
    const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === target);
    expect(line?.split(' ')[5]?.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    expect(line).toMatch(/ - tmpfs ferry-csi .*noswap/);
    const own = volumePaths(plugin.dataDir, volumeId, target).private;
    expect(await isMountPoint(own)).toBe(true);
    await o.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value: 'second' }] } } } });
    await eventually('the rotated file', async () => ((await text(join(target, 'k'))) === 'second' ? true : undefined));
    await call(plugin.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
    expect(await isMountPoint(own)).toBe(false);
    await expect(stat(own)).rejects.toThrow(/ENOENT/);
  });

  it('takes over a volume an older plugin mounted writable at the target: makes it read-only and keeps rotating it', async () => {
    const store = await fakeStore({ k: 'old-plugin' });
    await o.externalSecret('legacy', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    // What the plugin before this change left: a tmpfs straight at the target, its layout, and a
    // record without the writer's own account of the files.
    const base = join(dir, 'legacy');
    const volumeId = `csi-${randomBytes(8).toString('hex')}`;
    const target = join(base, 'pods', volumeId, 'mount');
    await mkdir(target, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4194304,nosuid,nodev,noexec,mode=0755', 'ferry-csi', target]);
    const version = '..2026_11_29_17_45_00.123_ab12cd';
    await mkdir(join(target, version));
    await writeFile(join(target, version, 'k'), 'old-plugin', { mode: 0o644 });
    await symlink(version, join(target, DATA_LINK));
    await symlink(join(DATA_LINK, 'k'), join(target, 'k'));
    const records = join(base, 'data', 'volumes');
    await mkdir(records, { recursive: true });
    const record = {
      volumeId,
      targetPath: target,
      namespace: o.namespace,
      podName: 'legacy-pod',
      podUid: randomBytes(8).toString('hex'),
      serviceAccount: 'default',
      externalSecret: 'legacy',
      versions: {},
      publishedAt: new Date().toISOString(),
    };
    const recordFile = `${createHash('sha256').update(volumeId).digest('hex').slice(0, 32)}.json`;
    await writeFile(join(records, recordFile), JSON.stringify(record));
    expect(await text(join(target, 'k'))).toBe('old-plugin');
    await writeFile(join(target, 'writable-before'), 'x');

    const upgraded = await startPlugin(testbed().kube, base, { dataDir: join(base, 'data') });
    try {
      expect(upgraded.plugin.volumes.list().map((r) => r.volumeId)).toEqual([volumeId]);
      await expect(writeFile(join(target, 'writable-after'), 'x')).rejects.toThrow(/EROFS/);
      await o.patch('secretstores', store, {
        spec: { provider: { fake: { data: [{ key: 'k', value: 'new-plugin' }] } } },
      });
      await eventually('the upgraded plugin rotated the file', async () =>
        (await text(join(target, 'k'))) === 'new-plugin' ? true : undefined,
      );
      const versions = (await readdir(target)).filter((e) => e.startsWith('..2'));
      expect(versions).toHaveLength(1);
      expect(versions[0]).not.toBe(version);
      await call(upgraded.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
      expect(await isMountPoint(target)).toBe(false);
    } finally {
      await upgraded.stop();
    }
  });

  it("refuses a mount past the node's volume memory (RESOURCE_EXHAUSTED), and keeps a volume's files when a rotation would pass it", async () => {
    const store = await fakeStore({ small: 's', grows: 'g' });
    for (const [name, key] of [
      ['budget-a', 'small'],
      ['budget-b', 'grows'],
    ]) {
      await o.externalSecret(name ?? '', {
        secretStoreRef: { name: store },
        refreshInterval: '1s',
        target: { creationPolicy: 'None' },
        data: [{ secretKey: 'v', remoteRef: { key: key ?? '' } }],
      });
    }
    // Each volume takes 12 KiB (a directory, a page of data, an entry); 40 KiB admit two with
    // room for a rotation besides.
    const base = join(dir, 'budget');
    const small = await startPlugin(testbed().kube, base, { volumeMemoryBytes: 40 * 1024 });
    const publishOn = async (name: string) => {
      const volumeId = `csi-${randomBytes(8).toString('hex')}`;
      const target = join(base, 'pods', volumeId, 'mount');
      const context = await kubeletContext(testbed().kube, pod(), name);
      const err = await call(small.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      return { err, volumeId, target };
    };
    try {
      const a = await publishOn('budget-a');
      const b = await publishOn('budget-b');
      expect([a.err, b.err]).toEqual([undefined, undefined]);
      const full = await publishOn('budget-a');
      expect(full.err?.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(full.err?.details).toMatch(
        /needs 12 KiB of the node's volume memory, of which 24 KiB of 40 KiB is in use/,
      );
      expect(await isMountPoint(full.target)).toBe(false);

      // budget-b's value grows to 20 KiB: its new set would not fit beside the old one.
      await o.patch('secretstores', store, {
        spec: {
          provider: {
            fake: {
              data: [
                { key: 'small', value: 's' },
                { key: 'grows', value: 'g'.repeat(20 * 1024) },
              ],
            },
          },
        },
      });
      const refused = await eventually('a rotation refused for memory', async () =>
        small.plugin.volumes.list().find((r) => r.volumeId === b.volumeId && r.lastError?.startsWith('OverBudget')),
      );
      expect(refused.lastError).toMatch(/rotating the volume of pod .* needs 28 KiB/);
      expect(await text(join(b.target, 'v'))).toBe('g');
      const m = small.plugin.metrics;
      expect(await m.total(m.csiRotations, { result: 'OverBudget' })).toBeGreaterThan(0);

      // Once a volume is gone there is room, and the rotation goes through.
      await call(small.node, 'NodeUnpublishVolume', { volume_id: a.volumeId, target_path: a.target });
      await eventually('the grown value', async () =>
        (await text(join(b.target, 'v'))).length === 20 * 1024 ? true : undefined,
      );
      await call(small.node, 'NodeUnpublishVolume', { volume_id: b.volumeId, target_path: b.target });
    } finally {
      await small.stop();
    }
  });

  it('unmounts and removes on NodeUnpublishVolume, and a second call is a no-op', async () => {
    const store = await fakeStore({ k: 'v' });
    await o.externalSecret('unpublished', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const { target, volumeId } = await publish('unpublished');
    expect(await isMountPoint(target)).toBe(true);
    await call(plugin.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
    expect(await isMountPoint(target)).toBe(false);
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
    await call(plugin.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
    expect(plugin.plugin.volumes.list().some((r) => r.volumeId === volumeId)).toBe(false);
  });

  it('finds its volumes after a restart and keeps rotating them', async () => {
    const store = await fakeStore({ k: 'before' });
    await o.externalSecret('survivor', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const own = await startPlugin(testbed().kube, join(dir, 'restart'));
    const volumeId = `csi-${randomBytes(8).toString('hex')}`;
    const target = join(dir, 'restart', 'pods', volumeId);
    await mkdir(join(dir, 'restart', 'pods'), { recursive: true });
    const context = await kubeletContext(testbed().kube, pod(), 'survivor');
    await call(own.node, 'NodePublishVolume', publishRequest(volumeId, target, context));
    await own.stop();
    // Stopped: the volume stays mounted for its pod.
    expect(await isMountPoint(target)).toBe(true);
    const again = await startPlugin(testbed().kube, join(dir, 'restart'), { dataDir: own.dataDir });
    try {
      expect(again.plugin.volumes.list().map((r) => r.volumeId)).toEqual([volumeId]);
      await o.patch('secretstores', store, { spec: { provider: { fake: { data: [{ key: 'k', value: 'after' }] } } } });
      await eventually('the restarted plugin rotated the file', async () =>
        (await text(join(target, 'k'))) === 'after' ? true : undefined,
      );
      await call(again.node, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target });
      expect(await isMountPoint(target)).toBe(false);
    } finally {
      await again.stop();
    }
  });

  it("reads with each pod's own ServiceAccount token: a pod gets only what its identity allows", async () => {
    const bao = openbao.get().admin;
    const kube = testbed().kube;
    await twoTeams(bao, kube, o, openbao.get().access.address);
    const a = await publish('team-a', pod(uniqueName('a'), 'team-a'), { audiences: ['vault'] });
    expect(await text(join(a.target, 'v'))).toBe('secret-of-a');
    const b = await publish('team-b', pod(uniqueName('b'), 'team-b'), { audiences: ['vault'] });
    expect(await text(join(b.target, 'v'))).toBe('secret-of-b');
    // A pod of team b naming team a's ExternalSecret logs in as itself, and the role refuses it.
    const volumeId = `csi-${randomBytes(8).toString('hex')}`;
    const target = join(dir, 'pods', volumeId);
    const context = await kubeletContext(kube, pod(uniqueName('b'), 'team-b'), 'team-a', ['vault']);
    const err = (await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).catch(
      (e: ServiceError) => e,
    )) as ServiceError;
    expect(err.code).toBe(7); // PERMISSION_DENIED
    expect(err.details).toMatch(/Denied: .*logging in with auth\/kubernetes/);
    expect(await isMountPoint(target)).toBe(false);
  });

  it('keeps a canary value out of its logs, metrics, volume records and error messages', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const store = await fakeStore({ good: canary, json: `{"token": "${canary}"` });
    await o.externalSecret('canary-ok', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: 'good' } }],
    });
    const failing = [
      { name: 'canary-b64', remoteRef: { key: 'good', decodingStrategy: 'Base64' as const } },
      { name: 'canary-json', remoteRef: { key: 'json', property: 'token' } },
    ];
    for (const f of failing) {
      await o.externalSecret(f.name, {
        secretStoreRef: { name: store },
        target: { creationPolicy: 'None' },
        data: [{ secretKey: 'v', remoteRef: f.remoteRef }],
      });
    }
    const { target } = await publish('canary-ok');
    expect(await text(join(target, 'v'))).toBe(canary);
    const errors = await Promise.all(failing.map((f) => publishError(f.name).then((e) => e.err.details)));
    expect(errors.join('\n')).toMatch(/not valid Base64/);
    expect(errors.join('\n')).toMatch(/not valid JSON/);
    const records = await Promise.all(
      (await readdir(join(plugin.dataDir, 'volumes'))).map((f) => text(join(plugin.dataDir, 'volumes', f))),
    );
    const haystacks = {
      logs: plugin.logs.join(''),
      metrics: await plugin.plugin.metrics.registry.metrics(),
      records: records.join('\n'),
      errors: errors.join('\n'),
    };
    for (const [where, hay] of Object.entries(haystacks)) {
      for (const needle of [canary, Buffer.from(canary).toString('base64')]) {
        expect(hay.includes(needle), `canary found in ${where}`).toBe(false);
      }
    }
  });

  it('ships a CSIDriver object the API server accepts as written', async () => {
    const manifest = await chartCsiDriver();
    const storage = kubeConfigFor(testbed().kube).makeApiClient(StorageV1Api);
    // A dry run validates and defaults it like a real create, without touching the object the
    // pod tests (csi-pods.test.ts) rely on.
    const created = await storage.createCSIDriver({
      body: { ...manifest, metadata: { name: uniqueName('csi') } },
      dryRun: 'All',
    });
    expect(created.spec).toMatchObject({
      attachRequired: false,
      podInfoOnMount: true,
      requiresRepublish: true,
      fsGroupPolicy: 'File',
      volumeLifecycleModes: ['Ephemeral'],
    });
    // The API server's own audience is not among them: such a token is a credential for it.
    expect(created.spec.tokenRequests?.map((t) => t.audience)).toEqual([
      'vault',
      'sts.amazonaws.com',
      'api://AzureADTokenExchange',
    ]);
  });

  it('passes csi-sanity in node-only mode', async () => {
    const sanity = join(dir, 'sanity');
    await mkdir(sanity, { recursive: true });
    const { stdout } = await run(
      toolPath('csi-sanity'),
      [
        `--csi.endpoint=unix://${plugin.socket}`,
        `--csi.mountdir=${join(sanity, 'mount')}`,
        `--csi.stagingdir=${join(sanity, 'staging')}`,
        // Controller suites do not apply to a node-only plugin; "should remove target path" creates its
        // volume with CreateVolume (a controller call). Unpublish removing the target is tested above.
        '--ginkgo.skip=\\[(Controller|GroupController) Server\\]|should remove target path',
        '--ginkgo.no-color',
      ],
      { timeout: 120_000 },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`csi-sanity failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    expect(stdout).toMatch(/SUCCESS!/);
    expect(stdout).toMatch(/[1-9]\d* Passed \| 0 Failed/);
  });
});
