// Every write Ferry makes is conditional on the version of the object it decided on, so a
// controller acting on an old view — a leader paused past its lease that wakes up mid-sync —
// never overwrites what a newer leader wrote: Secret updates (PUT), server-side apply (Merge),
// deletes, the immutable replace, and status. Each case first shows the write succeeds from a
// current view, then that the same write from the old view is refused (409) and the newer
// content stays. And an immutable replace whose new Secret is refused leaves the old one in place.
import { KubernetesObjectApi, type V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.ts';
import { isConflict, KubeClient } from '../../src/kube/client.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { SecretWriter, type TargetPlan } from '../../src/sinks/secret/secret-writer.ts';
import { SecretValue } from '../../src/values.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

// A private API server: no controller of another test file may write these objects meanwhile.
const own = usePrivateApiServer();
let o: Objects;
let kube: KubeClient;
let writer: SecretWriter;

beforeAll(async () => {
  const { kc } = own.get();
  o = new Objects(kc, await createNamespace(kc, 'stale'));
  kube = new KubeClient(kc, { qps: 1e6, burst: 1e6, metrics: new Metrics() });
  writer = new SecretWriter(kube);
});

const data = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, SecretValue.fromString(v)]));

function plan(name: string, over: Partial<TargetPlan> = {}): TargetPlan {
  return {
    namespace: o.namespace,
    name,
    creationPolicy: 'Owner',
    immutable: false,
    type: 'Opaque',
    labels: {},
    annotations: {},
    externalSecretName: name,
    fieldManager: `ferry-${name}`,
    ...over,
  };
}

async function read(name: string): Promise<V1Secret> {
  const secret = await kube.readSecret(o.namespace, name);
  if (!secret) throw new Error(`Secret ${name} does not exist`);
  return secret;
}

/** What a write from an old view ends in: the 409 it must get. */
async function refused(write: Promise<unknown>): Promise<void> {
  const err = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the write from the old view must be refused').toBeDefined();
  expect(isConflict(err), `expected 409, got ${String(err)}`).toBe(true);
}

describe('writes from an old view (a former leader) never overwrite newer ones', () => {
  it('a Secret update (PUT) and a delete', async () => {
    const name = uniqueName('owned');
    await writer.write(plan(name), data({ k: 'v1' }), undefined);
    const old = await read(name);
    // The newer leader's write, from a current view: accepted.
    expect(await writer.write(plan(name), data({ k: 'v2' }), old)).toBe('updated');
    await refused(writer.write(plan(name), data({ k: 'stale' }), old));
    await refused(kube.deleteSecret(o.namespace, name, old.metadata?.uid ?? '', old.metadata?.resourceVersion));
    expect(await o.secretText(name)).toEqual({ k: 'v2' });
    // From the current view the delete goes through.
    const now = await read(name);
    await kube.deleteSecret(o.namespace, name, now.metadata?.uid ?? '', now.metadata?.resourceVersion);
    expect(await kube.readSecret(o.namespace, name)).toBeUndefined();
  });

  it('server-side apply into a shared Secret (creationPolicy Merge)', async () => {
    const name = uniqueName('shared');
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name, annotations: { 'ferry.dev/merge-from': name } }, stringData: { theirs: 'x' } },
    });
    const merge = plan(name, { creationPolicy: 'Merge' });
    const old = await read(name);
    expect(await writer.write(merge, data({ k: 'v1' }), old)).toBe('updated');
    const current = await read(name);
    expect(await writer.write(merge, data({ k: 'v2' }), current)).toBe('updated');
    await refused(writer.write(merge, data({ k: 'stale' }), current));
    expect(await o.secretText(name)).toEqual({ theirs: 'x', k: 'v2' });
  });

  it('the delete of an immutable replace', async () => {
    const name = uniqueName('frozen');
    const frozen = plan(name, { immutable: true });
    await writer.write(frozen, data({ k: 'v1' }), undefined);
    const old = await read(name);
    // The newer leader changes its metadata (allowed on an immutable Secret): same uid, newer version.
    await o.core.patchNamespacedSecret(
      { namespace: o.namespace, name, body: { metadata: { labels: { touched: 'yes' } } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await refused(writer.write(frozen, data({ k: 'stale' }), old));
    const now = await read(name);
    expect(now.metadata?.uid).toBe(old.metadata?.uid);
    expect(await o.secretText(name)).toEqual({ k: 'v1' });
    // From the current view the replace goes through (a new object).
    expect(await writer.write(frozen, data({ k: 'v2' }), now)).toBe('replaced');
    expect(await o.secretText(name)).toEqual({ k: 'v2' });
  });

  it('status of ExternalSecrets, SecretStores and ClusterExternalSecrets', async () => {
    const group = { group: 'ferry.dev', version: 'v1alpha1' };
    const es = uniqueName('es');
    await o.externalSecret(es, {
      secretStoreRef: { name: 'none' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    const store = uniqueName('store');
    await o.secretStore(store, { fake: { data: [] } });
    const ces = uniqueName('ces');
    await o.custom.createClusterCustomObject({
      ...group,
      plural: 'clusterexternalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ClusterExternalSecret',
        metadata: { name: ces },
        spec: {
          namespaceSelector: { matchLabels: { none: 'none' } },
          externalSecretSpec: { secretStoreRef: { name: 'none' }, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] },
        },
      },
    });
    type Status = { metadata: { resourceVersion: string }; status?: { conditions?: { message?: string }[] } };
    for (const [plural, name, namespace] of [
      ['externalsecrets', es, o.namespace],
      ['secretstores', store, o.namespace],
      ['clusterexternalsecrets', ces, undefined],
    ] as const) {
      const read = async () =>
        (namespace
          ? await o.custom.getNamespacedCustomObject({ ...group, namespace, plural, name })
          : await o.custom.getClusterCustomObject({ ...group, plural, name })) as Status;
      const condition = (message: string) => ({
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Test', message, lastTransitionTime: new Date().toISOString() },
        ],
      });
      const old = await read();
      await kube.patchStatus(plural, namespace, name, condition('newer'), old.metadata.resourceVersion);
      await refused(kube.patchStatus(plural, namespace, name, condition('stale'), old.metadata.resourceVersion));
      expect((await read()).status?.conditions?.[0]?.message, plural).toBe('newer');
    }
  });
});

describe('an immutable replace whose new Secret is refused', () => {
  it('creates the previous Secret again, and says so', async () => {
    const objects = own.get().kc.makeApiClient(KubernetesObjectApi);
    const policy = uniqueName('refuse-key');
    await objects.create({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['secrets'] }],
        },
        validations: [
          { expression: "!has(object.data) || !('refused' in object.data)", message: 'the key "refused" is refused' },
        ],
      },
    });
    await objects.create({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.namespace } } },
      },
    });
    try {
      // The policy is in force: a Secret with the key is refused (it takes a moment to load).
      await eventually('the admission policy refuses a Secret with the key "refused"', async () => {
        const probe = uniqueName('probe');
        const err = await o.core
          .createNamespacedSecret({
            namespace: o.namespace,
            body: { metadata: { name: probe }, stringData: { refused: 'x' } },
          })
          .then(
            () => o.core.deleteNamespacedSecret({ namespace: o.namespace, name: probe }).then(() => undefined),
            (e: unknown) => e,
          );
        return err ? true : undefined;
      });
      const name = uniqueName('frozen');
      const frozen = plan(name, { immutable: true });
      await writer.write(frozen, data({ k: 'v1' }), undefined);
      const before = await read(name);
      const err = await writer.write(frozen, data({ refused: 'v2' }), before).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FerryError);
      expect((err as Error).message).toMatch(
        /the new Secret was refused .*the previous one was created again as it was/,
      );
      const after = await read(name);
      expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
      expect(after.immutable).toBe(true);
      expect(await o.secretText(name)).toEqual({ k: 'v1' });
      expect(after.metadata?.annotations).toEqual(before.metadata?.annotations);
      expect(after.metadata?.labels).toEqual(before.metadata?.labels);
    } finally {
      await objects.delete({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policy },
      });
      await objects.delete({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
      });
    }
  });
});
