// ClusterExternalSecret against the real API server: copies stamped into the selected namespaces,
// following namespace label changes from watch events, status like ESO's, an unowned
// ExternalSecret never overwritten, clean deletion, bad input reported, and one provider read
// serving every copy. A private API server (fresh etcd prefix), because the controller here
// watches every namespace and must not reconcile other test files' objects.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import type { ClusterExternalSecret, ClusterExternalSecretSpec, ExternalSecret } from '../../src/api/v1alpha1/types.ts';
import { FINALIZER } from '../../src/controller/clusterexternalsecret/reconcile.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const group = { group: 'ferry.dev', version: 'v1alpha1' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const own = usePrivateApiServer();
let ctl: RunningController;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  kc = own.get().kc;
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  ctl = await startController(own.get().server.access);
});

afterAll(async () => {
  await ctl?.stop();
});

async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const name = uniqueName('ces');
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

async function label(ns: string, labels: Record<string, string | null>): Promise<void> {
  await core.patchNamespace({ name: ns, body: { metadata: { labels } } }, merge);
}

/** A ClusterSecretStore on the fake provider; returns its name. */
async function fakeStore(data: { key: string; value: string }[]): Promise<string> {
  const name = uniqueName('css');
  await new Objects(kc, 'default').clusterSecretStore(name, { provider: { fake: { data } } });
  return name;
}

function esSpec(store: string, extra: Partial<ExternalSecretSpec> = {}): ExternalSecretSpec {
  return {
    secretStoreRef: { name: store, kind: 'ClusterSecretStore' },
    data: [{ secretKey: 'password', remoteRef: { key: 'db' } }],
    ...extra,
  };
}

async function createCes(name: string, spec: ClusterExternalSecretSpec, annotations?: Record<string, string>) {
  await custom.createClusterCustomObject({
    ...group,
    plural: 'clusterexternalsecrets',
    body: { apiVersion: 'ferry.dev/v1alpha1', kind: 'ClusterExternalSecret', metadata: { name, annotations }, spec },
  });
}

async function getCes(name: string): Promise<ClusterExternalSecret | undefined> {
  return (await custom
    .getClusterCustomObject({ ...group, plural: 'clusterexternalsecrets', name })
    .catch(() => undefined)) as ClusterExternalSecret | undefined;
}

async function patchCes(name: string, patch: Record<string, unknown>): Promise<void> {
  await custom.patchClusterCustomObject({ ...group, plural: 'clusterexternalsecrets', name, body: patch }, merge);
}

async function getEs(ns: string, name: string): Promise<ExternalSecret | undefined> {
  return (await custom
    .getNamespacedCustomObject({ ...group, plural: 'externalsecrets', namespace: ns, name })
    .catch(() => undefined)) as ExternalSecret | undefined;
}

/** Waits until the ClusterExternalSecret's status satisfies `want`. */
function waitForStatus(name: string, what: string, want: (ces: ClusterExternalSecret) => boolean, timeoutMs = 20_000) {
  return eventually(
    `ClusterExternalSecret ${name}: ${what}`,
    async () => {
      const ces = await getCes(name);
      return ces && want(ces) ? ces : undefined;
    },
    timeoutMs,
  );
}

const ready = (ces: ClusterExternalSecret) => ces.status?.conditions?.find((c) => c.type === 'Ready');
const copyWrites = () =>
  ctl.controller.metrics.total(ctl.controller.metrics.kubeRequests, { resource: 'externalsecrets', verb: 'update' });
const providerCalls = () => ctl.controller.metrics.total(ctl.controller.metrics.sharedReads, { served: 'call' });

describe('ClusterExternalSecret', () => {
  it('creates its ExternalSecret in every selected namespace, which sync through one provider read, and lists them in status', async () => {
    const team = uniqueName('team');
    const [a, b, byName, other] = await Promise.all([
      namespace({ team }),
      namespace({ team }),
      namespace(),
      namespace({ team: 'someone-else' }),
    ]);
    const store = await fakeStore([{ key: 'db', value: 's3cret' }]);
    const callsBefore = await providerCalls();
    await createCes('db', {
      externalSecretSpec: esSpec(store),
      externalSecretMetadata: { labels: { app: 'db' }, annotations: { owner: 'platform' } },
      namespaceSelectors: [{ matchLabels: { team } }],
      namespaces: [byName],
    });

    const ces = await waitForStatus('db', 'three provisioned namespaces', (c) => ready(c)?.status === 'True');
    expect(ces.status?.provisionedNamespaces).toEqual([a, b, byName].sort());
    expect(ces.status?.externalSecretName).toBe('db');
    expect(ces.status?.failedNamespaces).toBeUndefined();
    expect(ces.status?.observedGeneration).toBe(1);
    expect(ready(ces)).toMatchObject({ reason: 'Provisioned', message: 'ExternalSecret "db" is in 3 namespaces' });
    expect(ces.metadata.finalizers).toContain(FINALIZER);

    for (const ns of [a, b, byName]) {
      const copy = await getEs(ns, 'db');
      expect(copy?.spec).toEqual(esSpec(store));
      expect(copy?.metadata.labels).toEqual({ app: 'db' });
      expect(copy?.metadata.annotations).toEqual({ owner: 'platform' });
      expect(copy?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'ClusterExternalSecret', name: 'db', uid: ces.metadata.uid, controller: true }),
      ]);
      await new Objects(kc, ns).waitForSecret('db', (d) => d.password === 's3cret', `the Secret in ${ns}`);
    }
    expect(await getEs(other, 'db')).toBeUndefined();
    // Three copies, one key through one ClusterSecretStore: one provider call served them all.
    expect((await providerCalls()) - callsBefore).toBe(1);
  });

  it('follows namespace labels from watch events: a namespace that starts matching gets a copy, one that stops loses it', async () => {
    const team = uniqueName('team');
    const [first, second] = await Promise.all([namespace({ team }), namespace()]);
    const store = await fakeStore([{ key: 'db', value: 'v' }]);
    // refreshTime 1h: anything that happens within the test comes from watch events, not polling.
    await createCes('follow', {
      externalSecretSpec: esSpec(store),
      namespaceSelectors: [{ matchLabels: { team } }],
      refreshTime: '1h',
    });
    await waitForStatus('follow', 'first namespace', (c) => c.status?.provisionedNamespaces?.join() === first);

    await label(second, { team });
    await eventually('a copy in the newly labelled namespace', () => getEs(second, 'follow'));
    const later = await namespace({ team });
    await eventually('a copy in a namespace created afterwards', () => getEs(later, 'follow'));
    await waitForStatus('follow', 'three namespaces', (c) => c.status?.provisionedNamespaces?.length === 3);

    await label(first, { team: null });
    await eventually('the copy gone from the namespace that stopped matching', async () =>
      (await getEs(first, 'follow')) ? undefined : true,
    );
    const ces = await waitForStatus('follow', 'two namespaces', (c) => c.status?.provisionedNamespaces?.length === 2);
    expect(ces.status?.provisionedNamespaces).toEqual([second, later].sort());
    // The Secret the copy wrote is not deleted by Ferry: with creationPolicy Owner it belongs to
    // the copy, and the cluster's garbage collector removes it with the copy.
    const secret = await new Objects(kc, first).secret('follow');
    expect(secret?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ExternalSecret', name: 'follow' }),
    ]);

    // A namespace being deleted drops out at once (the test bed has no namespace controller, so
    // it stays Terminating; the copy in it is deleted by Ferry).
    await core.deleteNamespace({ name: later });
    const afterDelete = await waitForStatus(
      'follow',
      'one namespace',
      (c) => c.status?.provisionedNamespaces?.length === 1,
    );
    expect(afterDelete.status?.provisionedNamespaces).toEqual([second]);
  });

  it('never overwrites an ExternalSecret it does not own: the namespace is listed as failed until that one is gone', async () => {
    const team = uniqueName('team');
    const [taken, free] = await Promise.all([namespace({ team }), namespace({ team })]);
    const store = await fakeStore([{ key: 'db', value: 'v' }]);
    const theirs = new Objects(kc, taken);
    const userSpec = esSpec(store, { data: [{ secretKey: 'mine', remoteRef: { key: 'db' } }] });
    await theirs.externalSecret('shared-name', userSpec);
    await createCes('conflict', {
      externalSecretName: 'shared-name',
      externalSecretSpec: esSpec(store),
      namespaceSelectors: [{ matchLabels: { team } }],
    });

    const ces = await waitForStatus(
      'conflict',
      'a failed namespace',
      (c) => (c.status?.failedNamespaces?.length ?? 0) > 0,
    );
    expect(ces.status?.failedNamespaces).toEqual([
      {
        namespace: taken,
        reason: `ExternalSecret "shared-name" already exists in namespace "${taken}" and is not owned by this ClusterExternalSecret; it is left as it is`,
      },
    ]);
    expect(ces.status?.provisionedNamespaces).toEqual([free]);
    expect(ready(ces)).toMatchObject({ status: 'False', reason: 'NamespacesFailed' });
    expect(ready(ces)?.message).toContain(`${taken}: ExternalSecret "shared-name" already exists`);
    const untouched = await theirs.getExternalSecret('shared-name');
    expect(untouched.spec).toEqual(userSpec);
    expect(untouched.metadata.ownerReferences).toBeUndefined();
    const events = await eventually('a ProvisioningFailed event', async () => {
      const list = await core.listNamespacedEvent({ namespace: 'default' });
      return list.items.find((e) => e.involvedObject.name === 'conflict' && e.reason === 'ProvisioningFailed');
    });
    expect(events.message).toContain(taken);

    await custom.deleteNamespacedCustomObject({
      ...group,
      plural: 'externalsecrets',
      namespace: taken,
      name: 'shared-name',
    });
    await waitForStatus(
      'conflict',
      'both provisioned once the user’s ExternalSecret is gone',
      (c) => ready(c)?.status === 'True',
    );
    expect((await getEs(taken, 'shared-name'))?.spec).toEqual(esSpec(store));
  });

  it('updates its copies when its spec or metadata changes, reverts edits, and writes nothing when nothing changed', async () => {
    const team = uniqueName('team');
    const [ns1, ns2] = await Promise.all([namespace({ team }), namespace({ team })]);
    const store = await fakeStore([
      { key: 'db', value: 'v1' },
      { key: 'user', value: 'app' },
    ]);
    await createCes('updates', { externalSecretSpec: esSpec(store), namespaceSelectors: [{ matchLabels: { team } }] });
    await waitForStatus('updates', 'provisioned', (c) => c.status?.provisionedNamespaces?.length === 2);
    // A change that does not concern the copies (refreshTime) is reconciled and writes nothing
    // (counted at the client: the API server would also swallow a no-op update).
    const writesBefore = await copyWrites();
    await patchCes('updates', { spec: { refreshTime: '2m' } });
    await waitForStatus('updates', 'generation 2 observed', (c) => c.status?.observedGeneration === 2);
    expect((await copyWrites()) - writesBefore).toBe(0);

    await patchCes('updates', {
      spec: {
        externalSecretSpec: esSpec(store, {
          data: [
            { secretKey: 'password', remoteRef: { key: 'db' } },
            { secretKey: 'username', remoteRef: { key: 'user' } },
          ],
        }),
        externalSecretMetadata: { labels: { tier: 'gold' } },
      },
    });
    for (const ns of [ns1, ns2]) {
      await new Objects(kc, ns).waitForSecret('updates', (d) => d.username === 'app', `the new key in ${ns}`);
      expect((await getEs(ns, 'updates'))?.metadata.labels).toEqual({ tier: 'gold' });
    }

    // A deleted copy comes back, and a hand edit of a copy is put back.
    await custom.deleteNamespacedCustomObject({ ...group, plural: 'externalsecrets', namespace: ns1, name: 'updates' });
    await eventually('the deleted copy re-created', async () => {
      const es = await getEs(ns1, 'updates');
      return es && es.metadata.uid !== undefined && es.spec.data?.length === 2 ? es : undefined;
    });
    const copy = await getEs(ns2, 'updates');
    await custom.patchNamespacedCustomObject(
      {
        ...group,
        plural: 'externalsecrets',
        namespace: ns2,
        name: 'updates',
        body: { spec: { refreshInterval: '5m' } },
      },
      merge,
    );
    await eventually('the edited copy reverted', async () => {
      const es = await getEs(ns2, 'updates');
      return es &&
        es.metadata.resourceVersion !== copy?.metadata.resourceVersion &&
        es.spec.refreshInterval === undefined
        ? es
        : undefined;
    });

    // Force sync: the annotation on the ClusterExternalSecret reaches every copy, which re-reads.
    const synced = (await getEs(ns2, 'updates'))?.status?.refreshTime;
    await patchCes('updates', { metadata: { annotations: { 'ferry.dev/force-sync': '1' } } });
    await eventually('the copy re-read after force sync', async () => {
      const es = await getEs(ns2, 'updates');
      return es?.metadata.annotations?.['ferry.dev/force-sync'] === '1' && es.status?.refreshTime !== synced
        ? es
        : undefined;
    });

    // A new externalSecretName moves the copies.
    await patchCes('updates', { spec: { externalSecretName: 'renamed' } });
    for (const ns of [ns1, ns2]) {
      await eventually(`the renamed copy in ${ns}`, () => getEs(ns, 'renamed'));
      await eventually(`the old copy gone from ${ns}`, async () => ((await getEs(ns, 'updates')) ? undefined : true));
    }
    await waitForStatus('updates', 'status names the new copies', (c) => c.status?.externalSecretName === 'renamed');
  });

  it('on deletion removes its copies and releases its finalizer, keeping Secrets their own policy keeps', async () => {
    const team = uniqueName('team');
    const [ns1, ns2] = await Promise.all([namespace({ team }), namespace({ team })]);
    const store = await fakeStore([{ key: 'db', value: 'keep-me' }]);
    await createCes('orphaned', {
      externalSecretSpec: esSpec(store, { target: { creationPolicy: 'Orphan' } }),
      namespaceSelectors: [{ matchLabels: { team } }],
    });
    for (const ns of [ns1, ns2]) {
      await new Objects(kc, ns).waitForSecret('orphaned', (d) => d.password === 'keep-me', `the Secret in ${ns}`);
    }
    await custom.deleteClusterCustomObject({ ...group, plural: 'clusterexternalsecrets', name: 'orphaned' });
    await eventually('the ClusterExternalSecret gone (finalizer released)', async () =>
      (await getCes('orphaned')) ? undefined : true,
    );
    for (const ns of [ns1, ns2]) {
      expect(await getEs(ns, 'orphaned')).toBeUndefined();
      expect(await new Objects(kc, ns).secretText('orphaned')).toEqual({ password: 'keep-me' });
    }
  });

  it('reports a selector it cannot use, naming the field, and leaves existing copies alone', async () => {
    const team = uniqueName('team');
    const ns = await namespace({ team });
    const store = await fakeStore([{ key: 'db', value: 'v' }]);
    await createCes('badsel', { externalSecretSpec: esSpec(store), namespaceSelectors: [{ matchLabels: { team } }] });
    await waitForStatus('badsel', 'provisioned', (c) => c.status?.provisionedNamespaces?.length === 1);

    await patchCes('badsel', {
      spec: { namespaceSelectors: [{ matchLabels: { team } }, { matchLabels: { 'not a key': 'x' } }] },
    });
    const ces = await waitForStatus(
      'badsel',
      'InvalidNamespaceSelector',
      (c) => ready(c)?.reason === 'InvalidNamespaceSelector',
    );
    expect(ready(ces)?.status).toBe('False');
    expect(ready(ces)?.message).toMatch(/^spec\.namespaceSelectors\[1\]\.matchLabels: label key "not a key"/);
    expect(ces.status?.provisionedNamespaces).toEqual([ns]);
    expect(await getEs(ns, 'badsel')).toBeDefined();
    await eventually('an InvalidNamespaceSelector event', async () => {
      const list = await core.listNamespacedEvent({ namespace: 'default' });
      return list.items.find((e) => e.involvedObject.name === 'badsel' && e.reason === 'InvalidNamespaceSelector');
    });
  });

  it('lists a namespace as failed, in its own field names, when the API server refuses the copy', async () => {
    const team = uniqueName('team');
    const ns = await namespace({ team });
    const store = await fakeStore([{ key: 'db', value: 'v' }]);
    // A label-key prefix over 253 characters: within what the schema checks, refused for the copy.
    const key = `${'a'.repeat(260)}/x`;
    await createCes('refused', {
      externalSecretSpec: esSpec(store),
      externalSecretMetadata: { labels: { [key]: 'y' } },
      namespaceSelectors: [{ matchLabels: { team } }],
    });
    const ces = await waitForStatus(
      'refused',
      'a failed namespace',
      (c) => (c.status?.failedNamespaces?.length ?? 0) > 0,
    );
    expect(ces.status?.failedNamespaces?.[0]?.namespace).toBe(ns);
    expect(ces.status?.failedNamespaces?.[0]?.reason).toMatch(
      /^creating ExternalSecret "refused": HTTP 422: .*spec\.externalSecretMetadata\.labels: Invalid value/,
    );
    expect(ready(ces)).toMatchObject({ status: 'False', reason: 'NamespacesFailed' });
    expect(await getEs(ns, 'refused')).toBeUndefined();
  });

  it('is refused at admission when a selector or the ExternalSecret spec is invalid, with the field named', async () => {
    const store = 'any';
    const refused = async (spec: unknown) => {
      const err = await custom
        .createClusterCustomObject({
          ...group,
          plural: 'clusterexternalsecrets',
          body: {
            apiVersion: 'ferry.dev/v1alpha1',
            kind: 'ClusterExternalSecret',
            metadata: { name: uniqueName('bad') },
            spec,
          },
        })
        .then(
          () => undefined,
          (e: { body?: string }) => String(e.body),
        );
      if (!err) throw new Error('accepted');
      return err;
    };
    expect(
      await refused({
        externalSecretSpec: esSpec(store),
        namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In' }] }],
      }),
    ).toMatch(/spec\.namespaceSelectors\[0\]\.matchExpressions: .*In and NotIn need at least one value/);
    expect(await refused({ externalSecretSpec: { secretStoreRef: { name: store } } })).toMatch(
      /spec\.externalSecretSpec\.data: .*at least one of spec\.data or spec\.dataFrom is required/,
    );
    expect(await refused({ externalSecretSpec: esSpec(store, { target: { name: 'Not_A_Name' } }) })).toMatch(
      /spec\.externalSecretSpec\.target\.name/,
    );
    expect(await refused({ externalSecretSpec: esSpec(store), refreshTime: 'soon' })).toMatch(/spec\.refreshTime/);
    expect(await refused({ externalSecretSpec: esSpec(store), namespaces: ['Bad_Name'] })).toMatch(
      /spec\.namespaces\[0\]/,
    );
  });

  it('keeps a canary value out of its status, its copies, events, logs and metrics', async () => {
    const canary = uniqueName('canary-value');
    const team = uniqueName('team');
    const [ns1, ns2] = await Promise.all([namespace({ team }), namespace({ team })]);
    const store = await fakeStore([
      { key: 'db', value: canary },
      { key: 'json', value: `{"token": "${canary}"` },
    ]);
    await new Objects(kc, ns2).externalSecret('canary-broken', esSpec(store));
    await createCes('canary-ok', {
      externalSecretSpec: esSpec(store),
      namespaceSelectors: [{ matchLabels: { team } }],
    });
    await createCes('canary-broken', {
      externalSecretSpec: esSpec(store, {
        data: [{ secretKey: 'token', remoteRef: { key: 'json', property: 'token' } }],
      }),
      namespaceSelectors: [{ matchLabels: { team } }],
    });
    await new Objects(kc, ns1).waitForSecret('canary-ok', (d) => d.password === canary, 'the canary synced');
    await new Objects(kc, ns1).waitForReady('canary-broken', { status: 'False' });
    await waitForStatus('canary-broken', 'a failed namespace', (c) => (c.status?.failedNamespaces?.length ?? 0) > 0);

    const seen = [
      JSON.stringify(await getCes('canary-ok')),
      JSON.stringify(await getCes('canary-broken')),
      ...(await Promise.all([ns1, ns2].flatMap((ns) => [getEs(ns, 'canary-ok'), getEs(ns, 'canary-broken')]))).map(
        (es) => JSON.stringify(es),
      ),
      ...(await Promise.all(['default', ns1, ns2].map((ns) => core.listNamespacedEvent({ namespace: ns })))).map((l) =>
        JSON.stringify(l.items),
      ),
      ctl.logs.join(''),
      await ctl.controller.metrics.registry.metrics(),
    ].join('\n');
    expect(seen).toContain('canary-broken'); // the haystack is real
    expect(seen).not.toContain(canary);
  });

  it('one provider read per refresh serves every copy', async () => {
    const team = uniqueName('team');
    const namespaces = await Promise.all([1, 2, 3, 4].map(() => namespace({ team })));
    const store = await fakeStore([{ key: 'db', value: 'v' }]);
    const syncs = () =>
      ctl.controller.metrics.total(ctl.controller.metrics.reconciles, { kind: 'ExternalSecret', result: 'synced' });
    await createCes('refreshing', {
      externalSecretSpec: esSpec(store, { refreshInterval: '2s' }),
      namespaceSelectors: [{ matchLabels: { team } }],
    });
    for (const ns of namespaces) await new Objects(kc, ns).waitForSecret('refreshing', (d) => d.password === 'v', ns);
    const calls0 = await providerCalls();
    const syncs0 = await syncs();
    // At least three refreshes of each copy.
    await eventually('twelve refreshes', async () => ((await syncs()) - syncs0 >= 12 ? true : undefined), 30_000);
    const refreshes = (await syncs()) - syncs0;
    const calls = (await providerCalls()) - calls0;
    // The four copies refresh on the same grid slot (same store and key), so each provider call
    // serves all of them: never more calls than refresh rounds (plus one round in progress).
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(Math.ceil(refreshes / namespaces.length) + 1);
  });
});
