// The sync engine end to end on the built-in `fake` provider, against the real API server.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, secretWrites, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'fake');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

const fake = (entries: { key: string; value: string; version?: string }[]) => ({ fake: { data: entries } });

async function storeWith(entries: { key: string; value: string; version?: string }[]): Promise<string> {
  const name = uniqueName('store');
  await o.secretStore(name, fake(entries));
  return name;
}

describe('sync from the fake provider', () => {
  it('writes the Secret with labels, owner reference and type, and reports Ready', async () => {
    const store = await storeWith([{ key: 'db', value: '{"user":"app","pass":"s3cret"}' }]);
    await o.externalSecret('basic', {
      secretStoreRef: { name: store },
      target: {
        name: 'basic-out',
        template: { type: 'kubernetes.io/basic-auth', metadata: { labels: { team: 'a' } } },
      },
      data: [
        { secretKey: 'username', remoteRef: { key: 'db', property: 'user' } },
        { secretKey: 'password', remoteRef: { key: 'db', property: 'pass' } },
      ],
    });
    const secret = await o.waitForSecret('basic-out', (d) => d.password === 's3cret', 'the synced Secret');
    expect(await o.secretText('basic-out')).toEqual({ username: 'app', password: 's3cret' });
    expect(secret.type).toBe('kubernetes.io/basic-auth');
    expect(secret.metadata?.labels).toMatchObject({ team: 'a', 'ferry.dev/managed': 'true' });
    expect(secret.metadata?.annotations?.['ferry.dev/data-hash']).toMatch(/^[0-9a-f]{32}$/);
    const es = await o.getExternalSecret('basic');
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ExternalSecret', name: 'basic', uid: es.metadata.uid, controller: true }),
    ]);
    const { ready, es: synced } = await o.waitForReady('basic', { status: 'True', reason: 'SecretSynced' });
    expect(ready.message).toBe('2 keys written to Secret "basic-out"');
    expect(synced.status?.observedGeneration).toBe(1);
    expect(synced.status?.refreshTime).toBeTruthy();
    expect(synced.status?.syncedResourceVersion).toMatch(/^1-/);
    const storeStatus = await eventually('store Ready', async () => {
      const s = await o.getSecretStore(store);
      return s.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    });
    expect(storeStatus.reason).toBe('Valid');
    expect((await o.events()).some((e) => e.involved === 'basic' && e.reason === 'Created')).toBe(true);
  });

  it('picks up a changed value within the refresh interval, and leaves the Secret alone when nothing changed', async () => {
    const store = await storeWith([{ key: 'token', value: 'v1' }]);
    await o.externalSecret('rotating', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'token', remoteRef: { key: 'token' } }],
    });
    const first = await o.waitForSecret('rotating', (d) => d.token === 'v1', 'v1');
    const firstSync = (await o.waitForReady('rotating', { status: 'True' })).es.status?.refreshTime;
    // Several refreshes with nothing changed: status moves on, the Secret is never rewritten.
    await eventually('three more refreshes', async () => {
      const t = (await o.getExternalSecret('rotating')).status?.refreshTime ?? '';
      return Date.parse(t) - Date.parse(firstSync ?? '') >= 3000 ? t : undefined;
    });
    expect((await o.secret('rotating'))?.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'rotating')).toBe(1);

    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'token', value: 'v2' }]) } });
    await o.waitForSecret('rotating', (d) => d.token === 'v2', 'the rotated value');
  });

  it('waits out a refreshInterval longer than a JavaScript timer can hold (720h) instead of re-syncing at once', async () => {
    const store = await storeWith([{ key: 'monthly', value: 'm1' }]);
    await o.externalSecret('monthly', {
      secretStoreRef: { name: store },
      refreshInterval: '720h',
      data: [{ secretKey: 'token', remoteRef: { key: 'monthly' } }],
    });
    await o.waitForReady('monthly', { status: 'True' });
    const linesFor = () => ctl.logs.filter((l) => (JSON.parse(l) as { name?: string }).name === 'monthly').length;
    const before = linesFor();
    const { metadata } = await o.getExternalSecret('monthly');
    // A timer that overflowed would fire after 1 ms: thousands of reconciles and status writes here.
    await new Promise((r) => setTimeout(r, 2000));
    expect(linesFor() - before).toBeLessThanOrEqual(2);
    expect((await o.getExternalSecret('monthly')).metadata.resourceVersion).toBe(metadata.resourceVersion);
  });

  it('re-reads the provider on a force-sync annotation, writing nothing when the value is the same', async () => {
    const store = await storeWith([{ key: 'k', value: 'same' }]);
    await o.externalSecret('forced', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const before = await o.waitForSecret('forced', (d) => d.k === 'same', 'first sync');
    const t0 = (await o.waitForReady('forced', { status: 'True' })).es.status?.refreshTime;
    await o.patch('externalsecrets', 'forced', {
      metadata: { annotations: { 'ferry.dev/force-sync': String(Date.now()) } },
    });
    await eventually('a new refreshTime', async () => {
      const t = (await o.getExternalSecret('forced')).status?.refreshTime;
      return t !== t0 ? t : undefined;
    });
    expect((await o.secret('forced'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'forced')).toBe(1);
  });

  it('reads a key once when every ExternalSecret reading it is forced, and again when one is forced after that', async () => {
    const key = uniqueName('forced-key');
    const store = await storeWith([{ key, value: 'same' }]);
    const names = Array.from({ length: 12 }, (_, i) => `forced-many-${i}`);
    for (const name of names) {
      await o.externalSecret(name, { secretStoreRef: { name: store }, data: [{ secretKey: 'k', remoteRef: { key } }] });
    }
    const synced = async () =>
      Object.fromEntries(
        await Promise.all(
          names.map(async (n) => [n, (await o.waitForReady(n, { status: 'True' })).es.status?.refreshTime]),
        ),
      );
    const first = await synced();
    const reads = () =>
      ctl.logs.filter((l) => {
        const line = JSON.parse(l) as { msg?: string; key?: string };
        return line.msg === 'provider read' && line.key === key;
      }).length;
    const before = reads();
    // Forced one after another, so most are forced after the first forced read began.
    for (const name of names) {
      await o.patch('externalsecrets', name, { metadata: { annotations: { 'ferry.dev/force-sync': 'wave-1' } } });
      await new Promise((r) => setTimeout(r, 50));
    }
    await eventually('every object re-synced', async () => {
      const now = await Promise.all(names.map(async (n) => (await o.getExternalSecret(n)).status?.refreshTime));
      return now.every((t, i) => t !== first[names[i] as string]) ? now : undefined;
    });
    expect(reads() - before).toBe(1);
    // Forcing one again after its forced sync reads the provider again: the shared read is older.
    await o.patch('externalsecrets', 'forced-many-0', {
      metadata: { annotations: { 'ferry.dev/force-sync': 'wave-2' } },
    });
    await eventually('a second forced read', async () => (reads() - before === 2 ? true : undefined));
    for (const name of names) expect(secretWrites(ctl, name)).toBe(1);
  });

  it("keeps kubectl's last-applied annotation on a Secret it updates, though its cache drops it", async () => {
    const store = await storeWith([{ key: 'k', value: 'one' }]);
    await o.externalSecret('applied', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('applied', (d) => d.k === 'one', 'first sync');
    const lastApplied = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"applied"}}';
    await o.core.patchNamespacedSecret(
      {
        namespace: o.namespace,
        name: 'applied',
        body: { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'k', value: 'two' }]) } });
    const updated = await o.waitForSecret('applied', (d) => d.k === 'two', 'the new value');
    expect(updated.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBe(lastApplied);
  });

  it('restores a Secret that was edited or deleted', async () => {
    const store = await storeWith([{ key: 'k', value: 'original' }]);
    await o.externalSecret('drift', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('drift', (d) => d.k === 'original', 'first sync');
    const edited = await o.secret('drift');
    if (!edited) throw new Error('Secret vanished');
    edited.data = { k: Buffer.from('tampered').toString('base64') };
    await o.core.replaceNamespacedSecret({ namespace: o.namespace, name: 'drift', body: edited });
    await o.waitForSecret('drift', (d) => d.k === 'original', 'the edited Secret restored');
    await o.core.deleteNamespacedSecret({ namespace: o.namespace, name: 'drift' });
    await o.waitForSecret('drift', (d) => d.k === 'original', 'the deleted Secret re-created');
  });

  it('keeps the old data and names the key when a remote key is missing (deletionPolicy Retain)', async () => {
    const store = await storeWith([{ key: 'a', value: 'kept' }]);
    await o.externalSecret('missing', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'a', remoteRef: { key: 'a' } }],
    });
    const before = await o.waitForSecret('missing', (d) => d.a === 'kept', 'first sync');
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'other', value: 'x' }]) } });
    const { ready } = await o.waitForReady('missing', { status: 'False', reason: 'SecretMissing' });
    expect(ready.message).toMatch(/remote key "a": NotFound/);
    expect((await o.secret('missing'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('deletes the Secret only after the not-found is confirmed on a later refresh (deletionPolicy Delete)', async () => {
    const store = await storeWith([{ key: 'a', value: 'x' }]);
    await o.externalSecret('deleting', {
      secretStoreRef: { name: store },
      refreshInterval: '2s',
      target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'a', remoteRef: { key: 'a' } }],
    });
    await o.waitForSecret('deleting', (d) => d.a === 'x', 'first sync');
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'unrelated', value: 'y' }]) } });
    const pending = await o.waitForReady('deleting', { reason: 'SecretMissing', message: /will remove it/ });
    expect(pending.ready.status).toBe('False');
    expect(await o.secret('deleting')).toBeDefined();
    await o.waitForReady('deleting', { reason: 'SecretDeleted' });
    expect(await o.secret('deleting')).toBeUndefined();
  });

  it("never deletes another ExternalSecret's Secret, even when its own keys are all gone (deletionPolicy Delete)", async () => {
    const store = await storeWith([{ key: 'a', value: 'mine' }]);
    await o.externalSecret('keeper', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'a', remoteRef: { key: 'a' } }],
    });
    const kept = await o.waitForSecret('keeper', (d) => d.a === 'mine', 'the first ExternalSecret synced');
    await o.externalSecret('intruder', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { name: 'keeper', deletionPolicy: 'Delete' },
      data: [{ secretKey: 'b', remoteRef: { key: 'never-existed' } }],
    });
    await o.waitForReady('intruder', { reason: 'SecretDeleted' });
    expect((await o.secret('keeper'))?.metadata?.uid).toBe(kept.metadata?.uid);
    expect(await o.secretText('keeper')).toEqual({ a: 'mine' });
  });

  it('removes only the keys whose remote value is gone (deletionPolicy Merge)', async () => {
    const store = await storeWith([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    await o.externalSecret('merging', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Merge' },
      data: [
        { secretKey: 'a', remoteRef: { key: 'a' } },
        { secretKey: 'b', remoteRef: { key: 'b' } },
      ],
    });
    await o.waitForSecret('merging', (d) => d.a === '1' && d.b === '2', 'first sync');
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'a', value: '1' }]) } });
    await o.waitForSecret('merging', (d) => d.a === '1' && !('b' in d), 'key b removed');
  });

  it('never blanks a Secret when a dataFrom.find listing comes back empty (deletionPolicy Retain)', async () => {
    const store = await storeWith([
      { key: 'db-a', value: '1' },
      { key: 'db-b', value: '2' },
    ]);
    await o.externalSecret('find-retain', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      dataFrom: [{ find: { name: { regexp: '^db-' } } }],
    });
    const before = await o.waitForSecret('find-retain', (d) => d['db-a'] === '1' && d['db-b'] === '2', 'first sync');
    // One name gone from the listing: Retain keeps it, and the Secret stays as it was.
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'db-a', value: '1' }]) } });
    const partial = await o.waitForReady('find-retain', { status: 'False', reason: 'SecretMissing' });
    expect(partial.ready.message).toMatch(
      /remote key "db-b", listed by "dataFrom\[0\]\.find": NotFound: no longer listed/,
    );
    expect((await o.secret('find-retain'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    // Nothing listed at all: still a not-found, never an empty Secret.
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'other', value: 'x' }]) } });
    const empty = await o.waitForReady('find-retain', { status: 'False', message: /no secret matched/ });
    expect(empty.ready.message).toMatch(/remote key "dataFrom\[0\]\.find": NotFound: no secret matched/);
    expect((await o.secret('find-retain'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await o.secretText('find-retain')).toEqual({ 'db-a': '1', 'db-b': '2' });
  });

  it('drops a name gone from a dataFrom.find listing only once confirmed (deletionPolicy Merge)', async () => {
    const store = await storeWith([
      { key: 'db-a', value: '1' },
      { key: 'db-b', value: '2' },
    ]);
    await o.externalSecret('find-merge', {
      secretStoreRef: { name: store },
      refreshInterval: '2s',
      target: { deletionPolicy: 'Merge' },
      dataFrom: [{ find: { name: { regexp: '^db-' } } }],
    });
    await o.waitForSecret('find-merge', (d) => d['db-a'] === '1' && d['db-b'] === '2', 'first sync');
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'db-a', value: '1' }]) } });
    const pending = await o.waitForReady('find-merge', { reason: 'SecretMissing', message: /will remove it/ });
    expect(pending.ready.message).toMatch(/"db-b", listed by "dataFrom\[0\]\.find"/);
    expect(await o.secretText('find-merge')).toEqual({ 'db-a': '1', 'db-b': '2' });
    await o.waitForSecret('find-merge', (d) => d['db-a'] === '1' && !('db-b' in d), 'db-b dropped once confirmed');
  });

  it('deletes nothing while a store finds none of the keys read through it: a misconfigured store (deletionPolicy Delete)', async () => {
    const store = await storeWith([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    await o.externalSecret('store-typo', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { deletionPolicy: 'Delete' },
      data: [
        { secretKey: 'a', remoteRef: { key: 'a' } },
        { secretKey: 'b', remoteRef: { key: 'b' } },
      ],
    });
    const before = await o.waitForSecret('store-typo', (d) => d.a === '1' && d.b === '2', 'first sync');
    // The store edited to point somewhere that holds none of it (a wrong region or project).
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'unrelated', value: 'x' }]) } });
    const held = await o.waitForReady('store-typo', { status: 'False', message: /looks like a misconfigured store/ });
    expect(held.ready.message).toContain(`nothing Ferry reads through SecretStore/${o.namespace}/${store} is found`);
    // Well past the one-second confirmation: several more syncs, each holding.
    const failures = () => ctl.logs.filter((l) => l.includes('"store-typo"') && l.includes('sync failed')).length;
    const seen = failures();
    await eventually('three more syncs of store-typo', async () => (failures() >= seen + 3 ? true : undefined));
    expect((await o.secret('store-typo'))?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    // The store fixed: synced again, the same Secret.
    await o.patch('secretstores', store, {
      spec: {
        provider: fake([
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ]),
      },
    });
    await o.waitForReady('store-typo', { status: 'True' });
    expect((await o.secret('store-typo'))?.metadata?.uid).toBe(before.metadata?.uid);
  });

  it('merges keys into an existing Secret without touching its other keys (creationPolicy Merge)', async () => {
    const store = await storeWith([{ key: 'k', value: 'from-ferry' }]);
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: {
        metadata: { name: 'shared-target', annotations: { 'ferry.dev/merge-from': 'other, merge-in' } },
        stringData: { mine: 'keep me' },
      },
    });
    await o.externalSecret('merge-in', {
      secretStoreRef: { name: store },
      target: { name: 'shared-target', creationPolicy: 'Merge' },
      data: [{ secretKey: 'ferry', remoteRef: { key: 'k' } }],
    });
    await o.waitForSecret('shared-target', (d) => d.ferry === 'from-ferry' && d.mine === 'keep me', 'the merged keys');
    const s = await o.secret('shared-target');
    expect(s?.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('reports a missing target instead of creating it (creationPolicy Merge)', async () => {
    const store = await storeWith([{ key: 'k', value: 'v' }]);
    await o.externalSecret('merge-missing', {
      secretStoreRef: { name: store },
      target: { name: 'not-there', creationPolicy: 'Merge' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForReady('merge-missing', {
      status: 'False',
      message: /not-there does not exist; creationPolicy Merge/,
    });
    expect(await o.secret('not-there')).toBeUndefined();
  });

  it('refuses to take over a Secret it does not manage (creationPolicy Owner)', async () => {
    const store = await storeWith([{ key: 'k', value: 'v' }]);
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'theirs' }, stringData: { x: 'y' } },
    });
    await o.externalSecret('owner-clash', {
      secretStoreRef: { name: store },
      target: { name: 'theirs' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForReady('owner-clash', {
      status: 'False',
      message: /already exists and is not managed by this ExternalSecret/,
    });
    expect(await o.secretText('theirs')).toEqual({ x: 'y' });
  });

  it('writes no owner reference for creationPolicy Orphan and no Secret for None', async () => {
    const store = await storeWith([{ key: 'k', value: 'v' }]);
    await o.externalSecret('orphan', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'Orphan' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.externalSecret('nothing', {
      secretStoreRef: { name: store },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const orphan = await o.waitForSecret('orphan', (d) => d.k === 'v', 'orphan Secret');
    expect(orphan.metadata?.ownerReferences ?? []).toEqual([]);
    await o.waitForReady('nothing', { status: 'True', reason: 'SecretSynced' });
    expect(await o.secret('nothing')).toBeUndefined();
  });

  it('replaces an immutable Secret when its value rotates', async () => {
    const store = await storeWith([{ key: 'k', value: 'one' }]);
    await o.externalSecret('frozen', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { immutable: true },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const first = await o.waitForSecret('frozen', (d) => d.k === 'one', 'first sync');
    expect(first.immutable).toBe(true);
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'k', value: 'two' }]) } });
    const second = await o.waitForSecret('frozen', (d) => d.k === 'two', 'the replaced Secret');
    expect(second.immutable).toBe(true);
    expect(second.metadata?.uid).not.toBe(first.metadata?.uid);
  });

  it('syncs once for refreshPolicy CreatedOnce, and serves versions', async () => {
    const store = await storeWith([
      { key: 'k', value: 'current' },
      { key: 'k', value: 'old', version: 'v1' },
    ]);
    await o.externalSecret('once', {
      secretStoreRef: { name: store },
      refreshPolicy: 'CreatedOnce',
      data: [
        { secretKey: 'now', remoteRef: { key: 'k' } },
        { secretKey: 'then', remoteRef: { key: 'k', version: 'v1' } },
      ],
    });
    const first = await o.waitForSecret('once', (d) => d.now === 'current' && d.then === 'old', 'first sync');
    await o.patch('secretstores', store, { spec: { provider: fake([{ key: 'k', value: 'changed' }]) } });
    await o.waitForReady('once', { status: 'True' });
    expect((await o.secret('once'))?.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(secretWrites(ctl, 'once')).toBe(1);
  });

  it('expands dataFrom.extract into keys', async () => {
    const store = await storeWith([{ key: 'bundle', value: '{"host":"db","port":5432}' }]);
    await o.externalSecret('bundle', { secretStoreRef: { name: store }, dataFrom: [{ extract: { key: 'bundle' } }] });
    await o.waitForSecret('bundle', (d) => d.host === 'db' && d.port === '5432', 'expanded keys');
  });
});

describe('store resolution and bad input', () => {
  it('reports a missing SecretStore, and syncs as soon as it appears', async () => {
    const name = uniqueName('late');
    await o.externalSecret('waits-for-store', {
      secretStoreRef: { name },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    await o.waitForReady('waits-for-store', {
      status: 'False',
      message: new RegExp(`SecretStore "${name}" does not exist`),
    });
    await o.secretStore(name, fake([{ key: 'k', value: 'arrived' }]));
    await o.waitForSecret('waits-for-store', (d) => d.k === 'arrived', 'sync after the store appeared');
  });

  it('refuses a ClusterSecretStore whose conditions exclude the namespace, before any provider call', async () => {
    const name = uniqueName('css');
    const key = uniqueName('only-behind-css');
    await o.clusterSecretStore(name, {
      provider: fake([{ key, value: 'v' }]),
      conditions: [{ namespaces: ['elsewhere'] }],
    });
    await o.externalSecret('refused', {
      secretStoreRef: { name, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'k', remoteRef: { key } }],
    });
    await o.waitForReady('refused', { status: 'False', message: /does not allow namespace/ });
    // Provider reads are logged (debug) with their key: none may name the refused store's key.
    const reads = ctl.logs.filter((l) => l.includes('"msg":"provider read"'));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((l) => l.includes(`"key":"${key}"`))).toEqual([]);
    expect(await o.secret('refused')).toBeUndefined();
  });

  it('writes nothing and names the key when a value cannot be used', async () => {
    const store = await storeWith([
      { key: 'json', value: 'not json' },
      { key: 'b64', value: '%%%' },
      { key: 'ok', value: 'fine' },
    ]);
    await o.externalSecret('unusable', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'ok', remoteRef: { key: 'ok' } },
        { secretKey: 'prop', remoteRef: { key: 'json', property: 'field' } },
      ],
    });
    await o.waitForReady('unusable', { status: 'False', message: /secretKey "prop".*not valid JSON/ });
    await o.externalSecret('undecodable', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'bin', remoteRef: { key: 'b64', decodingStrategy: 'Base64' } }],
    });
    await o.waitForReady('undecodable', { status: 'False', message: /secretKey "bin".*not valid Base64/ });
    expect(await o.secret('unusable')).toBeUndefined();
    expect(await o.secret('undecodable')).toBeUndefined();
    const warnings = (await o.events()).filter((e) => e.type === 'Warning' && e.involved === 'unusable');
    expect(warnings[0]?.message).toMatch(/secretKey "prop"/);
  });
});
