// A tenant who may write ExternalSecrets in a namespace asks creationPolicy Merge into a Secret of
// that namespace it has no business with (a Helm release's, another team's). Rule: Merge writes
// only into a Secret an ExternalSecret created or one that consents with the annotation
// ferry.dev/merge-from naming the ExternalSecret (docs/security.md, "Consent before reaching
// other objects"). Each case first shows the merge works with consent, then that it fails without.
import { PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

let ctl: RunningController;
let o: Objects;
let store: string;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'merge-consent'));
  ctl = await startController(testbed().kube, { namespace: o.namespace });
  store = uniqueName('fake');
  await o.secretStore(store, { fake: { data: [{ key: 'k', value: 'tenant-chosen' }] } });
});

afterAll(async () => {
  await ctl?.stop();
});

async function existing(name: string, body: Partial<V1Secret>): Promise<V1Secret> {
  return o.core.createNamespacedSecret({
    namespace: o.namespace,
    body: { ...body, metadata: { ...body.metadata, name } },
  });
}

function mergeInto(target: string) {
  return {
    secretStoreRef: { name: store },
    refreshInterval: '1s',
    target: { name: target, creationPolicy: 'Merge' as const },
    data: [{ secretKey: 'release', remoteRef: { key: 'k' } }],
  };
}

/** What a byte-for-byte comparison of a Secret covers: everything the API server stored. */
function stored(s: V1Secret | undefined) {
  return { meta: s?.metadata, data: s?.data, type: s?.type, immutable: s?.immutable };
}

describe('creationPolicy Merge into a Secret Ferry did not create', () => {
  it('merges into a Secret that names the ExternalSecret in ferry.dev/merge-from (setup)', async () => {
    const target = uniqueName('consenting');
    await existing(target, {
      metadata: { annotations: { 'ferry.dev/merge-from': 'consented' } },
      stringData: { theirs: 'kept' },
    });
    await o.externalSecret('consented', mergeInto(target));
    await o.waitForSecret(target, (d) => d.release === 'tenant-chosen' && d.theirs === 'kept', 'the consented merge');
    await o.waitForReady('consented', { status: 'True', reason: 'SecretSynced' });
  });

  it("leaves a Helm release's Secret byte-for-byte as it was, and says which annotation would allow it", async () => {
    const target = 'sh.helm.release.v1.app.v1';
    const before = await existing(target, {
      type: 'helm.sh/release.v1',
      metadata: { labels: { owner: 'helm', name: 'app', status: 'deployed', version: '1' } },
      data: { release: Buffer.from('H4sIAAAA-the-release').toString('base64') },
    });
    await o.externalSecret('hijack', mergeInto(target));
    const { ready } = await o.waitForReady('hijack', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toContain(`spec.target.creationPolicy: Merge into Secret ${o.namespace}/${target} refused`);
    expect(ready.message).toContain('ferry.dev/merge-from: hijack');
    const events = await o.events();
    expect(
      events.some(
        (e) => e.involved === 'hijack' && e.reason === 'UpdateFailed' && /ferry\.dev\/merge-from/.test(e.message ?? ''),
      ),
    ).toBe(true);
    expect(stored(await o.secret(target))).toEqual(stored(before));
  });

  it('refuses when the annotation names another ExternalSecret', async () => {
    const target = uniqueName('other-team');
    const before = await existing(target, {
      metadata: { annotations: { 'ferry.dev/merge-from': 'their-sync, hijack*' } },
      stringData: { password: 'theirs' },
    });
    await o.externalSecret('not-named', mergeInto(target));
    const { ready } = await o.waitForReady('not-named', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toContain('ferry.dev/merge-from: not-named');
    expect(stored(await o.secret(target))).toEqual(stored(before));
  });

  it('stops writing once the consent is withdrawn', async () => {
    const target = uniqueName('withdrawn');
    await existing(target, { metadata: { annotations: { 'ferry.dev/merge-from': '*' } }, stringData: { a: '1' } });
    await o.externalSecret('withdrawn', mergeInto(target));
    await o.waitForSecret(target, (d) => d.release === 'tenant-chosen', 'the merge while consented');
    // The owner withdraws the consent and removes the merged key in one patch.
    await o.core.patchNamespacedSecret(
      {
        namespace: o.namespace,
        name: target,
        body: { metadata: { annotations: { 'ferry.dev/merge-from': null } }, data: { release: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const { ready } = await o.waitForReady('withdrawn', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toContain('ferry.dev/merge-from: withdrawn');
    expect(await o.secretText(target)).toEqual({ a: '1' });
  });
});
