// The lifecycle matrix of docs/lifecycle.md, row by row, against the real API server: what each
// refreshPolicy × creationPolicy combination does on creation, on a provider change, on label
// and annotation changes of the ExternalSecret, on edits and deletion of the target Secret and on
// deletion of the ExternalSecret; then what each deletionPolicy does when a remote key is gone.
//
// "Nothing happened" is never concluded from waiting: a probe whose event follows the subject's
// in the same watch stream is seen handled first, then the work queue drains, then the subject is
// read. (Garbage collection of Owner Secrets is the node's kube-controller-manager, proved in
// garbage-collection.test.ts; here the ownerReference that drives it is checked.)
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { objectVersion } from '../../src/pipeline/settings.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'lifecycle');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

type Creation = 'Owner' | 'Orphan' | 'Merge' | 'None';
type Refresh = 'Periodic' | 'OnChange' | 'CreatedOnce';
type Entry = { key: string; value: string };

const fake = (data: Entry[]) => ({ fake: { data } });
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function setRemote(store: string, data: Entry[]): Promise<void> {
  await o.patch('secretstores', store, { spec: { provider: fake(data) } });
}

async function refreshTime(name: string): Promise<string | undefined> {
  return (await o.getExternalSecret(name)).status?.refreshTime;
}

/** An OnChange ExternalSecret used to prove that earlier ExternalSecret events were handled. */
async function esProbe(store: string): Promise<() => Promise<void>> {
  const name = uniqueName('probe-es');
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    refreshPolicy: 'OnChange',
    target: { creationPolicy: 'None' },
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.waitForReady(name, { status: 'True' });
  return async () => {
    const before = await o.getExternalSecret(name);
    await o.patch('externalsecrets', name, { metadata: { annotations: { 'probe-at': String(Date.now()) } } });
    await eventually(`probe ${name} re-synced`, async () => {
      const es = await o.getExternalSecret(name);
      return es.status?.syncedResourceVersion === objectVersion(es) &&
        es.status?.syncedResourceVersion !== before.status?.syncedResourceVersion
        ? true
        : undefined;
    });
    await ctl.controller.idle();
  };
}

/** An Owner Secret whose deletion proves that earlier Secret events were handled. */
async function secretProbe(store: string): Promise<() => Promise<void>> {
  const name = uniqueName('probe-secret');
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    refreshPolicy: 'CreatedOnce',
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.waitForSecret(name, () => true, `probe Secret ${name}`);
  return async () => {
    const before = await o.secret(name);
    await o.core.deleteNamespacedSecret({ namespace: o.namespace, name });
    await eventually(`probe Secret ${name} re-created`, async () => {
      const s = await o.secret(name);
      return s && s.metadata?.uid !== before?.metadata?.uid ? true : undefined;
    });
    await ctl.controller.idle();
  };
}

/** A Periodic Secret on the store that proves a store change reached the controller. */
async function storeProbe(store: string): Promise<(value: string) => Promise<void>> {
  const name = uniqueName('probe-store');
  await o.externalSecret(name, {
    secretStoreRef: { name: store },
    refreshInterval: '1s',
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.waitForSecret(name, () => true, `probe Secret ${name}`);
  return async (value) => {
    await o.waitForSecret(name, (d) => d.k === value, `probe ${name} sees ${value}`);
    await ctl.controller.idle();
  };
}

interface Row {
  creation: Creation;
  refresh: Refresh;
  /** refreshInterval; Periodic rows default to 1s. */
  interval?: string;
  /** A changed provider value reaches the Secret (at the refresh interval). */
  remoteChange: boolean;
  /** A label, annotation or spec change on the ExternalSecret syncs again. */
  metadataChange: boolean;
  /** The target's data edited by hand is put back. */
  editUndone: boolean;
  /** The target deleted by hand is created again. */
  deletedRecreated: boolean;
  /** The target keeps existing when the ExternalSecret is deleted (no ownerReference). */
  keptOnDelete: boolean;
}

// The behaviour matrix of ESO's docs/guides/ownership-deletion-policy.md, which Ferry follows.
const Y = true;
const N = false;
// biome-ignore format: a table reads best as one
const matrix: Row[] = [
  { creation: 'Owner',  refresh: 'Periodic',                      remoteChange: Y, metadataChange: Y, editUndone: Y, deletedRecreated: Y, keptOnDelete: N },
  { creation: 'Owner',  refresh: 'OnChange',                      remoteChange: N, metadataChange: Y, editUndone: Y, deletedRecreated: Y, keptOnDelete: N },
  { creation: 'Owner',  refresh: 'CreatedOnce',                   remoteChange: N, metadataChange: N, editUndone: Y, deletedRecreated: Y, keptOnDelete: N },
  // refreshInterval 0 under Periodic behaves as CreatedOnce (ESO's shouldRefreshPeriodic).
  { creation: 'Owner',  refresh: 'Periodic',    interval: '0',    remoteChange: N, metadataChange: N, editUndone: Y, deletedRecreated: Y, keptOnDelete: N },
  { creation: 'Orphan', refresh: 'Periodic',                      remoteChange: Y, metadataChange: Y, editUndone: Y, deletedRecreated: Y, keptOnDelete: Y },
  { creation: 'Orphan', refresh: 'OnChange',                      remoteChange: N, metadataChange: Y, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'Orphan', refresh: 'CreatedOnce',                   remoteChange: N, metadataChange: N, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'Orphan', refresh: 'Periodic',    interval: '0',    remoteChange: N, metadataChange: N, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'Merge',  refresh: 'Periodic',                      remoteChange: Y, metadataChange: Y, editUndone: Y, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'Merge',  refresh: 'OnChange',                      remoteChange: N, metadataChange: Y, editUndone: Y, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'Merge',  refresh: 'CreatedOnce',                   remoteChange: N, metadataChange: N, editUndone: Y, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'None',   refresh: 'Periodic',                      remoteChange: Y, metadataChange: Y, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'None',   refresh: 'OnChange',                      remoteChange: N, metadataChange: Y, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
  { creation: 'None',   refresh: 'CreatedOnce',                   remoteChange: N, metadataChange: N, editUndone: N, deletedRecreated: N, keptOnDelete: Y },
];

describe('refreshPolicy × creationPolicy', () => {
  const rows = matrix.map((r) => ({
    ...r,
    title: `${r.creation} / ${r.refresh}${r.interval !== undefined ? ` (refreshInterval ${r.interval})` : ''}`,
  }));
  it.concurrent.for(rows)('$title', async (row, { expect }) => {
    const store = uniqueName('store');
    await o.secretStore(store, fake([{ key: 'k', value: 'v1' }]));
    const name = uniqueName(`${row.creation}-${row.refresh}`.toLowerCase());
    const spec: ExternalSecretSpec = {
      secretStoreRef: { name: store },
      refreshPolicy: row.refresh,
      refreshInterval: row.interval ?? (row.refresh === 'Periodic' ? '1s' : undefined),
      target: { creationPolicy: row.creation },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    };
    const settleEs = await esProbe(store);
    const settleSecrets = await secretProbe(store);
    const settleStore = await storeProbe(store);
    const hasSecret = row.creation !== 'None';
    const value = async () => (await o.secretText(name))?.k;

    // Creation. Merge only writes into a Secret that exists.
    await o.externalSecret(name, spec);
    if (row.creation === 'Merge') {
      await o.waitForReady(name, {
        status: 'False',
        message: /creationPolicy Merge only writes into an existing Secret/,
      });
      expect(await o.secret(name)).toBeUndefined();
      await o.core.createNamespacedSecret({
        namespace: o.namespace,
        body: { metadata: { name, annotations: { 'ferry.dev/merge-from': name } }, data: { other: b64('theirs') } },
      });
    }
    await o.waitForReady(name, { status: 'True', reason: 'SecretSynced' });
    if (hasSecret) {
      const secret = await o.waitForSecret(name, (d) => d.k === 'v1', 'first sync');
      const es = await o.getExternalSecret(name);
      const owners = secret.metadata?.ownerReferences ?? [];
      expect(owners.some((r) => r.uid === es.metadata.uid && r.controller && r.blockOwnerDeletion)).toBe(
        !row.keptOnDelete,
      );
      if (row.creation === 'Merge') expect(await o.secretText(name)).toEqual({ other: 'theirs', k: 'v1' });
    } else {
      expect(await o.secret(name)).toBeUndefined();
    }

    // A provider change: Periodic picks it up; OnChange and CreatedOnce do not read again.
    const t1 = await refreshTime(name);
    await setRemote(store, [{ key: 'k', value: 'v2' }]);
    await settleStore('v2');
    if (row.remoteChange) {
      if (hasSecret) await o.waitForSecret(name, (d) => d.k === 'v2', 'the provider change');
    } else {
      if (hasSecret) expect(await value()).toBe('v1');
      expect(await refreshTime(name)).toBe(t1);
    }

    // A label change, an annotation change (force-sync), then a spec change on the ExternalSecret.
    for (const [i, change] of [
      { metadata: { labels: { team: 'blue' } } },
      { metadata: { annotations: { 'force-sync': String(Date.now()) } } },
      // A spec change that means the same (a new generation).
      { spec: { data: [{ secretKey: 'k', remoteRef: { key: 'k', decodingStrategy: 'None' } }] } },
    ].entries()) {
      const want = `m${i}`;
      await setRemote(store, [{ key: 'k', value: want }]);
      await settleStore(want);
      const before = await refreshTime(name);
      await o.patch('externalsecrets', name, change);
      await settleEs();
      if (row.metadataChange || row.remoteChange) {
        if (hasSecret) await o.waitForSecret(name, (d) => d.k === want, `sync after ${JSON.stringify(change)}`);
        else
          await eventually('a new refreshTime', async () => ((await refreshTime(name)) !== before ? true : undefined));
      } else {
        if (hasSecret) expect(await value()).toBe('v1');
        expect(await refreshTime(name)).toBe(before);
      }
    }
    const synced = row.metadataChange || row.remoteChange ? 'm2' : 'v1';
    await setRemote(store, [{ key: 'k', value: 'now' }]);
    await settleStore('now');
    // What a re-sync writes now: Periodic has already caught up with 'now'; the others read it on
    // the re-sync an edit or deletion causes.
    const current = row.remoteChange ? 'now' : synced;
    if (hasSecret) await o.waitForSecret(name, (d) => d.k === current, 'steady state');

    if (hasSecret) {
      // The target's data edited by hand.
      const edited = await o.secret(name);
      if (!edited) throw new Error('Secret vanished');
      edited.data = { ...edited.data, k: b64('tampered') };
      await o.core.replaceNamespacedSecret({ namespace: o.namespace, name, body: edited });
      await settleSecrets();
      if (row.editUndone) await o.waitForSecret(name, (d) => d.k === 'now', 'the edit undone from the provider');
      else expect(await value()).toBe('tampered');

      // The target deleted by hand.
      await o.core.deleteNamespacedSecret({ namespace: o.namespace, name });
      await settleSecrets();
      if (row.deletedRecreated) await o.waitForSecret(name, (d) => d.k === 'now', 'the Secret re-created');
      else expect(await o.secret(name)).toBeUndefined();
      if (row.creation === 'Merge') {
        await o.waitForReady(name, { status: 'False', message: /does not exist/ });
        // Written into again once it exists.
        await o.core.createNamespacedSecret({
          namespace: o.namespace,
          body: { metadata: { name, annotations: { 'ferry.dev/merge-from': name } }, data: { other: b64('again') } },
        });
        await o.waitForSecret(name, (d) => d.k === 'now' && d.other === 'again', 'merged into the new Secret');
      }
    }

    // The ExternalSecret deleted: with the controller's help or not, only an ownerReference
    // (Owner) lets the garbage collector take the Secret.
    const before = await o.secret(name);
    const owned = (before?.metadata?.ownerReferences ?? []).some((r) => r.kind === 'ExternalSecret' && r.controller);
    expect(owned).toBe(hasSecret && !row.keptOnDelete);
    await o.delete('externalsecrets', name);
    await settleEs();
    if (owned) return; // The garbage collector's part: proven with a running collector in garbage-collection.test.ts.
    // Not owned: Ferry deletes nothing and nothing lets the garbage collector take it.
    const after = await o.secret(name);
    expect(after?.metadata?.uid).toBe(before?.metadata?.uid);
    if (hasSecret && row.keptOnDelete) expect(after?.metadata?.ownerReferences ?? []).toEqual([]);
  });
});

interface DeletionRow {
  creation: Creation;
  deletion: 'Retain' | 'Delete' | 'Merge';
  /** The target after remote key b is gone and a stays (undefined: no Secret). */
  partial: Record<string, string> | undefined;
  /** The target after every remote key is gone. */
  gone: Record<string, string> | undefined;
  /** Ready reason once every key is gone. */
  reason: string;
}

// ESO drops key b at once under Delete and Merge, and deletes at once under Delete; Ferry waits
// for the not-found to be seen again a refresh later, and under Delete keeps a Secret whose keys
// are only partly gone (docs/lifecycle.md, "Deliberate differences").
const deletions: DeletionRow[] = [
  {
    creation: 'Owner',
    deletion: 'Retain',
    partial: { a: '1', b: '2' },
    gone: { a: '1', b: '2' },
    reason: 'SecretMissing',
  },
  { creation: 'Owner', deletion: 'Delete', partial: { a: '1', b: '2' }, gone: undefined, reason: 'SecretDeleted' },
  { creation: 'Owner', deletion: 'Merge', partial: { a: '1' }, gone: {}, reason: 'SecretMissing' },
  {
    creation: 'Orphan',
    deletion: 'Retain',
    partial: { a: '1', b: '2' },
    gone: { a: '1', b: '2' },
    reason: 'SecretMissing',
  },
  { creation: 'Orphan', deletion: 'Merge', partial: { a: '1' }, gone: {}, reason: 'SecretMissing' },
  {
    creation: 'Merge',
    deletion: 'Retain',
    partial: { other: 'x', a: '1', b: '2' },
    gone: { other: 'x', a: '1', b: '2' },
    reason: 'SecretMissing',
  },
  {
    creation: 'Merge',
    deletion: 'Merge',
    partial: { other: 'x', a: '1' },
    gone: { other: 'x' },
    reason: 'SecretMissing',
  },
  { creation: 'None', deletion: 'Retain', partial: undefined, gone: undefined, reason: 'SecretMissing' },
];

describe('deletionPolicy: a remote key not found', () => {
  it.concurrent.for(deletions)('$creation / $deletion', async (row, { expect }) => {
    const store = uniqueName('store');
    // A witness reads key w through the same store all along: the store keeps finding something,
    // so its not-founds count (a store that finds nothing at all deletes nothing; sync-fake.test.ts).
    const w = { key: 'w', value: 'w' };
    await o.secretStore(store, fake([{ key: 'a', value: '1' }, { key: 'b', value: '2' }, w]));
    await o.externalSecret(uniqueName('witness'), {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'w', remoteRef: { key: 'w' } }],
    });
    const name = uniqueName(`del-${row.creation}-${row.deletion}`.toLowerCase());
    if (row.creation === 'Merge') {
      await o.core.createNamespacedSecret({
        namespace: o.namespace,
        body: { metadata: { name, annotations: { 'ferry.dev/merge-from': name } }, data: { other: b64('x') } },
      });
    }
    await o.externalSecret(name, {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { creationPolicy: row.creation, deletionPolicy: row.deletion },
      data: [
        { secretKey: 'a', remoteRef: { key: 'a' } },
        { secretKey: 'b', remoteRef: { key: 'b' } },
      ],
    });
    await o.waitForReady(name, { status: 'True', reason: 'SecretSynced' });
    const first = await o.secret(name);

    // Key b gone: the not-found is reported at once, acted on (Merge) only when seen again.
    await setRemote(store, [{ key: 'a', value: '1' }, w]);
    const missing = await o.waitForReady(name, {
      status: 'False',
      reason: 'SecretMissing',
      message: /remote key "b": NotFound/,
    });
    expect(missing.ready.message).not.toMatch(/removed keys/);
    if (row.deletion === 'Merge') {
      await o.waitForReady(name, { message: /removed keys whose remote value is gone/ });
    } else if (row.deletion === 'Delete') {
      await o.waitForReady(name, { message: /removes the Secret only when every remote key is gone/ });
    } else {
      await o.waitForReady(name, { message: /deletionPolicy Retain keeps the Secret/ });
    }
    expect(await o.secretText(name)).toEqual(row.partial);

    // Every key gone.
    await setRemote(store, [w]);
    await o.waitForReady(name, { status: 'False', reason: row.reason, message: /remote key "a": NotFound/ });
    if (row.deletion !== 'Retain') {
      await o.waitForReady(name, { status: 'False', message: row.deletion === 'Delete' ? /deleted/ : /removed keys/ });
    }
    expect(await o.secretText(name)).toEqual(row.gone);
    if (row.gone && first) expect((await o.secret(name))?.metadata?.uid).toBe(first.metadata?.uid);
  });

  it.concurrent.for([
    { creation: 'Orphan', deletion: 'Delete', message: /deletionPolicy Delete requires creationPolicy Owner/ },
    { creation: 'Merge', deletion: 'Delete', message: /deletionPolicy Delete requires creationPolicy Owner/ },
    { creation: 'None', deletion: 'Delete', message: /deletionPolicy Delete requires creationPolicy Owner/ },
    {
      creation: 'None',
      deletion: 'Merge',
      message: /deletionPolicy Merge cannot be combined with creationPolicy None/,
    },
  ] as const)('refuses $creation / $deletion at admission', async (row, { expect }) => {
    const err = await o
      .externalSecret(uniqueName('refused'), {
        secretStoreRef: { name: 'any' },
        target: { creationPolicy: row.creation, deletionPolicy: row.deletion },
        data: [{ secretKey: 'a', remoteRef: { key: 'a' } }],
      })
      .then(
        () => undefined,
        (e: unknown) => String((e as { body?: string }).body ?? e),
      );
    expect(err).toMatch(row.message);
  });

  it('is never noticed under CreatedOnce, and under OnChange only when the ExternalSecret changes', async ({
    expect,
  }) => {
    const store = uniqueName('store');
    await o.secretStore(
      store,
      fake([
        { key: 'a', value: '1' },
        { key: 'k', value: 'here' },
      ]),
    );
    const settleStore = await storeProbe(store);
    const once = uniqueName('once');
    const onChange = uniqueName('onchange');
    for (const [name, refreshPolicy] of [
      [once, 'CreatedOnce'],
      [onChange, 'OnChange'],
    ] as const) {
      await o.externalSecret(name, {
        secretStoreRef: { name: store },
        refreshPolicy,
        target: { deletionPolicy: 'Merge' },
        data: [{ secretKey: 'a', remoteRef: { key: 'a' } }],
      });
      await o.waitForReady(name, { status: 'True', reason: 'SecretSynced' });
    }
    await setRemote(store, [{ key: 'k', value: 'gone' }]);
    await settleStore('gone');
    for (const name of [once, onChange]) {
      expect((await o.getExternalSecret(name)).status?.conditions?.[0]?.reason).toBe('SecretSynced');
      expect(await o.secretText(name)).toEqual({ a: '1' });
    }
    await o.patch('externalsecrets', onChange, { metadata: { labels: { touched: 'yes' } } });
    await o.patch('externalsecrets', once, { metadata: { labels: { touched: 'yes' } } });
    await o.waitForReady(onChange, { status: 'False', reason: 'SecretMissing', message: /remote key "a": NotFound/ });
    await ctl.controller.idle();
    expect((await o.getExternalSecret(once)).status?.conditions?.[0]?.reason).toBe('SecretSynced');
    expect(await o.secretText(once)).toEqual({ a: '1' });
  });
});

describe('target.name changes', () => {
  it.concurrent.for([
    { creation: 'Owner', oldKept: false },
    { creation: 'Orphan', oldKept: true },
  ] as const)(
    '$creation: the former target is deleted only when the ExternalSecret owned it',
    async (row, { expect }) => {
      const store = uniqueName('store');
      await o.secretStore(store, fake([{ key: 'k', value: 'v' }]));
      const name = uniqueName(`rename-${row.creation}`.toLowerCase());
      const spec = (target: string): ExternalSecretSpec => ({
        secretStoreRef: { name: store },
        target: { name: target, creationPolicy: row.creation },
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
      await o.externalSecret(name, spec(`${name}-old`));
      await o.waitForSecret(`${name}-old`, (d) => d.k === 'v', 'the first target');
      await o.patch('externalsecrets', name, { spec: { target: { name: `${name}-new` } } });
      await o.waitForSecret(`${name}-new`, (d) => d.k === 'v', 'the renamed target');
      await o.waitForReady(name, { status: 'True', message: new RegExp(`${name}-new`) });
      await ctl.controller.idle();
      if (row.oldKept) {
        expect(await o.secretText(`${name}-old`)).toEqual({ k: 'v' });
      } else {
        await eventually('the former target deleted', async () => ((await o.secret(`${name}-old`)) ? undefined : true));
        expect((await o.events()).some((e) => e.involved === name && e.reason === 'Deleted')).toBe(true);
      }
    },
  );
});

describe('creationPolicy changes', () => {
  it.concurrent.for([
    { from: 'Owner', to: 'Orphan', owned: false },
    { from: 'Owner', to: 'Merge', owned: false },
    { from: 'Orphan', to: 'Owner', owned: true },
  ] as const)('$from → $to: the ownerReference follows, the data stays', async (row, { expect }) => {
    const store = uniqueName('store');
    await o.secretStore(store, fake([{ key: 'k', value: 'v' }]));
    const name = uniqueName(`switch-${row.from}-${row.to}`.toLowerCase());
    await o.externalSecret(name, {
      secretStoreRef: { name: store },
      target: { creationPolicy: row.from },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const first = await o.waitForSecret(name, (d) => d.k === 'v', 'first sync');
    const uid = (await o.getExternalSecret(name)).metadata.uid;
    const owned = (s: typeof first | undefined) => (s?.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
    expect(owned(first)).toBe(!row.owned);
    await o.patch('externalsecrets', name, { spec: { target: { creationPolicy: row.to } } });
    const after = await eventually(`the ownerReference ${row.owned ? 'added' : 'removed'}`, async () => {
      const s = await o.secret(name);
      return s && owned(s) === row.owned ? s : undefined;
    });
    expect(after.metadata?.uid).toBe(first.metadata?.uid);
    expect(await o.secretText(name)).toEqual({ k: 'v' });
    await o.waitForReady(name, { status: 'True', reason: 'SecretSynced' });
  });
});
